// Interop, read direction, Polars as the writer: nodejs-polars writes Parquet files over a
// matrix (every codec its writer offers except LZO, which Polars silently writes
// uncompressed; eager writeParquet with its default row groups and the streaming
// sinkParquet with tiny row groups) of a frame holding every type Polars and morsel share,
// plus special files (empty, 200 columns, 100 KB strings). The expected values are read
// from the Polars frame that was written (through Polars' own casts to text, so nothing is
// rounded), binary columns from the bytes given to Polars.
'use strict';
const path = require('path');
const c = require('./lib/common');
const d = require('./lib/duck');
const p = require('./lib/pl');
const v = require('./lib/values');

const pl = c.polars();
const CODECS = ['uncompressed', 'snappy', 'gzip', 'brotli', 'lz4', 'zstd'];
const CODEC_IN_FILE = { uncompressed: 'UNCOMPRESSED', snappy: 'SNAPPY', gzip: 'GZIP', brotli: 'BROTLI', lz4: 'LZ4_RAW', zstd: 'ZSTD' };

// splitmix64: deterministic 64-bit values as BigInt.
function rng(seed) {
  let s = BigInt(seed) & 0xffffffffffffffffn;
  return () => {
    s = (s + 0x9e3779b97f4a7c15n) & 0xffffffffffffffffn;
    let z = s;
    z = ((z ^ (z >> 30n)) * 0xbf58476d1ce4e5b9n) & 0xffffffffffffffffn;
    z = ((z ^ (z >> 27n)) * 0x94d049bb133111ebn) & 0xffffffffffffffffn;
    return z ^ (z >> 31n);
  };
}

