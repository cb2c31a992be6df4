// Canonical values for the interop suite: how a value written by one tool and read by
// another is compared.
//
// Every column gets a "kind" ({t:'int'}, {t:'float', bits:32}, {t:'timestamp', utc:true},
// {t:'decimal', scale:2}, ...). Both sides of a comparison are turned into one canonical
// string per value (or null), so the comparison is exact and its messages readable:
//   int        decimal digits (BigInt, never a lossy JS number)
//   float      shortest round-trip text of the double (of the float32 for bits:32);
//              'NaN', 'Infinity', '-Infinity', '-0'
//   bool       'true' / 'false'
//   string     the string itself
//   binary     base64 with padding
//   date       YYYY-MM-DD (proleptic Gregorian)
//   timestamp  YYYY-MM-DDTHH:MM:SS.fffffffff, plus 'Z' when the value is UTC (tz-aware);
//              always nanosecond digits, so files storing ms, us or ns compare by value
//   decimal    the exact unscaled integer printed with `scale` fraction digits
//   uuid       32 lowercase hex digits (morsel may print a UUID as text or as base64 bytes)
//
// `morsel cat --format jsonl` output is parsed with a small lossless JSON parser that keeps
// numbers as their source text, so int64/uint64 and decimals are compared digit for digit.
'use strict';

const DAY_NS = 86400000000000n;

function floorDiv(a, b) { // BigInt floor division (b > 0)
  const q = a / b;
  return (a % b !== 0n && a < 0n) ? q - 1n : q;
}

// Days since 1970-01-01 -> [year, month, day] (H. Hinnant's civil calendar algorithms).
function civilFromDays(z) {
  z += 719468;
  const era = Math.floor(z / 146097);
  const doe = z - era * 146097;
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36524) -
                          Math.floor(doe / 146096)) / 365);
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const d = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const m = mp < 10 ? mp + 3 : mp - 9;
  const y = yoe + era * 400 + (m <= 2 ? 1 : 0);
  return [y, m, d];
}

function daysFromCivil(y, m, d) {
  y -= m <= 2 ? 1 : 0;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const doy = Math.floor((153 * (m > 2 ? m - 3 : m + 9) + 2) / 5) + d - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
}

const pad = (n, w) => String(n).padStart(w, '0');

function formatYear(y) {
  return y < 0 ? '-' + pad(-y, 4) : pad(y, 4);
}

function formatDate(days) {
  const [y, m, d] = civilFromDays(days);
  return `${formatYear(y)}-${pad(m, 2)}-${pad(d, 2)}`;
}

function formatTimestampNs(ns, utc) {
  ns = BigInt(ns);
  const days = floorDiv(ns, DAY_NS);
  let rem = ns - days * DAY_NS;
  const frac = rem % 1000000000n;
  let secs = Number(rem / 1000000000n);
  const hh = Math.floor(secs / 3600);
  secs -= hh * 3600;
  const mm = Math.floor(secs / 60);
  const ss = secs - mm * 60;
  return `${formatDate(Number(days))}T${pad(hh, 2)}:${pad(mm, 2)}:${pad(ss, 2)}.` +
         `${pad(frac, 9)}${utc ? 'Z' : ''}`;
}

const DATE_RE = /^(-?\d{4,})-(\d{2})-(\d{2})$/;
const TS_RE = /^(-?\d{4,})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:?\d{2})?$/;

function parseDate(s) {
  const m = DATE_RE.exec(s);
  if (!m) return null;
  return daysFromCivil(+m[1], +m[2], +m[3]);
}

// ISO-8601 text -> {ns: BigInt, utc: bool}, or null when it is not a timestamp.
function parseTimestamp(s) {
  const m = TS_RE.exec(s);
  if (!m) return null;
  const days = BigInt(daysFromCivil(+m[1], +m[2], +m[3]));
  let ns = days * DAY_NS + BigInt(((+m[4]) * 60 + (+m[5])) * 60 + (+m[6])) * 1000000000n;
  if (m[7]) ns += BigInt(m[7].padEnd(9, '0'));
  let utc = false;
  if (m[8]) {
    utc = true;
    if (m[8] !== 'Z') {
      const sign = m[8][0] === '-' ? -1n : 1n;
      const digits = m[8].slice(1).replace(':', '');
      const off = BigInt((+digits.slice(0, 2)) * 60 + (+digits.slice(2))) * 60000000000n;
      ns -= sign * off;
    }
  }
  return { ns, utc };
}

