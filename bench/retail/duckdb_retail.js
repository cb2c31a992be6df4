// The retail benchmark's DuckDB side: the nine features and the label at every cutoff in
// one SQL query over the transactions CSV (docs/retail.md for the definitions; the same
// semantics as tests/retail/reference_sqlite.sql, written for DuckDB: one pass over all
// cutoffs with range joins, per-invoice rows first). bench/retail/retail.js drives it.
//
//   node duckdb_retail.js TRANSACTIONS.csv OUT.csv
//
// Prints "seconds=S read=R compute=C rows=N": S is the wall time inside the process (read
// CSV + clean, features + labels, write CSV), so node start-up is not charged. Threads:
// BENCH_THREADS (default 2).
'use strict';
const duckdb = require('@duckdb/node-api');

const [src, out] = process.argv.slice(2);
const threads = String(process.env.BENCH_THREADS || 2);
const now = () => Number(process.hrtime.bigint()) / 1e9;
const q = (s) => `'${s.replace(/'/g, "''")}'`;
const DAY_MS = 86400000;

async function main() {
  const inst = await duckdb.DuckDBInstance.create(':memory:', {
    autoinstall_known_extensions: 'false', autoload_known_extensions: 'false', threads,
  });
  const con = await inst.connect();
  await con.run("SET TimeZone = 'UTC'");
  const t0 = now();
  // ingest_and_clean: rows with a CustomerID; Revenue; 'C' prefix = cancellation.
  // CustomerID may be "17850" or "17850.0" (the pandas export of the real file).
  await con.run(`CREATE TABLE t AS
    SELECT InvoiceNo AS inv, StockCode AS code, Quantity AS qty, InvoiceDate AS ts,
           CAST(CAST(CustomerID AS DOUBLE) AS BIGINT) AS cust,
           Quantity * UnitPrice AS revenue, starts_with(InvoiceNo, 'C') AS cancel
    FROM read_csv(${q(src)}, header = true, columns = {
      'InvoiceNo': 'VARCHAR', 'StockCode': 'VARCHAR', 'Description': 'VARCHAR',
      'Quantity': 'BIGINT', 'InvoiceDate': 'TIMESTAMP', 'UnitPrice': 'DOUBLE',
      'CustomerID': 'VARCHAR', 'Country': 'VARCHAR'})
    WHERE CustomerID IS NOT NULL AND CustomerID <> ''`);
  const t1 = now();
  const sql = `
    WITH cutoffs AS (
      SELECT unnest(generate_series(lo + INTERVAL 90 DAY, hi - INTERVAL 30 DAY, INTERVAL 30 DAY)) AS cut
      FROM (SELECT min(ts) AS lo, max(ts) AS hi FROM t)),
    w AS (SELECT c.cut, t.* FROM cutoffs c JOIN t ON t.ts >= c.cut - INTERVAL 90 DAY AND t.ts < c.cut),
    orders AS (                                   -- one row per (cutoff, customer, invoice) of NC
      SELECT cut, cust, inv, sum(revenue) AS orev, sum(qty) AS oqty, min(ts) AS ots, max(ts) AS lts
      FROM w WHERE NOT cancel GROUP BY cut, cust, inv),
    gaps AS (
      SELECT cut, cust, (epoch_ms(ots) - epoch_ms(lag(ots) OVER (PARTITION BY cut, cust ORDER BY ots))) // ${DAY_MS} AS gap
      FROM orders),
    per_cust AS (
      SELECT cut, cust, (epoch_ms(cut) - epoch_ms(max(lts))) // ${DAY_MS} AS recency_days,
             count(*) AS frequency, sum(orev) AS monetary,
             avg(orev) AS avg_order_value, avg(oqty) AS avg_basket_size
      FROM orders GROUP BY cut, cust),
    products AS (SELECT cut, cust, count(DISTINCT code) AS n_unique_products FROM w WHERE NOT cancel GROUP BY cut, cust),
    returns AS (
      SELECT cut, cust, avg(c) AS return_rate
      FROM (SELECT cut, cust, inv, max(CAST(cancel AS DOUBLE)) AS c FROM w GROUP BY cut, cust, inv) GROUP BY cut, cust),
    cadence AS (SELECT cut, cust, coalesce(avg(gap), 0) AS avg_days_between_purchases FROM gaps GROUP BY cut, cust),
    -- a customer in the population has a purchase before C, so the first purchase before C
    -- is the first purchase ever
    firsts AS (SELECT cust, min(ts) AS first_ts FROM t WHERE NOT cancel GROUP BY cust),
    buyers AS (SELECT DISTINCT c.cut, t.cust FROM cutoffs c
               JOIN t ON t.ts >= c.cut AND t.ts < c.cut + INTERVAL 30 DAY AND NOT t.cancel)
    SELECT p.cust AS customer_id, strftime(p.cut, '%Y-%m-%d %H:%M:%S') AS event_timestamp,
           p.recency_days, p.frequency, p.monetary,
           (epoch_ms(p.cut) - epoch_ms(f.first_ts)) // ${DAY_MS} AS tenure_days,
           p.avg_order_value, p.avg_basket_size, pr.n_unique_products, r.return_rate,
           ca.avg_days_between_purchases,
           CASE WHEN b.cust IS NULL THEN 0 ELSE 1 END AS purchased
    FROM per_cust p
    JOIN firsts f ON f.cust = p.cust
    JOIN products pr ON pr.cut = p.cut AND pr.cust = p.cust
    JOIN returns r ON r.cut = p.cut AND r.cust = p.cust
    JOIN cadence ca ON ca.cut = p.cut AND ca.cust = p.cust
    LEFT JOIN buyers b ON b.cut = p.cut AND b.cust = p.cust
    ORDER BY p.cut, p.cust`;
  await con.run(`COPY (${sql}) TO ${q(out)} (FORMAT csv, HEADER)`);
  const t2 = now();
  const rows = (await con.runAndReadAll(`SELECT count(*) FROM read_csv(${q(out)}, header = true)`)).getRows()[0][0];
  console.log(`seconds=${(t2 - t0).toFixed(3)} read=${(t1 - t0).toFixed(3)} compute=${(t2 - t1).toFixed(3)} rows=${rows}`);
}

main().catch((e) => { console.error(e); process.exit(1); });
