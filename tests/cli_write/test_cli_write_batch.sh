#!/usr/bin/env bash
# `morsel write-batch` end to end: a hive-partitioned source with a date partition column
# (folders created by the first batch), a single CSV file source, field_mapping; the summary
# line, generations, the registry's records, pull-all of the result; CSV and Parquet input;
# refusals named by row and column (an unparseable timestamp, a null join key or timestamp,
# a wrong cell type) and the missing/extra/mistyped listing, each leaving every
# file byte-identical; the progress line; usage errors.
set -euo pipefail
source "$(dirname "$0")/../lib/cli_test_common.sh" cli-write-batch

R=$T/repo
mkdir -p "$R/data"
cat >"$R/feature_store.yaml" <<'EOF'
project: wb_test
registry: data/registry.db
offline_store:
  type: morsel
  threads: 2
EOF
cat >"$R/features.yaml" <<'EOF'
entities:
  - name: driver
    join_keys: [driver_id]
    value_type: int64
sources:
  - name: driver_source
    path: data/driver
    timestamp_field: event_timestamp
    date_partition_column: event_date
  - name: single_source
    path: data/single.csv
    file_format: csv
    timestamp_field: ts
    field_mapping: {drv: driver_id, rate_raw: conv_rate}
feature_views:
  - name: driver_stats
    entities: [driver]
    ttl: 0s
    source: driver_source
    schema:
      - {name: conv_rate, dtype: float64}
      - {name: trips, dtype: int64}
  - name: single_stats
    entities: [driver]
    ttl: 0s
    source: single_source
    schema:
      - {name: conv_rate, dtype: float64}
EOF
run_rc "$M" apply -C "$R"
[ $rc = 0 ] || fail "apply: $err"

snap() { (cd "$R" && find data -type f | LC_ALL=C sort | xargs md5sum); }

# ---- first batch: CSV input, any column order, two days -> two folders
cat >"$T/b1.csv" <<'EOF'
trips,event_date,driver_id,conv_rate,event_timestamp
3,2024-01-01,1,0.5,2024-01-01 10:00:00
4,2024-01-02,2,,2024-01-02T00:00:00Z
5,2024-01-01,2,0.25,2024-01-01T23:59:59.5+00:00
EOF
run_rc "$M" write-batch -C "$R" --feature-view driver_stats --input "$T/b1.csv"
[ $rc = 0 ] || fail "write-batch b1: $err"
expect_eq "b1 summary" "$out" "wrote 3 rows to $R/data/driver (2 files, generation 1)"
[ -d "$R/data/driver/event_date=2024-01-01" ] && [ -d "$R/data/driver/event_date=2024-01-02" ] || fail "no date folders"
n=$(find "$R/data/driver" -name 'part-*.m*.parquet' | wc -l)
expect_eq "part files after b1" "$n" "2"

# ---- second batch: Parquet input (made by convert), rows on a third day and a tie
cat >"$T/b2.csv" <<'EOF'
driver_id,event_timestamp,conv_rate,trips,event_date
1,2024-01-01T10:00:00Z,0.75,6,2024-01-01
3,2024-01-03T08:00:00Z,1.5,7,2024-01-03
EOF
run_rc "$M" convert "$T/b2.csv" "$T/b2.parquet"
[ $rc = 0 ] || fail "convert b2: $err"
run_rc "$M" write-batch -C "$R" --feature-view driver_stats --input "$T/b2.parquet" --threads 1
[ $rc = 0 ] || fail "write-batch b2: $err"
expect_eq "b2 summary" "$out" "wrote 2 rows to $R/data/driver (2 files, generation 2)"

# pull-all: every row by timestamp, a tie in write order
run_rc "$M" pull-all -C "$R" --feature-view driver_stats --output "$T/all.csv" --quiet
[ $rc = 0 ] || fail "pull-all: $err"
expect_eq "pull-all after two batches" "$(cat "$T/all.csv")" "driver_id,conv_rate,trips,event_timestamp
1,0.5,3,2024-01-01T10:00:00.000000Z
1,0.75,6,2024-01-01T10:00:00.000000Z
2,0.25,5,2024-01-01T23:59:59.500000Z
2,,4,2024-01-02T00:00:00.000000Z
3,1.5,7,2024-01-03T08:00:00.000000Z"

