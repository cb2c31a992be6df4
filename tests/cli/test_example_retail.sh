#!/usr/bin/env bash
# Tests of `morsel example-data retail`: the UCI Online Retail schema, and the real data's
# shape checked independently with pandas (Debian's /usr/bin/python3) at scale 0.05 and 1:
# row count within 10% of scale x 541,909, customers, invoices, 12-21% of identified
# invoices cancelled, ~25% null CustomerID, no Saturday, the exact date range, November the
# busiest month, first and last identified rows at the range's ends, the stock-code
# catalogue scaling with --scale, cancellations after a purchase of the same customer, special codes, zero
# prices, duplicate lines; same seed -> same bytes (CSV and Parquet), other seed -> other bytes.
set -euo pipefail
source "$(dirname "$0")/../lib/cli_test_common.sh" retail-sh
PY=/usr/bin/python3

# ---- schema and errors ----
"$M" example-data retail --out "$T/r.parquet" --scale 0.01 --seed 5
run_rc "$M" schema "$T/r.parquet"
for c in "InvoiceNo    utf8" "StockCode    utf8" "Description  utf8" "Quantity     int64" \
         "InvoiceDate  timestamp\[us\] " "UnitPrice    float64" "CustomerID   int64" "Country      utf8"; do
  grep -q "^  $c" <<<"$out" || fail "schema lacks '$c': $out"
done
run_rc "$M" example-data retail --out "$T/x.csv" --scale 0
expect_eq "bad scale status" "$rc" 1
expect_eq "bad scale message" "$err" "morsel: --scale must be a number in (0, 100], got '0'"
[ ! -e "$T/x.csv" ] || fail "a file was left behind on error"

# ---- determinism ----
"$M" example-data retail --out "$T/a.csv" --scale 0.05 --seed 9
"$M" example-data retail --out "$T/b.csv" --scale 0.05 --seed 9
"$M" example-data retail --out "$T/c.csv" --scale 0.05 --seed 10
cmp -s "$T/a.csv" "$T/b.csv" || fail "same seed gave different CSV bytes"
cmp -s "$T/a.csv" "$T/c.csv" && fail "different seeds gave the same CSV"
"$M" example-data retail --out "$T/a.parquet" --scale 0.05 --seed 9
"$M" example-data retail --out "$T/b.parquet" --scale 0.05 --seed 9
cmp -s "$T/a.parquet" "$T/b.parquet" || fail "same seed gave different Parquet bytes"
# the Parquet file holds as many rows as the CSV, and the same first line
run_rc "$M" schema "$T/a.parquet"
expect_eq "Parquet rows" "$(grep '^rows:' <<<"$out")" "rows: $(($(wc -l <"$T/a.csv") - 1))"
expect_eq "Parquet first row" "$("$M" cat "$T/a.parquet" --format csv --head 1 | cut -d, -f1-4)" \
  "$(sed -n 1,2p "$T/a.csv" | cut -d, -f1-4)"

# ---- shape, checked with pandas ----
cat >"$T/check.py" <<'PYEOF'
import sys, pandas as pd
path, scale = sys.argv[1], float(sys.argv[2])
d = pd.read_csv(path, dtype={"InvoiceNo": str, "StockCode": str})
d["InvoiceDate"] = pd.to_datetime(d["InvoiceDate"])
errs = []
n = len(d); exp = scale * 541909
if abs(n - exp) > 0.10 * exp: errs.append(f"rows {n} vs {exp:.0f}")
cust = d["CustomerID"].nunique(); ec = scale * 4372
if abs(cust - ec) > 0.10 * ec + 2: errs.append(f"customers {cust} vs {ec:.0f}")
inv = d["InvoiceNo"].nunique(); ei = scale * 25900
if abs(inv - ei) > 0.15 * ei + 3: errs.append(f"invoices {inv} vs {ei:.0f}")
idf = d[d["CustomerID"].notna()]
iinv = idf["InvoiceNo"].drop_duplicates()
rate = iinv.str.startswith("C").mean()
if not 0.12 <= rate <= 0.21: errs.append(f"cancel rate {rate:.3f}")
nullf = d["CustomerID"].isna().mean()
if not 0.20 <= nullf <= 0.30: errs.append(f"null CustomerID {nullf:.3f}")
if (d["InvoiceDate"].dt.dayofweek == 5).any(): errs.append("a Saturday")
if str(d["InvoiceDate"].min()) != "2010-12-01 08:26:00": errs.append(f"min {d['InvoiceDate'].min()}")
if str(d["InvoiceDate"].max()) != "2011-12-09 12:50:00": errs.append(f"max {d['InvoiceDate'].max()}")
idt = d.loc[d["CustomerID"].notna(), "InvoiceDate"]
if str(idt.min()) != "2010-12-01 08:26:00" or str(idt.max()) != "2011-12-09 12:50:00":
    errs.append(f"identified rows span {idt.min()} .. {idt.max()}")
