// Polars side of the interop suite: building typed Series from JS values, and turning a
// Polars column into canonical values (lib/values.js) without losing precision: integers,
// decimals and timestamps go through Polars' own cast to text or int64 text, never through
// JS numbers. Binary columns cannot be collected into JS by nodejs-polars, so they are
// compared inside Polars (sameBinary) against the expected bytes.
'use strict';
const v = require('./values');

// Kind of a Polars dtype, from its printed form ("DataType(Datetime(ns,UTC))").
// Binary dtypes throw when touched from JS, so callers pass 'Binary' for them.
function plKind(dtypeText) {
  const m = /^(?:DataType\()?(\w+)(?:\(([^)]*)\))?\)?$/.exec(dtypeText);
  if (!m) return null;
  const [, name, args] = m;
  if (/^U?Int(8|16|32|64)$/.test(name)) return { t: 'int' };
  if (name === 'Float32') return { t: 'float', bits: 32 };
  if (name === 'Float64') return { t: 'float', bits: 64 };
  if (name === 'Bool') return { t: 'bool' };
  if (name === 'String' || name === 'Utf8' || name === 'Categorical' || name === 'Enum') return { t: 'string' };
  if (name === 'Date') return { t: 'date' };
  if (name === 'Datetime') {
    const [unit, tz] = args.split(',');
    return { t: 'timestamp', utc: !!(tz && tz.trim()), unit: unit.trim() };
  }
  if (name === 'Decimal') return { t: 'decimal', scale: +args.split(',')[1] };
  if (name === 'Binary') return { t: 'binary' };
  return null;
}

function dtypeText(series) {
  try { return String(series.dtype); } catch (e) { return /Binary/.test(e.message) ? 'Binary' : 'unknown'; }
}

const UNIT_NS = { ns: 1n, us: 1000n, ms: 1000000n };

// A Polars Series -> array of canonical strings (null for null). Not for binary columns.
function plCanon(pl, series, kind) {
  switch (kind.t) {
    case 'int':
      return series.cast(pl.Utf8).toArray().map(x => x === null ? null : BigInt(x).toString());
    case 'float':
      return series.toArray().map(x => x === null ? null : v.canonFloat(x, kind.bits));
    case 'bool':
      return series.toArray().map(x => x === null ? null : (x ? 'true' : 'false'));
    case 'string':
      return series.cast(pl.Utf8).toArray();
    case 'date':
      return series.cast(pl.Int32).toArray().map(x => x === null ? null : v.formatDate(x));
    case 'timestamp': {
      const f = UNIT_NS[kind.unit];
      if (!f) throw new Error(`unknown Polars time unit ${kind.unit}`);
      return series.cast(pl.Int64).cast(pl.Utf8).toArray()
        .map(x => x === null ? null : v.formatTimestampNs(BigInt(x) * f, kind.utc));
    }
    case 'decimal':
      return series.cast(pl.Utf8).toArray().map(x => x === null ? null : v.canonExpected(kind, x));
    default:
      throw new Error(`plCanon: kind ${kind.t} is compared inside Polars`);
  }
}

// Compares a binary Polars column with expected bytes given as base64 (or hex) strings,
// inside Polars. Returns the first differing row index, or -1.
function sameBinary(pl, actual, expected, encoding = 'base64') {
  if (actual.len() !== expected.length) return 0;
  const exp = pl.Series('__exp', expected.map(x => x === null ? null : x), pl.Utf8).str.decode(encoding);
  const df = pl.DataFrame([actual.alias('__act'), exp]);
  const out = df.select(
    pl.col('__act').eq(pl.col('__exp')).alias('eq'),
    pl.col('__act').isNull().alias('an'),
    pl.col('__exp').isNull().alias('en'));
  const eq = out.getColumn('eq').toArray(), an = out.getColumn('an').toArray(), en = out.getColumn('en').toArray();
  for (let r = 0; r < eq.length; r++) {
    if (an[r] !== en[r]) return r;
    if (!an[r] && eq[r] !== true) return r;
  }
  return -1;
}

// Compares a Polars DataFrame with expected {columns: [{name, kind}], rows}. Binary and
// uuid columns compare inside Polars; the others as canonical strings.
function compareFrame(pl, file, df, expected, who = 'Polars') {
  const names = df.columns;
  const want = expected.columns.map(c => c.name);
  if (names.join(',') !== want.join(','))
    return `${file}: ${who} read columns ${names.join(',')}; expected ${want.join(',')}`;
  if (df.height !== expected.rows.length)
    return `${file}: ${who} read ${df.height} rows, expected ${expected.rows.length}`;
  for (let c = 0; c < want.length; c++) {
    const col = expected.columns[c];
    const s = df.getColumn(col.name);
    const actualKindText = dtypeText(s);
    if (col.kind.t === 'binary' || col.kind.t === 'uuid') {
      if (actualKindText !== 'Binary')
        return `${file}: column ${col.name}: ${who} read type ${actualKindText}, expected binary`;
      const enc = col.kind.t === 'uuid' ? 'hex' : 'base64';
      const r = sameBinary(pl, s, expected.rows.map(row => row[c]), enc);
      if (r >= 0) return `${file}: column ${col.name} (${col.kind.t}), row ${r}: ${who} read different bytes; expected ${JSON.stringify(expected.rows[r][c])}`;
      continue;
    }
    const kind = plKind(actualKindText);
    if (!kind || kind.t !== col.kind.t || (kind.t === 'timestamp' && kind.utc !== col.kind.utc) ||
        (kind.t === 'decimal' && kind.scale !== col.kind.scale) || (kind.t === 'float' && kind.bits !== col.kind.bits))
      return `${file}: column ${col.name}: ${who} read type ${actualKindText}, expected ${v.kindName(col.kind)}`;
    const act = plCanon(pl, s, kind);
    for (let r = 0; r < act.length; r++) {
      if (act[r] !== expected.rows[r][c])
        return `${file}: column ${col.name} (${v.kindName(col.kind)}), row ${r}: expected ${JSON.stringify(expected.rows[r][c])}, ${who} read ${JSON.stringify(act[r])}`;
    }
  }
  return null;
}

module.exports = { plKind, plCanon, sameBinary, compareFrame, dtypeText };