# the registry records both commits
if command -v sqlite3 >/dev/null; then
  expect_eq "registry commits" "$(sqlite3 "$R/data/registry.db" "select generation || ' ' || kind || ' ' || state || ' ' || rows_added || ' ' || files_added from data_commits where project = 'wb_test' and dataset = 'source:driver_source' order by generation")" "1 write_batch committed 3 2
2 write_batch committed 2 2"
fi

# ---- refusals: nothing changes
before=$(snap)
check_refused() { # NAME EXPECTED-STDERR-LINE (exact)
  [ $rc = 1 ] || fail "$1: exit status $rc"
  expect_eq "$1 message" "$err" "$2"
  expect_eq "$1 left files alone" "$(snap)" "$before"
}
cat >"$T/bad_ts.csv" <<'EOF'
driver_id,event_timestamp,conv_rate,trips,event_date
1,2024-01-05 10:00:00,0.5,3,2024-01-05
1,2024-01-05 25:00:00,0.5,3,2024-01-05
EOF
run_rc "$M" write-batch -C "$R" --feature-view driver_stats --input "$T/bad_ts.csv"
check_refused "unparseable timestamp" "morsel: $T/bad_ts.csv: column 'event_timestamp', row 3, byte offset 94: line 3: value \"2024-01-05 25:00:00\" in column 'event_timestamp' is not a valid timestamp[us, tz=UTC]"

cat >"$T/null_key.csv" <<'EOF'
driver_id,event_timestamp,conv_rate,trips,event_date
1,2024-01-05 10:00:00,0.5,3,2024-01-05
2,2024-01-05 11:00:00,0.5,3,2024-01-05
,2024-01-05 12:00:00,0.5,3,2024-01-05
EOF
run_rc "$M" write-batch -C "$R" --feature-view driver_stats --input "$T/null_key.csv"
check_refused "null join key" "morsel: $T/null_key.csv: row 3, column 'driver_id': null value"

cat >"$T/null_ts.csv" <<'EOF'
event_timestamp,driver_id,conv_rate,trips,event_date
2024-01-05 10:00:00,1,0.5,3,2024-01-05
,1,0.5,3,2024-01-05
EOF
run_rc "$M" write-batch -C "$R" --feature-view driver_stats --input "$T/null_ts.csv"
check_refused "null timestamp" "morsel: $T/null_ts.csv: row 2, column 'event_timestamp': null timestamp"

cat >"$T/wrong_type.csv" <<'EOF'
driver_id,event_timestamp,conv_rate,trips,event_date
1,2024-01-05 10:00:00,0.5,many,2024-01-05
EOF
run_rc "$M" write-batch -C "$R" --feature-view driver_stats --input "$T/wrong_type.csv"
check_refused "wrong cell type" "morsel: $T/wrong_type.csv: column 'trips', row 2, byte offset 79: line 2: value \"many\" in column 'trips' is not a valid int64"

# missing, extra and mistyped columns in one listing (Parquet input keeps its types)
cat >"$T/cols.csv" <<'EOF'
driver_id,event_timestamp,trips,speed,event_date
1,2024-01-05T10:00:00Z,lots,3.5,2024-01-05
EOF
run_rc "$M" convert "$T/cols.csv" "$T/cols.parquet"
run_rc "$M" write-batch -C "$R" --feature-view driver_stats --input "$T/cols.parquet"
check_refused "column listing" "morsel: batch for feature view 'driver_stats' (source 'driver_source'): missing columns: [conv_rate]; extra columns: [speed]; mistyped columns: [trips: got utf8, want int64]"
# the same from CSV input: names are checked before any cell is parsed
run_rc "$M" write-batch -C "$R" --feature-view driver_stats --input "$T/cols.csv"
check_refused "column listing (csv)" "morsel: batch for feature view 'driver_stats' (source 'driver_source'): missing columns: [conv_rate]; extra columns: [speed]"