# the catalogue scales: ~4,070 codes at scale 1 (4,066 products + 4 special codes)
codes = d["StockCode"].nunique(); cat = max(50, round(4066 * scale)) + 4
if not 0.8 * cat <= codes <= cat: errs.append(f"stock codes {codes} for a catalogue of {cat}")
m = d.groupby(d["InvoiceDate"].dt.to_period("M")).size()
if str(m.idxmax()) != "2011-11": errs.append(f"busiest month {m.idxmax()}")
can = d["InvoiceNo"].str.startswith("C")
if (d.loc[can, "Quantity"] > 0).any() or (d.loc[~can, "Quantity"] < 0).any(): errs.append("quantity sign")
if not (d["InvoiceNo"].str.fullmatch(r"C?\d{6}")).all(): errs.append("InvoiceNo format")
for code in (["POST", "M", "DOT"] if scale >= 0.05 else []): 
    if not (d["StockCode"] == code).any(): errs.append(f"no {code}")
if scale >= 1 and not (d["StockCode"] == "D").any(): errs.append("no D")
if scale >= 0.05 and not (d["UnitPrice"] == 0).any(): errs.append("no zero price")
if scale >= 0.05 and not d.duplicated().any(): errs.append("no duplicates")
# every cancellation mirrors an earlier invoice of the same customer
ic = idf.groupby("InvoiceNo").agg(c=("CustomerID", "first"), t=("InvoiceDate", "first")).reset_index()
first = ic[~ic["InvoiceNo"].str.startswith("C")].groupby("c")["t"].min()
cc = ic[ic["InvoiceNo"].str.startswith("C")]
if (cc["t"] < cc["c"].map(first)).any() or cc["c"].map(first).isna().any(): errs.append("cancellation before any purchase")
per = idf[~idf["InvoiceNo"].str.startswith("C")].groupby("CustomerID")["InvoiceNo"].nunique()
once = (per == 1).mean()
if scale >= 1:
    if not 0.25 <= once <= 0.42: errs.append(f"buy once {once:.2f}")
    if per.max() < 200: errs.append(f"max invoices {per.max()}")
    sc = d["StockCode"].nunique()
    if not 3600 <= sc <= 4500: errs.append(f"stock codes {sc}")
print(f"rows={n} customers={cust} invoices={inv} cancel_rate={rate:.3f} null={nullf:.3f} once={once:.2f} max_inv={per.max()} codes={d['StockCode'].nunique()} busiest={m.idxmax()}")
for e in errs: print("BAD:", e)
sys.exit(1 if errs else 0)
PYEOF
if [ -x "$PY" ] && "$PY" -c 'import pandas' 2>/dev/null; then
  "$PY" "$T/check.py" "$T/a.csv" 0.05 || fail "shape at scale 0.05"
  "$M" example-data retail --out "$T/full.csv" --scale 1
  "$PY" "$T/check.py" "$T/full.csv" 1 || fail "shape at scale 1"
else
  echo "SKIP: no pandas under $PY, shape checks not run" >&2
  exit 77
fi

[ "$failures" = 0 ] || { echo "$failures failure(s)" >&2; exit 1; }
echo "ok"
