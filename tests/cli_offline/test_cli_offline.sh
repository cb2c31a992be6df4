#!/usr/bin/env bash
# The retrieval commands end to end on a small repository (Parquet and CSV sources):
# get-historical-features on Feast's worked cases (ttl and inclusive bounds, created
# tie-break, backfill, created cutoff), entity order with duplicates and a null key,
# --full-feature-names and the collision error, a feature service joining one view twice
# under aliases with join_key_map, a missing entity column, --explain (writes nothing) and
# --explain-analyze, the same answer with 1 and 2 threads, entity-less --start/--end,
# pull-latest and pull-all (with --features / --no-features), the progress line, --save-dataset (registered with features,
# join keys and view hashes, lineage; refused a second time with the old file unchanged;
# replaced whole with --allow-overwrite; read back with saved-datasets get), and the
# errors made before any work (unknown output extension, bad times, option clashes).
# Outputs are checked exactly through `morsel cat --format csv`.
# With MS_CLI_OFFLINE_REGISTRY set to a postgresql:// URL (test_cli_offline_pg.sh) the
# registry is that PostgreSQL database instead of the repository's SQLite file.
set -euo pipefail
source "$(dirname "$0")/../lib/cli_test_common.sh" cli-offline

R=$T/repo
mkdir -p "$R/data"
registry_line="registry: data/registry.db"
if [ -n "${MS_CLI_OFFLINE_REGISTRY:-}" ]; then
  registry_line=$(printf 'registry:\n  registry_type: sql\n  path: %s' "$MS_CLI_OFFLINE_REGISTRY")
fi
cat >"$R/feature_store.yaml" <<EOF
project: offline_test
provider: local
$registry_line
offline_store:
  type: morsel
  storage_path: data/storage
  threads: 2
EOF
cat >"$R/features.yaml" <<'EOF'
entities:
  - name: customer
    join_keys: [customer_id]
    value_type: int64
  - name: location
    join_keys: [location_id]
    value_type: int64
sources:
  - name: cust_src
    path: data/cust.parquet
    file_format: parquet
    timestamp_field: event_timestamp
    created_timestamp_column: created
  - name: backfill_src
    path: data/backfill.csv
    file_format: csv
    timestamp_field: event_timestamp
    created_timestamp_column: created
  - name: created_src
    path: data/created.csv
    file_format: csv
    timestamp_field: ts
    created_timestamp_column: created
    field_mapping: {cid: customer_id, value: g, ts_raw: ts}
  - name: loc_src
    path: data/loc.csv
    file_format: csv
    timestamp_field: event_timestamp
feature_views:
  - name: cust_fv
    entities: [customer]
    ttl: 10d
    source: cust_src
    schema:
      - {name: f, dtype: int64}
  - name: backfill_fv
    entities: [customer]
    ttl: 0s
    source: backfill_src
    schema:
      - {name: f, dtype: int64}
  - name: created_fv
    entities: [customer]
    ttl: 0s
    source: created_src
    schema:
      - {name: g, dtype: int64}
  - name: loc_fv
    entities: [location]
    source: loc_src
    schema:
      - {name: temperature, dtype: float64}
feature_services:
  - name: trips
    features:
      - {feature_view: loc_fv, alias: origin, join_key_map: {location_id: origin_id}}
      - {feature_view: loc_fv, alias: destination, join_key_map: {location_id: dest_id}}
  - name: cust_service
    features:
      - cust_fv
