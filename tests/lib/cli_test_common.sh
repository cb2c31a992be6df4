# Shared preamble of the CLI shell tests; source it with the test's scratch name:
#   source "$(dirname "$0")/../lib/cli_test_common.sh" cli-sh
# It sets M (the morsel binary) and T (a fresh scratch directory removed on exit), and
# defines fail (counts into $failures), expect_eq and run_rc.
M=${MORSEL:?MORSEL must name the morsel binary}
T=${MS_TEST_TMP:-/tmp/morsel-test}/${1:?scratch name}.$$
rm -rf "$T"
mkdir -p "$T"
trap 'rm -rf "$T"' EXIT
failures=0
fail() { echo "FAIL: $*" >&2; failures=$((failures + 1)); }
# expect_eq NAME ACTUAL EXPECTED
expect_eq() {
  if [ "$2" != "$3" ]; then
    fail "$1"
    diff <(printf '%s\n' "$3") <(printf '%s\n' "$2") >&2 || true
  fi
}
# run_rc CMD...: runs, stores stdout in $out, stderr in $err, status in $rc
run_rc() {
  set +e
  "$@" >"$T/.out" 2>"$T/.err"
  rc=$?
  set -e
  out=$(cat "$T/.out")
  err=$(cat "$T/.err")
}
