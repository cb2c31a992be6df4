// Point-in-time retrieval, morsel against DuckDB (run by test_asof_duckdb.sh).
//
// DuckDB generates, from hashes of the row number alone (so every run sees the same data):
// - `feats`, N rows in three Parquet files: customer_id with nulls, event_timestamp
//   TIMESTAMP_NS on whole hours of one day, some nudged by 1 ns or 1 us, a few null; created
//   TIMESTAMP with nulls and few distinct values, so that (ts, created) ties are common;
//   features BIGINT with nulls, DOUBLE, VARCHAR and TIMESTAMP_MS; a `pos` column numbering
//   rows in source order;
// - `pairs`, N/2 rows in two files keyed by (customer_id, store_code VARCHAR), both with
//   nulls, event_timestamp TIMESTAMPTZ in microseconds, no created column (exact ties go by
//   source order alone);
// - an entity input: rid, customer_id (~5% unknown, some null), store_code (one unknown
//   value, some null), event_timestamp TIMESTAMPTZ with duplicates and a few nulls.
// Three views: fv_ttl (feats, ttl 6h: entity times on whole hours hit the bound exactly),
// fv_all (feats, no ttl) and fv_pair (pairs, two keys, ttl 12h).
//
// morsel get-historical-features retrieves the three views (full feature names); DuckDB answers
// with the correct query in two independent forms, which must agree with each other first:
//   ASOF:   dedup per (keys, ts) keeping the largest created (null lowest), then the last row
//           in source order; ASOF LEFT JOIN on the keys and ts <= e.ts; features nulled when the
//           matched ts is older than e.ts - ttl (the latest candidate too old = all are).
//   window: LEFT JOIN on the keys, ts <= e.ts, ts >= e.ts - ttl (and created <= e.ts with the
//           created filter), QUALIFY row_number() over the entity row ordered by ts, created
//           (nulls last), pos descending.
// Then the created filter (window form only), and one more run with one thread. Every
// column (name, DuckDB type) and every value of morsel's output must equal DuckDB's, and
// morsel's rows must come in entity order. DuckDB reads the written Parquet files for its
// answers, as morsel does; since its reader widens timestamp units, the units and UTC flags
// of timestamp columns are compared on the Parquet schemas (output against input).
'use strict';
const fs = require('fs');
const path = require('path');
const { duckdb, morsel, scratch, SMALL, MORSEL, requireMorsel } = require('../interop/lib/common');

const N = SMALL ? 20000 : 80000;   // feature rows (over 65,536 with the entity rows: partitioned join)
const M = SMALL ? 4000 : 16000;    // entity rows
const K = SMALL ? 2000 : 8000;     // known customer ids (about 10 rows each)
// Two sources: `feats` (one int key, a created column) and `pairs` (an int and a string
// key, no created column: exact ties go by source order alone, across two files).
const SOURCES = {
  feats: { table: 'feat', dir: 'features', keys: ['customer_id'], features: ['f_int', 'f_dbl', 'f_str', 'f_ts'], created: true },
  pairs: { table: 'feat2', dir: 'pairs', keys: ['customer_id', 'store_code'], features: ['g_int', 'g_str'], created: false },
};
const VIEWS = [
  { name: 'fv_ttl', ttlHours: 6, src: 'feats', entities: ['customer'] },
  { name: 'fv_all', ttlHours: 0, src: 'feats', entities: ['customer'] },
  { name: 'fv_pair', ttlHours: 12, src: 'pairs', entities: ['customer', 'store'] },
];
const N2 = Math.floor(N / 2);      // rows of the pairs source
const T0_NS = 1704067200000000000n; // 2024-01-01T00:00:00Z
const q = (s) => `'${String(s).replace(/'/g, "''")}'`;