EOF
# Worked case A (ttl 10d), written to CSV and converted to Parquet.
cat >"$T/cust.csv" <<'EOF'
customer_id,event_timestamp,created,f
1,2023-12-31T00:00:00,2023-12-31T00:00:00,11
1,2024-01-02T00:00:00,2024-01-02T00:00:00,22
1,2024-01-03T00:00:00,2024-01-03T00:00:00,33
2,2023-01-03T00:00:00,,22
3,2024-01-01T00:00:00,2024-01-03T00:00:00,10
3,2024-01-01T00:00:00,2024-01-02T00:00:00,20
EOF
"$M" convert "$T/cust.csv" "$R/data/cust.parquet" >/dev/null
# Worked case B (backfill, no ttl; T = 2024-01-10).
cat >"$R/data/backfill.csv" <<'EOF'
customer_id,event_timestamp,created,f
1001,2024-01-10T00:00:00,2024-01-10T00:00:00,10
1001,2024-01-10T00:00:00,2024-01-11T00:00:00,20
1002,2024-01-10T00:00:00,2024-01-11T00:00:00,30
1002,2024-01-11T00:00:00,2024-01-10T00:00:00,40
EOF
# Worked case C (created cutoff; T = 2024-01-10), with field_mapping on every column kind.
cat >"$R/data/created.csv" <<'EOF'
cid,ts_raw,created,value
1001,2024-01-10T00:00:00,2024-01-10T00:00:00,10
1002,2024-01-10T00:00:00,2024-01-10T00:00:00,30
1001,2024-01-10T00:00:00,2024-01-12T00:00:00,20
1002,2024-01-10T00:00:00,2024-01-12T00:00:00,40
EOF
cat >"$R/data/loc.csv" <<'EOF'
location_id,event_timestamp,temperature
1,2024-01-01T00:00:00,10.5
2,2024-01-01T00:00:00,20.5
1,2024-01-05T00:00:00,11.5
EOF
run_rc "$M" apply -C "$R"
[ $rc = 0 ] || fail "apply: $out $err"

cat_csv() { "$M" cat "$1" --format csv; }

# ---- case A: ttl, inclusive bounds, created tie-break; entity order, duplicates, null key ----
cat >"$T/ent_a.csv" <<'EOF'
customer_id,event_timestamp
3,2024-01-03T00:00:00
1,2024-01-01T00:00:00
2,2024-01-01T00:00:00
1,2024-01-02T00:00:00
,2024-01-02T00:00:00
1,2024-01-01T00:00:00
EOF
run_rc "$M" get-historical-features -C "$R" --entity-df "$T/ent_a.csv" --features cust_fv:f --output "$T/a.parquet"
[ $rc = 0 ] || fail "case A: rc=$rc $err"
grep -q "^Wrote 6 rows, 3 columns to $T/a.parquet" <<<"$out" || fail "case A summary: $out"
[ -z "$err" ] || fail "case A: stderr not empty on a pipe: $err"
expect_eq "case A" "$(cat_csv "$T/a.parquet")" "customer_id,event_timestamp,f
3,2024-01-03T00:00:00.000000000,10
1,2024-01-01T00:00:00.000000000,11
2,2024-01-01T00:00:00.000000000,
1,2024-01-02T00:00:00.000000000,22
,2024-01-02T00:00:00.000000000,
1,2024-01-01T00:00:00.000000000,11"
# CSV output, and the same answer on 1 thread
run_rc "$M" get-historical-features -C "$R" --entity-df "$T/ent_a.csv" --features cust_fv:f --output "$T/a1.csv" --threads 1 --quiet
[ $rc = 0 ] && [ -z "$out" ] || fail "case A csv --quiet: rc=$rc out=$out $err"
expect_eq "case A, 1 thread, CSV" "$(cat_csv "$T/a1.csv")" "$(cat_csv "$T/a.parquet")"

# ---- case B: backfill; --full-feature-names; collision ----
cat >"$T/ent_b.csv" <<'EOF'
customer_id,event_timestamp
1001,2024-01-12T00:00:00
1002,2024-01-12T00:00:00
EOF
run_rc "$M" get-historical-features -C "$R" --entity-df "$T/ent_b.csv" --features backfill_fv:f --output "$T/b.parquet"
[ $rc = 0 ] || fail "case B: $err"
expect_eq "case B" "$(cat_csv "$T/b.parquet")" "customer_id,event_timestamp,f
1001,2024-01-12T00:00:00.000000000,20
1002,2024-01-12T00:00:00.000000000,40"
run_rc "$M" get-historical-features -C "$R" --entity-df "$T/ent_b.csv" --features backfill_fv:f,cust_fv:f --output "$T/coll.parquet"
[ $rc = 1 ] || fail "collision: rc=$rc"
grep -q "backfill_fv:f" <<<"$err" && grep -q "cust_fv:f" <<<"$err" || fail "collision error does not list both refs: $err"
[ ! -e "$T/coll.parquet" ] || fail "collision left an output file"
run_rc "$M" get-historical-features -C "$R" --entity-df "$T/ent_b.csv" --features backfill_fv:f,cust_fv:f --full-feature-names --output "$T/full.parquet"
[ $rc = 0 ] || fail "full names: $err"
expect_eq "full names" "$(cat_csv "$T/full.parquet")" "customer_id,event_timestamp,backfill_fv__f,cust_fv__f
1001,2024-01-12T00:00:00.000000000,20,
1002,2024-01-12T00:00:00.000000000,40,"

