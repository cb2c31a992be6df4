#!/usr/bin/env bash
# The retrieval command tests (test_cli_offline.sh) with the registry on a real PostgreSQL
# 15 server: saved datasets registered, refused, replaced and read back through it. Starts
# a throwaway server with scripts/pg-test-server.sh and stops it from a trap even when
# tests fail. Skips (exit 0 with a note) only when the PostgreSQL server binaries are
# missing.
set -euo pipefail
S=${MS_SOURCE_DIR:?MS_SOURCE_DIR must name the source tree}
if [ ! -x /usr/lib/postgresql/15/bin/pg_ctl ]; then
  echo "SKIP: PostgreSQL 15 server not installed (scripts/install-deps.sh installs it)"
  exit 0
fi
T=${MS_TEST_TMP:-/tmp/morsel-test}/cli-offline-pg.$$
mkdir -p "$T"
chmod 755 "$T"
srv="$S/scripts/pg-test-server.sh"
port=""
cleanup() {
  if [ -n "$port" ]; then "$srv" stop "$T/pg" "$port" || true; fi
  rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 143' TERM INT
port=$("$srv" start-any "$T/pg") || { echo "FAIL: could not start PostgreSQL" >&2; exit 1; }
url=$("$srv" url "$T/pg" "$port")
echo "PostgreSQL on port $port"
MS_CLI_OFFLINE_REGISTRY="$url" MS_TEST_TMP="$T" bash "$S/tests/cli_offline/test_cli_offline.sh"
