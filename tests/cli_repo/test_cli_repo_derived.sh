#!/usr/bin/env bash
# Repository commands with expressions: a repository with derived source columns, an
# aggregation view and an on-demand view (the contract's example, over real CSV/Parquet
# written by `morsel example-data`) validates, plans and applies; list/describe show the
# on-demand view and the aggregation definition; lineage has feature_view ->
# on_demand_feature_view -> feature_service. A type error makes apply and plan refuse with
# file:line:col and leaves the registry exactly as it was; validate reports it too; a
# structural error (unknown function) is reported at load.
set -euo pipefail
source "$(dirname "$0")/../lib/cli_test_common.sh" cli-repo-derived

R=$T/repo
mkdir -p "$R/data"
cat >"$R/feature_store.yaml" <<'EOF'
project: derived
registry: data/registry.db
offline_store:
  type: morsel
EOF
"$M" example-data retail --out "$R/data/transactions.csv" --scale 0.001 >/dev/null
"$M" example-data sample --out "$R/data/driver.parquet" --rows 20 >/dev/null
cat >"$R/defs.yaml" <<'EOF'
entities:
  - {name: customer, join_keys: [customer_id], value_type: int64}
  - {name: driver, join_keys: [driver_id], value_type: int64}
sources:
  - name: transactions
    path: data/transactions.csv
    file_format: csv
    timestamp_field: InvoiceDate
    columns:
      - {name: customer_id, expression: cast(CustomerID as int64)}
      - {name: revenue, expression: Quantity * UnitPrice}
      - {name: is_cancellation, expression: "starts_with(cast(InvoiceNo as string), 'C')"}
    filter: CustomerID is not null
  - name: driver_stats
    path: data/driver.parquet
    timestamp_field: event_timestamp
    field_mapping: {customer_id: driver_id, total_spend: conv_rate}
feature_views:
  - name: driver_hourly_stats
    entities: [driver]
    source: driver_stats
    schema: [{name: conv_rate, dtype: float64}]
  - name: customer_rfm_features
    entities: [customer]
    source: transactions
    population: {window: 90d, filter: not is_cancellation}
    cutoffs: {start: first_event + 90d, every: 30d, end: last_event - 30d}
    aggregations:
      - {name: last_purchase, function: max, input: InvoiceDate, window: 90d, filter: not is_cancellation}
      - {name: frequency, function: count_distinct, input: InvoiceNo, window: 90d, filter: not is_cancellation}
      - {name: monetary, function: sum, input: revenue, window: 90d, filter: not is_cancellation}
    expressions:
      - {name: recency_days, expression: "date_diff('day', last_purchase, as_of)"}
    schema:
      - {name: recency_days, dtype: int64}
      - {name: frequency, dtype: int64}
      - {name: monetary, dtype: float64}
on_demand_feature_views:
  - name: transformed_conv_rate
    sources: [driver_hourly_stats]
    request: [{name: val_to_add, dtype: int64}]
    schema:
      - {name: conv_rate_plus_100, dtype: float64, expression: conv_rate + 100}
      - {name: conv_rate_plus_val_to_add, dtype: float64, expression: "driver_hourly_stats.conv_rate + val_to_add"}
    description: Feast's example
feature_services:
  - name: svc
    features:
      - customer_rfm_features
      - transformed_conv_rate: [conv_rate_plus_100]
EOF

run_rc "$M" validate -C "$R"
[ $rc = 0 ] && grep -q "no problems" <<<"$out" || fail "validate: rc=$rc $out $err"
run_rc "$M" plan -C "$R"
[ $rc = 0 ] && grep -q "^Created   on-demand feature view transformed_conv_rate" <<<"$out" \
  || fail "plan: rc=$rc $out $err"
[ ! -e "$R/data/registry.db" ] || fail "plan created the registry"
run_rc "$M" apply -C "$R"
[ $rc = 0 ] && grep -q "Applied: 8 created" <<<"$out" || fail "apply: rc=$rc $out $err"

# ---- list / describe ----
run_rc "$M" on-demand-feature-views list -C "$R"
[ $rc = 0 ] || fail "odfv list: $err"
expect_eq "odfv list" "$(awk 'NR>1{print $1, $2}' <<<"$out")" "transformed_conv_rate driver_hourly_stats"
run_rc "$M" on-demand-feature-views describe transformed_conv_rate -C "$R" --json
[ $rc = 0 ] || fail "odfv describe: $err"
python3 - "$out" <<'PY' || fail "odfv describe json"
import json, sys
d = json.loads(sys.argv[1])
o = d.get("definition", d)
o = o if "schema" in o else next(v for v in d.values() if isinstance(v, dict) and "schema" in v)
assert [f["name"] for f in o["schema"]] == ["conv_rate_plus_100", "conv_rate_plus_val_to_add"], o
assert o["schema"][1]["expression"] == "driver_hourly_stats.conv_rate + val_to_add", o
assert o["request"] == [{"description": "", "dtype": "int64", "name": "val_to_add"}], o
assert o["sources"] == ["driver_hourly_stats"], o
PY
run_rc "$M" feature-views describe customer_rfm_features -C "$R"
[ $rc = 0 ] || fail "view describe: $err"
grep -q '"function": "count_distinct"' <<<"$out" && grep -q '"window": "90d"' <<<"$out" \
  && grep -q '"timestamp_field": "InvoiceDate"' <<<"$out" || fail "describe lacks the aggregation: $out"
