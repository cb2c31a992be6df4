// Generates the Parquet fixtures of tests/formats/test_pq_read.c with real DuckDB.
// Run: node tests/formats/data/make_pq_fixtures.js [peers_dir]   (peers from
// scripts/install-test-peers.sh; default build/peers). Every value is a function of the
// row number i, so the C test recomputes every expected value independently (the formulas
// are repeated in test_pq_read.c, which checks every row and column of every file).
const path = require('path');
const peers = process.argv[2] || path.join(__dirname, '../../../build/peers');
const duckdb = require(path.join(peers, 'node_modules/@duckdb/node-api'));
const out = __dirname;

const nul = (e) => `CASE WHEN i % 11 = 5 THEN NULL ELSE ${e} END`;
const ALL = `
  SELECT i::BIGINT AS id,
    ${nul('i % 3 = 0')} AS b,
    ${nul('((i % 256) - 128)::TINYINT')} AS i8,
    ${nul('((i * 13) % 65536 - 32768)::SMALLINT')} AS i16,
    ${nul('(i * 100003 - 150000000)::INTEGER')} AS i32,
    ${nul('(i * 1234567890123 - 2000000000000000)::BIGINT')} AS i64,
    ${nul('(i % 256)::UTINYINT')} AS u8,
    ${nul('((i * 7) % 65536)::USMALLINT')} AS u16,
    ${nul('(i * 800003)::UINTEGER')} AS u32,
    ${nul('(18446744073709551615::UBIGINT - i::UBIGINT)')} AS u64,
    ${nul('(i * 0.5 - 100)::FLOAT')} AS f32,
    ${nul('(i * 0.25 - 1000.125)::DOUBLE')} AS f64,
    ${nul("'str' || i::VARCHAR")} AS s,
    ${nul("(['red', 'green', 'blue', ''])[i % 4 + 1]")} AS cat,
    ${nul("('bin' || i::VARCHAR)::BLOB")} AS bl,
    ${nul("DATE '1970-01-01' + (i * 37 - 50000)::INTEGER")} AS dt,
    ${nul('make_timestamp(i * 86400000123 - 1000000000000000)')} AS ts_us,
    ${nul('make_timestamp(i * 86400123000 - 1000000000000000)::TIMESTAMP_MS')} AS ts_ms,
    ${nul('make_timestamp_ns(i * 86400000000123 - 1000000000000000000)')} AS ts_ns,
    ${nul('make_timestamp(i * 3600000001)::TIMESTAMPTZ')} AS ts_tz,
    ${nul('((i % 10000) - 5000)::DECIMAL(4,0) / 100')}::DECIMAL(4,2) AS dec4,
    ${nul('((i * 123456789 - 100000000000)::DECIMAL(18,0) / 1000)')}::DECIMAL(18,3) AS dec18,
    ${nul('CAST((i - 1500)::HUGEINT * 100000000000000000000 + i AS DECIMAL(38,0))')}::DECIMAL(38,10) AS dec38,
    ${nul("printf('%08x-0000-4000-8000-%012x', i, i * 7)::UUID")} AS uid,
    ${nul("TIME '00:00:00' + to_microseconds((i * 1000003) % 86400000000)")} AS tm,
    ${nul('[i, i + 1]')} AS lst,
    ${nul("{'a': i, 'b': 'x'}")} AS stc,
    NULL::INTEGER AS nothing
  FROM range(N) t(i)`; // range() keeps row order (insertion order is preserved)
const SMALL = `
  SELECT i::BIGINT AS id,
    ${nul('(i * 1234567890123 - 2000000000000000)::BIGINT')} AS i64,
    ${nul('(i * 0.25 - 1000.125)::DOUBLE')} AS f64,
    ${nul("'str' || i::VARCHAR")} AS s,
    ${nul("(['red', 'green', 'blue', ''])[i % 4 + 1]")} AS cat
  FROM range(N) t(i)`; // range() keeps row order (insertion order is preserved)

const files = [
  // name, query, rows, COPY options (DuckDB row groups come in multiples of 2048 rows)
  ['all_v1_zstd', ALL, 2100, "COMPRESSION zstd, ROW_GROUP_SIZE 2048"],
  ['all_v2_zstd', ALL, 2100, "COMPRESSION zstd, ROW_GROUP_SIZE 2048, PARQUET_VERSION V2"],
  ['all_nodict_gzip', ALL, 900, "COMPRESSION gzip, ROW_GROUP_SIZE 2048, DICTIONARY_SIZE_LIMIT 0"],
  ['small_none', SMALL, 1000, "COMPRESSION uncompressed, ROW_GROUP_SIZE 2048"],
  ['small_snappy', SMALL, 1000, "COMPRESSION snappy, ROW_GROUP_SIZE 2048"],
  ['small_gzip', SMALL, 2100, "COMPRESSION gzip, ROW_GROUP_SIZE 2048"],
  ['small_lz4', SMALL, 1000, "COMPRESSION lz4, ROW_GROUP_SIZE 2048"],
  ['small_lz4_raw', SMALL, 1000, "COMPRESSION lz4_raw, ROW_GROUP_SIZE 2048"],
  ['small_brotli', SMALL, 1000, "COMPRESSION brotli, ROW_GROUP_SIZE 2048"],
  ['small_zstd_v2_nodict', SMALL, 5000, "COMPRESSION zstd, ROW_GROUP_SIZE 2048, PARQUET_VERSION V2, DICTIONARY_SIZE_LIMIT 0"],
  ['empty', SMALL, 0, "COMPRESSION snappy"],
];

(async () => {
  const inst = await duckdb.DuckDBInstance.create(':memory:', {
    autoinstall_known_extensions: 'false', autoload_known_extensions: 'false'});
  const con = await inst.connect();
  await con.run("SET TimeZone = 'UTC'");
  for (const [name, q, n, opts] of files) {
    const sql = q.replace('range(N)', `range(${n})`);
    const f = path.join(out, `${name}.parquet`);
    await con.run(`COPY (${sql}) TO '${f}' (FORMAT parquet, ${opts},
                   KV_METADATA {fixture: '${name}', tool: 'duckdb'})`);
  }
})().catch((e) => { console.error(e); process.exit(1); });
