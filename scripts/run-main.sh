#!/usr/bin/env bash
# The main job: installs what the build needs, builds morsel, and runs the retail
# purchase-propensity pipeline end to end (docs/retail.md): `morsel init -t retail` into a
# fresh build/retail, then its run_pipeline.sh, which generates UCI Online Retail-shaped
# transactions (scale 1, ~540,000 rows), computes the RFM and behaviour features and the
# labels at 9 cutoffs, and builds the training and inference sets through point-in-time
# retrieval. It ends with a summary: rows and label rate per cutoff, time per step.
#
# Environment: RETAIL_SCALE (1), RETAIL_SEED (42); a CSV export of the real UCI file given
# as RETAIL_DATA is used instead of generated data.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
bash scripts/install-deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$(nproc)" --target morsel >/dev/null
morsel=$root/build/morsel
repo=$root/build/retail

echo "== morsel init -t retail $repo"
rm -rf "$repo"
"$morsel" init -t retail "$repo"
if [ -n "${RETAIL_DATA:-}" ]; then cp "$RETAIL_DATA" "$repo/data/transactions.csv"; fi
echo "== $repo/run_pipeline.sh"
MORSEL=$morsel SCALE=${RETAIL_SCALE:-1} SEED=${RETAIL_SEED:-42} bash "$repo/run_pipeline.sh"
echo
echo "Training set: $repo/data/train.parquet; inference set: $repo/data/inference.parquet"
echo "(look at them with: $morsel cat $repo/data/train.parquet --head 5 --format table)"
