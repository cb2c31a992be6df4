#!/usr/bin/env bash
# On-demand feature views, source cleaning and aggregation views through the CLI:
# get-historical-features with an on-demand view's outputs (Feast's transformed_conv_rate:
# conv_rate + 100 and conv_rate + val_to_add, nulls propagating, hidden inputs not output,
# full names, a feature service with an alias), the missing request column error before
# any output, --explain showing the on-demand step; a source with derived columns and a
# filter read by a view and by pull-all/pull-latest (with --features); and, when the
# `compute` command exists, an aggregation view: as-of before `morsel compute`, stored
# after (identical cells at the cutoffs), --aggregations, pulls of the snapshots and the
# refusal of snapshots from an older definition.
set -euo pipefail
source "$(dirname "$0")/../lib/cli_test_common.sh" cli-offline-odfv

R=$T/repo
mkdir -p "$R/data"
cat >"$R/feature_store.yaml" <<'EOF'
project: odfv_test
provider: local
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
  - name: customer
    join_keys: [customer_id]
sources:
  - name: driver_stats
    path: data/driver_stats.csv
    timestamp_field: event_timestamp
  - name: tx
    path: data/tx.csv
    file_format: csv
    timestamp_field: InvoiceDate
    columns:
      - {name: customer_id, expression: cast(CustomerID as int64)}
      - {name: revenue, expression: Quantity * UnitPrice}
      - {name: is_cancellation, expression: "starts_with(InvoiceNo, 'C')"}
    filter: CustomerID is not null and not is_cancellation
feature_views:
  - name: driver_hourly_stats
    entities: [driver]
    ttl: 1d
    source: driver_stats
    schema:
      - {name: conv_rate, dtype: float64}
      - {name: acc_rate, dtype: float64}
  - name: spend
    entities: [customer]
    source: tx
    schema:
      - {name: revenue, dtype: float64}
      - {name: Quantity, dtype: int64}
  - name: spend_agg
    entities: [customer]
    source: tx
    cutoffs: {start: '2024-01-02 00:00:00', every: 1d, end: '2024-01-05 00:00:00'}
    aggregations:
      - {name: n_orders, function: count, window: 2d}
      - {name: total, function: sum, input: revenue, window: 2d}
    schema:
      - {name: n_orders, dtype: int64}
      - {name: total, dtype: float64}
on_demand_feature_views:
  - name: transformed_conv_rate
    sources: [driver_hourly_stats]
    request:
      - {name: val_to_add, dtype: int64}
    schema:
      - {name: conv_rate_plus_100, dtype: float64, expression: conv_rate + 100}
      - {name: conv_rate_plus_val_to_add, dtype: float64, expression: "driver_hourly_stats.conv_rate + val_to_add"}
feature_services:
  - name: driver_activity
    features:
      - {feature_view: driver_hourly_stats, features: [acc_rate]}
      - {feature_view: transformed_conv_rate, alias: tcr}
EOF
cat >"$R/data/driver_stats.csv" <<'EOF'
driver_id,event_timestamp,conv_rate,acc_rate
1001,2024-01-01T00:00:00,0.5,0.9
1001,2024-01-02T00:00:00,0.25,0.8
1002,2024-01-01T00:00:00,,0.7
1003,2024-01-01T00:00:00,0.75,0.6
EOF
cat >"$R/data/tx.csv" <<'EOF'
InvoiceNo,CustomerID,Quantity,UnitPrice,InvoiceDate
536365,17850,6,2.5,2024-01-01T08:00:00
536366,17850,2,10.0,2024-01-02T09:00:00
C536367,17850,-2,10.0,2024-01-02T10:00:00
536368,,5,1.0,2024-01-02T11:00:00
536369,13047,3,4.0,2024-01-03T12:00:00
536370,13047,1,100.0,2024-01-04T12:00:00
EOF
run_rc "$M" apply -C "$R"
[ $rc = 0 ] || fail "apply: $out $err"
cat_csv() { "$M" cat "$1" --format csv; }

