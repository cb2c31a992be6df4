"""Compares two retail feature tables cell by cell, keyed by (customer_id, event_timestamp).

    python3 compare.py A.csv B.csv [--columns c1,c2,...] [--label NAME] [--exact]

Integer features and the label must be equal; float features equal within a relative
1e-9 (different summation orders); empty cells (nulls) only match empty cells. Timestamps
are compared as text after normalising the ISO forms ("2011-03-01T08:26:00.000000Z" ==
"2011-03-01 08:26:00"). The key sets must be the same (each key once). --columns: the
columns to compare (default: every column of the nine features and the label present in
both files). Exit status 0 when they agree; otherwise the differences are printed.
Plain Python (csv module), so it does not depend on either side's tools.
"""
import csv
import math
import re
import sys

INTS = ["recency_days", "frequency", "tenure_days", "n_unique_products", "purchased"]
FLOATS = ["monetary", "avg_order_value", "avg_basket_size", "return_rate",
          "avg_days_between_purchases"]
REL = 1e-9


def norm_ts(s):
    s = s.strip().replace("T", " ")
    s = re.sub(r"(Z|[+-]00:?00)$", "", s)
    s = re.sub(r"\.0*$", "", s)
    return s


def norm_key(s):
    return str(int(float(s))) if s.strip() else ""


def load(path):
    with open(path, newline="") as f:
        r = csv.DictReader(f)
        rows = {}
        for row in r:
            k = (norm_key(row["customer_id"]), norm_ts(row["event_timestamp"]))
            if k in rows:
                raise SystemExit(f"{path}: key {k} appears twice")
            rows[k] = row
        return r.fieldnames, rows


def main():
    args = sys.argv[1:]
    cols = None
    label = "compare"
    rel_tol = REL
    if "--exact" in args:
        args.remove("--exact")
        rel_tol = 0.0
    if "--columns" in args:
        i = args.index("--columns")
        cols = args[i + 1].split(",")
        del args[i:i + 2]
    if "--label" in args:
        i = args.index("--label")
        label = args[i + 1]
        del args[i:i + 2]
    a_path, b_path = args
    fa, a = load(a_path)
    fb, b = load(b_path)
    if cols is None:
        cols = [c for c in INTS + FLOATS if c in fa and c in fb]
    for c in cols:
        if c not in fa or c not in fb:
            raise SystemExit(f"{label}: column {c} missing from {a_path if c not in fa else b_path}")
    errs = []
    only_a = sorted(set(a) - set(b))
    only_b = sorted(set(b) - set(a))
    if only_a:
        errs.append(f"{len(only_a)} keys only in {a_path}, e.g. {only_a[:3]}")
    if only_b:
        errs.append(f"{len(only_b)} keys only in {b_path}, e.g. {only_b[:3]}")
    cells, worst = 0, 0.0
    for k in sorted(set(a) & set(b)):
        for c in cols:
            x, y = a[k][c].strip(), b[k][c].strip()
            cells += 1
            if x == "" or y == "":
                if x != y:
                    errs.append(f"{k} {c}: '{x}' vs '{y}'")
                continue
            fx, fy = float(x), float(y)
            if c in FLOATS:
                d = abs(fx - fy)
                scale = max(abs(fx), abs(fy))
                rel = d / scale if scale > 0 else 0.0
                worst = max(worst, rel)
                if not (rel <= rel_tol) or math.isnan(fx) != math.isnan(fy):
                    errs.append(f"{k} {c}: {x} vs {y} (rel {rel:.3g})")
            elif fx != fy or fx != math.floor(fx):
                errs.append(f"{k} {c}: {x} vs {y}")
    per_cut = {}
    for k in a:
        per_cut[k[1]] = per_cut.get(k[1], 0) + 1
    print(f"{label}: {len(a)} vs {len(b)} rows, {len(per_cut)} cutoffs, {cells} cells compared, "
          f"max float rel diff {worst:.3g}, {len(errs)} differences")
    for e in errs[:20]:
        print("  DIFF", e)
    sys.exit(1 if errs else 0)


if __name__ == "__main__":
    main()
