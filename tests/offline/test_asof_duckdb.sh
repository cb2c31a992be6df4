#!/usr/bin/env bash
# Point-in-time retrieval cross-checked against DuckDB: DuckDB generates the data, morsel
# get-historical-features answers, DuckDB's ASOF join (and a window query) answers the same
# questions, and tests/offline/asof_duckdb.js compares the outputs value by value.
#
# Needs node and the npm peers (@duckdb/node-api) that scripts/install-test-peers.sh puts in
# build/peers (or $MORSEL_PEERS_DIR). Without them the test is skipped with a message (the
# interop tests already fail loudly in that case).
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
src=${MS_SOURCE_DIR:-$here/../..}
if ! command -v node >/dev/null 2>&1; then
  echo "SKIP test_asof_duckdb: node is not installed (scripts/install-deps.sh installs it)"
  exit 0
fi
peers=""
for d in "${MORSEL_PEERS_DIR:-}" "$src/build/peers" "${MS_BUILD_DIR:-/nonexistent}/peers"; do
  if [ -n "$d" ] && [ -d "$d/node_modules/@duckdb/node-api" ]; then
    peers=$d
    break
  fi
done
if [ -z "$peers" ]; then
  echo "SKIP test_asof_duckdb: the npm peer @duckdb/node-api is not installed;"
  echo "     install it with: bash scripts/install-test-peers.sh   (into build/peers)"
  exit 0
fi
: "${MORSEL:?MORSEL must name the morsel binary (run through ctest)}"
export NODE_PATH="$peers/node_modules"
export TZ=UTC
exec node "$here/asof_duckdb.js" "$@"