cat >"$T/ent.csv" <<'EOF'
driver_id,event_timestamp,val_to_add
1001,2024-01-02T12:00:00,1
1002,2024-01-01T12:00:00,2
1003,2024-01-03T00:00:01,3
1001,2024-01-01T06:00:00,
9999,2024-01-02T00:00:00,5
EOF
# conv_rate + 100 and + val_to_add: a null rate (1002), an expired row (1003, ttl 1d), a
# null request value and an unknown driver give nulls; conv_rate itself is not output.
run_rc "$M" get-historical-features -C "$R" --entity-df "$T/ent.csv" \
  --features transformed_conv_rate:conv_rate_plus_100,transformed_conv_rate:conv_rate_plus_val_to_add \
  --output "$T/o1.csv" --quiet
[ $rc = 0 ] || fail "odfv: $err"
expect_eq "odfv outputs" "$(cat_csv "$T/o1.csv")" "driver_id,event_timestamp,val_to_add,conv_rate_plus_100,conv_rate_plus_val_to_add
1001,2024-01-02T12:00:00.000000000,1,100.25,1.25
1002,2024-01-01T12:00:00.000000000,2,,
1003,2024-01-03T00:00:01.000000000,3,,
1001,2024-01-01T06:00:00.000000000,,100.5,
9999,2024-01-02T00:00:00.000000000,5,,"
# a feature service with an alias, full names
run_rc "$M" get-historical-features -C "$R" --entity-df "$T/ent.csv" --feature-service driver_activity \
  --full-feature-names --output "$T/o2.csv" --quiet
[ $rc = 0 ] || fail "odfv service: $err"
expect_eq "odfv service header" "$(cat_csv "$T/o2.csv" | head -1)" \
  "driver_id,event_timestamp,val_to_add,driver_hourly_stats__acc_rate,tcr__conv_rate_plus_100,tcr__conv_rate_plus_val_to_add"
expect_eq "odfv service row" "$(cat_csv "$T/o2.csv" | sed -n 2p)" "1001,2024-01-02T12:00:00.000000000,1,0.8,100.25,1.25"
# the request column missing: an error before any output
cut -d, -f1,2 "$T/ent.csv" >"$T/ent_noval.csv"
run_rc "$M" get-historical-features -C "$R" --entity-df "$T/ent_noval.csv" \
  --features transformed_conv_rate:conv_rate_plus_val_to_add --output "$T/o3.csv"
[ $rc = 1 ] && grep -q "missing 1 request column: 'val_to_add'" <<<"$err" || fail "missing request column: rc=$rc $err"
[ ! -e "$T/o3.csv" ] || fail "output written despite the error"
# explain shows the on-demand step
run_rc "$M" get-historical-features -C "$R" --entity-df "$T/ent.csv" \
  --features transformed_conv_rate:conv_rate_plus_val_to_add --explain
[ $rc = 0 ] && grep -q "on-demand view transformed_conv_rate" <<<"$out" &&
  grep -q "request column val_to_add" <<<"$out" || fail "explain odfv: $out $err"

# ---- source cleaning: derived key and feature, filter (null customer, cancellation) ----
run_rc "$M" pull-all -C "$R" --feature-view spend --output "$T/p1.csv" --quiet
[ $rc = 0 ] || fail "pull-all cleaned: $err"
expect_eq "pull-all cleaned" "$(cat_csv "$T/p1.csv")" "customer_id,revenue,Quantity,InvoiceDate
17850,15,6,2024-01-01T08:00:00.000000000
17850,20,2,2024-01-02T09:00:00.000000000
13047,12,3,2024-01-03T12:00:00.000000000
13047,100,1,2024-01-04T12:00:00.000000000"
run_rc "$M" pull-latest -C "$R" --feature-view spend --features revenue --output "$T/p2.csv" --quiet
expect_eq "pull-latest cleaned" "$(cat_csv "$T/p2.csv")" "customer_id,revenue,InvoiceDate
17850,20,2024-01-02T09:00:00.000000000
13047,100,2024-01-04T12:00:00.000000000"
cat >"$T/ent_c.csv" <<'EOF'
customer_id,event_timestamp
17850,2024-01-02T10:30:00
13047,2024-01-03T00:00:00
17850,2024-01-01T00:00:00
EOF
run_rc "$M" get-historical-features -C "$R" --entity-df "$T/ent_c.csv" --features spend:revenue --output "$T/h1.csv" --quiet
[ $rc = 0 ] || fail "historical cleaned: $err"
# the cancellation at 10:00 (later than the 09:00 row) is filtered out: 20, not -20
expect_eq "historical cleaned" "$(cat_csv "$T/h1.csv")" "customer_id,event_timestamp,revenue
17850,2024-01-02T10:30:00.000000000,20
13047,2024-01-03T00:00:00.000000000,
17850,2024-01-01T00:00:00.000000000,"

