// The point-in-time (PIT) join benchmark's DuckDB and Polars side, one task per process so
// /usr/bin/time -v sees each task's peak RSS. bench/pit/pit.js drives it.
//
//   node peer_pit.js gen DIR ENTITY_ROWS FEATURE_ROWS KEYS   the data (SQL run by DuckDB)
//   node peer_pit.js csv DIR                                   CSV copies for pandas
//   node peer_pit.js stats DIR                                 what the data exercises (JSON)
//   node peer_pit.js duckdb DIR OUT.parquet                    the correct ASOF query (dedup first)
//   node peer_pit.js duckdb_struct DIR OUT.parquet             the same, ASOF on (ts, created, row)
//   node peer_pit.js polars DIR OUT.parquet                    join_asof
//   node peer_pit.js check DIR OUT1 OUT2 ...                   outputs agree (first = reference)
//
// The timed tasks print "seconds=S rows=N": S is the wall time of the task inside the
// process (read Parquet, join, write Parquet), so node start-up is not charged to the peer.
// Threads: BENCH_THREADS (DuckDB's threads); Polars reads POLARS_MAX_THREADS from the
// environment, set by pit.js.
//
// Semantics all tools implement (docs/retrieval.md): for each entity row, the feature row
// of the same customer_id with the largest (event_timestamp, created) such that
// e.ts - 30d <= f.ts <= e.ts; a null created ranks lowest; an exact (ts, created) tie goes
// to the row last in the file; no such row -> null features; entity order kept.
'use strict';
const fs = require('fs');
const path = require('path');

const [task, dir, ...rest] = process.argv.slice(2);
const threads = String(process.env.BENCH_THREADS || 2);
const now = () => Number(process.hrtime.bigint()) / 1e9;
const q = (s) => `'${s.replace(/'/g, "''")}'`;
const FEATURES = ['f_int', 'f_f1', 'f_f2', 'f_f3', 'f_f4', 'f_f5', 'f_f6', 'f_str'];
const TTL_DAYS = 30;
const feat = () => path.join(dir, 'data', 'features.parquet');
const ent = () => path.join(dir, 'data', 'entity.parquet');

async function duckCon() {
  const duckdb = require('@duckdb/node-api');
  const inst = await duckdb.DuckDBInstance.create(':memory:', {
    autoinstall_known_extensions: 'false', autoload_known_extensions: 'false', threads,
  });
  const con = await inst.connect();
  await con.run("SET TimeZone = 'UTC'");
  return con;
}
const scalar = async (con, sql) => (await con.runAndReadAll(sql)).getRows()[0][0];

// ---- data
// Feature row i (0 <= i < N), in roughly event-time order like data landing over time
// (each value below draws on its own hash stream, DuckDB hash(i * 64 + c) for a constant c):
//   customer_id = hash(src(i) * 64) % K; event_timestamp = T0 + src(i) * step + jitter (< 1 h),
//   where src(i) = i - 1 for a "correction" row (2% of rows): it repeats the previous row's
//   (customer_id, event_timestamp) with its own created and values, so the created
//   tie-break decides the answer. created = ts + up to 1 day, null for 0.5% of rows.
//   f_int int64 (1% null), f_f1..f_f6 double, f_str a 100-value string.
// Entity row j (0 <= j < E), in random key/time order:
//   5% unknown keys (>= K); 5% copies of a feature row's (key, ts), half of them exactly
//   30 days later (the inclusive ttl bound); 1% duplicates of the previous entity row;
//   the rest a random known key at a random time over the feature span + 15 days.
const T0 = 1704067200000000; // 2024-01-01T00:00:00Z in us
const SPAN_US = 180 * 86400 * 1e6;
const DAY_US = 86400 * 1e6;

