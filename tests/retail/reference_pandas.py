"""Independent reference for the retail purchase-propensity pipeline, in pandas, written the
way the article's repository (kennethleungty/Customer-Purchase-with-Feast-and-Ray, src/
data_prep and src/feature_engineering) does it: ingest_and_clean, generate_cutoff_dates(df,
90, 30, 30), build_rfm_features, build_behavior_features and build_purchase_labels, one
cutoff at a time. Semantics: /work/shared/reference/retail-article.md section 4, and
docs/retail.md. Runs under Debian's /usr/bin/python3 (python3-pandas).

    python3 reference_pandas.py TRANSACTIONS.csv OUT.csv [--workers N] [--at SPINE.csv]

TRANSACTIONS.csv has the UCI Online Retail columns (as `morsel example-data retail` writes
them, or the real file exported from Excel by pandas: CustomerID "17850.0", InvoiceDate
"2010-12-01 08:26:00"). OUT.csv gets one row per (customer, cutoff) of the population:
customer_id, event_timestamp, the nine features, purchased; ordered by cutoff, then
customer_id. --workers N computes the cutoffs in N forked processes (the article's Ray
tasks; default 1: sequential). --at SPINE.csv (customer_id, event_timestamp): instead of the
cutoffs, the features and label as of each spine row's own time, in spine order; a
customer outside the population at that time gets empty cells. Prints the cutoffs and "seconds=... read=... features=...
write=... rows=..." on stdout.
"""
import sys
import time
from datetime import timedelta

import pandas as pd

FEATURE_WINDOW, PURCHASE_WINDOW, STEP = 90, 30, 30
RFM = ["recency_days", "frequency", "monetary", "tenure_days"]
BEHAVIOR = ["avg_order_value", "avg_basket_size", "n_unique_products", "return_rate",
            "avg_days_between_purchases"]


def ingest_and_clean(path):
    # The article reads the Excel file, where InvoiceNo and StockCode are mixed int/str
    # (each value keeps its form); as text they compare the same way. Reading them as str
    # also keeps pandas' chunked type inference from mixing int and str in one column.
    df = pd.read_csv(path, dtype={"InvoiceNo": str, "StockCode": str, "Description": str,
                                  "Country": str})
    df["InvoiceDate"] = pd.to_datetime(df["InvoiceDate"])
    df = df.dropna(subset=["CustomerID"])
    df["CustomerID"] = df["CustomerID"].astype(int)
    df["Revenue"] = df["Quantity"] * df["UnitPrice"]
    df["is_cancellation"] = df["InvoiceNo"].astype(str).str.startswith("C")
    return df


def generate_cutoff_dates(df, feature_window, purchase_window, step):
    date_min = df["InvoiceDate"].min()
    date_max = df["InvoiceDate"].max()
    earliest = date_min + timedelta(days=feature_window)
    latest = date_max - timedelta(days=purchase_window)
    cutoffs = []
    current = earliest
    while current <= latest:
        cutoffs.append(pd.Timestamp(current))
        current += timedelta(days=step)
    return cutoffs


def build_rfm_features(df, cutoff, feature_window):
    window_start = cutoff - timedelta(days=feature_window)
    txn = df[(df["InvoiceDate"] >= window_start) & (df["InvoiceDate"] < cutoff)
             & (~df["is_cancellation"])]
    if txn.empty:
        return pd.DataFrame(columns=["CustomerID"] + RFM)
    agg = txn.groupby("CustomerID").agg(
        last_purchase=("InvoiceDate", "max"),
        frequency=("InvoiceNo", "nunique"),
        monetary=("Revenue", "sum"),
    )
    agg["recency_days"] = (cutoff - agg["last_purchase"]).dt.days
    # tenure: all history before the cutoff, not windowed
    all_time = df[(df["InvoiceDate"] < cutoff) & (~df["is_cancellation"])]
    first_purchase = all_time.groupby("CustomerID")["InvoiceDate"].min()
    agg = agg.join(first_purchase.rename("first_purchase"))
    agg["tenure_days"] = (cutoff - agg["first_purchase"]).dt.days
    return agg[RFM].reset_index()


def build_behavior_features(df, cutoff, feature_window):
    window_start = cutoff - timedelta(days=feature_window)
    pre = df[(df["InvoiceDate"] >= window_start) & (df["InvoiceDate"] < cutoff)]
    non_cancel = pre[~pre["is_cancellation"]]
    if non_cancel.empty:
        return pd.DataFrame(columns=["CustomerID"] + BEHAVIOR)
    # one row per (customer, invoice)
    invoice_stats = (
        non_cancel.groupby(["CustomerID", "InvoiceNo"])
        .agg(order_revenue=("Revenue", "sum"), order_qty=("Quantity", "sum"),
             order_date=("InvoiceDate", "first"))
        .reset_index()
    )
    order_avgs = invoice_stats.groupby("CustomerID").agg(
        avg_order_value=("order_revenue", "mean"), avg_basket_size=("order_qty", "mean"))
    unique_products = non_cancel.groupby("CustomerID")["StockCode"].nunique()
    unique_products.name = "n_unique_products"
    # per invoice over the whole window W (cancellations included)
    inv_flags = pre.groupby(["CustomerID", "InvoiceNo"])["is_cancellation"].first()
    return_rate = inv_flags.groupby("CustomerID").mean()
    return_rate.name = "return_rate"
    sorted_dates = invoice_stats.sort_values("order_date")
    purchase_gaps = sorted_dates.groupby("CustomerID")["order_date"].apply(
        lambda dates: dates.diff().dt.days.mean())
    purchase_gaps.name = "avg_days_between_purchases"
    behavior = (order_avgs.join(unique_products).join(return_rate).join(purchase_gaps)
                .reset_index())
    behavior["avg_days_between_purchases"] = behavior["avg_days_between_purchases"].fillna(0)
    return behavior


