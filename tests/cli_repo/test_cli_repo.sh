#!/usr/bin/env bash
# Tests of the repository commands on the SQLite registry: init -> plan -> apply -> plan
# (nothing) -> edit (ttl, a new feature) -> plan shows the update -> apply -> history has two
# versions -> describe --version 1 has the old ttl; list/describe/history --json; lineage
# in tree, dot and json form (exact output); validate reports a missing column and a wrong
# type in one run; a YAML syntax error names file:line:col and leaves the registry as it
# was; registry-dump is valid JSON; init refuses a non-empty directory.
# With MS_CLI_REPO_REGISTRY set to a postgresql:// URL (test_cli_repo_pg.sh does this) the
# same steps run against that registry instead of the repository's SQLite file.
set -euo pipefail
source "$(dirname "$0")/../lib/cli_test_common.sh" cli-repo
json_ok() { python3 -m json.tool >/dev/null 2>&1; }

R=$T/shop
# ---- help lists every repository command ----
run_rc "$M" help
for c in init plan apply teardown validate entities data-sources sources feature-views \
         feature-services saved-datasets lineage registry-dump; do
  grep -q "^  $c " <<<"$out" || fail "help does not list $c"
done
run_rc "$M" feature-views frob
[ $rc = 1 ] && grep -q "unknown action 'frob'" <<<"$err" || fail "unknown action: $rc $err"
# ---- init ----
run_rc "$M" init "$R"
[ $rc = 0 ] || fail "init: rc=$rc $err"
for f in feature_store.yaml features.yaml README.md data/customer_features.parquet; do
  [ -s "$R/$f" ] || fail "init did not write $f"
done
grep -q '^project: shop$' "$R/feature_store.yaml" || fail "project name not in feature_store.yaml"
grep -q 'morsel plan' "$R/README.md" || fail "README does not say what to run next"
run_rc "$M" init "$R"
[ $rc = 1 ] && grep -q "not empty" <<<"$err" || fail "init over a non-empty dir: rc=$rc $err"
run_rc "$M" init "$T/bad-name"
[ $rc = 1 ] || fail "init accepted a project name with '-'"
run_rc "$M" init "$T/other" -t nosuch   # (retail is a template since issue 5)
[ $rc = 1 ] && [ ! -e "$T/other" ] || fail "init accepted an unknown template"
mkdir "$T/empty"
run_rc "$M" init "$T/empty" -t minimal
[ $rc = 0 ] || fail "init into an empty directory: $err"

PG=${MS_CLI_REPO_REGISTRY:-}
backend=sqlite
[ -z "$PG" ] || backend=postgresql
if [ -n "$PG" ]; then
  python3 - "$R/feature_store.yaml" "$PG" <<'PY'
import sys
p, url = sys.argv[1], sys.argv[2]
lines = open(p).read().split("\n")
lines = [("registry:\n  registry_type: sql\n  path: " + url) if l.startswith("registry:") else l for l in lines]
open(p, "w").write("\n".join(lines))
PY
  grep -q "registry_type: sql" "$R/feature_store.yaml" || fail "could not point the repo at PostgreSQL"
fi

# ---- validate on the fresh repo ----
run_rc "$M" validate -C "$R"
[ $rc = 0 ] && grep -q "no problems" <<<"$out" || fail "validate fresh repo: rc=$rc $out $err"

# ---- plan on a new repository: everything created, no registry file made ----
run_rc "$M" plan -C "$R"
[ $rc = 0 ] || fail "plan: rc=$rc $err"
for l in "Created   entity customer" "Created   data source customer_source" \
         "Created   feature view customer_features" "Created   feature service customer_activity"; do
  grep -qF "$l" <<<"$out" || fail "plan lacks '$l': $out"
done
grep -qF "Plan: 4 to create, 0 to update, 0 to delete, 0 unchanged." <<<"$out" || fail "plan summary: $out"
[ ! -e "$R/data/registry.db" ] || fail "plan created the registry"

# ---- apply ----
run_rc "$M" apply --repo "$R"
[ $rc = 0 ] || fail "apply: rc=$rc $err"
grep -qF "Applied: 4 created, 0 updated, 0 deleted, 0 unchanged." <<<"$out" || fail "apply summary: $out"
[ -n "$PG" ] || [ -s "$R/data/registry.db" ] || fail "apply wrote no registry"
(cd "$R" && "$M" plan) >"$T/plan2" 2>&1 || fail "plan after apply failed"
grep -qF "No changes: 4 unchanged." "$T/plan2" || { fail "plan after apply"; cat "$T/plan2" >&2; }
run_rc "$M" plan -C "$R" --json
json_ok <<<"$out" || fail "plan --json is not JSON: $out"
grep -q '"created":0,"updated":0,"deleted":0,"unchanged":4' <<<"$out" || fail "plan --json counts: $out"