async function gen() {
  const [E, N, K] = rest.map(Number);
  if (!(E > 0 && N > 0 && K > 0)) throw new Error('gen DIR ENTITY_ROWS FEATURE_ROWS KEYS');
  fs.mkdirSync(path.join(dir, 'data'), { recursive: true });
  const step = Math.floor(SPAN_US / N);
  const con = await duckCon();
  await con.run(`CREATE MACRO src(i) AS CASE WHEN i > 0 AND hash(i * 64 + 7) % 50 = 0 THEN i - 1 ELSE i END`);
  await con.run(`CREATE MACRO key_of(i) AS (hash(src(i) * 64) % ${K})::BIGINT`);
  await con.run(`CREATE MACRO ts_of(i) AS ${T0} + src(i)::BIGINT * ${step} + (hash(src(i) * 64 + 1) % 3600000000)::BIGINT`);
  await con.run(`CREATE MACRO esrc(j) AS CASE WHEN j > 0 AND hash(j * 64 + 17) % 100 = 0 THEN j - 1 ELSE j END`);
  const ftmp = feat() + '.tmp';
  await con.run(`COPY (SELECT
      key_of(i) AS customer_id,
      make_timestamp(ts_of(i))::TIMESTAMPTZ AS event_timestamp,
      CASE WHEN hash(i * 64 + 3) % 200 = 0 THEN NULL
           ELSE make_timestamp(ts_of(i) + (hash(i * 64 + 2) % ${DAY_US})::BIGINT)::TIMESTAMPTZ END AS created,
      CASE WHEN hash(i * 64 + 20) % 100 = 0 THEN NULL ELSE (hash(i * 64 + 30) % 1000000)::BIGINT END AS f_int,
      (hash(i * 64 + 21) % 100000000)::DOUBLE / 1000 AS f_f1,
      (hash(i * 64 + 22) % 100000000)::DOUBLE / 1000 AS f_f2,
      (hash(i * 64 + 23) % 100000000)::DOUBLE / 1000 AS f_f3,
      (hash(i * 64 + 24) % 100000000)::DOUBLE / 1000 AS f_f4,
      (hash(i * 64 + 25) % 100000000)::DOUBLE / 1000 AS f_f5,
      (hash(i * 64 + 26) % 100000000)::DOUBLE / 1000 AS f_f6,
      'segment_' || (hash(i * 64 + 27) % 100) AS f_str
    FROM range(${N}) r(i)) TO ${q(ftmp)} (FORMAT parquet, COMPRESSION snappy, ROW_GROUP_SIZE 262144)`);
  const etmp = ent() + '.tmp';
  await con.run(`COPY (SELECT
      CASE WHEN hash(j * 64 + 15) % 20 = 0 THEN (${K} + hash(j * 64 + 14) % ${K})::BIGINT
           WHEN hash(j * 64 + 11) % 20 = 0 THEN key_of(hash(j * 64 + 12) % ${N})
           ELSE (hash(j * 64 + 13) % ${K})::BIGINT END AS customer_id,
      make_timestamp(CASE WHEN hash(j * 64 + 15) % 20 <> 0 AND hash(j * 64 + 11) % 20 = 0
           THEN ts_of(hash(j * 64 + 12) % ${N}) + CASE WHEN hash(j * 64 + 16) % 2 = 0 THEN 0 ELSE ${TTL_DAYS * DAY_US} END
           ELSE ${T0} + (hash(j * 64 + 16) % ${SPAN_US + 15 * DAY_US})::BIGINT END)::TIMESTAMPTZ AS event_timestamp
    FROM (SELECT esrc(j) AS j FROM range(${E}) r(j))) TO ${q(etmp)} (FORMAT parquet, COMPRESSION snappy, ROW_GROUP_SIZE 262144)`);
  fs.renameSync(ftmp, feat());
  fs.renameSync(etmp, ent());
  const nf = Number(await scalar(con, `SELECT count(*) FROM read_parquet(${q(feat())})`));
  const ne = Number(await scalar(con, `SELECT count(*) FROM read_parquet(${q(ent())})`));
  if (nf !== N || ne !== E) throw new Error(`generated ${nf} feature rows and ${ne} entity rows, expected ${N} and ${E}`);
  return null;
}

