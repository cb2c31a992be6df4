#!/usr/bin/env bash
# Feature logging end to end: a repository whose feature service has `logging:`, `morsel
# apply`, logs written in two halves with `morsel write-logs` (CSV and Parquet input, any
# column order, __log_date absent or given), the date folders on disk, read back with
# `morsel pull-all --logs` over the whole range and a sub-range (checked exactly through
# `morsel cat --format csv`), sampling that keeps whole requests the same way twice,
# and every refusal (missing / extra / mistyped columns, a bad timestamp cell, a null
# request id, a __log_date that is not the timestamp's date, a service without logging,
# --logs with pull-latest, a bad logging block in the repository) with nothing written.
set -euo pipefail
source "$(dirname "$0")/../lib/cli_test_common.sh" cli-write-logs

R=$T/repo
mkdir -p "$R/data"
cat >"$R/feature_store.yaml" <<'EOF'
project: logs_test
registry: data/registry.db
offline_store:
  type: morsel
  threads: 2
EOF
cat >"$R/data/stats.csv" <<'EOF'
driver_id,event_timestamp,rating,city
1001,2024-03-01T00:00:00Z,4.5,oslo
EOF
cat >"$R/features.yaml" <<'EOF'
entities:
  - name: driver
    join_keys: [driver_id]
    value_type: int64
sources:
  - name: stats
    path: data/stats.csv
    timestamp_field: event_timestamp
feature_views:
  - name: driver_stats
    entities: [driver]
    source: stats
    schema:
      - {name: rating, dtype: float64}
      - {name: city, dtype: string}
feature_services:
  - name: svc
    features:
      - {feature_view: driver_stats, alias: ds, features: [rating]}
    logging:
      destination:
        path: logs/svc
        partition_by: [__log_date]
  - name: half
    features: [driver_stats]
    logging: {destination: {path: logs/half}, sample_rate: 0.5}
  - name: half2
    features: [driver_stats]
    logging: {destination: {path: logs/half2}, sample_rate: 0.5}
  - name: plain
    features: [driver_stats]
EOF
cd "$R"
run_rc "$M" apply
[ "$rc" = 0 ] || fail "apply: $err"

# ---- two halves, CSV (columns in another order, no __log_date) ----
cat >"$T/h1.csv" <<'EOF'
__request_id,__log_timestamp,driver_id,ds__rating,ds__rating__timestamp,ds__rating__status
r1,2024-03-01T10:00:00Z,1001,4.5,2024-03-01T09:00:00Z,1
r2,2024-03-01T23:59:59.5+00:00,1002,,,0
r3,2024-03-02T00:30:00+01:00,1001,3.25,2024-03-01T22:00:00Z,1
EOF
cat >"$T/h2.csv" <<'EOF'
driver_id,ds__rating,ds__rating__timestamp,ds__rating__status,__log_timestamp,__log_date,__request_id
1003,2.0,2024-03-02T08:00:00Z,1,2024-03-02T09:15:00Z,2024-03-02,r4
1001,1.5,2024-03-03T00:00:00Z,1,2024-03-03T00:00:00Z,,r5
EOF
run_rc "$M" write-logs --feature-service svc --input "$T/h1.csv"
[ "$rc" = 0 ] || fail "write-logs h1: $err"
expect_eq "write-logs h1 output" "$out" "wrote 3 rows to $R/logs/svc (1 files, generation 1)"
run_rc "$M" write-logs --feature-service svc --input "$T/h2.csv"
[ "$rc" = 0 ] || fail "write-logs h2: $err"
expect_eq "write-logs h2 output" "$out" "wrote 2 rows to $R/logs/svc (2 files, generation 2)"
expect_eq "date folders" "$(cd logs/svc && ls -d __log_date=* | tr '\n' ' ')" \
  "__log_date=2024-03-01 __log_date=2024-03-02 __log_date=2024-03-03 "
[ -f logs/svc/_morsel_manifest.json ] || fail "no manifest"
n_files=$(find logs/svc -name '*.parquet' | wc -l)
expect_eq "part files" "$n_files" "3"