# ---- edit: ttl 90d -> 30d, a new feature ----
sed -i 's/ttl: 90d/ttl: 30d/; s/      - {name: orders_30d, dtype: int64}/&\n      - {name: days_since_signup, dtype: int64}/' "$R/features.yaml"
grep -q days_since_signup "$R/features.yaml" || fail "test edit did not apply"
run_rc "$M" plan -C "$R"
[ $rc = 0 ] || fail "plan after edit: $err"
grep -q "^Updated   feature view customer_features (version 2): .*ttl.*90d.*30d" <<<"$out" || fail "plan update line: $out"
grep -q "^Updated   feature view customer_features.*days_since_signup" <<<"$out" || fail "plan update lacks the feature: $out"
grep -qF "Plan: 0 to create, 1 to update, 0 to delete, 3 unchanged." <<<"$out" || fail "plan update summary: $out"
run_rc "$M" apply -C "$R"
grep -qF "Applied: 0 created, 1 updated, 0 deleted, 3 unchanged." <<<"$out" || fail "apply update: $out $err"

# ---- history, describe ----
run_rc "$M" feature-views history customer_features -C "$R"
[ $rc = 0 ] || fail "history: $err"
expect_eq "history lines" "$(wc -l <<<"$out")" 3
grep -q "^VERSION  TIME" <<<"$out" || fail "history header: $out"
me=${USER:-$(id -un)}@$(hostname)
grep -q "^1 .* $me .* created$" <<<"$out" || fail "history v1 line ($me): $out"
grep -q "^2 .* $me .*ttl" <<<"$out" || fail "history v2 line: $out"
run_rc "$M" feature-views history customer_features -C "$R" --json
json_ok <<<"$out" || fail "history --json: $out"
expect_eq "history --json versions" "$(python3 -c 'import json,sys; print([v["version"] for v in json.load(sys.stdin)])' <<<"$out")" "[1, 2]"
run_rc "$M" feature-views describe customer_features --version 1 -C "$R" --json
json_ok <<<"$out" || fail "describe --json: $out"
grep -q '90d\|7776000' <<<"$out" || fail "describe --version 1 lacks the old ttl: $out"
grep -q days_since_signup <<<"$out" && fail "describe --version 1 has the new feature"
run_rc "$M" feature-views describe customer_features -C "$R"
grep -q '30d\|2592000' <<<"$out" && grep -q days_since_signup <<<"$out" || fail "describe latest: $out"
grep -q "^feature view customer_features, version 2" <<<"$out" || fail "describe header: $out"
run_rc "$M" feature-views describe customer_features --version 9 -C "$R"
[ $rc = 1 ] && grep -q "no version 9" <<<"$err" || fail "describe missing version: $rc $err"
run_rc "$M" feature-views describe nope -C "$R"
[ $rc = 1 ] && grep -q "no feature view named 'nope'" <<<"$err" || fail "describe missing object: $err"

# ---- list (all kinds, the sources alias) ----
run_rc "$M" feature-views list -C "$R"
grep -q "^customer_features  customer  *customer_source  " <<<"$out" || fail "feature-views list: $out"
run_rc "$M" sources list -C "$R"
grep -q "^customer_source " <<<"$out" || fail "sources list: $out"
run_rc "$M" data-sources list -C "$R" --json
json_ok <<<"$out" || fail "data-sources list --json: $out"
run_rc "$M" entities list -C "$R"
grep -q "^customer  *customer_id  *int64" <<<"$out" || fail "entities list: $out"
run_rc "$M" feature-services list -C "$R" --json
expect_eq "feature-services list names" "$(python3 -c 'import json,sys; print([o["name"] for o in json.load(sys.stdin)])' <<<"$out")" "['customer_activity']"
run_rc "$M" saved-datasets list -C "$R"
[ $rc = 0 ] && grep -q "no saved datasets" <<<"$out" || fail "saved-datasets list: $out $err"

# ---- lineage ----
run_rc "$M" lineage customer_features -C "$R"
expect_eq "lineage tree" "$out" "feature_view customer_features
upstream:
  <- data_source customer_source
  <- entity customer
downstream:
  -> feature_service customer_activity"
run_rc "$M" lineage customer_activity -C "$R" --format dot
expect_eq "lineage dot" "$out" 'digraph lineage {
  rankdir=LR;
  node [shape=box];
  "feature_service:customer_activity" [style=bold];
  "data_source:customer_source" -> "feature_view:customer_features";
  "entity:customer" -> "feature_view:customer_features";
  "feature_view:customer_features" -> "feature_service:customer_activity";
}'
run_rc "$M" lineage customer_source -C "$R" --format json
expect_eq "lineage json" "$out" '{"root":{"kind":"data_source","name":"customer_source"},"edges":[{"from":{"kind":"data_source","name":"customer_source"},"to":{"kind":"feature_view","name":"customer_features"}},{"from":{"kind":"feature_view","name":"customer_features"},"to":{"kind":"feature_service","name":"customer_activity"}}]}'
run_rc "$M" lineage nothing_here -C "$R"
[ $rc = 1 ] || fail "lineage of an unknown name succeeded"