// Builds the all-types frame: n rows, boundaries in the first rows, nulls per column.
// Returns {df, binaries: {column: base64[]}}.
function allTypesFrame(n) {
  const cols = [];
  const binaries = {};
  const gen = (name, period, specials, f) => {
    const r = rng(name.length * 7919 + period);
    const out = new Array(n);
    for (let i = 0; i < n; i++) {
      if (i % period === period - 1) out[i] = null;
      else if (i >= 1 && i <= specials.length) out[i] = specials[i - 1];
      else out[i] = f(r(), i);
    }
    return out;
  };
  const small = (bits, signed) => (x) => {
    const m = BigInt(1) << BigInt(bits);
    let y = x % m;
    if (signed && y >= m / 2n) y -= m;
    return Number(y);
  };
  const big = (signed) => (x) => (signed ? BigInt.asIntN(64, x) : x).toString();
  cols.push(pl.Series('id', Array.from({ length: n }, (_, i) => i), pl.Int64));
  cols.push(pl.Series('c_bool', gen('c_bool', 11, [true, false], (x) => (x & 1n) === 1n), pl.Bool));
  cols.push(pl.Series('c_int8', gen('c_int8', 13, [-128, 127, 0], small(8, true)), pl.Int8));
  cols.push(pl.Series('c_int16', gen('c_int16', 17, [-32768, 32767], small(16, true)), pl.Int16));
  cols.push(pl.Series('c_int32', gen('c_int32', 19, [-2147483648, 2147483647], small(32, true)), pl.Int32));
  cols.push(pl.Series('c_int64', gen('c_int64', 23, ['-9223372036854775808', '9223372036854775807', '0'], big(true)), pl.Utf8).cast(pl.Int64));
  cols.push(pl.Series('c_uint8', gen('c_uint8', 29, [0, 255], small(8, false)), pl.UInt8));
  cols.push(pl.Series('c_uint16', gen('c_uint16', 31, [0, 65535], small(16, false)), pl.UInt16));
  cols.push(pl.Series('c_uint32', gen('c_uint32', 37, [0, 4294967295], small(32, false)), pl.UInt32));
  cols.push(pl.Series('c_uint64', gen('c_uint64', 41, ['0', '18446744073709551615', '9223372036854775808'], big(false)), pl.Utf8).cast(pl.UInt64));
  const f32 = (x) => Math.fround(Number(x % 2000001n) / 64 - 15625);
  cols.push(pl.Series('c_float', gen('c_float', 43, [NaN, Infinity, -Infinity, -0, 3.4028234663852886e38, 1.401298464324817e-45, 0.1], f32), pl.Float32));
  const f64 = (x) => Number(x % 100000000n) / 7 - 7000000;
  cols.push(pl.Series('c_double', gen('c_double', 47, [NaN, Infinity, -Infinity, -0, 1.7976931348623157e308, 5e-324, 0.1], f64), pl.Float64));
  const awkward = ['', 'héllo ✓ 日本 😀', 'quote" back\\ slash\nnl\ttab\u0001', 'a,b;c'];
  cols.push(pl.Series('c_str_dict', gen('c_str_dict', 53, awkward, (x, i) => `cat_${i % 5}`), pl.Utf8));
  cols.push(pl.Series('c_str', gen('c_str', 59, [], (x, i) => `row-${i}-${x % 1000003n}`), pl.Utf8));
  cols.push(pl.Series('c_cat', gen('c_cat', 61, [], (x) => ['red', 'green', 'blue'][Number(x % 3n)]), pl.Utf8).cast(pl.Categorical));
  const bin = gen('c_blob', 67, ['', 'AP8A'], (x) => Buffer.from(x.toString(16).padStart(16, '0'), 'hex').toString('base64'));
  binaries.c_blob = bin;
  cols.push(pl.Series('c_blob', bin, pl.Utf8).str.decode('base64'));
  const day = (x) => Number(x % 200000n) - 100000;
  cols.push(pl.Series('c_date', gen('c_date', 71, [-719162, 2932896, -1, 0], day), pl.Int32).cast(pl.Date));
  const ts = (name, period, unit, tz, range, specials) => {
    const vals = gen(name, period, specials, (x) => (BigInt.asIntN(64, x) % range).toString());
    cols.push(pl.Series(name, vals, pl.Utf8).cast(pl.Int64).cast(pl.Datetime(unit, tz)));
  };
  ts('c_ts_ms', 73, 'ms', undefined, 8000000000000000n / 1000n, ['-1', '-62135596800000', '253402300799999']);
  ts('c_ts_us', 79, 'us', undefined, 8000000000000000n, ['-1', '-62135596800000000']);
  ts('c_ts_ns', 83, 'ns', undefined, 9000000000000000000n, ['-1', '-9223372036854775807', '9223372036854775807']);
  ts('c_ts_us_utc', 89, 'us', 'UTC', 8000000000000000n, ['-1']);
  ts('c_ts_ns_utc', 97, 'ns', 'UTC', 9000000000000000000n, ['-1']);
  ts('c_ts_ms_paris', 101, 'ms', 'Europe/Paris', 4000000000000n, ['0']);
  const dec = (name, period, prec, scale, specials) => {
    const digits = (x) => {
      let s = (x % (10n ** BigInt(Math.min(prec, 19)))).toString();
      if (prec > 19) s = s + (x % (10n ** BigInt(prec - 19))).toString().padStart(prec - 19, '0');
      s = s.replace(/^0+(?=\d)/, '');
      const neg = (x & 1n) === 1n;
      const u = BigInt(s) * (neg ? -1n : 1n);
      return v.decimalToString(u, scale);
    };
    cols.push(pl.Series(name, gen(name, period, specials, digits), pl.Utf8).cast(pl.Decimal(prec, scale)));
  };
  dec('c_dec4_2', 103, 4, 2, ['99.99', '-99.99', '0.00']);
  dec('c_dec18_6', 107, 18, 6, ['999999999999.999999', '-999999999999.999999']);
  dec('c_dec38_10', 109, 38, 10, ['9999999999999999999999999999.9999999999', '-9999999999999999999999999999.9999999999', '0.0000000001']);
  dec('c_dec25_0', 113, 25, 0, ['1234567890123456789012345', '-1']);
  return { df: pl.DataFrame(cols), binaries };
}

// Expected values: the frame's own contents.
function expectedOf(df, binaries) {
  const columns = [], data = [];
  for (const name of df.columns) {
    const s = df.getColumn(name);
    if (binaries[name]) {
      columns.push({ name, kind: { t: 'binary' } });
      data.push(binaries[name]);
      continue;
    }
    const kind = p.plKind(p.dtypeText(s));
    if (!kind) throw new Error(`no comparison kind for Polars column ${name} (${p.dtypeText(s)})`);
    columns.push({ name, kind });
    data.push(p.plCanon(pl, s, kind));
  }
  const rows = [];
  for (let r = 0; r < df.height; r++) rows.push(data.map(col => col[r]));
  return { columns, rows };
}

