// Interop, write direction: files written by morsel are read by DuckDB and by Polars and
// compared value by value with the source.
//
//   1. A DuckDB-written Parquet file of every type is rewritten by `morsel convert` over a
//      matrix (every codec, data page v1/v2, dictionary on/off, small and default row
//      groups). Each output is checked for what its options promise (codec in the footer,
//      dictionary pages or none, row-group count, page type read from the raw page header),
//      read back by DuckDB (values and column types must equal the source's) and by Polars
//      (values), and, where row groups are small, DuckDB's statistics-based pruning must
//      return the same counts as on the source: a wrong min/max would drop rows.
//   2. A CSV written here (quotes, embedded newlines, timestamps with Z, offsets and none)
//      is converted to Parquet by morsel; DuckDB and Polars must read back the values this
//      script put in the CSV.
//   3. Parquet -> CSV: morsel's CSV is read by DuckDB with the source's types.
'use strict';
const fs = require('fs');
const path = require('path');
const c = require('./lib/common');
const d = require('./lib/duck');
const p = require('./lib/pl');
const v = require('./lib/values');

const pl = c.polars();
const CODECS = ['none', 'snappy', 'gzip', 'zstd', 'lz4_raw', 'brotli'];
const CODEC_IN_FILE = { none: 'UNCOMPRESSED', snappy: 'SNAPPY', gzip: 'GZIP', zstd: 'ZSTD', lz4_raw: 'LZ4_RAW', brotli: 'BROTLI' };
const DEFAULT_RG_ROWS = 1048576;

// DuckDB column types of a file, by name.
async function fileTypes(con, file) {
  const rows = await d.duckAll(con, `DESCRIBE SELECT * FROM read_parquet(${d.q(file)})`);
  return rows.map(r => [r[0], r[1]]);
}

// Statistics check: for each row group of `out` and each column, the group's own min and
// max (computed by DuckDB over the source rows of that group) are used as probes:
// count(col >= group max) and count(col <= group min) must be the same on the source and
// on morsel's file. DuckDB prunes row groups with the file's statistics, so a max written
// too small or a min too large (or a wrong sort order: unsigned, decimal, bytes) loses rows.
async function checkPruning(con, src, out, columns) {
  const groups = await d.duckAll(con, `SELECT DISTINCT row_group_id, row_group_num_rows FROM parquet_metadata(${d.q(out)}) ORDER BY 1`);
  let start = 0;
  for (const [g, nrows] of groups) {
    const lo = start, hi = start + Number(nrows) - 1;
    start += Number(nrows);
    for (const col of columns) {
      const q = d.q;
      // Min/max of the group, NaN left out (writers leave it out of statistics too).
      const nanFree = col.kind.t === 'float' ? ` AND NOT isnan(${col.name})` : '';
      const mm = await d.duckAll(con, `SELECT min(${col.name})::VARCHAR, max(${col.name})::VARCHAR FROM read_parquet(${q(src)}) WHERE id BETWEEN ${lo} AND ${hi}${nanFree}`);
      if (mm[0][0] === null) continue;
      for (const [op, val] of [['>=', mm[0][1]], ['<=', mm[0][0]]]) {
        const pred = `${col.name} ${op} CAST(${q(val)} AS ${col.type})`;
        const a = await d.duckAll(con, `SELECT count(*) FROM read_parquet(${q(src)}) WHERE ${pred}`);
        const b = await d.duckAll(con, `SELECT count(*) FROM read_parquet(${q(out)}) WHERE ${pred}`);
        if (a[0][0] !== b[0][0])
          return `row group ${g}, column ${col.name}: DuckDB counts ${b[0][0]} rows WHERE ${pred} in morsel's file, ${a[0][0]} in the source (wrong statistics?)`;
      }
    }
  }
  return null;
}

// Where the source column is a UUID and DuckDB read a BLOB back, turn the read bytes into
// the uuid canonical form (hex) so the values compare.
function uuidBlobsAsHex(expected, back) {
  expected.columns.forEach((col, i) => {
    if (col.kind.t !== 'uuid' || back.columns[i].kind.t !== 'binary') return;
    for (const row of back.rows) if (row[i] !== null) row[i] = Buffer.from(row[i], 'base64').toString('hex');
  });
}

