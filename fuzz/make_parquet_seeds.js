// Writes the seed corpus of fuzz_parquet (fuzz/corpus/parquet): small files written by
// real DuckDB and Polars over many settings (types, nulls, every codec, dictionary on and
// off, page v1/v2 and the v2 encodings DELTA_BINARY_PACKED / DELTA_LENGTH_BYTE_ARRAY /
// BYTE_STREAM_SPLIT, several row groups, an empty file). Seeds are kept small (few rows)
// so the fuzzer mutates them quickly; the whole corpus stays well under 2 MB.
// Run: node fuzz/make_parquet_seeds.js [peers_dir]   (peers from scripts/install-test-peers.sh)
// The morsel_*.parquet seeds are morsel's own writer output, made from the CSV seeds:
//   morsel convert fuzz/corpus/csv/types_ok.csv morsel_types_zstd.parquet
//   morsel convert fuzz/corpus/csv/mixed_200.csv morsel_mixed_v2_snappy_rg.parquet \
//     --compression snappy --page-version 2 --row-group-size 64
//   morsel convert fuzz/corpus/csv/mixed_200.csv morsel_mixed_nodict_gzip.parquet \
//     --compression gzip --no-dictionary
//   morsel convert fuzz/corpus/csv/no_header_ints.csv morsel_ints_lz4raw.parquet --compression lz4_raw
//   morsel convert fuzz/corpus/csv/numbers.csv morsel_numbers_none.parquet --compression none
const path = require('path');
const peers = process.argv[2] || path.join(__dirname, '../build/peers');
const duckdb = require(path.join(peers, 'node_modules/@duckdb/node-api'));
const pl = require(path.join(peers, 'node_modules/nodejs-polars'));
const out = path.join(__dirname, 'corpus/parquet');

const nul = (e) => `CASE WHEN i % 7 = 3 THEN NULL ELSE ${e} END`;
const ALL = `
  SELECT i::BIGINT AS id,
    ${nul('i % 3 = 0')} AS b,
    ${nul('((i % 256) - 128)::TINYINT')} AS i8,
    ${nul('((i * 13) % 65536 - 32768)::SMALLINT')} AS i16,
    ${nul('(i * 100003 - 150000000)::INTEGER')} AS i32,
    ${nul('(i * 1234567890123 - 2000000000000000)::BIGINT')} AS i64,
    ${nul('(i * 800003)::UINTEGER')} AS u32,
    ${nul('(18446744073709551615::UBIGINT - i::UBIGINT)')} AS u64,
    ${nul('(i * 0.5 - 100)::FLOAT')} AS f32,
    ${nul('(i * 0.25 - 1000.125)::DOUBLE')} AS f64,
    ${nul("'str' || i::VARCHAR")} AS s,
    ${nul("(['red', 'green', 'blue', ''])[i % 4 + 1]")} AS cat,
    ${nul("('bin' || i::VARCHAR)::BLOB")} AS bl,
    ${nul("DATE '1970-01-01' + (i * 37 - 500)::INTEGER")} AS dt,
    ${nul('make_timestamp(i * 86400000123 - 1000000000000000)')} AS ts_us,
    ${nul('make_timestamp(i * 86400123000)::TIMESTAMP_MS')} AS ts_ms,
    ${nul('make_timestamp_ns(i * 86400000000123)')} AS ts_ns,
    ${nul('make_timestamp(i * 3600000001)::TIMESTAMPTZ')} AS ts_tz,
    ${nul('((i % 10000) - 5000)::DECIMAL(4,0) / 100')}::DECIMAL(4,2) AS dec4,
    ${nul('((i * 123456789 - 100000000000)::DECIMAL(18,0) / 1000)')}::DECIMAL(18,3) AS dec18,
    ${nul('CAST((i - 15)::HUGEINT * 100000000000000000000 + i AS DECIMAL(38,0))')}::DECIMAL(38,10) AS dec38,
    ${nul("printf('%08x-0000-4000-8000-%012x', i, i * 7)::UUID")} AS uid,
    ${nul("TIME '00:00:00' + to_microseconds((i * 1000003) % 86400000000)")} AS tm,
    ${nul('[i, i + 1]')} AS lst,
    ${nul("{'a': i, 'b': 'x'}")} AS stc
  FROM range(N) t(i)`;
const NARROW = `
  SELECT i::BIGINT AS id, ${nul('(i % 5)::INTEGER')} AS k, ${nul("'v' || (i % 3)::VARCHAR")} AS s,
    ${nul('(i * 0.5)::DOUBLE')} AS f
  FROM range(N) t(i)`;

const duck = [
  ['duck_all_v1_snappy', ALL, 40, 'COMPRESSION snappy'],
  ['duck_all_v2_zstd', ALL, 40, 'COMPRESSION zstd, PARQUET_VERSION V2'],
  ['duck_all_nodict_gzip', ALL, 30, 'COMPRESSION gzip, DICTIONARY_SIZE_LIMIT 0'],
  ['duck_all_v2_nodict_none', ALL, 30, 'COMPRESSION uncompressed, PARQUET_VERSION V2, DICTIONARY_SIZE_LIMIT 0'],
  ['duck_narrow_lz4', NARROW, 50, 'COMPRESSION lz4'],
  ['duck_narrow_lz4_raw', NARROW, 50, 'COMPRESSION lz4_raw'],
  ['duck_narrow_brotli', NARROW, 50, 'COMPRESSION brotli'],
  ['duck_narrow_rowgroups', NARROW, 5000, 'COMPRESSION zstd, ROW_GROUP_SIZE 2048'],
  ['duck_empty', NARROW, 0, 'COMPRESSION snappy'],
];

(async () => {
  const inst = await duckdb.DuckDBInstance.create(':memory:', {
    autoinstall_known_extensions: 'false', autoload_known_extensions: 'false'});
  const con = await inst.connect();
  await con.run("SET TimeZone = 'UTC'");
  for (const [name, q, n, opts] of duck) {
    const f = path.join(out, `${name}.parquet`);
    await con.run(`COPY (${q.replace('range(N)', `range(${n})`)}) TO '${f}'
                   (FORMAT parquet, ${opts}, KV_METADATA {seed: '${name}'})`);
  }
  const n = 40;
  const ids = Array.from({ length: n }, (_, i) => i);
  const df = pl.DataFrame([
    pl.Series('id', ids, pl.Int64),
    pl.Series('i32', ids.map(i => (i % 7 === 3 ? null : i * 1000 - 7)), pl.Int32),
    pl.Series('f64', ids.map(i => (i % 5 === 0 ? null : i / 3)), pl.Float64),
    pl.Series('s', ids.map(i => (i % 6 === 0 ? null : `w${i % 4}`)), pl.Utf8),
    pl.Series('b', ids.map(i => i % 2 === 0), pl.Bool),
    pl.Series('d', ids.map(i => i * 31), pl.Int32).cast(pl.Date),
    pl.Series('ts', ids.map(i => i * 3600000), pl.Int64).cast(pl.Datetime('ms')),
  ]);
  for (const codec of ['uncompressed', 'snappy', 'zstd', 'gzip', 'lz4', 'brotli'])
    df.writeParquet(path.join(out, `polars_${codec}.parquet`), { compression: codec });
  df.lazy().sinkParquet(path.join(out, 'polars_rowgroups.parquet'),
                        { compression: 'zstd', rowGroupSize: 10 }).collectSync();
})().catch((e) => { console.error(e); process.exit(1); });