function genSql(dir) {
  const h = (salt, v = 'i') => `hash(${v} * 7919 + ${salt})`; // hash(i, salt) shares low bits across salts
  return [
    `CREATE TABLE feat AS SELECT
       i AS pos,
       CASE WHEN ${h(1)} % 50 = 0 THEN NULL ELSE (${h(2)} % ${K})::BIGINT + 1 END AS customer_id,
       CASE WHEN ${h(3)} % 100 = 0 THEN NULL
            ELSE make_timestamp_ns(${T0_NS} + (${h(4)} % 24)::BIGINT * 3600000000000
                                   + CASE ${h(5)} % 10 WHEN 0 THEN 1000 WHEN 1 THEN -1000 WHEN 2 THEN 1 ELSE 0 END)
       END AS event_timestamp,
       CASE WHEN ${h(7)} % 4 = 0 THEN NULL
            ELSE TIMESTAMP '2024-01-01 00:00:00' + to_hours((${h(8)} % 3)::BIGINT * 8) END AS created,
       CASE WHEN ${h(9)} % 5 = 0 THEN NULL ELSE (${h(10)} % 2000000)::BIGINT - 1000000 END AS f_int,
       (${h(11)} % 100000)::DOUBLE / 8.0 - 5000 AS f_dbl,
       CASE WHEN ${h(12)} % 10 = 0 THEN NULL ELSE 'v' || (${h(13)} % 5000)::VARCHAR END AS f_str,
       (TIMESTAMP '2023-06-01 00:00:00' + to_milliseconds((${h(14)} % 100000000)::BIGINT))::TIMESTAMP_MS AS f_ts
     FROM range(${N}) t(i)`,
    // (customer_id, store_code) pairs, about 2.5 rows each, UTC timestamps in microseconds
    `CREATE TABLE feat2 AS SELECT
       i AS pos,
       CASE WHEN ${h(31)} % 50 = 0 THEN NULL ELSE (${h(32)} % ${Math.floor(K / 4)})::BIGINT + 1 END AS customer_id,
       CASE WHEN ${h(33)} % 33 = 0 THEN NULL ELSE 's' || (${h(34)} % 4)::VARCHAR END AS store_code,
       make_timestamp(${T0_NS / 1000n} + (${h(35)} % 24)::BIGINT * 3600000000
                      + CASE ${h(36)} % 6 WHEN 0 THEN 1 WHEN 1 THEN -1 ELSE 0 END)::TIMESTAMPTZ AS event_timestamp,
       CASE WHEN ${h(37)} % 6 = 0 THEN NULL ELSE (${h(38)} % 1000)::BIGINT END AS g_int,
       'g' || (${h(39)} % 777)::VARCHAR AS g_str
     FROM range(${N2}) t(i)`,
    // entity rows: every 17th repeats its predecessor (duplicate requests)
    `CREATE TABLE ent AS SELECT
       i AS rid,
       CASE WHEN ${h(21, 'j')} % 50 = 0 THEN NULL ELSE (${h(22, 'j')} % ${Math.round(K * 1.05)})::BIGINT + 1 END AS customer_id,
       CASE WHEN ${h(23, 'j')} % 200 = 0 THEN NULL
            ELSE make_timestamp(${T0_NS / 1000n} + (${h(24, 'j')} % 30)::BIGINT * 3600000000
                                + CASE ${h(25, 'j')} % 8 WHEN 0 THEN -1 WHEN 1 THEN 1 ELSE 0 END)::TIMESTAMPTZ
       END AS event_timestamp,
       CASE WHEN ${h(26, 'j')} % 50 = 0 THEN NULL ELSE 's' || (${h(27, 'j')} % 5)::VARCHAR END AS store_code
     FROM (SELECT i, CASE WHEN i % 17 = 1 THEN i - 1 ELSE i END AS j FROM range(${M}) t(i))`,
    ...['a', 'b'].map((name, p) => `COPY (SELECT * FROM feat2 WHERE pos ${p ? '>=' : '<'} ${Math.floor(N2 / 2)} ORDER BY pos)
              TO ${q(path.join(dir, 'data', 'pairs', `${name}.parquet`))} (FORMAT parquet, ROW_GROUP_SIZE 4096)`),
    ...[0, 1, 2].map(p => {
      const lo = Math.floor(N * p / 3), hi = Math.floor(N * (p + 1) / 3);
      return `COPY (SELECT * FROM feat WHERE pos >= ${lo} AND pos < ${hi} ORDER BY pos)
              TO ${q(path.join(dir, 'data', 'features', `part-${p}.parquet`))} (FORMAT parquet, ROW_GROUP_SIZE 8192)`;
    }),
    `COPY (SELECT * FROM ent ORDER BY rid) TO ${q(path.join(dir, 'entity.parquet'))} (FORMAT parquet, ROW_GROUP_SIZE 8192)`,
  ];
}