# usage and lookup errors
run_rc "$M" write-batch -C "$R" --feature-view no_such_view --input "$T/b1.csv"
check_refused "unknown view" "morsel: unknown feature view 'no_such_view'"
run_rc "$M" write-batch -C "$R" --feature-view driver_stats
[ $rc != 0 ] && grep -q -- "--input" "$T/.err" || fail "missing --input accepted: $err"
run_rc "$M" write-batch -C "$R" --feature-view driver_stats --input "$T/nope.csv"
[ $rc = 1 ] || fail "missing input file: rc $rc"
expect_eq "missing input left files alone" "$(snap)" "$before"

# ---- a single CSV file source with field_mapping: created, then rewritten old + new
cat >"$T/s1.csv" <<'EOF'
driver_id,ts,conv_rate
7,2024-02-01T00:00:00Z,0.5
EOF
run_rc "$M" write-batch -C "$R" --feature-view single_stats --input "$T/s1.csv" --quiet
[ $rc = 0 ] && [ -z "$out" ] || fail "single s1: rc $rc out '$out' err '$err'"
cat >"$T/s2.csv" <<'EOF'
conv_rate,ts,driver_id
,2024-01-31T00:00:00Z,8
0.125,2024-02-02T00:00:00Z,7
EOF
run_rc "$M" write-batch -C "$R" --feature-view single_stats --input "$T/s2.csv"
[ $rc = 0 ] || fail "single s2: $err"
expect_eq "single summary" "$out" "wrote 2 rows to $R/data/single.csv (1 files, generation 2)"
expect_eq "single file (physical names, old rows first)" "$(cat "$R/data/single.csv")" "drv,ts,rate_raw
7,2024-02-01T00:00:00.000000000Z,0.5
8,2024-01-31T00:00:00.000000000Z,
7,2024-02-02T00:00:00.000000000Z,0.125"
ls -A "$R/data" | grep -q '^\.' && fail "temporary files left in data/: $(ls -A "$R/data")"

# ---- the progress line (forced on a pipe), wiped at the end; --quiet draws nothing
cat >"$T/b3.csv" <<'EOF'
driver_id,event_timestamp,conv_rate,trips,event_date
4,2024-01-04T00:00:00Z,2.5,9,2024-01-04
EOF
run_rc env MORSEL_PROGRESS=1 "$M" write-batch -C "$R" --feature-view driver_stats --input "$T/b3.csv"
[ $rc = 0 ] || fail "progress run: $err"
grep -q $'\r' "$T/.err" && grep -q "rows" "$T/.err" || fail "no progress line on stderr: $(od -c "$T/.err" | head)"
expect_eq "b3 summary" "$out" "wrote 1 rows to $R/data/driver (1 files, generation 3)"
run_rc env MORSEL_PROGRESS=1 "$M" write-batch -C "$R" --feature-view driver_stats --input "$T/b3.csv" --quiet
[ -z "$err" ] && [ -z "$out" ] || fail "--quiet printed: $out $err"

# ---- files and registry agree (morsel data-status): no orphan left by the refusals
run_rc "$M" data-status -C "$R"
[ $rc = 0 ] || fail "data-status: rc $rc: $out $err"
expect_eq "data-status" "$(grep -E '^source:|generation|orphans|agrees' <<<"$out" | sed "s|$R|R|")" "source:driver_source: R/data/driver
  generation 4 (manifest 4, registry 4)
  pending deletions: 0, orphans: 0
  agrees
source:single_source: R/data/single.csv (single file)
  generation 2 (file 2, registry 2)
  agrees"

if [ "$failures" -ne 0 ]; then
  echo "$failures failure(s)" >&2
  exit 1
fi
echo "ok"
