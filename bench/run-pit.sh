#!/usr/bin/env bash
# Point-in-time join benchmark: morsel get-historical-features against DuckDB, Polars and
# pandas (see bench/pit/pit.js for what is measured and how outputs are checked).
#
#   bash bench/run-pit.sh                   # sizes S and M, 3 runs each -> docs/benchmarks.md
#   PIT_SIZES=S bash bench/run-pit.sh       # quick run
#   PIT_SIZES=L bash bench/run-pit.sh       # 10M x 50M, one run (needs ~10 GB disk, up to ~20 GB RAM)
#
# Environment: PIT_SIZES (S,M), PIT_TOOLS (morsel,duckdb,polars,pandas), BENCH_RUNS (3; L 1),
# BENCH_THREADS (2), BENCH_DIR (build/bench), BENCH_OUT (docs/benchmarks.md: only its
# point-in-time section is rewritten), MORSEL (binary; default: build/morsel, built here if
# missing), BENCH_PYTHON (/usr/bin/python3, Debian's python3-pandas), PIT_PANDAS_L.
set -euo pipefail
. "$(dirname "$0")/setup.sh" "bash bench/run-pit.sh" PIT_SIZES PIT_TOOLS BENCH_RUNS BENCH_THREADS
exec node bench/pit/pit.js
