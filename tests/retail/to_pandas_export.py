"""Rewrites transactions as `morsel example-data retail` writes them into the form of the
real UCI file exported to CSV by pandas (`pd.read_excel(...).to_csv(index=False)`):
CustomerID as a float ("17850.0", empty when missing) and InvoiceDate as
"2010-12-01 08:26:00". Plain Python (csv module).

    python3 to_pandas_export.py IN.csv OUT.csv
"""
import csv
import sys


def main():
    with open(sys.argv[1], newline="") as fi, open(sys.argv[2], "w", newline="") as fo:
        r = csv.DictReader(fi)
        w = csv.DictWriter(fo, fieldnames=r.fieldnames, lineterminator="\n")
        w.writeheader()
        for row in r:
            if row["CustomerID"]:
                row["CustomerID"] = "%.1f" % float(row["CustomerID"])
            row["InvoiceDate"] = row["InvoiceDate"].replace("T", " ")[:19]
            w.writerow(row)


if __name__ == "__main__":
    main()
