#!/usr/bin/env bash
# Retail benchmark: the purchase-propensity features and labels at 9 cutoffs by morsel
# (`morsel compute`), the article's pandas code and DuckDB SQL, from the same CSV (see
# bench/retail/retail.js for what is measured and how the outputs are checked).
#
#   bash bench/run-retail.sh                     # scales 1 and 20 -> docs/benchmarks.md
#   RETAIL_SCALES=1 bash bench/run-retail.sh     # quick run
#
# Environment: RETAIL_SCALES (1,20), RETAIL_TOOLS (morsel,pandas,duckdb), BENCH_RUNS (3 at
# scale <= 1, else 1), BENCH_THREADS (2), BENCH_DIR (build/bench), BENCH_OUT (docs/benchmarks.md:
# only its retail section is rewritten), MORSEL (binary; default build/morsel, built here),
# BENCH_PYTHON (/usr/bin/python3), RETAIL_REPORT_ONLY. Scale 20 (~11M rows, a 1 GB CSV)
# needs ~3 GB of disk and, for pandas, ~10 GB of RAM and several minutes.
set -euo pipefail
. "$(dirname "$0")/setup.sh" "bash bench/run-retail.sh" RETAIL_SCALES RETAIL_TOOLS BENCH_RUNS BENCH_THREADS
exec node bench/retail/retail.js