function writeRepo(dir, threads) {
  fs.writeFileSync(path.join(dir, 'feature_store.yaml'),
    `project: asof\nprovider: local\nregistry: data/registry.db\noffline_store:\n  type: morsel\n  threads: ${threads}\n`);
  const dtype = { f_int: 'int64', f_dbl: 'float64', f_str: 'string', f_ts: 'timestamp', g_int: 'int64', g_str: 'string' };
  fs.writeFileSync(path.join(dir, 'defs.yaml'),
    `entities:\n  - name: customer\n    join_keys: [customer_id]\n    value_type: int64\n` +
    `  - name: store\n    join_keys: [store_code]\n    value_type: string\n` +
    `sources:\n` + Object.entries(SOURCES).map(([name, s]) =>
      `  - name: ${name}\n    path: data/${s.dir}\n    file_format: parquet\n    timestamp_field: event_timestamp\n` +
      (s.created ? `    created_timestamp_column: created\n` : '')).join('') +
    `feature_views:\n` + VIEWS.map(v => `  - name: ${v.name}\n    entities: [${v.entities.join(', ')}]\n    ttl: ${v.ttlHours}h\n` +
      `    source: ${v.src}\n    schema:\n` + SOURCES[v.src].features.map(f => `      - {name: ${f}, dtype: ${dtype[f]}}\n`).join('')).join(''));
}

const ENT_TS = `event_timestamp::TIMESTAMP_NS`; // the entity time as UTC nanoseconds

// A view's source with its time as UTC nanoseconds (a no-op for TIMESTAMP_NS columns).
const srcOf = (s) => `(SELECT * REPLACE (event_timestamp::TIMESTAMP_NS AS event_timestamp) FROM ${s.table})`;

// The ASOF form (no created filter).
function asofSql(view) {
  const s = SOURCES[view.src];
  const ttl = view.ttlHours ? `AND event_timestamp >= ets - to_hours(${view.ttlHours})` : '';
  return `WITH dedup AS (
      SELECT * FROM ${srcOf(s)} WHERE ${s.keys.map(k => `${k} IS NOT NULL`).join(' AND ')} AND event_timestamp IS NOT NULL
      QUALIFY row_number() OVER (PARTITION BY ${s.keys.join(', ')}, event_timestamp
                                 ORDER BY ${s.created ? 'created DESC NULLS LAST, ' : ''}pos DESC) = 1),
    e AS (SELECT rid, ${s.keys.join(', ')}, ${ENT_TS} AS ets FROM ent),
    j AS (SELECT e.rid, e.ets, d.* EXCLUDE (${s.keys.join(', ')}) FROM e ASOF LEFT JOIN dedup d
          ON ${s.keys.map(k => `e.${k} = d.${k}`).join(' AND ')} AND d.event_timestamp <= e.ets)
    -- ets IS NOT NULL below: DuckDB 1.5's ASOF LEFT JOIN can pair a NULL probe time with the
    -- key's latest row (seen on this data), where SQL's NULL comparison matches nothing
    SELECT rid, ${s.features.map(f => `CASE WHEN ets IS NOT NULL AND event_timestamp IS NOT NULL ${ttl} THEN ${f} END AS "${view.name}__${f}"`).join(', ')}
    FROM j`;
}

// The window form. The created filter applies to sources with a created column.
function windowSql(view, filterCreated) {
  const s = SOURCES[view.src];
  const ttl = view.ttlHours ? `AND f.event_timestamp >= e.ets - to_hours(${view.ttlHours})` : '';
  const cr = filterCreated && s.created ? 'AND f.created IS NOT NULL AND f.created <= e.ets' : '';
  return `WITH e AS (SELECT rid, ${s.keys.join(', ')}, ${ENT_TS} AS ets FROM ent)
    SELECT e.rid, ${s.features.map(f => `f.${f} AS "${view.name}__${f}"`).join(', ')}
    FROM e LEFT JOIN ${srcOf(s)} f ON ${s.keys.map(k => `f.${k} = e.${k}`).join(' AND ')}
         AND f.event_timestamp <= e.ets ${ttl} ${cr}
    QUALIFY row_number() OVER (PARTITION BY e.rid ORDER BY f.event_timestamp DESC NULLS LAST,
                               ${s.created ? 'f.created DESC NULLS LAST, ' : ''}f.pos DESC NULLS LAST) = 1`;
}

