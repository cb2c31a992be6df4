#!/usr/bin/env bash
# `morsel data-status` over real writes: a directory source written by `morsel write-batch`,
# writers killed at the store's crash points (MORSEL_CRASH_POINT=after-prepare: the commit
# never happened; after-rename: it did, the registry does not know yet), then data-status
# reporting the disagreement (exit 1), --repair resolving it both ways, readers (`morsel
# cat`) seeing exactly the committed batches throughout, and --gc removing the killed
# writer's orphan. The registry is SQLite, or the URL in MS_DATA_STATUS_REGISTRY
# (test_cli_data_status_pg.sh runs this against PostgreSQL).
set -euo pipefail
source "$(dirname "$0")/../lib/cli_test_common.sh" cli-data-status-repair

cd "$T"
"$M" init repo >/dev/null
cd repo
mkdir data/cust
mv data/customer_features.parquet data/cust/base.parquet
sed -i 's#path: data/customer_features.parquet#path: data/cust#' features.yaml
sed -i 's/^offline_store:$/offline_store:\n  file_retention_seconds: 0/' feature_store.yaml
if [ -n "${MS_DATA_STATUS_REGISTRY:-}" ]; then
  sed -i "s#^registry: .*#registry: $MS_DATA_STATUS_REGISTRY#" feature_store.yaml
fi
"$M" apply >/dev/null
base=$("$M" cat data/cust --format csv | tail -n +2 | wc -l)
"$M" cat data/cust --format csv --head 2 >batch.csv

rows() { "$M" cat data/cust --format csv | tail -n +2 | wc -l; }
wb() { "$M" write-batch --feature-view customer_features --input batch.csv --quiet; }

wb
expect_eq "first batch" "$(rows)" $((base + 2))
run_rc "$M" data-status source:customer_source
expect_eq "after a batch: exit 0" "$rc" 0
case "$out" in *"generation 1 (manifest 1, registry 1)"*"live: 1 file, 2 rows"*"agrees"*) ;; *) fail "after a batch: $out" ;; esac

# Killed after the prepared record: nothing committed, readers unchanged.
set +e
MORSEL_CRASH_POINT=after-prepare "$M" write-batch --feature-view customer_features --input batch.csv --quiet 2>/dev/null
rc=$?
set -e
expect_eq "after-prepare: killed" "$rc" 137
expect_eq "after-prepare: readers" "$(rows)" $((base + 2))
run_rc "$M" data-status
expect_eq "after-prepare: exit 1" "$rc" 1
case "$out" in *"1 prepared"*"orphans: 1"*"DISAGREES: 1 prepared registry record not resolved"*) ;; *) fail "after-prepare: $out" ;; esac
run_rc "$M" data-status --repair
expect_eq "after-prepare repaired: exit 0" "$rc" 0
case "$out" in *"repair: 1 prepared record resolved"*"generation 1 (manifest 1, registry 1)"*"agrees"*) ;; *) fail "after-prepare repair: $out" ;; esac

# Killed after the manifest rename: committed, the registry catches up on --repair.
set +e
MORSEL_CRASH_POINT=after-rename "$M" write-batch --feature-view customer_features --input batch.csv --quiet 2>/dev/null
rc=$?
set -e
expect_eq "after-rename: killed" "$rc" 137
expect_eq "after-rename: readers" "$(rows)" $((base + 4))
run_rc "$M" data-status
expect_eq "after-rename: exit 1" "$rc" 1
case "$out" in *"generation 2 (manifest 2, registry 1), 1 prepared"*"DISAGREES"*"manifest generation 2, registry generation 1"*) ;; *) fail "after-rename: $out" ;; esac
run_rc "$M" data-status --repair --gc
expect_eq "after-rename repaired: exit 0" "$rc" 0
case "$out" in *"repair: 1 prepared record resolved"*"gc: 1 file deleted"*"generation 2 (manifest 2, registry 2)"*"live: 2 files, 4 rows"*"orphans: 0"*"agrees"*) ;; *) fail "after-rename repair: $out" ;; esac

# The next write after a kill needs no --repair: the commit recovers first.
set +e
MORSEL_CRASH_POINT=after-prepare "$M" write-batch --feature-view customer_features --input batch.csv --quiet 2>/dev/null
set -e
wb
expect_eq "after recovery by a writer" "$(rows)" $((base + 6))
run_rc "$M" data-status
case "$out" in *"generation 3 (manifest 3, registry 3)"*"agrees"*) ;; *) fail "writer recovery: $out" ;; esac

if [ -n "${MS_DATA_STATUS_REGISTRY:-}" ] && [ -e data/registry.db ]; then
  fail "the PostgreSQL run used a SQLite registry"
fi
[ "$failures" -eq 0 ] || { echo "$failures failure(s)"; exit 1; }
echo "ok"