# ---- registry-dump ----
run_rc "$M" registry-dump -C "$R"
[ $rc = 0 ] && json_ok <<<"$out" || fail "registry-dump is not JSON: $out $err"
expect_eq "dump objects" "$(python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["project"], d["backend"], len(d["objects"]), len(d["lineage"]))' <<<"$out")" "shop $backend 4 3"

# ---- bad YAML: file:line:col, nothing written ----
before=$("$M" registry-dump -C "$R")
cp "$R/features.yaml" "$T/features.good"
printf 'entities:\n  - name: [unclosed\n' >"$R/broken.yaml"
run_rc "$M" apply -C "$R"
[ $rc = 1 ] || fail "apply with bad YAML: rc=$rc"
grep -q "broken.yaml:[0-9][0-9]*:[0-9][0-9]*" <<<"$err" || fail "bad YAML error lacks file:line:col: $err"
rm "$R/broken.yaml"
expect_eq "registry unchanged after bad YAML" "$("$M" registry-dump -C "$R")" "$before"

# ---- validate: a missing column and a wrong type in one run ----
sed -i 's/{name: total_spend, dtype: float64}/{name: total_spend, dtype: string}/; s/{name: orders_30d, dtype: int64}/&\n      - {name: loyalty_points, dtype: int64}/' "$R/features.yaml"
run_rc "$M" validate -C "$R"
[ $rc = 1 ] || fail "validate should fail: rc=$rc"
grep -q "source customer_source (.*customer_features.parquet): column 'loyalty_points': .*missing" <<<"$out" || fail "validate missing column: $out"
grep -q "column 'total_spend': .*incompatible type (declared string, actual float64)" <<<"$out" || fail "validate wrong type: $out"
grep -q "validate found 2 problems" <<<"$err" || fail "validate count: $err"
run_rc "$M" validate -C "$R" --json
json_ok <<<"$out" || fail "validate --json: $out"
cp "$T/features.good" "$R/features.yaml"

# ---- concurrent applies from two checkouts of the repository: each one either applies or
# is refused with the conflict message; the registry ends as one of the two, never a mix ----
R2=$T/shop_b
cp -r "$R" "$R2"
rm -f "$R2/data/registry.db"
if [ -z "$PG" ]; then sed -i "s|^registry: .*|registry: $R/data/registry.db|" "$R2/feature_store.yaml"; fi
refused=0
for round in 1 2 3 4 5; do
  sed -i "s/ttl: [0-9]*d/ttl: ${round}1d/" "$R/features.yaml"
  sed -i "s/ttl: [0-9]*d/ttl: ${round}2d/; s/description: Every customer activity feature.*/description: Every customer activity feature $round/" "$R2/features.yaml"
  set +e
  "$M" apply -C "$R" >"$T/a.out" 2>"$T/a.err" & pa=$!
  "$M" apply -C "$R2" >"$T/b.out" 2>"$T/b.err" & pb=$!
  wait $pa; ra=$?
  wait $pb; rb=$?
  set -e
  for x in a b; do
    r=$ra; [ $x = b ] && r=$rb
    if [ $r != 0 ] && ! grep -q "nothing was written" "$T/$x.err"; then
      fail "concurrent apply $x (round $round): rc=$r $(cat "$T/$x.err")"
    fi
  done
  [ $ra = 0 ] || [ $rb = 0 ] || fail "round $round: both concurrent applies refused"
  [ $ra = 0 ] && [ $rb = 0 ] || refused=$((refused + 1))
  ttl=$("$M" feature-views describe customer_features -C "$R" --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["definition"]["ttl"])')
  svc=$("$M" feature-services describe customer_activity -C "$R" --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["definition"]["description"])')
  case "$ttl|$svc" in
    "${round}1d|Every customer activity feature"|"${round}2d|Every customer activity feature $round") ;;
    *) fail "round $round: registry holds a mix of the two applies: ttl=$ttl service=$svc" ;;
  esac
done
echo "concurrent applies: $refused of 5 rounds had one apply refused"
cp "$T/features.good" "$R/features.yaml"
"$M" apply -C "$R" >/dev/null

# ---- teardown ----
run_rc "$M" teardown -C "$R"
[ $rc = 0 ] || fail "teardown: $err"
run_rc "$M" feature-views list -C "$R"
grep -q "no feature views" <<<"$out" || fail "list after teardown: $out"
run_rc "$M" feature-views history customer_features -C "$R"
grep -q "deleted" <<<"$out" || fail "history after teardown lacks the deletion: $out"

if [ $failures -gt 0 ]; then echo "$failures failure(s)" >&2; exit 1; fi
echo "all cli_repo tests passed"