// DuckDB's TIMESTAMP WITH TIME ZONE holds microseconds: it reads a UTC nanosecond column
// by dividing by 1000 (truncating toward zero, so pre-1970 values move up). Expected
// nanosecond values are put through the same division before comparing with DuckDB.
function asDuckSees(expected, back) {
  const rows = expected.rows.map(r => r.slice());
  expected.columns.forEach((col, i) => {
    if (col.kind.t !== 'timestamp' || back.columns[i].type !== 'TIMESTAMP WITH TIME ZONE') return;
    for (const r of rows) {
      if (r[i] === null) continue;
      const t = v.parseTimestamp(r[i]);
      r[i] = v.formatTimestampNs(t.ns / 1000n * 1000n, t.utc);
    }
  });
  return rows;
}

async function parquetMatrix(rep, con, dir) {
  const N = c.SMALL ? 2500 : 5000;
  for (const s of d.allTypesSql('alltypes', N)) await con.run(s);
  const src = path.join(dir, 'source_duckdb.parquet');
  await con.run(`COPY alltypes TO ${d.q(src)} (FORMAT parquet, COMPRESSION zstd)`);
  const expected = await d.duckRows(con, `SELECT * FROM read_parquet(${d.q(src)})`);
  const srcTypes = await fileTypes(con, src);

  let cases = [];
  for (const codec of CODECS)
    for (const page of [1, 2])
      for (const dict of [true, false])
        for (const rg of [1000, 0])
          cases.push({ codec, page, dict, rg });
  if (c.SMALL) cases = cases.filter((x, k) => k % 8 === (CODECS.indexOf(x.codec) * 3) % 8);

  for (const k of cases) {
    const name = `morsel_${k.codec}_v${k.page}_${k.dict ? 'dict' : 'plain'}_rg${k.rg || 'default'}.parquet`;
    const out = path.join(dir, name);
    await rep.check(name, async () => {
      const args = ['convert', src, out, '--compression', k.codec, '--page-version', String(k.page)];
      if (!k.dict) args.push('--no-dictionary');
      if (k.rg) args.push('--row-group-size', String(k.rg));
      c.morselOk(args);

      // What the options promise, checked in the footer and the raw page headers.
      const meta = await d.duckAll(con, `SELECT row_group_id, path_in_schema, compression, encodings, data_page_offset FROM parquet_metadata(${d.q(out)})`);
      const bad = meta.find(r => r[2] !== CODEC_IN_FILE[k.codec]);
      if (bad) return `column ${bad[1]} is ${bad[2]}, expected ${CODEC_IN_FILE[k.codec]}`;
      const dictCols = meta.filter(r => /DICTIONARY/.test(r[3])).map(r => r[1]);
      if (!k.dict && dictCols.length) return `--no-dictionary, yet dictionary encoding in ${dictCols[0]}`;
      if (k.dict && !dictCols.includes('c_str_dict')) return 'dictionary on, yet the 5-value string column c_str_dict has no dictionary';
      const groups = new Set(meta.map(r => r[0])).size;
      const wantGroups = Math.max(1, Math.ceil(N / (k.rg || DEFAULT_RG_ROWS)));
      if (groups !== wantGroups) return `${groups} row groups, expected ${wantGroups} for ${N} rows`;
      const buf = fs.readFileSync(out);
      const wantPage = k.page === 2 ? 3 : 0;
      for (const r of meta) {
        const t = c.firstPageType(buf, Number(r[4]));
        if (t !== wantPage) return `column ${r[1]} row group ${r[0]}: first data page has type ${t}, expected ${wantPage} (page version ${k.page})`;
      }

      // DuckDB reads it back: same column types, same values.
      const outTypes = await fileTypes(con, out);
      for (let i = 0; i < srcTypes.length; i++) {
        // morsel's core has no UUID type: a UUID column is fixed_binary(16) in memory and
        // FIXED_LEN_BYTE_ARRAY(16) without the UUID annotation on disk, which DuckDB reads
        // as BLOB. The bytes are still compared.
        if (outTypes[i] && srcTypes[i][1] === 'UUID' && outTypes[i][1] === 'BLOB') continue;
        if (!outTypes[i] || outTypes[i][0] !== srcTypes[i][0] || outTypes[i][1] !== srcTypes[i][1])
          return `column ${srcTypes[i][0]}: DuckDB reads type ${outTypes[i] ? outTypes[i][1] : '(missing)'} from morsel's file, ${srcTypes[i][1]} from the source`;
      }
      if (outTypes.length !== srcTypes.length) return `DuckDB reads ${outTypes.length} columns, the source has ${srcTypes.length}`;
      const back = await d.duckRows(con, `SELECT * FROM read_parquet(${d.q(out)})`);
      uuidBlobsAsHex(expected, back);
      let msg = v.compareCanonical(out, expected.columns, expected.rows, back.rows, {}, 'DuckDB');
      if (msg) return msg;

      // Polars reads it back.
      msg = p.compareFrame(pl, out, pl.readParquet(out), expected, 'Polars');
      if (msg) return msg;

      // Statistics, where there are several row groups to prune.
      if (k.rg && (k.codec === 'zstd' || (!c.SMALL && k.codec === 'snappy'))) {
        const probe = expected.columns.filter(col => !['bool', 'binary', 'uuid'].includes(col.kind.t) && col.name !== 'c_all_null');
        msg = await checkPruning(con, src, out, probe);
        if (msg) return msg;
      }
      return null;
    });
  }
}

