// Interop, read direction, DuckDB as the writer: DuckDB writes Parquet files over a matrix
// (every codec it offers, dictionary on/off, PARQUET_VERSION v1/v2 — v2 brings the DELTA_*
// and BYTE_STREAM_SPLIT encodings —, tiny and large row groups) of a table holding every
// type morsel reads, plus special files (empty, 200 columns, 100 KB strings, a
// hive-partitioned dataset, nested columns next to flat ones). morsel must print exactly
// what DuckDB was given: the expected rows are DuckDB's in-memory table, not a re-read of
// the file. Each written file is also checked (through parquet_metadata) to really use the
// codec and dictionary setting the case names, so the matrix cannot silently shrink.
'use strict';
const path = require('path');
const c = require('./lib/common');
const d = require('./lib/duck');

const CODECS = ['uncompressed', 'snappy', 'gzip', 'zstd', 'lz4', 'brotli'];
// DuckDB spells LZ4_RAW "lz4" (and "lz4_raw"); both write the LZ4_RAW codec.
const CODEC_IN_FILE = { uncompressed: 'UNCOMPRESSED', snappy: 'SNAPPY', gzip: 'GZIP', zstd: 'ZSTD', lz4: 'LZ4_RAW', lz4_raw: 'LZ4_RAW', brotli: 'BROTLI' };