# ---- case C: created cutoff (field_mapping renames every column kind) ----
cat >"$T/ent_c.csv" <<'EOF'
customer_id,event_timestamp
1001,2024-01-11T00:00:00
1002,2024-01-11T00:00:00
EOF
run_rc "$M" get-historical-features -C "$R" --entity-df "$T/ent_c.csv" --features created_fv:g --output "$T/c0.csv"
expect_eq "case C default" "$(cat_csv "$T/c0.csv")" "customer_id,event_timestamp,g
1001,2024-01-11T00:00:00.000000000,20
1002,2024-01-11T00:00:00.000000000,40"
run_rc "$M" get-historical-features -C "$R" --entity-df "$T/ent_c.csv" --features created_fv:g --filter-by-created-timestamp --output "$T/c1.csv"
expect_eq "case C cutoff" "$(cat_csv "$T/c1.csv")" "customer_id,event_timestamp,g
1001,2024-01-11T00:00:00.000000000,10
1002,2024-01-11T00:00:00.000000000,30"

# ---- a feature service joining one view twice (aliases, join_key_map) ----
cat >"$T/trips.csv" <<'EOF'
origin_id,dest_id,event_timestamp
1,2,2024-01-02T00:00:00
2,1,2024-01-06T00:00:00
3,1,2024-01-06T00:00:00
EOF
run_rc "$M" get-historical-features -C "$R" --entity-df "$T/trips.csv" --feature-service trips --full-feature-names --output "$T/trips_out.parquet"
[ $rc = 0 ] || fail "service with aliases: $err"
expect_eq "service with aliases" "$(cat_csv "$T/trips_out.parquet")" "origin_id,dest_id,event_timestamp,origin__temperature,destination__temperature
1,2,2024-01-02T00:00:00.000000000,10.5,20.5
2,1,2024-01-06T00:00:00.000000000,20.5,11.5
3,1,2024-01-06T00:00:00.000000000,,11.5"
run_rc "$M" get-historical-features -C "$R" --entity-df "$T/trips.csv" --feature-service trips --output "$T/trips2.parquet"
[ $rc = 1 ] && grep -q "temperature" <<<"$err" || fail "aliases without full names must collide: rc=$rc $err"
[ ! -e "$T/trips2.parquet" ] || fail "alias collision left an output file"

# ---- missing entity column ----
run_rc "$M" get-historical-features -C "$R" --entity-df "$T/trips.csv" --features cust_fv:f --output "$T/miss.parquet"
[ $rc = 1 ] && grep -q "customer_id" <<<"$err" || fail "missing entity column: rc=$rc $err"
[ ! -e "$T/miss.parquet" ] || fail "missing entity column left an output file"
run_rc "$M" get-historical-features -C "$R" --entity-df "$T/ent_a.csv" --features cust_fv:nope --output "$T/miss.parquet"
[ $rc = 1 ] && grep -q "nope" <<<"$err" || fail "unknown feature: rc=$rc $err"

# ---- explain writes nothing; explain-analyze writes and reports actuals ----
run_rc "$M" get-historical-features -C "$R" --entity-df "$T/ent_a.csv" --features cust_fv:f --output "$T/ex.parquet" --explain
[ $rc = 0 ] || fail "explain: $err"
[ ! -e "$T/ex.parquet" ] || fail "--explain wrote the output"
grep -q "cust_fv" <<<"$out" && grep -q "cust.parquet" <<<"$out" && grep -qi "row group" <<<"$out" ||
  fail "explain lacks the view, its file or row groups: $out"