// CSV copies for pandas (no pyarrow or fastparquet on Debian 12). Timestamps as int64
// microseconds since the epoch (exact, and a plain integer parse for pandas).
async function csv() {
  const con = await duckCon();
  for (const [src, name] of [[feat(), 'features.csv'], [ent(), 'entity.csv']]) {
    const out = path.join(dir, 'data', name);
    await con.run(`COPY (SELECT * REPLACE (epoch_us(event_timestamp) AS event_timestamp${name === 'features.csv' ? ', epoch_us(created) AS created' : ''})
      FROM read_parquet(${q(src)})) TO ${q(out + '.tmp')} (FORMAT csv, HEADER)`);
    fs.renameSync(out + '.tmp', out);
  }
  return null;
}

// What the generated data exercises (for the report): printed as JSON.
async function stats() {
  const con = await duckCon();
  const r = (await con.runAndReadAll(`
    WITH f AS (SELECT customer_id, event_timestamp, created FROM read_parquet(${q(feat())})),
    g AS (SELECT customer_id, event_timestamp, count(*) AS n FROM f GROUP BY ALL),
    e AS (SELECT * FROM read_parquet(${q(ent())})),
    w AS (SELECT e.customer_id, e.event_timestamp AS et, g.event_timestamp AS ft, g.n
          FROM e ASOF LEFT JOIN g ON e.customer_id = g.customer_id AND e.event_timestamp >= g.event_timestamp)
    SELECT
      (SELECT count(*) FROM f), (SELECT count(DISTINCT customer_id) FROM f), (SELECT count(*) - count(created) FROM f),
      (SELECT count(*) FROM g WHERE n > 1), (SELECT count(*) FROM e),
      (SELECT count(*) FROM e WHERE customer_id NOT IN (SELECT customer_id FROM g)),
      count(*) FILTER (WHERE ft >= et - INTERVAL ${TTL_DAYS} DAY),
      count(*) FILTER (WHERE ft = et), count(*) FILTER (WHERE ft = et - INTERVAL ${TTL_DAYS} DAY),
      count(*) FILTER (WHERE ft < et - INTERVAL ${TTL_DAYS} DAY), count(*) FILTER (WHERE ft IS NULL),
      count(*) FILTER (WHERE n > 1 AND ft >= et - INTERVAL ${TTL_DAYS} DAY),
      (SELECT count(*) FROM (SELECT customer_id, event_timestamp FROM e GROUP BY ALL HAVING count(*) > 1))
    FROM w`)).getRows()[0].map(Number);
  const names = ['feature_rows', 'keys', 'null_created', 'tie_groups', 'entity_rows', 'unknown_key_rows',
    'matched', 'exact_ts', 'at_ttl_bound', 'older_than_ttl', 'no_earlier_row', 'winner_from_tie', 'duplicate_entity_rows'];
  console.log(JSON.stringify(Object.fromEntries(names.map((n, i) => [n, r[i]]))));
  return null;
}