# ---- aggregation views (needs the compute command) ----
if "$M" compute --help >/dev/null 2>&1; then
  cat >"$T/ent_g.csv" <<'EOF'
customer_id,event_timestamp
17850,2024-01-03T00:00:00
13047,2024-01-04T00:00:00
13047,2024-01-05T00:00:00
EOF
  run_rc "$M" get-historical-features -C "$R" --entity-df "$T/ent_g.csv" --features spend_agg:n_orders,spend_agg:total \
    --aggregations stored --output "$T/g0.csv"
  [ $rc = 1 ] && grep -q "run morsel compute spend_agg" <<<"$err" || fail "stored without snapshots: $err"
  run_rc "$M" get-historical-features -C "$R" --entity-df "$T/ent_g.csv" --features spend_agg:n_orders,spend_agg:total \
    --output "$T/g1.csv" --quiet
  [ $rc = 0 ] || fail "as-of (auto without snapshots): $err"
  # windows [T - 2d, T): 17850 at Jan 3 has the 08:00 and 09:00 rows; 13047 at Jan 4 one, at Jan 5 two
  expect_eq "as-of" "$(cat_csv "$T/g1.csv")" "customer_id,event_timestamp,n_orders,total
17850,2024-01-03T00:00:00.000000000,2,35
13047,2024-01-04T00:00:00.000000000,1,12
13047,2024-01-05T00:00:00.000000000,2,112"
  run_rc "$M" compute spend_agg -C "$R" --quiet
  [ $rc = 0 ] || fail "compute: $err"
  run_rc "$M" get-historical-features -C "$R" --entity-df "$T/ent_g.csv" --features spend_agg:n_orders,spend_agg:total \
    --aggregations stored --output "$T/g2.csv" --quiet
  [ $rc = 0 ] || fail "stored: $err"
  expect_eq "stored = as-of at the cutoffs" "$(cat_csv "$T/g2.csv")" "$(cat_csv "$T/g1.csv")"
  run_rc "$M" get-historical-features -C "$R" --entity-df "$T/ent_g.csv" --features spend_agg:total --explain
  grep -q "mode stored" <<<"$out" || fail "explain stored: $out"
  run_rc "$M" get-historical-features -C "$R" --entity-df "$T/ent_g.csv" --features spend_agg:total --aggregations as-of --explain
  grep -q "mode as-of" <<<"$out" || fail "explain as-of: $out"
  run_rc "$M" get-historical-features -C "$R" --entity-df "$T/ent_g.csv" --features spend_agg:total --aggregations sometimes --explain
  [ $rc != 0 ] && grep -q "auto, stored or as-of" <<<"$err" || fail "bad --aggregations: $err"
  # the latest snapshot per customer (17850 leaves the population after Jan 4)
  run_rc "$M" pull-latest -C "$R" --feature-view spend_agg --output "$T/g3.csv" --quiet
  [ $rc = 0 ] || fail "pull-latest snapshots: $err"
  expect_eq "pull-latest snapshots" "$(cat_csv "$T/g3.csv")" "customer_id,n_orders,total,event_timestamp
17850,1,20,2024-01-04T00:00:00.000000000
13047,2,112,2024-01-05T00:00:00.000000000"
  # an edited definition: the snapshots are refused
  sed -i 's/window: 2d}/window: 3d}/' "$R/features.yaml"
  run_rc "$M" get-historical-features -C "$R" --entity-df "$T/ent_g.csv" --features spend_agg:total --output "$T/g4.csv"
  [ $rc = 1 ] && grep -q "older definition" <<<"$err" && grep -q "run morsel compute spend_agg" <<<"$err" ||
    fail "hash mismatch: $err"
fi

if [ "$failures" -gt 0 ]; then
  echo "$failures failure(s)" >&2
  exit 1
fi
echo "cli offline odfv tests passed"
