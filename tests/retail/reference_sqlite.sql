-- Second independent reference for the retail purchase-propensity pipeline: the nine
-- features and the label at every cutoff, in plain SQLite SQL (window functions, a
-- recursive CTE for the cutoffs). Definitions: docs/retail.md (the article's section 4).
-- Run by reference_sqlite.py (python3's sqlite3 module, the CSV loaded as table `raw`, all
-- TEXT), or with the sqlite3 shell:
--
--   sqlite3 :memory: -cmd '.import --csv TRANSACTIONS.csv raw' < reference_sqlite.sql > OUT.csv
--
-- Output: CSV with a header, one row per (customer, cutoff) of the population, ordered by
-- cutoff then customer_id (the columns of tests/retail/reference_pandas.py's output).
-- Timestamps become integer milliseconds since the epoch (the data has minute resolution);
-- "whole days" are integer divisions of non-negative millisecond differences (= floor).

CREATE TABLE t AS
SELECT InvoiceNo AS inv,
       StockCode AS code,
       CAST(Quantity AS INTEGER) AS qty,
       CAST(strftime('%s', InvoiceDate) AS INTEGER) * 1000
         + CAST(substr(strftime('%f', InvoiceDate), 4) AS INTEGER) AS ts,
       CAST(CAST(CustomerID AS REAL) AS INTEGER) AS cust,          -- "17850" or "17850.0"
       CAST(Quantity AS INTEGER) * CAST(UnitPrice AS REAL) AS revenue,
       substr(InvoiceNo, 1, 1) = 'C' AS cancel
FROM raw
WHERE CustomerID IS NOT NULL AND CustomerID <> '';               -- drop rows without a customer
CREATE INDEX t_ts ON t (ts);

-- first = min + 90 days, then every 30 days while <= max - 30 days (time of day kept)
CREATE TABLE cutoffs AS
WITH RECURSIVE b(lo, hi) AS (SELECT min(ts), max(ts) FROM t),
c(x) AS (SELECT lo + 90 * 86400000 FROM b
         UNION ALL
         SELECT x + 30 * 86400000 FROM c, b WHERE x + 30 * 86400000 <= hi - 30 * 86400000)
SELECT x AS cut FROM c, b WHERE x <= hi - 30 * 86400000;

-- W: the rows in [C - 90d, C); NC: W without cancellations
CREATE TABLE w AS
SELECT c.cut, t.* FROM cutoffs c JOIN t ON t.ts >= c.cut - 90 * 86400000 AND t.ts < c.cut;
CREATE TABLE nc AS SELECT * FROM w WHERE NOT cancel;

-- the population: customers with a row in NC
CREATE TABLE rfm AS
SELECT cut, cust,
       (cut - max(ts)) / 86400000 AS recency_days,
       count(DISTINCT inv) AS frequency,
       sum(revenue) AS monetary,
       count(DISTINCT code) AS n_unique_products
FROM nc GROUP BY cut, cust;

-- first non-cancelled purchase ever before C
CREATE TABLE tenure AS
SELECT c.cut, t.cust, (c.cut - min(t.ts)) / 86400000 AS tenure_days
FROM cutoffs c JOIN t ON t.ts < c.cut AND NOT t.cancel GROUP BY c.cut, t.cust;

-- one row per (customer, invoice) in NC
CREATE TABLE orders AS
SELECT cut, cust, inv, sum(revenue) AS order_revenue, sum(qty) AS order_qty, min(ts) AS order_ts
FROM nc GROUP BY cut, cust, inv;

CREATE TABLE order_avgs AS
SELECT cut, cust, avg(order_revenue) AS avg_order_value, avg(order_qty) AS avg_basket_size
FROM orders GROUP BY cut, cust;

-- floored whole-day gaps between consecutive invoices by time; none (one invoice) -> 0
CREATE TABLE gaps AS
SELECT cut, cust, avg(gap) AS avg_gap FROM (
  SELECT cut, cust,
         (order_ts - lag(order_ts) OVER (PARTITION BY cut, cust ORDER BY order_ts)) / 86400000 AS gap
  FROM orders)
WHERE gap IS NOT NULL GROUP BY cut, cust;

-- per invoice over W (cancellations included): cancelled invoices / all invoices
CREATE TABLE returns AS
SELECT cut, cust, avg(is_c) AS return_rate FROM (
  SELECT cut, cust, inv, max(cancel) * 1.0 AS is_c FROM w GROUP BY cut, cust, inv)
GROUP BY cut, cust;

-- a non-cancelled row in [C, C + 30d)
CREATE TABLE buyers AS
SELECT DISTINCT c.cut, t.cust FROM cutoffs c
JOIN t ON t.ts >= c.cut AND t.ts < c.cut + 30 * 86400000 AND NOT t.cancel;

.headers on
.mode csv
-- output
SELECT r.cust AS customer_id,
       strftime('%Y-%m-%d %H:%M:%S', r.cut / 1000, 'unixepoch') AS event_timestamp,
       r.recency_days, r.frequency, r.monetary, te.tenure_days,
       o.avg_order_value, o.avg_basket_size, r.n_unique_products, re.return_rate,
       coalesce(g.avg_gap, 0) AS avg_days_between_purchases,
       CASE WHEN b.cust IS NULL THEN 0 ELSE 1 END AS purchased
FROM rfm r
JOIN tenure te ON te.cut = r.cut AND te.cust = r.cust
JOIN order_avgs o ON o.cut = r.cut AND o.cust = r.cust
JOIN returns re ON re.cut = r.cut AND re.cust = r.cust
LEFT JOIN gaps g ON g.cut = r.cut AND g.cust = r.cust
LEFT JOIN buyers b ON b.cut = r.cut AND b.cust = r.cust
ORDER BY r.cut, r.cust;