# ---- read back: everything, in timestamp order ----
run_rc "$M" pull-all --logs svc --output "$T/all.parquet" --quiet
[ "$rc" = 0 ] || fail "pull-all --logs: $err"
run_rc "$M" cat "$T/all.parquet" --format csv
expect_eq "all logs" "$out" \
"driver_id,ds__rating,ds__rating__timestamp,ds__rating__status,__log_date,__request_id,__log_timestamp
1001,4.5,2024-03-01T09:00:00.000000Z,1,2024-03-01,r1,2024-03-01T10:00:00.000000Z
1001,3.25,2024-03-01T22:00:00.000000Z,1,2024-03-01,r3,2024-03-01T23:30:00.000000Z
1002,,,0,2024-03-01,r2,2024-03-01T23:59:59.500000Z
1003,2.0,2024-03-02T08:00:00.000000Z,1,2024-03-02,r4,2024-03-02T09:15:00.000000Z
1001,1.5,2024-03-03T00:00:00.000000Z,1,2024-03-03,r5,2024-03-03T00:00:00.000000Z"
# Feast's range: [min, max + 1s], then an inclusive sub-range
run_rc "$M" pull-all --logs svc --start 2024-03-01T10:00:00Z --end 2024-03-03T00:00:01Z --output "$T/feast.parquet" --quiet
run_rc "$M" cat "$T/feast.parquet" --format csv
expect_eq "feast range rows" "$(echo "$out" | wc -l)" "6"
run_rc "$M" pull-all --logs svc --start 2024-03-01T23:30:00Z --end 2024-03-02T09:15:00Z --output "$T/sub.parquet" --quiet
run_rc "$M" cat "$T/sub.parquet" --format csv --columns __request_id
expect_eq "sub-range" "$out" "__request_id
r3
r2
r4"

# ---- Parquet input ----
run_rc "$M" convert "$T/h1.csv" "$T/h1.parquet"
run_rc "$M" write-logs --feature-service svc --input "$T/h1.parquet" --quiet
[ "$rc" = 0 ] || fail "write-logs parquet: $err"
expect_eq "quiet" "$out" ""
run_rc "$M" pull-all --logs svc --output "$T/all2.csv" --quiet
run_rc "$M" cat "$T/all2.csv" --format csv --columns __request_id
expect_eq "rows after parquet write" "$(echo "$out" | tail -n +2 | sort | tr '\n' ' ')" "r1 r1 r2 r2 r3 r3 r4 r5 "

# ---- refusals: nothing written ----
gen_files() { find logs/svc -name '*.parquet' | wc -l; }
before=$(gen_files)
manifest_before=$(cat logs/svc/_morsel_manifest.json)
printf 'driver_id,ds__rating,ds__rating__status,__log_timestamp,__request_id,speed\n1,2,1,2024-03-01T00:00:00Z,r9,1\n' >"$T/bad1.csv"
run_rc "$M" write-logs --feature-service svc --input "$T/bad1.csv"
[ "$rc" = 1 ] || fail "bad columns: rc $rc"
expect_eq "bad columns" "$err" \
  "morsel: logs for feature service 'svc': missing columns: [ds__rating__timestamp]; extra columns: [speed]"
printf '__request_id,__log_timestamp,driver_id,ds__rating,ds__rating__timestamp,ds__rating__status\nr1,2024-03-01T10:00:00Z,1,1,,1\nr2,yesterday,1,1,,1\n' >"$T/bad2.csv"
run_rc "$M" write-logs --feature-service svc --input "$T/bad2.csv"
[ "$rc" = 1 ] || fail "bad timestamp: rc $rc"
# the CSV reader refuses the cell (its message names the column, the line and the value)
case "$err" in *"bad2.csv: column '__log_timestamp'"*"\"yesterday\""*) ;; *) fail "bad timestamp message: $err" ;; esac
printf '__request_id,__log_timestamp,driver_id,ds__rating,ds__rating__timestamp,ds__rating__status\nr1,2024-03-01T10:00:00Z,1,1,,1\n,2024-03-01T10:00:00Z,1,1,,1\n' >"$T/bad3.csv"
run_rc "$M" write-logs --feature-service svc --input "$T/bad3.csv"
expect_eq "null request id" "$err" "morsel: $T/bad3.csv: row 2, column '__request_id': null value"
printf '__request_id,__log_timestamp,__log_date,driver_id,ds__rating,ds__rating__timestamp,ds__rating__status\nr1,2024-03-01T23:00:00-02:00,2024-03-01,1,1,,1\n' >"$T/bad4.csv"
run_rc "$M" write-logs --feature-service svc --input "$T/bad4.csv"
expect_eq "log date" "$err" \
  "morsel: $T/bad4.csv: row 1, column '__log_date': 2024-03-01 is not the UTC date of __log_timestamp 2024-03-02T01:00:00.000000Z (2024-03-02); leave __log_date out to have it derived"