run_rc "$M" get-historical-features -C "$R" --entity-df "$T/ent_a.csv" --features cust_fv:f --output "$T/exa.parquet" --explain-analyze
[ $rc = 0 ] || fail "explain-analyze: $err"
expect_eq "explain-analyze output" "$(cat_csv "$T/exa.parquet")" "$(cat_csv "$T/a.parquet")"
grep -q "cust_fv" <<<"$out" && grep -qi "peak" <<<"$out" || fail "explain-analyze lacks actuals: $out"
grep -q "Wrote" <<<"$out" && fail "explain-analyze printed the summary line too"

# ---- entity-less: --start/--end ----
run_rc "$M" get-historical-features -C "$R" --start 2024-01-01 --end 2024-01-03 --features cust_fv:f --output "$T/nent.csv"
[ $rc = 0 ] || fail "start/end: $err"
# the entity rows are the distinct (key, ts) in range (customer 3's two rows at 01-01 are
# one), ordered by ts then keys; their event_timestamp is UTC (timestamp[ns, UTC])
expect_eq "start/end" "$(cat_csv "$T/nent.csv")" "customer_id,event_timestamp,f
3,2024-01-01T00:00:00.000000000Z,10
1,2024-01-02T00:00:00.000000000Z,22
1,2024-01-03T00:00:00.000000000Z,33"

# ---- pull-latest, pull-all ----
run_rc "$M" pull-latest -C "$R" --feature-view cust_fv --output "$T/pl.csv"
[ $rc = 0 ] || fail "pull-latest: $err"
# one row per key (the larger created wins customer 3's tie), in timestamp order
expect_eq "pull-latest" "$(cat_csv "$T/pl.csv")" "customer_id,f,event_timestamp,created
2,22,2023-01-03T00:00:00.000000000,
3,10,2024-01-01T00:00:00.000000000,2024-01-03T00:00:00.000000000
1,33,2024-01-03T00:00:00.000000000,2024-01-03T00:00:00.000000000"
run_rc "$M" pull-latest -C "$R" --feature-view cust_fv --start 2024-01-01 --end 2024-01-02T00:00:00Z --output "$T/pl2.csv"
expect_eq "pull-latest range" "$(cat_csv "$T/pl2.csv")" "customer_id,f,event_timestamp,created
3,10,2024-01-01T00:00:00.000000000,2024-01-03T00:00:00.000000000
1,22,2024-01-02T00:00:00.000000000,2024-01-02T00:00:00.000000000"
run_rc "$M" pull-all -C "$R" --feature-view cust_fv --start 2024-01-01 --end 2024-01-02 --output "$T/pa.parquet"
[ $rc = 0 ] || fail "pull-all: $err"
expect_eq "pull-all (ts order, stable)" "$(cat_csv "$T/pa.parquet")" "customer_id,f,event_timestamp,created
3,10,2024-01-01T00:00:00.000000000,2024-01-03T00:00:00.000000000
3,20,2024-01-01T00:00:00.000000000,2024-01-02T00:00:00.000000000
1,22,2024-01-02T00:00:00.000000000,2024-01-02T00:00:00.000000000"
run_rc "$M" pull-all -C "$R" --source loc_src --output "$T/pas.csv"
[ $rc = 0 ] || fail "pull-all --source: $err"
expect_eq "pull-all --source" "$(cat_csv "$T/pas.csv" | tail -n +2 | cut -d, -f1,2 | sort)" "$(printf '%s\n' 1,10.5 1,11.5 2,20.5)"
# feature selection: --no-features keeps keys and timestamps (same rows), --features a subset
run_rc "$M" pull-latest -C "$R" --feature-view cust_fv --no-features --output "$T/plk.csv"
[ $rc = 0 ] || fail "pull-latest --no-features: $err"
expect_eq "pull-latest --no-features" "$(cat_csv "$T/plk.csv")" "customer_id,event_timestamp,created
2,2023-01-03T00:00:00.000000000,
3,2024-01-01T00:00:00.000000000,2024-01-03T00:00:00.000000000
1,2024-01-03T00:00:00.000000000,2024-01-03T00:00:00.000000000"
run_rc "$M" pull-latest -C "$R" --feature-view cust_fv --features f --output "$T/plf.csv"
expect_eq "pull-latest --features f" "$(cat_csv "$T/plf.csv")" "$(cat_csv "$T/pl.csv")"
run_rc "$M" pull-all -C "$R" --feature-view cust_fv --features nope --output "$T/x.csv"
[ $rc = 1 ] && grep -q "has no feature 'nope'" <<<"$err" || fail "pull --features nope: $err"
run_rc "$M" pull-all -C "$R" --feature-view cust_fv --features f --no-features --output "$T/x.csv"
[ $rc = 1 ] && grep -q "exclude each other" <<<"$err" || fail "--features with --no-features: $err"

