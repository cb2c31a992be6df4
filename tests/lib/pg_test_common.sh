# Shared preamble of the tests that run a suite against a real PostgreSQL 15 server.
# Sourced, with the test's name as $1 (used for its temporary directory). Skips the test
# (exit 0 with a note) only when the server binaries are missing; otherwise starts a
# throwaway server with scripts/pg-test-server.sh on a free port under $MS_TEST_TMP and
# stops it from a trap, so it is stopped even when the tests fail. Leaves S (source tree),
# T (the test's temporary directory) and url (the libpq URL) set.
S=${MS_SOURCE_DIR:?MS_SOURCE_DIR must name the source tree}
if [ ! -x /usr/lib/postgresql/15/bin/pg_ctl ]; then
  echo "SKIP: PostgreSQL 15 server not installed (scripts/install-deps.sh installs it)"
  exit 0
fi
T=${MS_TEST_TMP:-/tmp/morsel-test}/$1.$$
mkdir -p "$T"
chmod 755 "$T"
pg_srv="$S/scripts/pg-test-server.sh"
pg_port=""
pg_cleanup() {
  if [ -n "$pg_port" ]; then "$pg_srv" stop "$T/pg" "$pg_port" || true; fi
  rm -rf "$T"
}
trap pg_cleanup EXIT
trap 'exit 143' TERM INT
pg_port=$("$pg_srv" start-any "$T/pg") || { echo "FAIL: could not start PostgreSQL" >&2; exit 1; }
url=$("$pg_srv" url "$T/pg" "$pg_port")
echo "PostgreSQL on port $pg_port"
