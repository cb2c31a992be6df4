// DuckDB's view of files written by morsel (driven by test_pq_write_duckdb.c).
//
// The manifest lists: path rows row_groups row_group_rows codec. For each file, DuckDB
// must report the column types below, every value must equal the generator's formula
// evaluated here in SQL (the same formulas as make_table in the C test), the row groups
// and codec must be as asked, and each row group's min/max/null_count statistics
// (parquet_metadata) must equal DuckDB's own aggregates over that group's rows.
'use strict';
const fs = require('fs');
const path = require('path');
const duckdb = require(path.join(process.env.MORSEL_PEERS_DIR, 'node_modules/@duckdb/node-api'));

// name, DuckDB type, [expression over the column, expected expression over id]
const COLS = [
  ['id', 'BIGINT', 'id', 'id'],
  ['b', 'BOOLEAN', 'b', 'CASE WHEN id % 11 = 5 THEN NULL ELSE id % 3 = 0 END'],
  ['i8', 'TINYINT', 'i8', 'CASE WHEN id % 13 = 1 THEN NULL ELSE (id % 256) - 128 END'],
  ['i16', 'SMALLINT', 'i16', '((id * 37) % 65536) - 32768'],
  ['i32', 'INTEGER', 'i32', 'id * 100003 - 150000000'],
  ['u8', 'UTINYINT', 'u8', 'id % 256'],
  ['u16', 'USMALLINT', 'u16', 'CASE WHEN id % 19 = 0 THEN NULL ELSE (id * 7) % 65536 END'],
  ['u32', 'UINTEGER', 'u32', '4294967295 - id * 1000'],
  ['u64', 'UBIGINT', 'u64', '18446744073709551615::UBIGINT - id::UBIGINT'],
  ['f32', 'FLOAT', 'f32', "CASE WHEN id % 101 = 3 THEN 'nan'::FLOAT WHEN id = 7 THEN '-0.0'::FLOAT ELSE (id * 0.25 - 100)::FLOAT END"],
  ['f64', 'DOUBLE', 'f64', "CASE WHEN id % 23 = 4 THEN NULL WHEN id = 11 THEN 'inf'::DOUBLE ELSE id * 1.5e10 + 0.125 END"],
  ['s', 'VARCHAR', 's', "CASE WHEN id % 17 = 2 THEN NULL WHEN id % 50 = 49 THEN 'ünï' ELSE 'k' || (id % 50) END"],
  ['ls', 'VARCHAR', 'ls', "repeat('x', (id % 300)::INTEGER) || id"],
  ['bin', 'BLOB', 'bin', "('b' || id)::BLOB"],
  ['d', 'DATE', 'd', "DATE '1970-01-01' + (id - 1000)::INTEGER"],
  ['ts_s', 'TIMESTAMP WITH TIME ZONE', 'epoch_ms(ts_s::TIMESTAMP)', '(id * 86400 + 1) * 1000'],
  ['ts_ms', 'TIMESTAMP', 'epoch_ms(ts_ms)', 'id * 1000003'],
  ['ts_us', 'TIMESTAMP WITH TIME ZONE', 'epoch_us(ts_us::TIMESTAMP)', 'CASE WHEN id % 29 = 0 THEN NULL ELSE 1600000000000000 + id * 1000001 END'],
  ['ts_ns', 'TIMESTAMP_NS', 'epoch_ns(ts_ns)', '1700000000000000000 + id * 123456789'],
  ['dec9', 'DECIMAL(9,2)', '(dec9 * 100)::BIGINT', 'id * 12345 - 5000000'],
  ['dec18', 'DECIMAL(18,4)', '(dec18 * 10000)::BIGINT', 'id * 1234567891 - 99999999999'],
  ['dec38', 'DECIMAL(38,6)', '(dec38 * 1000000)::HUGEINT',
   'CASE WHEN id % 31 = 9 THEN NULL ELSE id::HUGEINT * 10000000000000000000000000::HUGEINT + id - 50000000000000000000000000000::HUGEINT END'],
  ['fx', 'BLOB', 'fx', "from_hex(printf('%08x', id))"],
  ['nul', 'INTEGER', 'nul', 'NULL'],
];
const CODEC = { uncompressed: 'UNCOMPRESSED', snappy: 'SNAPPY', gzip: 'GZIP', zstd: 'ZSTD', lz4_raw: 'LZ4_RAW', brotli: 'BROTLI' };

async function all(con, sql) {
  return (await con.runAndReadAll(sql)).getRows();
}