function canonFloat(x, bits) {
  if (bits === 32) x = Math.fround(x);
  if (Number.isNaN(x)) return 'NaN';
  if (x === Infinity) return 'Infinity';
  if (x === -Infinity) return '-Infinity';
  if (Object.is(x, -0)) return '-0';
  return String(x);
}

function decimalToString(unscaled, scale) {
  unscaled = BigInt(unscaled);
  const neg = unscaled < 0n;
  let digits = (neg ? -unscaled : unscaled).toString();
  if (scale > 0) {
    digits = digits.padStart(scale + 1, '0');
    digits = digits.slice(0, digits.length - scale) + '.' + digits.slice(digits.length - scale);
  }
  return (neg ? '-' : '') + digits;
}

// Decimal text -> unscaled BigInt at `scale`, or null when it does not fit exactly.
function parseDecimal(s, scale) {
  const m = /^([+-]?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/.exec(s);
  if (!m || (m[2] === '' && (m[3] === undefined || m[3] === ''))) return null;
  let intPart = m[2] || '0';
  let frac = m[3] || '';
  let exp = m[4] ? parseInt(m[4], 10) : 0;
  // Move the point by the exponent.
  while (exp > 0) { intPart += frac[0] || '0'; frac = frac.slice(1); exp--; }
  while (exp < 0) { frac = (intPart.slice(-1) || '0') + frac; intPart = intPart.slice(0, -1) || '0'; exp++; }
  if (frac.length > scale) {
    if (!/^0*$/.test(frac.slice(scale))) return null;
    frac = frac.slice(0, scale);
  }
  const v = BigInt(intPart + frac.padEnd(scale, '0'));
  return m[1] === '-' ? -v : v;
}

function hexOfUuidText(s) {
  if (/^[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}$/.test(s))
    return s.replace(/-/g, '').toLowerCase();
  return null;
}

function isBase64(s) {
  return /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/.test(s);
}

// --- Expected side: a JS value from a writer's in-memory data -> canonical string.
// Accepted inputs per kind: int: number|bigint|string; float: number; bool: boolean;
// string: string; binary: Buffer|Uint8Array|base64 string; date: days (number);
// timestamp: ns (bigint); decimal: {unscaled: bigint} | exact decimal string;
// uuid: hex text (with or without dashes).
function canonExpected(kind, v) {
  if (v === null || v === undefined) return null;
  switch (kind.t) {
    case 'int': return BigInt(v).toString();
    case 'float': return canonFloat(Number(v), kind.bits);
    case 'bool': return v ? 'true' : 'false';
    case 'string': return String(v);
    case 'binary': return typeof v === 'string' ? v : Buffer.from(v).toString('base64');
    case 'date': return formatDate(Number(v));
    case 'timestamp': return formatTimestampNs(BigInt(v), kind.utc);
    case 'decimal':
      if (typeof v === 'object' && 'unscaled' in v) return decimalToString(v.unscaled, kind.scale);
      return decimalToString(parseDecimal(String(v), kind.scale), kind.scale);
    case 'uuid': return hexOfUuidText(String(v));
    default: throw new Error(`unknown kind ${kind.t}`);
  }
}

// --- Actual side: a token of morsel's jsonl (see parseJsonLine) -> canonical string, or
// {bad: 'why'} when the JSON type or text breaks the `morsel cat` conventions.
function canonActual(kind, tok) {
  if (tok === null) return null;
  const isNum = typeof tok === 'object' && tok.num !== undefined;
  const bad = (why) => ({ bad: `${why}: ${isNum ? tok.num : JSON.stringify(tok)}` });
  switch (kind.t) {
    case 'int':
      if (!isNum || !/^-?\d+$/.test(tok.num)) return bad('expected a JSON integer');
      return BigInt(tok.num).toString();
    case 'float':
      if (isNum) return canonFloat(Number(tok.num), kind.bits);
      if (tok === 'NaN' || tok === 'Infinity' || tok === '-Infinity') return tok;
      return bad('expected a number or "NaN"/"Infinity"/"-Infinity"');
    case 'bool':
      if (typeof tok !== 'boolean') return bad('expected true/false');
      return tok ? 'true' : 'false';
    case 'string':
      if (typeof tok !== 'string') return bad('expected a string');
      return tok;
    case 'binary':
      if (typeof tok !== 'string' || !isBase64(tok)) return bad('expected base64 text');
      return tok;
    case 'date': {
      const d = typeof tok === 'string' ? parseDate(tok) : null;
      if (d === null) return bad('expected YYYY-MM-DD');
      return formatDate(d);
    }
    case 'timestamp': {
      const t = typeof tok === 'string' ? parseTimestamp(tok) : null;
      if (t === null) return bad('expected an ISO-8601 timestamp');
      return formatTimestampNs(t.ns, t.utc);
    }
    case 'decimal': {
      if (typeof tok !== 'string') return bad('expected a decimal as a JSON string');
      const u = parseDecimal(tok, kind.scale);
      if (u === null) return bad(`not a decimal with scale ${kind.scale}`);
      return decimalToString(u, kind.scale);
    }
    case 'uuid': {
      if (typeof tok !== 'string') return bad('expected a UUID string');
      const h = hexOfUuidText(tok);
      if (h) return h;
      if (isBase64(tok)) {
        const b = Buffer.from(tok, 'base64');
        if (b.length === 16) return b.toString('hex');
      }
      return bad('expected a UUID as text or 16 base64 bytes');
    }
    default: throw new Error(`unknown kind ${kind.t}`);
  }
}

// --- A lossless JSON parser: objects keep key order ([[key, value], ...]) and numbers
// stay text ({num: '123'}) so 64-bit integers and decimals lose nothing.
function parseJsonLine(text) {
  let i = 0;
  const n = text.length;
  const fail = (why) => { throw new Error(`bad JSON at char ${i}: ${why}: ${text.slice(Math.max(0, i - 40), i + 40)}`); };
  const ws = () => { while (i < n && (text[i] === ' ' || text[i] === '\t' || text[i] === '\r' || text[i] === '\n')) i++; };
  function str() {
    i++; // opening quote
    let out = '';
    let start = i;
    for (;;) {
      if (i >= n) fail('unterminated string');
      const c = text.charCodeAt(i);
      if (c === 34) { out += text.slice(start, i); i++; return out; }
      if (c < 0x20) fail('raw control character in string');
      if (c === 92) {
        out += text.slice(start, i);
        const e = text[i + 1];
        i += 2;
        switch (e) {
          case '"': out += '"'; break;
          case '\\': out += '\\'; break;
          case '/': out += '/'; break;
          case 'b': out += '\b'; break;
          case 'f': out += '\f'; break;
          case 'n': out += '\n'; break;
          case 'r': out += '\r'; break;
          case 't': out += '\t'; break;
          case 'u': {
            const h = text.slice(i, i + 4);
            if (!/^[0-9a-fA-F]{4}$/.test(h)) fail('bad \\u escape');
            out += String.fromCharCode(parseInt(h, 16));
            i += 4;
            break;
          }
          default: fail('bad escape');
        }
        start = i;
      } else {
        i++;
      }
    }
  }
  const NUM_RE = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
  function value() {
    ws();
    const c = text[i];
    if (c === '{') {
      i++;
      const pairs = [];
      ws();
      if (text[i] === '}') { i++; return { obj: pairs }; }
      for (;;) {
        ws();
        if (text[i] !== '"') fail('expected a key');
        const k = str();
        ws();
        if (text[i] !== ':') fail('expected :');
        i++;
        pairs.push([k, value()]);
        ws();
        if (text[i] === ',') { i++; continue; }
        if (text[i] === '}') { i++; return { obj: pairs }; }
        fail('expected , or }');
      }
    }
    if (c === '[') {
      i++;
      const items = [];
      ws();
      if (text[i] === ']') { i++; return { arr: items }; }
      for (;;) {
        items.push(value());
        ws();
        if (text[i] === ',') { i++; continue; }
        if (text[i] === ']') { i++; return { arr: items }; }
        fail('expected , or ]');
      }
    }
    if (c === '"') return str();
    if (text.startsWith('true', i)) { i += 4; return true; }
    if (text.startsWith('false', i)) { i += 5; return false; }
    if (text.startsWith('null', i)) { i += 4; return null; }
    NUM_RE.lastIndex = i;
    const m = NUM_RE.exec(text);
    if (!m) fail('unexpected character');
    i += m[0].length;
    return { num: m[0] };
  }
  const v = value();
  ws();
  if (i !== n) fail('trailing characters');
  return v;
}

// Splits jsonl output into parsed objects (arrays of [key, token]).
function parseJsonl(out) {
  const rows = [];
  const lines = out.split('\n');
  for (let k = 0; k < lines.length; k++) {
    if (lines[k] === '') {
      if (k === lines.length - 1) break;
      throw new Error(`empty line ${k + 1} in jsonl output`);
    }
    const v = parseJsonLine(lines[k]);
    if (!v || !v.obj) throw new Error(`line ${k + 1} of jsonl output is not an object`);
    rows.push(v.obj);
  }
  return rows;
}

function show(v) {
  if (v === null) return 'null';
  if (typeof v === 'object' && v.bad) return v.bad;
  return v.length > 120 ? JSON.stringify(v.slice(0, 120)) + `... (${v.length} chars)` : JSON.stringify(v);
}

// Compares `expected` = {columns: [{name, kind}], rows: [[canonical...]...]} with jsonl rows
// from morsel. Returns null when equal, else a message naming file, column and row.
// opts.sortBy: a column name; both sides are ordered by its canonical value first
// (for datasets whose file order is not defined). opts.anyColumnOrder: match keys by name.
function compareJsonl(file, expected, actualRows, opts = {}) {
  const cols = expected.columns;
  const exp = expected.rows;
  if (actualRows.length !== exp.length)
    return `${file}: expected ${exp.length} rows, morsel printed ${actualRows.length}`;
  // Convert actual rows to canonical values in expected column order.
  const act = [];
  for (let r = 0; r < actualRows.length; r++) {
    const pairs = actualRows[r];
    if (pairs.length !== cols.length)
      return `${file}: row ${r}: expected ${cols.length} keys (${cols.map(c => c.name).join(',')}), got ${pairs.length} (${pairs.map(p => p[0]).join(',')})`;
    const byName = opts.anyColumnOrder ? new Map(pairs) : null;
    const row = new Array(cols.length);
    for (let c = 0; c < cols.length; c++) {
      let tok;
      if (byName) {
        if (!byName.has(cols[c].name)) return `${file}: row ${r}: key ${cols[c].name} missing`;
        tok = byName.get(cols[c].name);
      } else {
        if (pairs[c][0] !== cols[c].name)
          return `${file}: row ${r}: key ${c} is ${JSON.stringify(pairs[c][0])}, expected ${JSON.stringify(cols[c].name)} (keys must follow the schema order)`;
        tok = pairs[c][1];
      }
      row[c] = canonActual(cols[c].kind, tok);
    }
    act.push(row);
  }
  return compareCanonical(file, cols, exp, act, opts, 'morsel');
}

// Compares two canonical row sets (same column list). `who` names the reader of `act`.
function compareCanonical(file, cols, exp, act, opts = {}, who = 'reader') {
  if (act.length !== exp.length)
    return `${file}: expected ${exp.length} rows, ${who} gave ${act.length}`;
  let order = null;
  if (opts.sortBy !== undefined) {
    const k = cols.findIndex(c => c.name === opts.sortBy);
    if (k < 0) throw new Error(`sortBy column ${opts.sortBy} not in the expected columns`);
    const key = (row) => (row[k] === null || typeof row[k] !== 'string') ? '' : row[k];
    const cmp = (a, b) => {
      const x = key(a), y = key(b);
      if (cols[k].kind.t === 'int') { const d = BigInt(x || 0) - BigInt(y || 0); return d < 0n ? -1 : d > 0n ? 1 : 0; }
      return x < y ? -1 : x > y ? 1 : 0;
    };
    exp = exp.slice().sort(cmp);
    act = act.slice().sort(cmp);
    order = 'sorted by ' + opts.sortBy;
  }
  for (let r = 0; r < exp.length; r++) {
    for (let c = 0; c < cols.length; c++) {
      const e = exp[r][c], a = act[r][c];
      if (a !== null && typeof a === 'object')
        return `${file}: column ${cols[c].name} (${kindName(cols[c].kind)}), row ${r}${order ? ' ' + order : ''}: ${who} printed ${show(a)}; expected ${show(e)}`;
      if (e !== a)
        return `${file}: column ${cols[c].name} (${kindName(cols[c].kind)}), row ${r}${order ? ' ' + order : ''}: expected ${show(e)}, ${who} gave ${show(a)}`;
    }
  }
  return null;
}

function kindName(k) {
  switch (k.t) {
    case 'float': return `float${k.bits}`;
    case 'timestamp': return k.utc ? 'timestamp utc' : 'timestamp naive';
    case 'decimal': return `decimal scale ${k.scale}`;
    default: return k.t;
  }
}

module.exports = {
  civilFromDays, daysFromCivil, formatDate, formatTimestampNs, parseDate, parseTimestamp,
  parseDecimal, decimalToString, canonFloat, canonExpected, canonActual,
  parseJsonLine, parseJsonl, compareJsonl, compareCanonical, kindName, floorDiv,
};