# ---- errors before any work ----
run_rc "$M" get-historical-features -C "$T/no-such-repo" --entity-df "$T/ent_a.csv" --features cust_fv:f --output "$T/x.json"
[ $rc = 1 ] && grep -q "cannot tell the output format" <<<"$err" || fail "unknown extension: rc=$rc $err"
run_rc "$M" pull-all -C "$R" --feature-view cust_fv --start yesterday --output "$T/x.csv"
[ $rc = 1 ] && grep -q -- "--start wants an ISO-8601" <<<"$err" || fail "bad --start: $err"
run_rc "$M" pull-all -C "$R" --feature-view cust_fv --start 2024-02-01 --end 2024-01-01 --output "$T/x.csv"
[ $rc = 1 ] && grep -q "after --end" <<<"$err" || fail "start after end: $err"
run_rc "$M" pull-all -C "$R" --feature-view cust_fv --source cust_src --output "$T/x.csv"
[ $rc = 1 ] && grep -q "exactly one of --feature-view" <<<"$err" || fail "view and source: $err"
run_rc "$M" get-historical-features -C "$R" --entity-df "$T/ent_a.csv" --features cust_fv:f --feature-service trips --output "$T/x.csv"
[ $rc = 1 ] && grep -q "exactly one of --features" <<<"$err" || fail "features and service: $err"
run_rc "$M" get-historical-features -C "$R" --features cust_fv:f --output "$T/x.csv"
[ $rc = 1 ] && grep -q -- "--entity-df FILE, or both" <<<"$err" || fail "no entity input: $err"
run_rc "$M" get-historical-features -C "$R" --entity-df "$T/ent_a.csv" --features cust_fv:f
[ $rc = 1 ] && grep -q -- "--output FILE is required" <<<"$err" || fail "no output: $err"
run_rc "$M" get-historical-features -C "$R" --entity-df "$T/ent_a.csv" --features cust_fv:f --output "$T/x.csv" --allow-overwrite
[ $rc = 1 ] && grep -q -- "--allow-overwrite goes with --save-dataset" <<<"$err" || fail "overwrite alone: $err"
[ ! -e "$T/x.csv" ] && [ ! -e "$T/x.json" ] || fail "a refused command wrote its output"

# ---- the progress line (forced on a pipe; --quiet wins) ----
run_rc env MORSEL_PROGRESS=1 "$M" get-historical-features -C "$R" --entity-df "$T/ent_a.csv" --features cust_fv:f --output "$T/p.parquet"
[ $rc = 0 ] || fail "progress run: $err"
grep -q $'\r' "$T/.err" && grep -q "rows" "$T/.err" || fail "no progress line on stderr: $(od -c "$T/.err" | head)"
[ "$(tail -c 1 "$T/.err" | od -An -c | tr -d ' ')" = '\r' ] || fail "progress line not wiped at the end"
run_rc env MORSEL_PROGRESS=1 "$M" get-historical-features -C "$R" --entity-df "$T/ent_a.csv" --features cust_fv:f --output "$T/p.parquet" --quiet
[ -z "$err" ] && [ -z "$out" ] || fail "--quiet printed: $out $err"