run_rc "$M" lineage transformed_conv_rate -C "$R"
[ $rc = 0 ] && grep -q -- "<- feature_view driver_hourly_stats" <<<"$out" \
  && grep -q -- "-> feature_service svc" <<<"$out" || fail "lineage: $out $err"
run_rc "$M" plan -C "$R"
[ $rc = 0 ] && grep -q "^No changes: 8 unchanged" <<<"$out" || fail "plan after apply: $out"

# ---- a type error: apply refuses, the registry is unchanged ----
before=$("$M" registry-dump -C "$R")
sum_before=$(sha256sum "$R/data/registry.db" | cut -d' ' -f1)
cp "$R/defs.yaml" "$T/defs.good"
sed -i 's/expression: conv_rate + 100}/expression: conv_rate + 100, description: changed}/; s/input: revenue, window: 90d/input: Country, window: 60d/' "$R/defs.yaml"
run_rc "$M" apply -C "$R"
[ $rc = 1 ] || fail "apply accepted a type error: $out"
grep -q "^defs.yaml:31:48: feature view 'customer_rfm_features', aggregation 'monetary': sum needs numbers; its input is utf8$" <<<"$err" \
  || fail "type error message: $err"
grep -q "1 problem in the repository; nothing was written" <<<"$err" || fail "summary: $err"
[ -z "$out" ] || fail "apply printed changes: $out"
expect_eq "registry unchanged" "$("$M" registry-dump -C "$R")" "$before"
expect_eq "registry file unchanged" "$(sha256sum "$R/data/registry.db" | cut -d' ' -f1)" "$sum_before"
run_rc "$M" plan -C "$R"
[ $rc = 1 ] && grep -q "^defs.yaml:31:48: " <<<"$err" || fail "plan with a type error: rc=$rc $err"
run_rc "$M" validate -C "$R"
[ $rc = 1 ] && grep -q "^defs.yaml:31:48: .*sum needs numbers" <<<"$err" || fail "validate: rc=$rc $out $err"
run_rc "$M" validate -C "$R" --json
[ $rc = 1 ] || fail "validate --json rc=$rc"
python3 - "$out" <<'PY' || fail "validate --json: $out"
import json, sys
d = json.loads(sys.argv[1])
assert d["ok"] is False
assert any("sum needs numbers" in p["problem"] for p in d["problems"]), d
PY

# ---- a declared dtype that does not fit, and an expression error, all at once ----
cp "$T/defs.good" "$R/defs.yaml"
sed -i 's/{name: recency_days, dtype: int64}/{name: recency_days, dtype: string}/; s/expression: conv_rate + 100}/expression: conv_rat + 100}/' "$R/defs.yaml"
run_rc "$M" apply -C "$R"
[ $rc = 1 ] && grep -q "2 problems in the repository" <<<"$err" \
  && grep -q "^defs.yaml:35:9: .*feature 'recency_days' is declared string but its value is int64" <<<"$err" \
  && grep -q "^defs.yaml:43:64: .*at column 1: unknown column 'conv_rat' (did you mean 'conv_rate'?)" <<<"$err" \
  || fail "two type errors: $err"
expect_eq "registry unchanged (2)" "$("$M" registry-dump -C "$R")" "$before"

# ---- structural error at load ----
cp "$T/defs.good" "$R/defs.yaml"
sed -i 's/function: count_distinct/function: count_distint/' "$R/defs.yaml"
run_rc "$M" apply -C "$R"
[ $rc = 1 ] && grep -q "^defs.yaml:30:37: .*unknown function 'count_distint'; did you mean 'count_distinct'?" <<<"$err" \
  || fail "unknown function: $err"

# ---- a real edit: plan/apply show what changed ----
cp "$T/defs.good" "$R/defs.yaml"
sed -i 's/input: revenue, window: 90d/input: revenue, window: 60d/' "$R/defs.yaml"
run_rc "$M" apply -C "$R"
[ $rc = 0 ] && grep -q "^Updated   feature view customer_rfm_features (version 2): aggregation monetary: window 90d -> 60d$" <<<"$out" \
  || fail "edit: $out $err"

[ $failures = 0 ] || { echo "$failures failure(s)" >&2; exit 1; }
echo "cli_repo_derived: ok"
