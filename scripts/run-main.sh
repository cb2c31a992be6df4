#!/usr/bin/env bash
# The main job: installs what the build needs, builds morsel, and runs the worked example.
# For now (foundation issue) the example generates a sample feature table and shows it
# through `morsel cat` and `morsel schema`; the compute-engine issue turns it into the retail
# purchase-propensity pipeline.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
bash scripts/install-deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$(nproc)" --target morsel >/dev/null
morsel=build/morsel
out=build/example
mkdir -p "$out"

echo "== generating a 100,000-row sample feature table"
"$morsel" example-data sample --out "$out/sample.parquet" --rows 100000 --seed 42
echo "== morsel schema $out/sample.parquet"
"$morsel" schema "$out/sample.parquet"
echo "== morsel cat --head 5 --format table"
"$morsel" cat "$out/sample.parquet" --head 5 --format table
echo "== morsel cat --head 3 --format jsonl"
"$morsel" cat "$out/sample.parquet" --head 3 --format jsonl
echo "== CSV round trip: Parquet -> CSV -> Parquet"
"$morsel" convert "$out/sample.parquet" "$out/sample.csv"
"$morsel" convert "$out/sample.csv" "$out/sample_from_csv.parquet" --compression snappy
"$morsel" scan "$out/sample_from_csv.parquet" --threads 0