// Entity columns, then each view's features, in entity order.
function expectedSql(parts) {
  let sql = `SELECT ent.*, ${parts.map((p, i) => SOURCES[VIEWS.find(v => v.name === p.view).src].features
    .map(f => `v${i}."${p.view}__${f}"`).join(', ')).join(', ')} FROM ent`;
  parts.forEach((p, i) => { sql += ` JOIN (${p.sql}) v${i} ON v${i}.rid = ent.rid`; });
  return sql + ' ORDER BY ent.rid';
}

async function rows(con, sql) {
  const r = await con.runAndReadAll(sql);
  return { names: r.columnNames(), types: r.columnTypes().map(String), rows: r.getRowsJson() };
}

// Compares two results cell by cell; returns a message or null.
function compare(what, got, want, limit = 5) {
  if (got.names.join(',') !== want.names.join(','))
    return `${what}: columns\n  got      ${got.names.join(', ')}\n  expected ${want.names.join(', ')}`;
  if (got.types.join(',') !== want.types.join(','))
    return `${what}: column types\n  got      ${got.types.join(', ')}\n  expected ${want.types.join(', ')}`;
  if (got.rows.length !== want.rows.length) return `${what}: ${got.rows.length} rows, expected ${want.rows.length}`;
  const bad = [];
  let count = 0;
  for (let r = 0; r < want.rows.length; r++) {
    for (let c = 0; c < want.names.length; c++) {
      const a = JSON.stringify(got.rows[r][c]), b = JSON.stringify(want.rows[r][c]);
      if (a !== b) {
        count++;
        if (bad.length < limit) bad.push(`row ${r} (rid ${JSON.stringify(want.rows[r][0])}) column ${want.names[c]}: got ${a}, expected ${b}`);
      }
    }
  }
  return count ? `${what}: ${count} cells differ:\n  ${bad.join('\n  ')}` : null;
}

