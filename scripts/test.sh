#!/usr/bin/env bash
# The one command that builds morsel and runs every test, on a fresh Debian 12 machine or in CI.
#
#   1. scripts/install-deps.sh        Debian packages (apt-get only when something is missing)
#   2. scripts/install-test-peers.sh  real DuckDB and Polars from npm into build/peers
#   3. build/       -Werror release build, ctest (unit, shell, interop tests)
#   4. build-asan/  -DMORSEL_SANITIZE=ON (ASan+UBSan), ctest again; the interop matrix is cut
#                   to its small form there (MORSEL_INTEROP_MATRIX=small) to save time
#   5. scripts/fuzz.sh, when present, for a bounded time per target (MORSEL_FUZZ_SECONDS)
#
# Every phase runs even when an earlier test phase failed (a build failure skips only the
# ctest of that build), so one run shows everything that is wrong. The exit status is
# non-zero if anything failed. The summary at the end lists each phase and closes with
# ctest's own summary lines.
#
# Environment: MORSEL_JOBS (parallel build/test jobs, default nproc), MORSEL_FUZZ_SECONDS
# (default 30), MORSEL_SKIP_ASAN=1 / MORSEL_SKIP_FUZZ=1 for quick local runs (CI sets neither).
set -uo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
jobs=${MORSEL_JOBS:-$(nproc)}
fuzz_seconds=${MORSEL_FUZZ_SECONDS:-30}
export MORSEL_PEERS_DIR=${MORSEL_PEERS_DIR:-$root/build/peers}
logdir=$root/build/test-logs
mkdir -p "$logdir"
rm -f "$logdir"/*.log

declare -a summary=()
failed=0
start_all=$SECONDS

note() { printf '\n==== %s ====\n' "$*"; }
record() { # record NAME STATUS SECONDS
  summary+=("$(printf '%-34s %-6s %5ss' "$1" "$2" "$3")")
  [ "$2" = "ok" ] || [ "$2" = "skip" ] || failed=1
}

# Runs one phase: its output goes to the terminal and to a log file.
phase() { # phase NAME LOG command...
  local name=$1 log=$2 t0=$SECONDS
  shift 2
  note "$name"
  if "$@" 2>&1 | tee "$log"; then
    record "$name" ok $((SECONDS - t0))
    return 0
  fi
  record "$name" FAIL $((SECONDS - t0))
  return 1
}

# --- setup: failures here stop everything, nothing else can run without them.
if ! phase "install-deps" "$logdir/install-deps.log" bash scripts/install-deps.sh; then
  printf '\ninstall-deps failed; see %s\n' "$logdir/install-deps.log"
  exit 1
fi
peers_ok=1
phase "install-test-peers" "$logdir/install-test-peers.log" bash scripts/install-test-peers.sh ||
  peers_ok=0
# Without peers the interop tests fail with a message of their own; the rest still runs.

build_and_test() { # build_and_test LABEL DIR extra-cmake-args...
  local label=$1 dir=$2
  shift 2
  if phase "$label: configure" "$logdir/$label-configure.log" \
       cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo "$@" &&
     phase "$label: build" "$logdir/$label-build.log" cmake --build "$dir" -j"$jobs"; then
    phase "$label: ctest" "$logdir/$label-ctest.log" \
      bash -c "cd '$dir' && ctest --output-on-failure -j'$jobs'"
  else
    record "$label: ctest" skip 0
    failed=1
  fi
}

build_and_test release build
if [ "${MORSEL_SKIP_ASAN:-0}" = "1" ]; then
  record "asan: all" skip 0
else
  # detect_leaks stays on: morsel must not leak. abort_on_error gives a clean non-zero exit.
  export ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=1:detect_leaks=1}
  export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
  export MORSEL_INTEROP_MATRIX=small
  build_and_test asan build-asan -DMORSEL_SANITIZE=ON
  unset ASAN_OPTIONS UBSAN_OPTIONS MORSEL_INTEROP_MATRIX
fi

if [ "${MORSEL_SKIP_FUZZ:-0}" = "1" ]; then
  record "fuzz" skip 0
elif [ -f scripts/fuzz.sh ]; then
  export MORSEL_FUZZ_SECONDS=$fuzz_seconds
  phase "fuzz (${fuzz_seconds}s per target)" \
    "$logdir/fuzz.log" bash scripts/fuzz.sh "$fuzz_seconds" || true
else
  record "fuzz (no scripts/fuzz.sh yet)" skip 0
fi

note "summary ($((SECONDS - start_all)) s total, logs in $logdir)"
printf '%s\n' "${summary[@]}"
[ "$peers_ok" = 1 ] || echo "test peers failed to install: interop tests cannot pass (see $logdir/install-test-peers.log)"
for label in release asan; do
  log=$logdir/$label-ctest.log
  [ -f "$log" ] || continue
  printf '\n%s ctest:\n' "$label"
  # ctest's closing lines: the pass rate, the failed test list, the total time.
  sed -n '/tests passed, /,$p' "$log"
done
if [ "$failed" -ne 0 ]; then
  echo "RESULT: FAIL"
  exit 1
fi
echo "RESULT: PASS"