async function main() {
  c.requireMorsel();
  const rep = new c.Report('interop read (DuckDB writes, morsel reads)');
  const dir = c.scratch('interop-read-duckdb');
  const { con } = await c.duckdb();
  const N = c.SMALL ? 2500 : 5000; // > 2048 so DuckDB's smallest row groups make several

  for (const s of d.allTypesSql('alltypes', N)) await con.run(s);
  const expected = await d.duckRows(con, 'SELECT * FROM alltypes ORDER BY id');

  // The matrix. The small form (ASan) keeps one case per codec with the settings varied.
  let cases = [];
  for (const codec of CODECS)
    for (const version of ['v1', 'v2'])
      for (const dict of [true, false])
        for (const rg of [2048, 122880])
          cases.push({ codec, version, dict, rg });
  if (c.SMALL) cases = cases.filter((x, k) => k % 8 === (CODECS.indexOf(x.codec) * 3) % 8);

  for (const k of cases) {
    const name = `duck_${k.codec}_${k.version}_${k.dict ? 'dict' : 'plain'}_rg${k.rg}.parquet`;
    const file = path.join(dir, name);
    await rep.check(name, async () => {
      const opts = [`FORMAT parquet`, `COMPRESSION ${k.codec}`, `PARQUET_VERSION ${k.version}`, `ROW_GROUP_SIZE ${k.rg}`];
      if (!k.dict) opts.push('DICTIONARY_SIZE_LIMIT 0');
      await con.run(`COPY alltypes TO ${d.q(file)} (${opts.join(', ')})`);
      const meta = await d.duckAll(con, `SELECT row_group_id, compression, encodings, path_in_schema FROM parquet_metadata(${d.q(file)})`);
      if (!meta.every(r => r[1] === CODEC_IN_FILE[k.codec])) return `DuckDB did not write ${k.codec}: ${JSON.stringify(meta[0])}`;
      // DuckDB always writes ENUM columns with a dictionary.
      const dictUsed = meta.some(r => /DICTIONARY/.test(r[2]) && r[3] !== 'c_enum');
      if (dictUsed !== k.dict) return `dictionary encoding ${dictUsed ? 'present' : 'absent'} against the case setting: ${JSON.stringify(meta.filter(r => /DICTIONARY/.test(r[2]) && r[3] !== 'c_enum').slice(0, 3))}`;
      const groups = new Set(meta.map(r => r[0])).size;
      if (k.rg < N && groups < 2) return `expected several row groups, DuckDB wrote ${groups}`;
      if (k.version === 'v2' && !meta.some(r => /DELTA_BINARY_PACKED/.test(r[2]))) return 'v2 file without DELTA_BINARY_PACKED';
      return c.checkMorselRead(file, expected);
    });
  }

  // Empty file: every type, zero rows.
  await rep.check('duck_empty.parquet', async () => {
    const file = path.join(dir, 'duck_empty.parquet');
    await con.run(`COPY (SELECT * FROM alltypes WHERE false) TO ${d.q(file)} (FORMAT parquet)`);
    return c.checkMorselRead(file, { columns: expected.columns, rows: [] });
  });

  // 200 columns of rotating types.
  await rep.check('duck_wide200.parquet', async () => {
    const file = path.join(dir, 'duck_wide200.parquet');
    const exprs = ['i::BIGINT AS id'];
    const gens = [
      (k) => `CASE WHEN (i + ${k}) % 7 = 0 THEN NULL ELSE (i * ${k + 1})::INTEGER END`,
      (k) => `CASE WHEN (i + ${k}) % 5 = 0 THEN NULL ELSE 'w' || (i % ${k + 2}) END`,
      (k) => `(i / ${k + 1})::DOUBLE`,
      (k) => `DATE '2000-01-01' + (i * ${k})::INTEGER`,
      (k) => `((i * ${k}) % 1000)::DECIMAL(12,3)`,
    ];
    for (let k = 1; k < 200; k++) exprs.push(`${gens[k % gens.length](k)} AS col_${String(k).padStart(3, '0')}`);
    await con.run(`CREATE OR REPLACE TABLE wide AS SELECT ${exprs.join(', ')} FROM range(${c.SMALL ? 300 : 3000}) r(i)`);
    await con.run(`COPY wide TO ${d.q(file)} (FORMAT parquet, COMPRESSION zstd, ROW_GROUP_SIZE 2048)`);
    return c.checkMorselRead(file, await d.duckRows(con, 'SELECT * FROM wide ORDER BY id'));
  });

  // Long strings (100 KB and more), with and without dictionary, v1 and v2.
  await con.run(`CREATE OR REPLACE TABLE longs AS SELECT i::BIGINT AS id,
      CASE WHEN i % 4 = 3 THEN NULL ELSE repeat(chr((97 + i % 26)::INTEGER), 100000 + i * 37) END AS s,
      repeat('xyz', 40000) || i AS s2 FROM range(${c.SMALL ? 12 : 40}) r(i)`);
  const longExpected = await d.duckRows(con, 'SELECT * FROM longs ORDER BY id');
  for (const [version, dict] of [['v1', true], ['v2', false], ['v1', false], ['v2', true]]) {
    const name = `duck_long_${version}_${dict ? 'dict' : 'plain'}.parquet`;
    await rep.check(name, async () => {
      const file = path.join(dir, name);
      await con.run(`COPY longs TO ${d.q(file)} (FORMAT parquet, COMPRESSION snappy, PARQUET_VERSION ${version}${dict ? '' : ', DICTIONARY_SIZE_LIMIT 0'})`);
      return c.checkMorselRead(file, longExpected);
    });
  }

  // A hive-partitioned dataset: key=value folders become typed columns again.
  await rep.check('duck_hive/', async () => {
    const hive = path.join(dir, 'duck_hive');
    await con.run(`CREATE OR REPLACE TABLE hive AS SELECT id, c_int32, c_str, c_ts_us, c_dec18_6,
        (id % 3)::BIGINT AS p_year, (['alpha', 'beta'])[1 + (id % 2)::INTEGER] AS p_name
        FROM alltypes WHERE id < ${c.SMALL ? 500 : 2000}`);
    await con.run(`COPY hive TO ${d.q(hive)} (FORMAT parquet, PARTITION_BY (p_year, p_name))`);
    const exp = await d.duckRows(con, 'SELECT * FROM hive ORDER BY id');
    return c.checkMorselRead(hive, exp, { sortBy: 'id', anyColumnOrder: true, noSchema: true });
  });

  // Nested columns beside flat ones: the flat ones read, asking for a nested one is a clear
  // error naming it.
  await rep.check('duck_nested.parquet', async () => {
    const file = path.join(dir, 'duck_nested.parquet');
    await con.run(`COPY (SELECT i::BIGINT AS id, [i, i + 1] AS c_list, {'a': i, 'b': 'x' || i} AS c_struct,
        MAP {'k': i} AS c_map, 'flat' || i AS c_flat FROM range(100) r(i)) TO ${d.q(file)} (FORMAT parquet)`);
    const exp = await d.duckRows(con, `SELECT i::BIGINT AS id, 'flat' || i AS c_flat FROM range(100) r(i)`);
    const msg = c.checkMorselRead(file, exp, { columns: ['id', 'c_flat'], noSchema: true });
    if (msg) return msg;
    for (const col of ['c_list', 'c_struct', 'c_map']) {
      const r = c.morsel(['cat', file, '--columns', `id,${col}`, '--format', 'jsonl']);
      if (r.status === 0) return `morsel cat --columns id,${col} succeeded on a nested column`;
      if (r.signal || r.status > 125) return `morsel cat --columns id,${col} crashed (${r.signal || r.status})`;
      if (!r.stderr.includes(col)) return `the error for nested column ${col} does not name it: ${r.stderr.trim()}`;
    }
    return null;
  });

  rep.finish();
}

main().catch(e => { console.error(e); process.exit(1); });
