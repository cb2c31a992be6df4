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
. "$(dirname "$0")/setup.sh" "bash bench/run.sh" BENCH_ROWS BENCH_RUNS BENCH_THREADS
exec node bench/bench.js
