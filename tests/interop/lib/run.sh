#!/usr/bin/env bash
# Runs one interop node script with the npm peers on NODE_PATH. Used by the test_*.sh
# wrappers that ctest runs (they get MORSEL, MS_SOURCE_DIR, MS_BUILD_DIR, MS_TEST_TMP).
# Peers are looked for in $MORSEL_PEERS_DIR, then <source>/build/peers, then <build>/peers.
# Missing peers are a failure with instructions, never a skip.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
script=$1
shift
if ! command -v node >/dev/null 2>&1; then
  echo "interop: node is not installed; run scripts/install-deps.sh" >&2
  exit 1
fi
peers=""
for d in "${MORSEL_PEERS_DIR:-}" "${MS_SOURCE_DIR:-$here/../..}/build/peers" "${MS_BUILD_DIR:-/nonexistent}/peers"; do
  if [ -n "$d" ] && [ -d "$d/node_modules/@duckdb/node-api" ] && [ -d "$d/node_modules/nodejs-polars" ]; then
    peers=$d
    break
  fi
done
if [ -z "$peers" ]; then
  echo "interop: the npm test peers (@duckdb/node-api, nodejs-polars) are not installed." >&2
  echo "Install them with: bash scripts/install-test-peers.sh   (into build/peers)" >&2
  exit 1
fi
if [ -z "${MORSEL:-}" ] || [ ! -x "$MORSEL" ]; then
  echo "interop: MORSEL (${MORSEL:-unset}) is not an executable morsel binary" >&2
  exit 1
fi
export NODE_PATH="$peers/node_modules"
export TZ=UTC
exec node "$here/$script" "$@"
