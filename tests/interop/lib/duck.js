// DuckDB side of the interop suite: the all-types table every DuckDB case writes, and the
// conversion of DuckDB query results into canonical values (lib/values.js).
'use strict';
const v = require('./values');

// Kind of a DuckDB column type (its SQL spelling). null = not comparable here.
function duckKind(typeName) {
  const t = typeName.toUpperCase();
  if (t === 'BOOLEAN') return { t: 'bool' };
  if (/^(TINYINT|SMALLINT|INTEGER|BIGINT|UTINYINT|USMALLINT|UINTEGER|UBIGINT|HUGEINT|UHUGEINT)$/.test(t)) return { t: 'int' };
  if (t === 'FLOAT') return { t: 'float', bits: 32 };
  if (t === 'DOUBLE') return { t: 'float', bits: 64 };
  if (t === 'VARCHAR' || t.startsWith('ENUM(')) return { t: 'string' };
  if (t === 'BLOB') return { t: 'binary' };
  if (t === 'DATE') return { t: 'date' };
  if (t === 'TIMESTAMP' || t === 'TIMESTAMP_S' || t === 'TIMESTAMP_MS' || t === 'TIMESTAMP_NS') return { t: 'timestamp', utc: false };
  if (t === 'TIMESTAMP WITH TIME ZONE') return { t: 'timestamp', utc: true };
  let m = /^DECIMAL\((\d+),\s*(\d+)\)$/.exec(t);
  if (m) return { t: 'decimal', scale: +m[2] };
  if (t === 'UUID') return { t: 'uuid' };
  return null;
}

// A DuckDB JS value -> canonical string, given the column's kind.
function duckCanon(kind, x) {
  if (x === null || x === undefined) return null;
  switch (kind.t) {
    case 'binary': return Buffer.from(x.bytes).toString('base64');
    case 'date': return v.formatDate(x.days);
    case 'timestamp': {
      let ns;
      if (x.nanos !== undefined) ns = x.nanos;
      else if (x.micros !== undefined) ns = x.micros * 1000n;
      else if (x.millis !== undefined) ns = x.millis * 1000000n;
      else if (x.seconds !== undefined) ns = x.seconds * 1000000000n;
      else throw new Error(`unexpected timestamp value ${x}`);
      return v.formatTimestampNs(ns, kind.utc);
    }
    case 'decimal': return v.decimalToString(x.value, kind.scale);
    case 'uuid': return v.canonExpected(kind, x.toString());
    default: return v.canonExpected(kind, typeof x === 'object' ? x.toString() : x);
  }
}

// Runs a query and returns {columns: [{name, kind, type}], rows: canonical}.
async function duckRows(con, sql) {
  const r = await con.runAndReadAll(sql);
  const names = r.columnNames();
  const types = r.columnTypes().map(t => t.toString());
  const columns = names.map((name, i) => {
    const kind = duckKind(types[i]);
    if (!kind) throw new Error(`no comparison kind for DuckDB type ${types[i]} (column ${name})`);
    return { name, kind, type: types[i] };
  });
  const rows = r.getRows().map(row => row.map((x, i) => duckCanon(columns[i].kind, x)));
  return { columns, rows };
}

async function duckAll(con, sql) {
  const r = await con.runAndReadAll(sql);
  return r.getRowsJson();
}

const q = (s) => `'${String(s).replace(/'/g, "''")}'`;

