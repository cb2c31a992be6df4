#!/usr/bin/env bash
# Installs every Debian package morsel's build and tests need. Idempotent: apt-get runs only
# when something is missing. Works as root or through sudo.
set -euo pipefail

packages=(
  build-essential cmake pkg-config clang libclang-rt-14-dev
  libzstd-dev libsnappy-dev liblz4-dev zlib1g-dev libbrotli-dev
  libyaml-dev libsqlite3-dev libpq-dev libxxhash-dev
  postgresql python3 python3-pandas python3-numpy
  time
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
done

# Node.js may come from Debian (nodejs + npm) or another build that bundles npm: check commands.
command -v node >/dev/null 2>&1 || missing+=(nodejs)
command -v npm >/dev/null 2>&1 || missing+=(npm)

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

echo "install-deps: installing ${missing[*]}" >&2
sudo_cmd=()
if [ "$(id -u)" -ne 0 ]; then sudo_cmd=(sudo); fi
export DEBIAN_FRONTEND=noninteractive
"${sudo_cmd[@]}" apt-get update -qq
"${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