async function main() {
  c.requireMorsel();
  const rep = new c.Report('interop read (Polars writes, morsel reads)');
  const dir = c.scratch('interop-read-polars');
  const { con } = await c.duckdb(); // only to inspect the written files' metadata
  const N = c.SMALL ? 2000 : 5000;
  const { df, binaries } = allTypesFrame(N);
  const expected = expectedOf(df, binaries);

  let cases = [];
  for (const codec of CODECS)
    for (const mode of ['write', 'sink'])
      cases.push({ codec, mode });
  if (c.SMALL) cases = cases.filter((x, k) => k % 4 === 0 || k === 3);

  for (const k of cases) {
    const name = `polars_${k.codec}_${k.mode === 'write' ? 'writeParquet' : 'sinkParquet_rg1000'}.parquet`;
    const file = path.join(dir, name);
    await rep.check(name, async () => {
      if (k.mode === 'write') df.writeParquet(file, { compression: k.codec });
      else df.lazy().sinkParquet(file, { compression: k.codec, rowGroupSize: 1000 }).collectSync();
      const meta = await d.duckAll(con, `SELECT row_group_id, compression FROM parquet_metadata(${d.q(file)})`);
      if (!meta.every(r => r[1] === CODEC_IN_FILE[k.codec])) return `Polars did not write ${k.codec}: ${JSON.stringify(meta[0])}`;
      const groups = new Set(meta.map(r => r[0])).size;
      if (k.mode === 'sink' && groups < 2) return `expected several row groups, Polars wrote ${groups}`;
      return c.checkMorselRead(file, expected);
    });
  }

  await rep.check('polars_empty.parquet', async () => {
    const file = path.join(dir, 'polars_empty.parquet');
    df.head(0).writeParquet(file, { compression: 'zstd' });
    return c.checkMorselRead(file, { columns: expected.columns, rows: [] });
  });

  await rep.check('polars_wide200.parquet', async () => {
    const file = path.join(dir, 'polars_wide200.parquet');
    const n = c.SMALL ? 300 : 3000;
    const cols = [pl.Series('id', Array.from({ length: n }, (_, i) => i), pl.Int64)];
    for (let k = 1; k < 200; k++) {
      const name = `col_${String(k).padStart(3, '0')}`;
      const vals = Array.from({ length: n }, (_, i) => ((i + k) % 7 === 0 ? null : i * k));
      if (k % 4 === 0) cols.push(pl.Series(name, vals, pl.Int32));
      else if (k % 4 === 1) cols.push(pl.Series(name, vals.map(x => x === null ? null : `w${x % (k + 2)}`), pl.Utf8));
      else if (k % 4 === 2) cols.push(pl.Series(name, vals.map(x => x === null ? null : x / 3), pl.Float64));
      else cols.push(pl.Series(name, vals.map(x => x === null ? null : x % 20000), pl.Int32).cast(pl.Date));
    }
    const wide = pl.DataFrame(cols);
    wide.writeParquet(file, { compression: 'snappy' });
    return c.checkMorselRead(file, expectedOf(wide, {}));
  });

  await rep.check('polars_long_strings.parquet', async () => {
    const file = path.join(dir, 'polars_long_strings.parquet');
    const n = c.SMALL ? 12 : 40;
    const s = Array.from({ length: n }, (_, i) => (i % 4 === 3 ? null : String.fromCharCode(97 + i % 26).repeat(100000 + i * 37)));
    const longs = pl.DataFrame([pl.Series('id', Array.from({ length: n }, (_, i) => i), pl.Int64), pl.Series('s', s, pl.Utf8),
                                pl.Series('s2', Array.from({ length: n }, (_, i) => 'xyz'.repeat(40000) + i), pl.Utf8)]);
    longs.writeParquet(file, { compression: 'lz4' });
    return c.checkMorselRead(file, expectedOf(longs, {}));
  });

  rep.finish();
}

main().catch(e => { console.error(e); process.exit(1); });
