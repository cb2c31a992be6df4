#!/usr/bin/env bash
# The main job: installs what the build needs, builds morsel, and runs the worked example.
# For now it generates a sample feature table (cat, schema, convert, scan), then creates a
# feature repository, applies it and runs point-in-time retrieval and a pull on it; the
# compute-engine issue turns it into the retail purchase-propensity pipeline.
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

echo "== feature repository: morsel init + apply (minimal template, SQLite registry)"
repo="$out/repo"
rm -rf "$repo"
"$morsel" init "$repo" >/dev/null
( cd "$repo" && "$root/$morsel" apply )
cat > "$repo/data/entities.csv" <<'CSV'
customer_id,event_timestamp,label
1006,2024-01-20T12:00:00Z,1
1014,2024-02-01T00:00:00Z,0
1053,2024-02-15T08:30:00+01:00,1
1090,2024-03-01T00:00:00Z,0
4242,2024-02-01T00:00:00Z,1
CSV
echo "== point-in-time retrieval: morsel get-historical-features (feature service, explain-analyze)"
( cd "$repo" && "$root/$morsel" get-historical-features --entity-df data/entities.csv \
    --feature-service customer_activity --output data/training.parquet --explain-analyze \
    --save-dataset training_example --allow-overwrite )
"$morsel" cat "$repo/data/training.parquet" --format table
( cd "$repo" && "$root/$morsel" saved-datasets list )
echo "== morsel pull-latest (latest row per customer)"
( cd "$repo" && "$root/$morsel" pull-latest --feature-view customer_features --output data/latest.csv )
"$morsel" cat "$repo/data/latest.csv" --head 3 --format table