// ---- DuckDB: the correct query, in two formulations (the benchmark takes the faster).
// "duckdb": the feature side is first reduced to one row per (customer_id, event_timestamp)
// (the largest created, nulls lowest, then the last in file order) with a window; ASOF then
// picks the latest ts <= e.ts per key.
// "duckdb_struct": no dedup; the ASOF inequality is on the struct (ts, created, file row),
// the entity side's (ts, +infinity, max) so that the latest ts wins and within it the
// largest created (null as -infinity), then the last row.
// In both the ttl check nulls the result when that latest row is too old (ASOF must not
// look further back, and no older row could pass the bound anyway); file_row_number
// carries the entity order.
async function duck(variant) {
  const [out] = rest;
  const con = await duckCon();
  const fcols = FEATURES.map((c) => `CASE WHEN f.event_timestamp >= e.event_timestamp - INTERVAL ${TTL_DAYS} DAY THEN f.${c} END AS ${c}`).join(',\n      ');
  const fside = variant === 'struct'
    ? `SELECT customer_id, event_timestamp, ${FEATURES.join(', ')},
        {'t': event_timestamp, 'c': coalesce(created, '-infinity'::TIMESTAMPTZ), 'r': file_row_number} AS k
      FROM read_parquet(${q(feat())}, file_row_number = true)`
    : `SELECT customer_id, event_timestamp, ${FEATURES.join(', ')}
      FROM read_parquet(${q(feat())}, file_row_number = true)
      QUALIFY row_number() OVER (PARTITION BY customer_id, event_timestamp
                                 ORDER BY created DESC NULLS LAST, file_row_number DESC) = 1`;
  const on = variant === 'struct'
    ? `e.customer_id = f.customer_id AND {'t': e.event_timestamp, 'c': 'infinity'::TIMESTAMPTZ, 'r': 9223372036854775807::BIGINT} >= f.k`
    : 'e.customer_id = f.customer_id AND e.event_timestamp >= f.event_timestamp';
  const sql = `COPY (
    WITH f AS (${fside}),
    e AS (SELECT * FROM read_parquet(${q(ent())}, file_row_number = true))
    SELECT e.customer_id, e.event_timestamp,
      ${fcols}
    FROM e ASOF LEFT JOIN f ON ${on}
    ORDER BY e.file_row_number
  ) TO ${q(out)} (FORMAT parquet, COMPRESSION snappy)`;
  const t0 = now();
  await con.run(sql);
  const t1 = now();
  const rows = Number(await scalar(con, `SELECT count(*) FROM read_parquet(${q(out)})`));
  return { seconds: t1 - t0, rows };
}

// ---- Polars (lazy): sort the feature side by (ts, created with nulls first, file row):
// join_asof "backward" takes the last right row whose ts <= the left's, so among rows of
// equal (key, ts) it takes the largest created, then the last in the file: the created
// tie-break without a separate dedup (which only made it slower; the check verifies the
// answers). Entity side with a row index sorted by ts; join_asof by customer_id with
// tolerance 30d (inclusive); sort back to entity order.
function polars() {
  const [out] = rest;
  const pl = require('nodejs-polars');
  const t0 = now();
  const f = pl.scanParquet(feat()).withRowIndex('__frow')
    .sort(['event_timestamp', 'created', '__frow'], false, false)
    .drop(['created', '__frow']);
  const e = pl.scanParquet(ent()).withRowIndex('__erow').sort('event_timestamp');
  const j = e.joinAsof(f, { on: 'event_timestamp', by: 'customer_id', strategy: 'backward', tolerance: `${TTL_DAYS}d`, checkSortedness: false })
    .sort('__erow').drop('__erow').collectSync();
  j.writeParquet(out, { compression: 'snappy' });
  const t1 = now();
  return { seconds: t1 - t0, rows: j.height };
}

