#!/usr/bin/env bash
# `morsel compute` and `morsel cutoffs` on a small repository: the retail-like schedule
# (first_event + 90d every 30d while <= last_event - 30d, time of day kept) gives the
# article's nine cutoffs; --start/--every/--end override it; compute writes one file per
# cutoff atomically (no temporary file left, a re-run replaces each file with a new inode),
# prints one line per cutoff with rows and feature means, nothing with --quiet; the snapshot
# holds the expected values; errors exit 1 with a message.
set -euo pipefail
source "$(dirname "$0")/../lib/cli_test_common.sh" compute-cli

R=$T/repo
mkdir -p "$R/data"
cat >"$R/feature_store.yaml" <<'EOF'
project: compute_cli
registry: data/registry.db
offline_store:
  type: morsel
  storage_path: data/morsel_storage
  threads: 2
EOF
cat >"$R/features.yaml" <<'EOF'
entities:
  - name: customer
    join_keys: [customer_id]
    value_type: int64
sources:
  - name: tx
    path: data/tx.csv
    file_format: csv
    timestamp_field: InvoiceDate
    columns:
      - {name: customer_id, expression: cast(CustomerID as int64)}
      - {name: revenue, expression: Quantity * UnitPrice}
      - {name: is_cancellation, expression: "starts_with(cast(InvoiceNo as string), 'C')"}
    filter: CustomerID is not null
  - name: plain
    path: data/tx.csv
    file_format: csv
    timestamp_field: InvoiceDate
feature_views:
  - name: rfm
    entities: [customer]
    source: tx
    ttl: 0s
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
  - name: labels
    entities: [customer]
    source: tx
    ttl: 0s
    population: {window: 90d, filter: not is_cancellation}
    cutoffs: {start: first_event + 90d, every: 30d, end: last_event - 30d}
    aggregations:
      - {name: n_next, function: count, window: 30d, direction: forward, filter: not is_cancellation}
    expressions:
      - {name: purchased, expression: "if(n_next > 0, 1, 0)"}
    schema:
      - {name: purchased, dtype: int64}
  - name: raw
    entities: [customer]
    source: plain
    ttl: 0s
    schema:
      - {name: Quantity, dtype: int64}
EOF
cat >"$R/data/tx.csv" <<'EOF'
InvoiceNo,StockCode,Quantity,InvoiceDate,UnitPrice,CustomerID
536365,85123A,6,2010-12-01 08:26:00,2.55,17850
536366,22633,6,2010-12-05 09:00:00,1.85,17850
C536379,D,-1,2011-02-20 09:41:00,27.5,14527
536380,22961,24,2011-02-20 10:00:00,1.45,14527
536381,22139,2,2011-02-27 11:00:00,3.0,
536390,22941,10,2011-02-28 08:26:00,2.0,17850
536391,22942,1,2011-03-01 08:26:00,5.0,17850
581587,23256,4,2011-12-09 12:50:00,4.15,12680
EOF

cd "$R"
# the article's cutoffs: 2011-03-01 .. 2011-10-27 every 30 days, at 08:26
run_rc "$M" cutoffs rfm
expect_eq "cutoffs status" "$rc" 0
expect_eq "cutoffs" "$out" "2011-03-01 08:26:00
2011-03-31 08:26:00
2011-04-30 08:26:00
2011-05-30 08:26:00
2011-06-29 08:26:00
2011-07-29 08:26:00
2011-08-28 08:26:00
2011-09-27 08:26:00
2011-10-27 08:26:00"
run_rc "$M" cutoffs rfm --start 2011-01-01 --every 7d --end "2011-01-15 00:00:00"
expect_eq "cutoffs given" "$out" "2011-01-01 00:00:00
2011-01-08 00:00:00
2011-01-15 00:00:00"
run_rc "$M" cutoffs rfm --start "2011-01-01 00:00:00.5" --every 1d --end "2011-01-02"
expect_eq "cutoffs fraction" "$out" "2011-01-01 00:00:00.5"
run_rc "$M" cutoffs rfm --every 0d
expect_eq "bad every status" "$rc" 1
[[ "$err" == *"--every wants a duration"* ]] || fail "bad every message: $err"
run_rc "$M" cutoffs nope
expect_eq "unknown view status" "$rc" 1
[[ "$err" == *"unknown feature view 'nope'"* ]] || fail "unknown view message: $err"
run_rc "$M" compute raw
expect_eq "not an aggregation view" "$rc" 1
[[ "$err" == *"not an aggregation view"* ]] || fail "raw message: $err"

