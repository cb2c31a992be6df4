#!/usr/bin/env bash
# The two independent references of the retail pipeline (reference_pandas.py, the
# article's pandas code; reference_sqlite.sql, plain SQL) against hand-computed values on
# edge_transactions.csv (window bounds inclusive/exclusive at both ends, a row exactly at
# C and at C + 30d, floored days, same-minute invoices, duplicate lines, zero prices,
# cancellation-only customers, a guest row before everything), then against each other on
# generated data (several seeds, and the pandas-export form of the real file). Also checks
# that compare.py notices a single changed cell.
set -euo pipefail
source "$(dirname "$0")/../lib/cli_test_common.sh" retail-ref
PY=/usr/bin/python3
D=$(cd "$(dirname "$0")" && pwd)
"$PY" -c 'import pandas, sqlite3' || { echo "FAIL: $PY lacks pandas or sqlite3 (scripts/install-deps.sh installs them)" >&2; exit 1; }

# ---- hand-computed edge cases ----
"$PY" "$D/reference_pandas.py" "$D/edge_transactions.csv" "$T/e_pd.csv" >/dev/null
"$PY" "$D/reference_sqlite.py" "$D/edge_transactions.csv" "$T/e_sq.csv"
"$PY" "$D/compare.py" "$T/e_pd.csv" "$D/edge_expected.csv" --label "edge pandas" || fail "pandas reference vs hand-computed"
"$PY" "$D/compare.py" "$T/e_sq.csv" "$D/edge_expected.csv" --label "edge sqlite" || fail "SQLite reference vs hand-computed"

# ---- the comparison can fail: one integer, one float cell changed, one row dropped ----
sed 's/^104,2011-03-31 10:00:00,21,/104,2011-03-31 10:00:00,22,/' "$D/edge_expected.csv" >"$T/bad1.csv"
sed 's/,0.3333333333333333,/,0.3333333,/' "$D/edge_expected.csv" >"$T/bad2.csv"
grep -v '^107,2011-03-31' "$D/edge_expected.csv" >"$T/bad3.csv"
for b in bad1 bad2 bad3; do
  cmp -s "$T/$b.csv" "$D/edge_expected.csv" && fail "$b: the edit did not apply"
  if "$PY" "$D/compare.py" "$T/e_pd.csv" "$T/$b.csv" --label "$b" >/dev/null; then fail "compare.py accepted $b"; fi
done

# ---- generated data: the two references agree ----
for seed in 7 8; do
  "$M" example-data retail --out "$T/tx$seed.csv" --scale 0.05 --seed "$seed"
  "$PY" "$D/reference_pandas.py" "$T/tx$seed.csv" "$T/pd$seed.csv" >"$T/pd$seed.log"
  "$PY" "$D/reference_sqlite.py" "$T/tx$seed.csv" "$T/sq$seed.csv"
  "$PY" "$D/compare.py" "$T/pd$seed.csv" "$T/sq$seed.csv" --label "seed $seed" || fail "references disagree (seed $seed)"
  n=$(($(wc -l <"$T/pd$seed.csv") - 1))
  [ "$n" -gt 300 ] || fail "seed $seed: only $n feature rows"
  expect_eq "seed $seed: 9 cutoffs at 08:26" "$(grep -c '^cutoff .* 08:26:00$' "$T/pd$seed.log")" 9
done
# the pandas-export form of the real file gives the same answers
"$PY" "$D/to_pandas_export.py" "$T/tx7.csv" "$T/tx7_export.csv"
grep -q '^[^,]*,[^,]*,[^,]*,[^,]*,2010-12-01 08:26:00,[^,]*,[0-9]*\.0,' "$T/tx7_export.csv" || fail "export form not as expected"
"$PY" "$D/reference_pandas.py" "$T/tx7_export.csv" "$T/pd7x.csv" >/dev/null
"$PY" "$D/reference_sqlite.py" "$T/tx7_export.csv" "$T/sq7x.csv"
"$PY" "$D/compare.py" "$T/pd7x.csv" "$T/pd7.csv" --label "pandas, export form" || fail "export form (pandas)"
"$PY" "$D/compare.py" "$T/sq7x.csv" "$T/pd7.csv" --label "sqlite, export form" || fail "export form (sqlite)"
# --workers 2 (forked, like the article's Ray tasks) gives the same file
"$PY" "$D/reference_pandas.py" "$T/tx8.csv" "$T/pd8w.csv" --workers 2 >/dev/null
cmp -s "$T/pd8.csv" "$T/pd8w.csv" || fail "--workers 2 changed the pandas output"

[ "$failures" = 0 ] || { echo "$failures failure(s)" >&2; exit 1; }
echo "ok"