# on a real terminal (util-linux script gives the command a pty) it is on by itself
if command -v script >/dev/null; then
  script -qec "$(printf '%q ' "$M" get-historical-features -C "$R" --entity-df "$T/ent_a.csv" --features cust_fv:f --output "$T/p2.parquet")" /dev/null >"$T/tty.log" </dev/null || fail "run on a pty"
  grep -q $'\rjoin cust_fv  .* rows' "$T/tty.log" || fail "no progress line on a terminal: $(od -c "$T/tty.log" | head)"
fi

# ---- saved datasets ----
S=$R/data/storage/saved_datasets/train_a.parquet
run_rc "$M" get-historical-features -C "$R" --entity-df "$T/ent_a.csv" --feature-service cust_service --save-dataset train_a
[ $rc = 0 ] || fail "save-dataset: $err"
[ -s "$S" ] || fail "saved dataset file missing at $S"
expect_eq "saved file rows" "$(cat_csv "$S")" "$(cat_csv "$T/a.parquet")"
ls -a "$(dirname "$S")" | grep -q '\.tmp' && fail "temporary file left behind"
run_rc "$M" saved-datasets list -C "$R"
grep -q "^train_a  *cust_fv:f  *6  *$S" <<<"$out" || fail "saved-datasets list: $out"
run_rc "$M" saved-datasets describe train_a -C "$R" --json
py_get() { /usr/bin/python3 -c "import json,sys; d=json.load(sys.stdin)['definition']; print($1)"; }
expect_eq "describe features" "$(py_get 'd["features"], d["join_keys"], d["full_feature_names"], d["feature_service"], d["rows"]' <<<"$out")" \
  "['cust_fv:f'] ['customer_id'] False cust_service 6"
expect_eq "describe event range" "$(py_get 'd["min_event_timestamp"], d["max_event_timestamp"]' <<<"$out")" \
  "2024-01-01T00:00:00Z 2024-01-03T00:00:00Z"
fv_hash=$("$M" feature-views describe cust_fv -C "$R" --json | /usr/bin/python3 -c "import json,sys; print(json.load(sys.stdin)['hash'])")
expect_eq "describe lineage hash" "$(py_get '[(v["name"], v["hash"]) for v in d["feature_views"]]' <<<"$out")" "[('cust_fv', '$fv_hash')]"
run_rc "$M" lineage saved_dataset:train_a -C "$R"
grep -q "<- feature_view cust_fv" <<<"$out" && grep -q "<- feature_service cust_service" <<<"$out" || fail "lineage: $out"
# refused a second time, the old file untouched
cp "$S" "$T/saved_before"
run_rc "$M" get-historical-features -C "$R" --entity-df "$T/ent_b.csv" --features backfill_fv:f --save-dataset train_a
[ $rc = 1 ] && grep -q "already registered" <<<"$err" || fail "second save without overwrite: rc=$rc $err"
cmp -s "$S" "$T/saved_before" || fail "refused save changed the file"
# a file in the way is refused too, even for a new name
cp "$T/saved_before" "$R/data/storage/saved_datasets/in_the_way.parquet"
run_rc "$M" get-historical-features -C "$R" --entity-df "$T/ent_b.csv" --features backfill_fv:f --save-dataset in_the_way
[ $rc = 1 ] && grep -q "already exists" <<<"$err" || fail "save over an unregistered file: rc=$rc $err"
cmp -s "$R/data/storage/saved_datasets/in_the_way.parquet" "$T/saved_before" || fail "refused save changed the unregistered file"
run_rc "$M" saved-datasets describe in_the_way -C "$R"
[ $rc = 1 ] || fail "refused save registered the name"
# replaced whole with --allow-overwrite
run_rc "$M" get-historical-features -C "$R" --entity-df "$T/ent_b.csv" --features backfill_fv:f --save-dataset train_a --allow-overwrite --output "$T/b2.parquet"
[ $rc = 0 ] || fail "overwrite: $err"
expect_eq "overwritten file" "$(cat_csv "$S")" "$(cat_csv "$T/b.parquet")"
run_rc "$M" saved-datasets history train_a -C "$R" --json
expect_eq "history after overwrite" "$(/usr/bin/python3 -c 'import json,sys; print([v["version"] for v in json.load(sys.stdin)])' <<<"$out")" "[1, 2]"
run_rc "$M" saved-datasets get train_a -C "$R" --output "$T/back.csv"
[ $rc = 0 ] && grep -q "Wrote 2 rows, 3 columns of saved dataset train_a" <<<"$out" || fail "saved-datasets get: $out $err"
expect_eq "read back" "$(cat_csv "$T/back.csv")" "$(cat_csv "$T/b.parquet")"
# another storage path, CSV, relative to the current directory
(cd "$T" && "$M" pull-all -C "$R" --feature-view loc_fv --save-dataset loc_all --storage sd/loc_all.csv --quiet) || fail "save to --storage"
[ -s "$T/sd/loc_all.csv" ] || fail "--storage file missing"
run_rc "$M" saved-datasets describe loc_all -C "$R" --json
expect_eq "pull saved: features, keys, range" "$(py_get 'd["features"], d["join_keys"], d["min_event_timestamp"], d["file_format"], d["rows"]' <<<"$out")" \
  "['loc_fv:temperature'] ['location_id'] None csv 3"