# compute, quiet: nothing on stdout, nine files committed in one manifest generation, no
# temporary file
run_rc "$M" compute rfm --quiet
expect_eq "compute quiet status" "$rc" 0
expect_eq "compute quiet stdout" "$out" ""
D=data/morsel_storage/aggregations/rfm
# live_files DIR: the manifest's live files, one per line; live_path DIR STEM: the live file
# of a cutoff stem; generation DIR: the manifest's generation
live_files() { python3 -c 'import json,sys; [print(f["path"]) for f in json.load(open(sys.argv[1]))["files"]]' "$1/_morsel_manifest.json"; }
live_path() { echo "$1/$(live_files "$1" | grep "^$2\.m[0-9a-f]\{16\}\.parquet\$")"; }
generation() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["generation"])' "$1/_morsel_manifest.json"; }
expect_eq "files" "$(ls "$D" | grep -c '^cutoff=')" 9
expect_eq "live files" "$(live_files "$D" | wc -l | tr -d ' ')" 9
expect_eq "generation" "$(generation "$D")" 1
expect_eq "no temporary file" "$(ls -A "$D" | grep -c '^\.' || true)" 0
first=$(live_path "$D" cutoff=20110301T082600)
[ -f "$first" ] || fail "missing $first"

# the first cutoff: 17850 (invoices 536365 at T-90d exactly, 536366, 536390; 536391 is at T),
# 14527 (one purchase, its cancellation not counted)
run_rc "$M" cat "$first" --format csv
expect_eq "snapshot" "$out" "customer_id,recency_days,frequency,monetary,event_timestamp
14527,8,1,34.8,2011-03-01T08:26:00.000000000
17850,1,3,46.4,2011-03-01T08:26:00.000000000"

# compute with the summary: one line per cutoff, totals, stage times; the file is replaced
run_rc env MORSEL_PROGRESS=1 "$M" compute rfm --threads 1
expect_eq "compute status" "$rc" 0
expect_eq "cutoff lines" "$(grep -c '^2011-' <<<"$out")" 9
grep -q '^2011-03-01 08:26:00 *2 *4.5000 *2.0000 *40.6000$' <<<"$out" || fail "first cutoff line: $out"
grep -q '^total *7$' <<<"$out" || fail "total line: $out"
grep -q '^time: read [0-9.]* s, compute [0-9.]* s, write [0-9.]* s' <<<"$out" || fail "time line: $out"
[[ "$err" == *"compute rfm"* ]] || fail "no progress on stderr: $err"
# the re-run: one commit (generation 2) with nine new files; the replaced ones stay on disk
# (retention) but are no longer live, and hold the same cells
expect_eq "generation after re-run" "$(generation "$D")" 2
grep -q "^rfm: 9 cutoffs, .*(generation 2)$" <<<"$out" || fail "generation in the summary: $out"
first2=$(live_path "$D" cutoff=20110301T082600)
[ "$first" != "$first2" ] || fail "the re-run did not replace the file"
[ -f "$first" ] || fail "the replaced file was deleted before the retention"
expect_eq "replaced = new" "$("$M" cat "$first" --format csv)" "$("$M" cat "$first2" --format csv)"
expect_eq "live files after re-run" "$(live_files "$D" | wc -l | tr -d ' ')" 9
expect_eq "files after re-run" "$(ls "$D" | grep -c '^cutoff=')" 18
expect_eq "rows read after re-run" "$("$M" cat "$D" --format csv | wc -l | tr -d ' ')" 8
first=$first2

# two views over one source in one command (one read): both written, same as separately
cp "$first" "$T/rfm_first.parquet"
run_rc "$M" compute labels rfm
expect_eq "two views status" "$rc" 0
grep -q '^labels: 9 cutoffs' <<<"$out" || fail "labels block: $out"
grep -q '^rfm: 9 cutoffs' <<<"$out" || fail "rfm block: $out"
grep -q '^2 views' <<<"$out" || fail "views line: $out"
expect_eq "label files" "$(live_files data/morsel_storage/aggregations/labels | wc -l | tr -d ' ')" 9
expect_eq "same rfm" "$("$M" cat "$(live_path "$D" cutoff=20110301T082600)" --format csv)" "$("$M" cat "$T/rfm_first.parquet" --format csv)"
# 17850 buys at T (2011-03-01 08:26, in [T, T + 30d)); 14527 does not
run_rc "$M" cat "$(live_path data/morsel_storage/aggregations/labels cutoff=20110301T082600)" --format csv --columns customer_id,purchased
expect_eq "labels" "$out" "customer_id,purchased
14527,0
17850,1"

# help lists both commands
"$M" help | grep -q '^  compute ' || fail "help: compute"
"$M" help | grep -q '^  cutoffs ' || fail "help: cutoffs"

if [ "$failures" -ne 0 ]; then
  echo "$failures failure(s)" >&2
  exit 1
fi
echo "ok"
