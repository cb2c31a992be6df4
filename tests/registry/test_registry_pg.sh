#!/usr/bin/env bash
# The registry suite (test_registry) against a real PostgreSQL 15 server: starts a
# throwaway server with scripts/pg-test-server.sh under $MS_TEST_TMP, runs the C test
# program with MS_REGISTRY_LOCATION set to its URL, and stops the server from a trap, so it
# is stopped even when the tests fail. Skips (exit 0 with a note) only when the PostgreSQL
# server binaries are not installed.
set -euo pipefail
S=${MS_SOURCE_DIR:?MS_SOURCE_DIR must name the source tree}
B=${MS_BUILD_DIR:?MS_BUILD_DIR must name the build tree}
if [ ! -x /usr/lib/postgresql/15/bin/pg_ctl ]; then
  echo "SKIP: PostgreSQL 15 server not installed (scripts/install-deps.sh installs it)"
  exit 0
fi
T=${MS_TEST_TMP:-/tmp/morsel-test}/registry-pg.$$
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
MS_REGISTRY_LOCATION="$url" MS_TEST_TMP="$T" "$B/tests/test_registry"
