#!/usr/bin/env bash
# The repository command tests (test_cli_repo.sh) against a real PostgreSQL 15 registry:
# starts a throwaway server with scripts/pg-test-server.sh, runs the same script with
# MS_CLI_REPO_REGISTRY set to its URL, and stops the server from a trap even when tests
# fail. Skips (exit 0 with a note) only when the PostgreSQL server binaries are missing.
set -euo pipefail
S=${MS_SOURCE_DIR:?MS_SOURCE_DIR must name the source tree}
if [ ! -x /usr/lib/postgresql/15/bin/pg_ctl ]; then
  echo "SKIP: PostgreSQL 15 server not installed (scripts/install-deps.sh installs it)"
  exit 0
fi
T=${MS_TEST_TMP:-/tmp/morsel-test}/cli-repo-pg.$$
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
MS_CLI_REPO_REGISTRY="$url" MS_TEST_TMP="$T" bash "$S/tests/cli_repo/test_cli_repo.sh"