// ---- agreement: every output has the entity rows in order; compare each cell with the
// first output (by position), and a Parquet output's column names and types with the
// first's. Reads Parquet, or CSV (pandas) with explicit types.
async function check() {
  const outs = rest;
  const con = await duckCon();
  // pandas writes CSV with timestamps as int64 us (see pandas_pit.py)
  const rel = (p) => p.endsWith('.csv')
    ? `(SELECT * REPLACE (make_timestamp(event_timestamp)::TIMESTAMPTZ AS event_timestamp) FROM read_csv(${q(p)}, header = true, columns = {'customer_id': 'BIGINT', 'event_timestamp': 'BIGINT', ${FEATURES.map((c) => `'${c}': '${c === 'f_str' ? 'VARCHAR' : 'DOUBLE'}'`).join(', ')}}))`
    : `read_parquet(${q(p)})`;
  const view = async (name, p) => con.run(`CREATE OR REPLACE TABLE ${name} AS SELECT row_number() OVER () AS rn, * FROM (SELECT * FROM ${rel(p)})`);
  await con.run(`CREATE TABLE ent AS SELECT row_number() OVER () AS rn, * FROM read_parquet(${q(ent())})`);
  const lines = [];
  let bad = 0;
  await view('ref', outs[0]);
  const n = Number(await scalar(con, 'SELECT count(*) FROM ent'));
  const stats = (await con.runAndReadAll(`SELECT count(*) FILTER (WHERE f_f1 IS NOT NULL), count(*) FILTER (WHERE f_int IS NULL AND f_f1 IS NOT NULL) FROM ref`)).getRows()[0].map(Number);
  lines.push(`reference ${path.basename(outs[0])}: ${n} entity rows, ${stats[0]} with features, ${n - stats[0]} without, ${stats[1]} with a null f_int`);
  for (const [i, p] of outs.entries()) {
    await view('o', p);
    const cnt = Number(await scalar(con, 'SELECT count(*) FROM o'));
    const cmp = (c) => c === 'f_str' ? `o.${c} IS DISTINCT FROM r.${c}`
      : `o.${c}::DOUBLE IS DISTINCT FROM r.${c}::DOUBLE`;
    const diff = (tbl, cols) => `SELECT count(*) FROM o JOIN ${tbl} r USING (rn) WHERE ${cols.map(cmp).join(' OR ')}`;
    // entity columns against the entity input, features against the reference
    const ecmp = `SELECT count(*) FROM o JOIN ent r USING (rn) WHERE o.customer_id IS DISTINCT FROM r.customer_id OR epoch_us(o.event_timestamp) IS DISTINCT FROM epoch_us(r.event_timestamp)`;
    const ebad = Number(await scalar(con, ecmp));
    const fbad = i === 0 ? 0 : Number(await scalar(con, diff('ref', FEATURES)));
    // Parquet outputs must also have the reference's column names and types (CSV has none).
    let types = '';
    if (!p.endsWith('.csv')) {
      const desc = async (t) => (await con.runAndReadAll(`SELECT column_name || ' ' || column_type FROM (DESCRIBE ${t}) WHERE column_name <> 'rn'`)).getRows().map((r) => r[0]).join(', ');
      const [want, got] = [await desc('ref'), await desc('o')];
      if (want !== got) types = `columns ${got} (reference: ${want})`;
    }
    const ok = cnt === n && ebad === 0 && fbad === 0 && !types;
    if (!ok) bad++;
    let msg = `${path.basename(p)}: ${cnt} rows, ${ebad} entity cells differ from the input, ${fbad} rows differ from the reference${types ? `, ${types}` : ''}: ${ok ? 'ok' : 'MISMATCH'}`;
    if (fbad) {
      const ex = (await con.runAndReadAll(`SELECT r.rn, r.customer_id, r.event_timestamp::VARCHAR, r.f_int, o.f_int, r.f_f1, o.f_f1, r.f_str, o.f_str FROM o JOIN ref r USING (rn) WHERE ${FEATURES.map(cmp).join(' OR ')} ORDER BY rn LIMIT 3`)).getRows();
      msg += '\n    first differences (rn, key, ts, ref f_int, f_int, ref f_f1, f_f1, ref f_str, f_str): ' + JSON.stringify(ex, (k, v) => typeof v === 'bigint' ? Number(v) : v);
    }
    lines.push(msg);
  }
  console.log(lines.join('\n'));
  if (bad) { console.log(`check: ${bad} output(s) disagree`); process.exit(2); }
  return null;
}

(async () => {
  const fn = { gen, csv, stats, duckdb: () => duck('window'), duckdb_struct: () => duck('struct'), polars, check }[task];
  if (!fn || !dir) throw new Error(`usage: peer_pit.js gen|csv|stats|duckdb|duckdb_struct|polars|check DIR ...`);
  const r = await fn();
  if (r && r.seconds) console.log(`seconds=${r.seconds.toFixed(3)} rows=${r.rows}`);
})().catch((e) => { console.error(e); process.exit(1); });