run_rc "$M" saved-datasets get loc_all -C "$R" --output "$T/loc_back.parquet"
expect_eq "csv saved dataset read back" "$(cat_csv "$T/loc_back.parquet" | wc -l)" 4
run_rc "$M" saved-datasets get nope -C "$R" --output "$T/n.csv"
[ $rc = 1 ] && grep -q "no saved dataset named 'nope'" <<<"$err" || fail "get missing: $err"
run_rc "$M" saved-datasets get train_a -C "$R"
[ $rc = 1 ] && grep -q "get needs --output" <<<"$err" || fail "get without output: $err"
run_rc "$M" get-historical-features -C "$R" --entity-df "$T/ent_b.csv" --features backfill_fv:f --save-dataset "../evil"
[ $rc = 1 ] && grep -q "not usable" <<<"$err" || fail "bad dataset name: $err"
# two processes saving the same new name at once: exactly one wins, and the file is its
# result, whole (the loser's link(2) fails; nothing is overwritten)
"$M" get-historical-features -C "$R" --entity-df "$T/ent_a.csv" --features cust_fv:f --save-dataset race --quiet 2>"$T/race1" &
p1=$!
"$M" get-historical-features -C "$R" --entity-df "$T/ent_b.csv" --features backfill_fv:f --save-dataset race --quiet 2>"$T/race2" &
p2=$!
set +e
wait $p1; r1=$?
wait $p2; r2=$?
set -e
if [ $r1 = 0 ] && [ $r2 = 1 ]; then winner=$T/a.parquet; loser=$T/race2
elif [ $r1 = 1 ] && [ $r2 = 0 ]; then winner=$T/b.parquet; loser=$T/race1
else fail "race: exit statuses $r1 $r2 ($(cat "$T/race1" "$T/race2"))"; winner=; loser=; fi
if [ -n "$winner" ]; then
  grep -q "already\|appeared while writing" "$loser" || fail "race loser's message: $(cat "$loser")"
  expect_eq "race winner's file" "$(cat_csv "$R/data/storage/saved_datasets/race.parquet")" "$(cat_csv "$winner")"
  run_rc "$M" saved-datasets get race -C "$R" --output "$T/race_back.csv" --quiet
  expect_eq "race winner registered" "$(cat_csv "$T/race_back.csv")" "$(cat_csv "$winner")"
fi
# apply keeps saved datasets
run_rc "$M" apply -C "$R"
run_rc "$M" saved-datasets list -C "$R" --json
expect_eq "saved datasets after apply" "$(/usr/bin/python3 -c 'import json,sys; print(sorted(o["name"] for o in json.load(sys.stdin)))' <<<"$out")" "['loc_all', 'race', 'train_a']"

if [ "$failures" -gt 0 ]; then
  echo "$failures failure(s)" >&2
  exit 1
fi
echo "cli offline tests passed"