run_rc "$M" write-logs --feature-service plain --input "$T/h1.csv"
expect_eq "no logging" "$err" \
  "morsel: feature service 'plain' has no logging configured (add logging: {destination: {path: DIR}} to its definition)"
run_rc "$M" write-logs --feature-service svx --input "$T/h1.csv"
expect_eq "unknown service" "$err" "morsel: no feature service named 'svx' (did you mean 'svc'?)"
run_rc "$M" write-logs --feature-service svc --input "$T/h1.json"
[ "$rc" != 0 ] || fail "unknown extension accepted"
expect_eq "files after refusals" "$(gen_files)" "$before"
expect_eq "manifest after refusals" "$(cat logs/svc/_morsel_manifest.json)" "$manifest_before"
run_rc "$M" pull-latest --logs svc --output "$T/x.csv"
expect_eq "pull-latest --logs" "$err" "morsel: --logs SERVICE goes with pull-all"
run_rc "$M" pull-all --logs half --output "$T/x.csv"
expect_eq "no logs yet" "$(echo "$err" | sed 's/ (nothing at .*//')" "morsel: feature service 'half' has no logs yet"

# ---- sampling: whole requests, the same in two runs ----
{
  echo "__request_id,__log_timestamp,driver_id,driver_stats__rating,driver_stats__rating__timestamp,driver_stats__rating__status,driver_stats__city,driver_stats__city__timestamp,driver_stats__city__status"
  for i in $(seq 1 400); do
    for k in 1 2 3; do
      echo "q$i,2024-03-0$k""T01:00:00Z,$i,1.5,,1,c,,1"
    done
  done
} >"$T/many.csv"
run_rc "$M" write-logs --feature-service half --input "$T/many.csv"
kept1=$(echo "$out" | sed 's/wrote \([0-9]*\) rows.*/\1/')
run_rc "$M" write-logs --feature-service half2 --input "$T/many.csv"
kept2=$(echo "$out" | sed 's/wrote \([0-9]*\) rows.*/\1/')
expect_eq "same sample twice" "$kept1" "$kept2"
[ $((kept1 % 3)) = 0 ] || fail "a request was split: $kept1 rows kept"
[ "$kept1" -gt 480 ] && [ "$kept1" -lt 720 ] || fail "sample rate far from 0.5: $kept1 of 1200 rows"
"$M" pull-all --logs half --output "$T/h.csv" --quiet
"$M" pull-all --logs half2 --output "$T/h2o.csv" --quiet
a=$("$M" cat "$T/h.csv" --format csv --columns __request_id | tail -n +2 | sort | uniq -c | awk '{print $1}' | sort -u | tr '\n' ' ')
expect_eq "3 rows per kept request" "$a" "3 "
expect_eq "same requests" "$("$M" cat "$T/h.csv" --format csv --columns __request_id | sort)" \
  "$("$M" cat "$T/h2o.csv" --format csv --columns __request_id | sort)"

# ---- files and registry agree, no orphan left by the refusals ----
run_rc "$M" data-status logs:svc logs:half logs:half2
[ "$rc" = 0 ] || fail "data-status: rc $rc: $out $err"
expect_eq "data-status" "$(grep -E '^logs:|generation|orphans|agrees' <<<"$out" | sed "s|$R|R|")" "logs:svc: R/logs/svc
  generation 3 (manifest 3, registry 3)
  pending deletions: 0, orphans: 0
  agrees
logs:half: R/logs/half
  generation 1 (manifest 1, registry 1)
  pending deletions: 0, orphans: 0
  agrees
logs:half2: R/logs/half2
  generation 1 (manifest 1, registry 1)
  pending deletions: 0, orphans: 0
  agrees"

# ---- the repository refuses a bad logging block, with its position ----
cat >>"$R/features.yaml" <<'EOF'
  - name: broken
    features: [driver_stats]
    logging:
      destination: {path: logs/broken, partition_by: [__log_dat]}
      sample_rate: 2
EOF
run_rc "$M" plan
[ "$rc" = 1 ] || fail "plan accepted a bad logging block"
case "$err" in *"features.yaml:35:55: feature service 'broken': partition_by column '__log_dat' is not a column of the service's log schema (did you mean '__log_date'?)"*) ;; *) fail "partition_by message: $err" ;; esac
case "$err" in *"features.yaml:36:20: feature service 'broken': sample_rate must be a number in (0, 1]"*) ;; *) fail "sample_rate message: $err" ;; esac

if [ "$failures" -ne 0 ]; then
  echo "$failures failure(s)" >&2
  exit 1
fi
echo "test_cli_write_logs: all passed"
