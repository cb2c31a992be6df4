#!/usr/bin/env bash
# `morsel compact` end to end: a date-partitioned Parquet source grown by many small
# write-batch runs (plus a hand-placed file without the token) is compacted while a reader
# process loops `morsel pull-all` over the view: every pull during the compaction returns
# exactly the rows of the pull before it (no duplicate, no gap, same order). Then: the
# summary line (files before/after, rows, generation), the manifest and the registry
# record (data-status), row-for-row equality after, nothing to do the second time, a
# single-file source, --quiet, and errors (unknown view, bad --target-size-mb).
set -euo pipefail
source "$(dirname "$0")/../lib/cli_test_common.sh" cli-compact

R=$T/repo
mkdir -p "$R/data/trips"
cat >"$R/feature_store.yaml" <<'EOF'
project: compact_test
registry: data/registry.db
offline_store:
  type: morsel
  storage_path: data/storage
  threads: 2
EOF
cat >"$R/features.yaml" <<'EOF'
entities:
  - name: driver
    join_keys: [driver_id]
    value_type: int64
sources:
  - name: trips
    path: data/trips
    file_format: parquet
    timestamp_field: event_timestamp
    date_partition_column: event_date
  - name: one
    path: data/one.csv
    file_format: csv
    timestamp_field: event_timestamp
feature_views:
  - name: trips_fv
    entities: [driver]
    source: trips
    ttl: 0s
    schema:
      - {name: fare, dtype: float64}
      - {name: note, dtype: string}
  - name: one_fv
    entities: [driver]
    source: one
    ttl: 0s
    schema:
      - {name: fare, dtype: float64}
EOF
printf 'driver_id,event_timestamp,fare\n1,2024-01-01T00:00:00Z,1.5\n' >"$R/data/one.csv"
run_rc "$M" apply -C "$R"
[ "$rc" = 0 ] || fail "apply: $err"

# many small batches over three days; ties on the timestamp across batches so the pull's
# order among equal timestamps follows the files' order
for b in $(seq 1 12); do
  {
    echo "driver_id,event_timestamp,event_date,fare,note"
    for r in 1 2 3; do
      d=$(( (b + r) % 3 + 1 ))
      echo "$(( (b * 7 + r) % 5 + 1 )),2024-01-0${d}T0$(( r % 3 )):00:00Z,2024-01-0$d,$b.$r,\"b$b, r$r\""
    done
  } >"$T/batch$b.csv"
  run_rc "$M" write-batch -C "$R" --feature-view trips_fv --input "$T/batch$b.csv" --quiet
  [ "$rc" = 0 ] || fail "write-batch $b: $err"
done
live_files() { python3 -c 'import json,sys; [print(f["path"]) for f in json.load(open(sys.argv[1]))["files"]]' "$1/_morsel_manifest.json"; }
generation() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["generation"])' "$1/_morsel_manifest.json"; }
D=$R/data/trips
n_before=$(live_files "$D" | wc -l | tr -d ' ')
[ "$n_before" -ge 12 ] || fail "expected at least 12 part files, got $n_before"
gen_before=$(generation "$D")
expect_eq "generation after the batches" "$gen_before" 12
# a file placed by another tool, without the token: never merged, always read
cp "$D/$(live_files "$D" | grep '^event_date=2024-01-02/' | head -1)" "$D/event_date=2024-01-02/zz-other-tool.parquet"

pull() { "$M" pull-all -C "$R" --feature-view trips_fv --start 2024-01-01 --end 2024-01-04 --output "$1" --quiet; }
pull "$T/expected.csv"
expected_rows=$(($(wc -l <"$T/expected.csv") - 1))
[ "$expected_rows" -gt 36 ] || fail "expected more than 36 rows, got $expected_rows"

# the reader: pulls in a loop until told to stop; each output is kept for the comparison
reader() {
  local i=0
  while [ ! -e "$T/stop" ]; do
    pull "$T/read.$i.csv" 2>>"$T/reader.err" || echo "pull $i failed" >>"$T/reader.err"
    i=$((i + 1))
    [ "$i" = 1 ] && touch "$T/reader.started"
  done
  echo "$i" >"$T/reader.count"
}
reader &
reader_pid=$!
while [ ! -e "$T/reader.started" ]; do sleep 0.05; done
run_rc "$M" compact -C "$R" trips_fv --target-size-mb 1
touch "$T/stop"
wait "$reader_pid"
[ "$rc" = 0 ] || fail "compact: $err"
reads=$(cat "$T/reader.count")
[ "$reads" -ge 1 ] || fail "the reader did not run"
[ ! -s "$T/reader.err" ] || fail "reader errors: $(cat "$T/reader.err")"
bad=0
for f in "$T"/read.*.csv; do
  cmp -s "$f" "$T/expected.csv" || { bad=$((bad + 1)); diff "$T/expected.csv" "$f" | head -5 >&2; }
done
expect_eq "pulls during the compaction that differ (of $reads)" "$bad" 0
echo "$reads pulls during the compaction" >&2

# the summary and the manifest: three partition folders, one merged file each
n_after=$(live_files "$D" | wc -l | tr -d ' ')
expect_eq "files after" "$n_after" 3
grep -q "^compacted trips_fv: $n_before -> 3 files ($n_before merged into 3), 36 rows, generation $((gen_before + 1)) (0 files deleted by GC)$" <<<"$out" \
  || fail "summary: $out"
expect_eq "generation" "$(generation "$D")" $((gen_before + 1))
for dd in 1 2 3; do
  expect_eq "one file in day $dd" "$(live_files "$D" | grep -c "^event_date=2024-01-0$dd/")" 1
done
[ -f "$D/event_date=2024-01-02/zz-other-tool.parquet" ] || fail "the other tool's file was touched"
pull "$T/after.csv"
cmp -s "$T/after.csv" "$T/expected.csv" || fail "rows differ after the compaction"
# the registry agrees (data-status) and records the compaction
run_rc "$M" data-status -C "$R" source:trips
[ "$rc" = 0 ] || fail "data-status: $out $err"
[[ "$out" == *agrees* ]] || fail "data-status does not agree: $out"

# nothing to do the second time; --quiet prints nothing
run_rc "$M" compact -C "$R" trips_fv
[ "$rc" = 0 ] || fail "compact again: $err"
[[ "$out" == "nothing to do: 3 live part files, none to merge"* ]] || fail "nothing to do: $out"
expect_eq "generation unchanged" "$(generation "$D")" $((gen_before + 1))
run_rc "$M" compact -C "$R" trips_fv --quiet
expect_eq "quiet status" "$rc" 0
expect_eq "quiet output" "$out" ""

# a single-file source
run_rc "$M" compact -C "$R" one_fv
expect_eq "single file status" "$rc" 0
expect_eq "single file" "$out" "nothing to do: the source of one_fv is a single file"

# errors
run_rc "$M" compact -C "$R" nope
expect_eq "unknown view status" "$rc" 1
[[ "$err" == "morsel: "*"unknown feature view 'nope'"* ]] || fail "unknown view: $err"
run_rc "$M" compact -C "$R" trips_fv --target-size-mb 0
[ "$rc" != 0 ] || fail "--target-size-mb 0 accepted"

if [ "$failures" -ne 0 ]; then
  echo "$failures failure(s)" >&2
  exit 1
fi
echo "ok"