def build_purchase_labels(df, cutoff, purchase_window, feature_window):
    window_start = cutoff - timedelta(days=feature_window)
    window_end = cutoff + timedelta(days=purchase_window)
    post = df[(df["InvoiceDate"] >= cutoff) & (df["InvoiceDate"] < window_end)
              & (~df["is_cancellation"])]
    active = set(post["CustomerID"].unique())
    population = df[(df["InvoiceDate"] >= window_start) & (df["InvoiceDate"] < cutoff)
                    & (~df["is_cancellation"])]["CustomerID"].unique()
    labels = pd.DataFrame({"CustomerID": population})
    labels["purchased"] = labels["CustomerID"].isin(active).astype(int)
    return labels


def compute_for_cutoff(df, cutoff):
    """The article's Ray task body, plus the labels train.py builds per cutoff; the three
    frames joined on the customer (their populations are the same)."""
    rfm = build_rfm_features(df, cutoff, FEATURE_WINDOW)
    beh = build_behavior_features(df, cutoff, FEATURE_WINDOW)
    lab = build_purchase_labels(df, cutoff, PURCHASE_WINDOW, FEATURE_WINDOW)
    out = lab.merge(rfm, on="CustomerID", how="outer").merge(beh, on="CustomerID", how="outer")
    out = out.rename(columns={"CustomerID": "customer_id"})
    out.insert(1, "event_timestamp", cutoff)
    return out


_DF = None


def _task(cutoff):
    return compute_for_cutoff(_DF, cutoff)


def as_of_rows(df, spine_path, out_path):
    """The same functions at each distinct spine timestamp, looked up per spine row."""
    spine = pd.read_csv(spine_path)
    spine["event_timestamp"] = pd.to_datetime(spine["event_timestamp"])
    parts = {t: compute_for_cutoff(df, pd.Timestamp(t)) for t in spine["event_timestamp"].unique()}
    res = pd.concat(list(parts.values()), ignore_index=True) if parts else None
    cols = RFM + BEHAVIOR + ["purchased"]
    out = spine[["customer_id", "event_timestamp"]].merge(
        res[["customer_id", "event_timestamp"] + cols], on=["customer_id", "event_timestamp"], how="left")
    out["event_timestamp"] = out["event_timestamp"].dt.strftime("%Y-%m-%d %H:%M:%S")
    for c in ["recency_days", "frequency", "tenure_days", "n_unique_products", "purchased"]:
        out[c] = out[c].astype("Int64")
    out.to_csv(out_path, index=False, float_format="%.17g")


def main():
    global _DF
    args = sys.argv[1:]
    if "--at" in args:
        i = args.index("--at")
        spine = args[i + 1]
        del args[i:i + 2]
        as_of_rows(ingest_and_clean(args[0]), spine, args[1])
        return
    workers = 1
    if "--workers" in args:
        i = args.index("--workers")
        workers = int(args[i + 1])
        del args[i:i + 2]
    src, out_path = args
    t0 = time.monotonic()
    df = ingest_and_clean(src)
    t1 = time.monotonic()
    cutoffs = generate_cutoff_dates(df, FEATURE_WINDOW, PURCHASE_WINDOW, STEP)
    if workers > 1:
        import multiprocessing as mp
        _DF = df  # inherited by the forked workers, like ray.put(df) once
        with mp.get_context("fork").Pool(workers) as pool:
            parts = pool.map(_task, cutoffs, chunksize=1)
    else:
        parts = [compute_for_cutoff(df, c) for c in cutoffs]
    t2 = time.monotonic()
    cols = ["customer_id", "event_timestamp"] + RFM + BEHAVIOR + ["purchased"]
    res = (pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=cols))[cols]
    res = res.sort_values(["event_timestamp", "customer_id"], kind="stable")
    res["event_timestamp"] = res["event_timestamp"].dt.strftime("%Y-%m-%d %H:%M:%S")
    res.to_csv(out_path, index=False, float_format="%.17g")
    t3 = time.monotonic()
    for c in cutoffs:
        print(f"cutoff {c}")
    print(f"seconds={t3 - t0:.3f} read={t1 - t0:.3f} features={t2 - t1:.3f} "
          f"write={t3 - t2:.3f} rows={len(res)}")


if __name__ == "__main__":
    main()
