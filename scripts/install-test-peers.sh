#!/usr/bin/env bash
# Installs the npm test peers (real DuckDB and Polars) into build/peers, which git ignores.
# Idempotent: does nothing when both packages already load.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
dir=${MORSEL_PEERS_DIR:-$root/build/peers}
mkdir -p "$dir"
cd "$dir"
if node -e "require('@duckdb/node-api'); require('nodejs-polars')" >/dev/null 2>&1; then
  exit 0
fi
[ -f package.json ] || echo '{"name":"morsel-test-peers","private":true}' > package.json
# nodejs-polars ships its native binary as an optional dependency that npm may skip: name it.
npm install --no-audit --no-fund --loglevel=error --include=optional @duckdb/node-api nodejs-polars "nodejs-polars-linux-$(node -p process.arch)-gnu" >&2
node -e "require('@duckdb/node-api'); require('nodejs-polars')"