async function main() {
  requireMorsel();
  const t0 = Date.now();
  const dir = scratch('asof-duckdb');
  for (const s of Object.values(SOURCES)) fs.mkdirSync(path.join(dir, 'data', s.dir), { recursive: true });
  const { con } = await duckdb(2);
  await con.run(`SET TimeZone = 'UTC'`);
  for (const s of genSql(dir)) await con.run(s);
  // From here on the reference reads what morsel reads: the Parquet files (DuckDB reads a
  // TIMESTAMP_MILLIS column back as TIMESTAMP, as it will read morsel's output).
  for (const s of Object.values(SOURCES))
    await con.run(`CREATE OR REPLACE TABLE ${s.table} AS SELECT * FROM read_parquet(${q(path.join(dir, 'data', s.dir, '*.parquet'))})`);
  await con.run(`CREATE OR REPLACE TABLE ent AS SELECT * FROM read_parquet(${q(path.join(dir, 'entity.parquet'))})`);
  const tsLogical = async (file) => Object.fromEntries((await con.runAndReadAll(
    `SELECT name, logical_type::VARCHAR FROM parquet_schema(${q(file)}) WHERE logical_type::VARCHAR LIKE 'TimestampType%'`)).getRowsJson());
  const srcTs = Object.assign(await tsLogical(path.join(dir, 'data', SOURCES.feats.dir, 'part-0.parquet')),
                              await tsLogical(path.join(dir, 'entity.parquet')));
  const stats = (await con.runAndReadAll(`SELECT
      (SELECT count(*) FROM (SELECT customer_id, event_timestamp, created FROM feat GROUP BY ALL HAVING count(*) > 1)) AS exact_tie_groups,
      (SELECT count(*) FROM (SELECT customer_id, event_timestamp FROM feat GROUP BY ALL HAVING count(*) > 1)) AS ts_tie_groups,
      (SELECT count(*) FROM ent WHERE customer_id IS NULL) AS null_entity_keys`)).getRowObjectsJson()[0];
  const failures = [];
  const report = (msg) => { if (msg) { failures.push(msg); console.log(`FAIL ${msg}`); } };

  // DuckDB's two forms agree with each other (guards the reference itself).
  const viaAsof = await rows(con, expectedSql(VIEWS.map(v => ({ view: v.name, sql: asofSql(v) }))));
  const plain = await rows(con, expectedSql(VIEWS.map(v => ({ view: v.name, sql: windowSql(v, false) }))));
  report(compare('DuckDB ASOF vs DuckDB window (the reference disagrees with itself)', viaAsof, plain));
  const filtered = await rows(con, expectedSql(VIEWS.map(v => ({ view: v.name, sql: windowSql(v, true) }))));
  const within = (name) => { const c = plain.names.indexOf(name); return plain.rows.filter(r => r[c] !== null).length; };
  const matched = `${within('fv_ttl__f_dbl')} with a value within the 6h ttl, ${within('fv_pair__g_str')} for a (customer, store) pair`;

  const refs = VIEWS.flatMap(v => SOURCES[v.src].features.map(f => `${v.name}:${f}`)).join(',');
  const runs = [
    { what: 'morsel (2 threads)', threads: 2, args: [], want: plain },
    { what: 'morsel --filter-by-created-timestamp', threads: 2, args: ['--filter-by-created-timestamp'], want: filtered },
    { what: 'morsel (1 thread)', threads: 1, args: [], want: plain },
  ];
  for (const run of runs) {
    writeRepo(dir, run.threads);
    const out = path.join(dir, 'out.parquet');
    fs.rmSync(out, { force: true });
    const t = Date.now();
    const r = morsel(['get-historical-features', '-C', dir, '--entity-df', path.join(dir, 'entity.parquet'),
                      '--features', refs, '--full-feature-names', ...run.args, '--output', out]);
    const secs = ((Date.now() - t) / 1000).toFixed(2);
    if (r.status !== 0) {
      report(`${run.what}: exit status ${r.status}${r.signal ? ' signal ' + r.signal : ''}: ${(r.stderr || '').trim().slice(0, 2000)}`);
      continue;
    }
    const got = await rows(con, `SELECT * EXCLUDE (file_row_number) FROM read_parquet(${q(out)}, file_row_number = true) ORDER BY file_row_number`);
    let msg = compare(run.what, got, run.want);
    // units and UTC flags of timestamp columns as written (DuckDB's reader widens units)
    const outTs = await tsLogical(out);
    for (const [name, lt] of Object.entries(outTs)) {
      const srcName = name.replace(/^fv_[a-z]+__/, '');
      if (!msg && srcTs[srcName] !== lt) msg = `${run.what}: column ${name} is ${lt} in the output, ${srcTs[srcName]} in the input`;
    }
    const nTs = 1 + VIEWS.filter(v => SOURCES[v.src].features.includes('f_ts')).length;
    if (!msg && Object.keys(outTs).length !== nTs) msg = `${run.what}: timestamp columns ${Object.keys(outTs).join(', ')}`;
    report(msg);
    if (!msg) console.log(`ok   ${run.what}: ${got.rows.length} rows x ${got.names.length} columns equal DuckDB's (${secs} s)`);
  }
  console.log(`asof-duckdb: ${N} feature rows (${stats.ts_tie_groups} (key, ts) tie groups, ${stats.exact_tie_groups} exact (key, ts, created) ties), ` +
              `${N2} pair rows, ${M} entity rows (${stats.null_entity_keys} null keys, ${matched}), ` +
              `${failures.length} failed, ${((Date.now() - t0) / 1000).toFixed(1)} s${SMALL ? ' (small)' : ''}`);
  if (failures.length) {
    console.log(`data kept in ${dir}`);
    process.exitCode = 1;
  } else {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

main().catch(e => { console.error(e && e.stack || e); process.exit(1); });
