#!/usr/bin/env bash
# Benchmark: morsel against DuckDB and Polars (see bench/bench.js for what is measured).
# The point-in-time join benchmark (get-historical-features) is bench/run-pit.sh.
#
#   bash bench/run.sh                       # 10M rows, 3 runs, 2 threads -> docs/benchmarks.md
#   BENCH_ROWS=1000000 bash bench/run.sh    # quick run -> build/bench/benchmarks.md
#
# Environment: BENCH_ROWS, BENCH_RUNS (3), BENCH_THREADS (2), BENCH_DIR (build/bench),
# BENCH_OUT (report path), MORSEL (binary; default: build/morsel, built here if missing).
# Needs about 3 GB of free disk in BENCH_DIR and a few GB of RAM for 10M rows.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

bash scripts/install-deps.sh
bash scripts/install-test-peers.sh
if [ -z "${MORSEL:-}" ]; then
  cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
  cmake --build build -j"$(nproc)" --target morsel >/dev/null
  export MORSEL=$root/build/morsel
fi

cmd="bash bench/run.sh"
for v in BENCH_ROWS BENCH_RUNS BENCH_THREADS; do
  if [ -n "${!v:-}" ]; then cmd="$v=${!v} $cmd"; fi
done
export BENCH_COMMAND=$cmd
export NODE_PATH=${MORSEL_PEERS_DIR:-$root/build/peers}/node_modules
exec node bench/bench.js