async function checkFile(con, [file, nrows, ngroups, rgRows, codec]) {
  const errs = [];
  const src = `read_parquet('${file}')`;
  const types = await all(con, `DESCRIBE SELECT * FROM ${src}`);
  COLS.forEach(([name, type], i) => {
    if (!types[i] || types[i][0] !== name || types[i][1] !== type)
      errs.push(`column ${i}: DuckDB sees ${types[i] && types[i].join(' ')}, expected ${name} ${type}`);
  });
  const cnt = await all(con, `SELECT count(*) FROM ${src}`);
  if (Number(cnt[0][0]) !== nrows) errs.push(`${cnt[0][0]} rows, expected ${nrows}`);
  const bad = await all(con, `SELECT ${COLS.map(([n, , a, e]) => `sum(CASE WHEN (${a}) IS DISTINCT FROM (${e}) THEN 1 ELSE 0 END)`).join(', ')} FROM ${src}`);
  COLS.forEach(([name], i) => {
    if (Number(bad[0][i]) !== 0) errs.push(`column ${name}: ${bad[0][i]} values differ from the formula`);
  });
  const meta = await all(con, `SELECT row_group_id, row_group_num_rows, path_in_schema, compression, stats_min_value, stats_max_value, stats_null_count FROM parquet_metadata('${file}') ORDER BY row_group_id, column_id`);
  const groups = new Set(meta.map(r => Number(r[0])));
  if (groups.size !== ngroups) errs.push(`${groups.size} row groups, expected ${ngroups}`);
  for (const g of groups) {
    const lo = g * rgRows, hi = Math.min(nrows, lo + rgRows) - 1;
    const rows = meta.filter(r => Number(r[0]) === g);
    const aggs = await all(con, `SELECT ${COLS.map(([n, t]) => {
      const f = t === 'FLOAT' || t === 'DOUBLE' ? ` FILTER (WHERE NOT isnan(${n}))` : '';
      return `min(${n})${f}::VARCHAR, max(${n})${f}::VARCHAR, count(*) - count(${n})`;
    }).join(', ')} FROM ${src} WHERE id BETWEEN ${lo} AND ${hi}`);
    COLS.forEach(([name, type], i) => {
      const r = rows.find(x => x[2] === name);
      if (!r) { errs.push(`row group ${g}: no column ${name}`); return; }
      if (Number(r[1]) !== hi - lo + 1) errs.push(`row group ${g}: ${r[1]} rows, expected ${hi - lo + 1}`);
      if (r[3] !== CODEC[codec]) errs.push(`row group ${g} ${name}: codec ${r[3]}, expected ${CODEC[codec]}`);
      const [mn, mx, nulls] = [aggs[0][3 * i], aggs[0][3 * i + 1], aggs[0][3 * i + 2]];
      if (Number(r[6]) !== Number(nulls)) errs.push(`row group ${g} ${name}: null_count ${r[6]}, DuckDB counts ${nulls}`);
      const same = (stat, agg) => {
        if (stat === agg) return true;
        if (type === 'FLOAT' || type === 'DOUBLE') {
          // DuckDB shows an infinite bound as null; compare numerically otherwise
          if (stat === null) return agg === 'inf' || agg === '-inf';
          return agg !== null && Number(stat) === Number(agg);
        }
        return false;
      };
      if (!same(r[4], mn)) errs.push(`row group ${g} ${name}: min ${r[4]}, DuckDB computes ${mn}`);
      if (!same(r[5], mx)) errs.push(`row group ${g} ${name}: max ${r[5]}, DuckDB computes ${mx}`);
    });
  }
  return errs;
}

(async () => {
  const inst = await duckdb.DuckDBInstance.create(':memory:', {
    autoinstall_known_extensions: 'false', autoload_known_extensions: 'false' });
  const con = await inst.connect();
  const lines = fs.readFileSync(process.argv[2], 'utf8').trim().split('\n');
  let failed = 0;
  for (const line of lines) {
    const [file, rows, groups, rgRows, codec] = line.split(' ');
    const errs = await checkFile(con, [file, +rows, +groups, +rgRows, codec]);
    console.log(`${errs.length ? 'FAIL' : 'ok  '} ${path.basename(file)}`);
    for (const e of errs.slice(0, 20)) console.log(`     ${e}`);
    if (errs.length) failed++;
  }
  process.exit(failed ? 1 : 0);
})().catch(e => { console.error(e); process.exit(2); });