// CSV written here -> morsel convert -> Parquet read by DuckDB and Polars.
async function csvToParquet(rep, con, dir) {
  const n = c.SMALL ? 1500 : 6000;
  const cols = [
    { name: 'id', kind: { t: 'int' } },
    { name: 'big', kind: { t: 'int' } },
    { name: 'x', kind: { t: 'float', bits: 64 } },
    { name: 'flag', kind: { t: 'bool' } },
    { name: 'day', kind: { t: 'date' } },
    { name: 'ts_naive', kind: { t: 'timestamp', utc: false } },
    { name: 'ts_z', kind: { t: 'timestamp', utc: true } },
    { name: 'ts_offset', kind: { t: 'timestamp', utc: true } },
    { name: 'text', kind: { t: 'string' } },
  ];
  const quote = (s) => /[",\r\n]/.test(s) ? '"' + s.replace(/"/g, '""') + '"' : s;
  const lines = [cols.map(x => x.name).join(',')];
  const rows = [];
  const texts = ['plain', 'with,comma', 'with "quotes"', 'multi\nline', 'crlf\r\ninside', 'héllo ✓ 日本', ' lead and trail '];
  for (let i = 0; i < n; i++) {
    const nul = (k) => i % k === k - 1;
    const big = (BigInt(i) * 2305843009213693951n) % 9223372036854775807n * (i % 2 ? -1n : 1n);
    const xText = i % 5 === 0 ? `${(i * 1.25e-3).toExponential(6)}` : `${(i * 7.123456789) - 5000}`;
    const days = i * 37 - 60000;
    const tsNs = BigInt(i) * 987654321987n - 2000000000000000000n; // spans 1906..2157
    const frac = (tsNs % 1000000000n + 1000000000n) % 1000000000n;
    const fracText = String(frac).padStart(9, '0').slice(0, [0, 3, 6, 9][i % 4]);
    const iso = (ns, sep) => {
      const full = v.formatTimestampNs(ns, false);
      const base = full.slice(0, 19).replace('T', sep);
      return fracText ? `${base}.${fracText}` : base;
    };
    const shown = (ns) => { // the value the text really holds (fraction truncated as written)
      const keep = [0, 3, 6, 9][i % 4];
      const unit = 10n ** BigInt(9 - keep);
      return ns - (((ns % unit) + unit) % unit);
    };
    const offMin = ((i % 7) - 3) * 90; // -04:30 .. +04:30
    const offText = `${offMin < 0 ? '-' : '+'}${String(Math.floor(Math.abs(offMin) / 60)).padStart(2, '0')}:${String(Math.abs(offMin) % 60).padStart(2, '0')}`;
    const tsNsShown = shown(tsNs);
    const row = [
      String(i),
      nul(13) ? null : big.toString(),
      nul(11) ? null : v.canonFloat(Number(xText), 64),
      nul(7) ? null : (i % 3 === 0 ? 'true' : 'false'),
      nul(17) ? null : v.formatDate(days),
      nul(19) ? null : v.formatTimestampNs(tsNsShown, false),
      nul(23) ? null : v.formatTimestampNs(tsNsShown, true),
      // The offset text is the local time of the instant; morsel converts it to UTC.
      nul(29) ? null : v.formatTimestampNs(tsNsShown, true),
      nul(31) ? null : texts[i % texts.length] + (i % 3 ? '' : String(i)),
    ];
    rows.push(row);
    const localNs = tsNsShown + BigInt(offMin) * 60000000000n;
    const fields = [
      row[0], row[1] ?? '', row[2] === null ? '' : xText, row[3] ?? '', row[4] ?? '',
      row[5] === null ? '' : iso(tsNs, i % 2 ? 'T' : ' '),
      row[6] === null ? '' : iso(tsNs, 'T') + 'Z',
      row[7] === null ? '' : v.formatTimestampNs(localNs, false).slice(0, 19) + (fracText ? '.' + fracText : '') + offText,
      row[8] === null ? '' : quote(row[8]),
    ];
    lines.push(fields.join(','));
  }
  const csv = path.join(dir, 'source.csv');
  fs.writeFileSync(csv, lines.join('\r\n') + '\r\n');
  const expected = { columns: cols, rows };

  const variants = c.SMALL ? [['zstd', 1, 0]] : [['zstd', 1, 0], ['snappy', 2, 1000], ['none', 1, 777]];
  for (const [codec, page, rg] of variants) {
    const name = `morsel_from_csv_${codec}_v${page}_rg${rg || 'default'}.parquet`;
    await rep.check(name, async () => {
      const out = path.join(dir, name);
      const args = ['convert', csv, out, '--compression', codec, '--page-version', String(page)];
      if (rg) args.push('--row-group-size', String(rg));
      c.morselOk(args);
      const back = await d.duckRows(con, `SELECT * FROM read_parquet(${d.q(out)})`);
      const names = back.columns.map(x => x.name).join(',');
      if (names !== cols.map(x => x.name).join(',')) return `DuckDB reads columns ${names}`;
      for (let i = 0; i < cols.length; i++) {
        const k = back.columns[i].kind;
        if (k.t !== cols[i].kind.t || (k.t === 'timestamp' && k.utc !== cols[i].kind.utc))
          return `column ${cols[i].name}: DuckDB reads type ${back.columns[i].type}, expected ${v.kindName(cols[i].kind)}`;
      }
      let msg = v.compareCanonical(out, cols, asDuckSees(expected, back), back.rows, {}, 'DuckDB');
      if (msg) return msg;
      msg = p.compareFrame(pl, out, pl.readParquet(out), expected, 'Polars');
      return msg;
    });
  }
}

// Parquet -> CSV by morsel, read by DuckDB with the source's column types.
async function parquetToCsv(rep, con, dir) {
  await rep.check('morsel_to_csv.csv', async () => {
    const src = path.join(dir, 'source_for_csv.parquet');
    await con.run(`COPY (SELECT id, c_bool, c_int8, c_int64, c_uint64, c_float, c_double,
        CASE WHEN c_str_dict = '' THEN 'empty' ELSE c_str_dict END AS c_str_dict, c_str, c_date,
        c_ts_ms, c_ts_us, c_ts_ns, c_ts_tz, c_dec9_3, c_dec38_10 FROM alltypes) TO ${d.q(src)} (FORMAT parquet)`);
    const expected = await d.duckRows(con, `SELECT * FROM read_parquet(${d.q(src)})`);
    const out = path.join(dir, 'morsel_to_csv.csv');
    c.morselOk(['convert', src, out]);
    const types = '{' + expected.columns.map(x => `${d.q(x.name)}: ${d.q(x.type)}`).join(', ') + '}';
    const back = await d.duckRows(con, `SELECT * FROM read_csv(${d.q(out)}, header = true, columns = ${types}, auto_detect = false)`);
    return v.compareCanonical(out, expected.columns, expected.rows, back.rows, {}, 'DuckDB');
  });
}

async function main() {
  c.requireMorsel();
  const rep = new c.Report('interop write (morsel writes, DuckDB and Polars read)');
  const dir = c.scratch('interop-write');
  const { con } = await c.duckdb();
  await parquetMatrix(rep, con, dir);
  await csvToParquet(rep, con, dir);
  await parquetToCsv(rep, con, dir);
  rep.finish();
}

main().catch(e => { console.error(e); process.exit(1); });
