"""Runs reference_sqlite.sql (the retail features and labels in SQLite SQL) with python3's
sqlite3 module, so the sqlite3 shell is not needed:

    python3 reference_sqlite.py TRANSACTIONS.csv OUT.csv

The CSV is loaded as table `raw` with every column TEXT (as the shell's .import does); the
SQL does all the work. Lines starting with '.' (shell dot-commands) are skipped; the query
after the "-- output" line is written to OUT.csv with a header.
"""
import csv
import os
import sqlite3
import sys


def main():
    src, out = sys.argv[1], sys.argv[2]
    here = os.path.dirname(os.path.abspath(__file__))
    with open(os.path.join(here, "reference_sqlite.sql")) as f:
        lines = [ln for ln in f.read().splitlines() if not ln.startswith(".")]
    text = "\n".join(lines)
    setup, query = text.split("-- output", 1)
    con = sqlite3.connect(":memory:")
    with open(src, newline="") as f:
        r = csv.reader(f)
        header = next(r)
        cols = ", ".join('"%s" TEXT' % h for h in header)
        con.execute(f"CREATE TABLE raw ({cols})")
        con.executemany(f"INSERT INTO raw VALUES ({', '.join('?' * len(header))})", r)
    con.executescript(setup)
    cur = con.execute(query)
    with open(out, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow([d[0] for d in cur.description])
        for row in cur:
            w.writerow([repr(v) if isinstance(v, float) else v for v in row])


if __name__ == "__main__":
    main()
