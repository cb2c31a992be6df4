"""The point-in-time join benchmark's pandas side: merge_asof, the core of Feast's file and
Ray offline stores. Run by bench/pit/pit.js under /usr/bin/time -v.

    python3 pandas_pit.py DIR OUT.csv

Debian 12 packages neither pyarrow nor fastparquet, so pandas cannot read or write Parquet
here: it reads CSV copies of the inputs (written once by DuckDB, untimed; timestamps as
int64 microseconds since the epoch, so parsing is a plain integer read) and writes CSV.
It prints "seconds=TOTAL read=R core=C write=W rows=N": core is the join alone (sorts,
merge_asof, restoring entity order), the number to compare with when the
I/O paths differ.

Semantics as the other tools (bench/pit/peer_pit.js): largest (ts, created) with
e.ts - 30d <= f.ts <= e.ts per customer_id, null created lowest, exact ties to the later
file row, entity order kept.
"""
import sys
import time

import numpy as np
import pandas as pd

FEATURES = ["f_int", "f_f1", "f_f2", "f_f3", "f_f4", "f_f5", "f_f6", "f_str"]


def main():
    d, out = sys.argv[1], sys.argv[2]
    t0 = time.monotonic()
    fdt = {"customer_id": "int64", "event_timestamp": "int64", "created": "float64",
           "f_int": "Int64", "f_str": "object"}
    fdt.update({c: "float64" for c in FEATURES[1:7]})
    f = pd.read_csv(f"{d}/data/features.csv", dtype=fdt)
    e = pd.read_csv(f"{d}/data/entity.csv", dtype={"customer_id": "int64", "event_timestamp": "int64"})
    # created stays a number (us, NaN for null): it only orders rows.
    f["event_timestamp"] = pd.to_datetime(f["event_timestamp"], unit="us", utc=True)
    e["event_timestamp"] = pd.to_datetime(e["event_timestamp"], unit="us", utc=True)
    t1 = time.monotonic()

    e["__erow"] = np.arange(len(e))
    f["__frow"] = np.arange(len(f))
    # Sorted by (ts, created nulls first, file row): merge_asof "backward" takes the last
    # right row whose ts <= the left's, so among rows of equal (key, ts) the largest
    # created, then the last in the file: the tie-break without a separate
    # drop_duplicates (which only added time; the benchmark's check verifies the answers).
    f = f.sort_values(["event_timestamp", "created", "__frow"], na_position="first", kind="stable")
    f = f.drop(columns=["created", "__frow"])
    e = e.sort_values("event_timestamp", kind="stable")
    j = pd.merge_asof(e, f, on="event_timestamp", by="customer_id", direction="backward",
                      tolerance=pd.Timedelta(days=30), allow_exact_matches=True)
    j = j.sort_values("__erow", kind="stable").drop(columns=["__erow"]).reset_index(drop=True)
    t2 = time.monotonic()

    j["event_timestamp"] = j["event_timestamp"].astype("int64") // 1000
    j.to_csv(out + ".tmp", index=False)
    import os
    os.replace(out + ".tmp", out)
    t3 = time.monotonic()
    print(f"seconds={t3 - t0:.3f} read={t1 - t0:.3f} core={t2 - t1:.3f} write={t3 - t2:.3f} rows={len(j)}")


if __name__ == "__main__":
    main()