// The all-types table: n rows of deterministic pseudo-random values with boundaries planted
// in the first rows and nulls sprinkled per column (a different period for each so null
// runs do not line up). Low-cardinality columns make dictionaries worth writing.
function allTypesSql(table, n) {
  const nul = (p, k, expr) => `CASE WHEN i % ${p} = ${k} THEN NULL ELSE ${expr} END`;
  const h = (salt) => `hash(i * 7919 + ${salt})`;
  const pick = (expr, specials, cast) => {
    let s = 'CASE';
    specials.forEach((val, k) => { s += ` WHEN i = ${k + 1} THEN ${val}`; });
    return `(${s} ELSE ${expr} END)::${cast}`;
  };
  // An exact decimal from an integer expression u: its text with `scale` digits after the
  // point, cast (DuckDB's decimal division would go through DOUBLE).
  const dec = (u, scale) => {
    const a = `lpad(abs(${u})::VARCHAR, ${scale + 1}, '0')`;
    return `((CASE WHEN (${u}) < 0 THEN '-' ELSE '' END) || left(${a}, length(${a}) - ${scale}) || '.' || right(${a}, ${scale}))`;
  };
  const cols = [
    'i::BIGINT AS id',
    `${nul(11, 3, '(i % 3 = 0)')} AS c_bool`,
    `${nul(13, 5, pick(`(${h(1)} % 256)::INTEGER - 128`, ['-128', '127', '0'], 'TINYINT'))} AS c_int8`,
    `${nul(17, 6, pick(`(${h(2)} % 65536)::INTEGER - 32768`, ['-32768', '32767'], 'SMALLINT'))} AS c_int16`,
    `${nul(19, 7, pick(`(${h(3)} % 4294967296)::BIGINT - 2147483648`, ['-2147483648', '2147483647'], 'INTEGER'))} AS c_int32`,
    `${nul(23, 8, pick(`((${h(4)} >> 1)::BIGINT) * (CASE WHEN i % 2 = 0 THEN 1 ELSE -1 END)`, ['-9223372036854775808', '9223372036854775807', '0'], 'BIGINT'))} AS c_int64`,
    `${nul(29, 9, pick(`${h(5)} % 256`, ['0', '255'], 'UTINYINT'))} AS c_uint8`,
    `${nul(31, 10, pick(`${h(6)} % 65536`, ['0', '65535'], 'USMALLINT'))} AS c_uint16`,
    `${nul(37, 11, pick(`${h(7)} % 4294967296`, ['0', '4294967295'], 'UINTEGER'))} AS c_uint32`,
    `${nul(41, 12, pick(h(8), ['0', '18446744073709551615', '9223372036854775808'], 'UBIGINT'))} AS c_uint64`,
    `${nul(43, 13, pick(`(${h(9)} % 2000001)::FLOAT / 64 - 15625`, ["'NaN'", "'Infinity'", "'-Infinity'", "'-0.0'", '3.4028235e38', '1.4e-45', '0.1'], 'FLOAT'))} AS c_float`,
    `${nul(47, 14, pick(`(${h(10)} % 100000000)::DOUBLE / 7.0 - 7000000`, ["'NaN'", "'Infinity'", "'-Infinity'", "'-0.0'", '1.7976931348623157e308', '5e-324', '0.1'], 'DOUBLE'))} AS c_double`,
    // Low cardinality (dictionary friendly), with awkward strings planted.
    `${nul(53, 15, pick(`'cat_' || (i % 5)`, ["''", "'héllo ✓ 日本 😀'", `'quote" back\\\\ slash' || chr(10) || 'nl' || chr(9) || 'tab' || chr(1)`, "'a,b;c'"], 'VARCHAR'))} AS c_str_dict`,
    // High cardinality.
    `${nul(59, 16, `'row-' || i || '-' || ${h(11)} % 1000003`)} AS c_str`,
    `${nul(61, 17, pick(`unhex(printf('%016x', ${h(12)}))`, ["''::BLOB", "'\\x00\\xFF\\x00'::BLOB"], 'BLOB'))} AS c_blob`,
    `${nul(67, 18, pick(`DATE '1970-01-01' + ((${h(13)} % 200000)::INTEGER - 100000)`, ["DATE '0001-01-01'", "DATE '9999-12-31'", "DATE '1969-12-31'", "DATE '1970-01-01'"], 'DATE'))} AS c_date`,
    `${nul(71, 19, pick(`TIMESTAMP_S '1970-01-01' + to_seconds((${h(14)} % 8000000000)::BIGINT - 4000000000)`, ["TIMESTAMP_S '1900-01-01 00:00:01'", "TIMESTAMP_S '2200-12-31 23:59:59'"], 'TIMESTAMP_S'))} AS c_ts_s`,
    `${nul(73, 20, pick(`make_timestamp((${h(15)} % 8000000000000000)::BIGINT - 4000000000000000)`, ["TIMESTAMP '1969-12-31 23:59:59.999'"], 'TIMESTAMP_MS'))} AS c_ts_ms`,
    `${nul(79, 21, pick(`make_timestamp((${h(16)} % 8000000000000000)::BIGINT - 4000000000000000)`, ["TIMESTAMP '1969-12-31 23:59:59.999999'", "TIMESTAMP '0001-01-01 00:00:00'", "TIMESTAMP '9999-12-31 23:59:59.999999'"], 'TIMESTAMP'))} AS c_ts_us`,
    `${nul(83, 22, pick(`make_timestamp_ns((${h(17)} % 8000000000000000000)::BIGINT - 4000000000000000000)`, ["TIMESTAMP_NS '1969-12-31 23:59:59.999999999'", "TIMESTAMP_NS '1677-09-22 00:00:00.000000001'", "TIMESTAMP_NS '2262-04-11 23:47:16.000000001'"], 'TIMESTAMP_NS'))} AS c_ts_ns`,
    `${nul(89, 23, pick(`make_timestamp((${h(18)} % 8000000000000000)::BIGINT - 4000000000000000)::TIMESTAMPTZ`, ["'1969-12-31 23:59:59.999999+00'::TIMESTAMPTZ"], 'TIMESTAMPTZ'))} AS c_ts_tz`,
    `${nul(97, 24, pick(dec(`(${h(19)} % 19999)::INTEGER - 9999`, 2), ["'99.99'", "'-99.99'", "'0'"], 'DECIMAL(4,2)'))} AS c_dec4_2`,
    `${nul(101, 25, pick(dec(`(${h(20)} % 1999999999)::BIGINT - 999999999`, 3), ["'999999.999'", "'-999999.999'"], 'DECIMAL(9,3)'))} AS c_dec9_3`,
    `${nul(103, 26, pick(dec(`(${h(21)} % 1999999999999999999)::HUGEINT - 999999999999999999`, 6), ["'999999999999.999999'", "'-999999999999.999999'"], 'DECIMAL(18,6)'))} AS c_dec18_6`,
    `${nul(107, 27, pick(dec(`((${h(22)} % 10000000000000000000)::HUGEINT * (${h(23)} % 10000000000000000000)::HUGEINT) * (CASE WHEN i % 3 = 0 THEN -1 ELSE 1 END)`, 10), ["'9999999999999999999999999999.9999999999'", "'-9999999999999999999999999999.9999999999'", "'0.0000000001'"], 'DECIMAL(38,10)'))} AS c_dec38_10`,
    `${nul(109, 28, pick(`((${h(24)} % 1000000000000000000)::HUGEINT * 10000)`, ["'12345678901234567890123'", '-1'], 'DECIMAL(23,0)'))} AS c_dec23_0`,
    `${nul(113, 29, `(substr(printf('%016x%016x', ${h(25)}, ${h(26)}), 1, 8) || '-' || substr(printf('%016x%016x', ${h(25)}, ${h(26)}), 9, 4) || '-' || substr(printf('%016x%016x', ${h(25)}, ${h(26)}), 13, 4) || '-' || substr(printf('%016x%016x', ${h(25)}, ${h(26)}), 17, 4) || '-' || substr(printf('%016x%016x', ${h(25)}, ${h(26)}), 21, 12))::UUID`)} AS c_uuid`,
    `${nul(127, 30, `(['sad', 'ok', 'happy'])[1 + i % 3]::interop_mood`)} AS c_enum`,
    // A column that is entirely null.
    'NULL::INTEGER AS c_all_null',
  ];
  return [
    "CREATE TYPE IF NOT EXISTS interop_mood AS ENUM ('sad', 'ok', 'happy')",
    `CREATE OR REPLACE TABLE ${table} AS SELECT ${cols.join(',\n  ')} FROM range(${n}) r(i) ORDER BY i`,
  ];
}

module.exports = { duckKind, duckCanon, duckRows, duckAll, allTypesSql, q };
