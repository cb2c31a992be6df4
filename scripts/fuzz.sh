#!/usr/bin/env bash
# Builds the libFuzzer targets (fuzz/fuzz_*.c) with clang, ASan and UBSan into build-fuzz
# and runs each for a bounded time, starting from its seed corpus in fuzz/corpus/<name>.
#
#   scripts/fuzz.sh [SECONDS_PER_TARGET] [TARGET...]     (default 60 s, every target)
#
# New inputs the fuzzer finds go to build-fuzz/fuzz-corpus/<name> (not into the repo);
# a crashing input is saved as build-fuzz/fuzz-artifacts/<name>-crash-* and the script
# prints how to replay it. To keep a finding as a regression seed, copy it into
# fuzz/corpus/<name>: tests/fuzz/test_fuzz_replay.c replays every seed in every ctest.
# Exit status: non-zero when a target crashed or the build failed.
#
# Environment: MORSEL_JOBS (build jobs, default nproc), MORSEL_FUZZ_BUILD_DIR.
set -uo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
seconds=${1:-60}
[ $# -gt 0 ] && shift
jobs=${MORSEL_JOBS:-$(nproc)}
dir=${MORSEL_FUZZ_BUILD_DIR:-$root/build-fuzz}

if ! command -v clang >/dev/null; then
  echo "fuzz.sh: clang is not installed (scripts/install-deps.sh installs it)" >&2
  exit 1
fi
mkdir -p "$dir"
CC=clang cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DMORSEL_FUZZ=ON \
  -DMORSEL_SANITIZE=ON >"$dir/configure.log" 2>&1 ||
  { cat "$dir/configure.log"; echo "fuzz.sh: configure failed" >&2; exit 1; }
cmake --build "$dir" --target fuzz_all -j"$jobs" ||
  { echo "fuzz.sh: build failed" >&2; exit 1; }

if [ $# -gt 0 ]; then
  targets=("$@")
else
  targets=()
  for src in fuzz/fuzz_*.c; do targets+=("$(basename "$src" .c)"); done
fi

export ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=1:detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
mkdir -p "$dir/fuzz-artifacts"
status=0
for t in "${targets[@]}"; do
  name=${t#fuzz_}
  exe=$dir/fuzz/$t
  work=$dir/fuzz-corpus/$name
  seeds=fuzz/corpus/$name
  mkdir -p "$work" "$seeds"
  echo "== $t: ${seconds}s from $(find "$seeds" -type f | wc -l) seeds"
  # Limits: a single input may not take 10 s, 2 GiB RSS or a 1 GiB allocation, which is
  # how "huge allocation from an untrusted size" shows up as a finding.
  if "$exe" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
       -malloc_limit_mb=1024 -print_final_stats=1 \
       -artifact_prefix="$dir/fuzz-artifacts/$name-" "$work" "$seeds" \
       >"$dir/fuzz-$name.log" 2>&1; then
    grep -E "^(stat::number_of_executed_units|stat::peak_rss_mb|Done )" "$dir/fuzz-$name.log" |
      sed 's/^/   /'
    echo "   $t: ok"
  else
    status=1
    tail -n 60 "$dir/fuzz-$name.log"
    echo "   $t: FAILED (log: $dir/fuzz-$name.log)"
    for a in "$dir/fuzz-artifacts/$name-"*; do
      [ -e "$a" ] && echo "   replay: $exe $a"
    done
  fi
done
exit $status
