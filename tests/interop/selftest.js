// Self-test of the interop comparator (lib/values.js): the calendar and timestamp code is
// checked against JavaScript's own Date, the parser against JSON.parse, and the comparator
// must catch planted differences. Needs no peer and no morsel binary.
'use strict';
const assert = require('assert');
const v = require('./lib/values');

// Calendar: every day from 1600 to 2400 against Date.UTC.
for (let d = -135000; d <= 157000; d += 1) {
  const iso = new Date(d * 86400000).toISOString().slice(0, 10);
  assert.strictEqual(v.formatDate(d), iso, `day ${d}`);
  assert.strictEqual(v.parseDate(iso), d);
}
assert.strictEqual(v.formatDate(v.daysFromCivil(1, 1, 1)), '0001-01-01');
assert.strictEqual(v.formatDate(v.daysFromCivil(9999, 12, 31)), '9999-12-31');

// Timestamps, including negative ones with a fraction.
const cases = [
  [0n, '1970-01-01T00:00:00.000000000'],
  [-1n, '1969-12-31T23:59:59.999999999'],
  [1577836800123456789n, '2020-01-01T00:00:00.123456789'],
  [-9223372036854775807n, '1677-09-21T00:12:43.145224193'],
  [9223372036854775807n, '2262-04-11T23:47:16.854775807'],
];
for (const [ns, text] of cases) {
  assert.strictEqual(v.formatTimestampNs(ns, false), text);
  assert.strictEqual(v.formatTimestampNs(ns, true), text + 'Z');
  assert.deepStrictEqual(v.parseTimestamp(text + 'Z'), { ns, utc: true });
}
for (let ms = -5e12; ms < 5e12; ms += 7777777777) {
  const iso = new Date(ms).toISOString(); // ...sss Z
  assert.strictEqual(v.formatTimestampNs(BigInt(ms) * 1000000n, true), iso.replace('Z', '000000Z'));
}
assert.deepStrictEqual(v.parseTimestamp('2020-01-01 01:00:00+01:00'), { ns: 1577836800000000000n, utc: true });
assert.deepStrictEqual(v.parseTimestamp('2020-01-01T00:00:00.5'), { ns: 1577836800500000000n, utc: false });
assert.strictEqual(v.parseTimestamp('2020-01-01'), null);

// Decimals.
assert.strictEqual(v.decimalToString(-5n, 2), '-0.05');
assert.strictEqual(v.decimalToString(12345n, 0), '12345');
assert.strictEqual(v.parseDecimal('1.5', 2), 150n);
assert.strictEqual(v.parseDecimal('-0.05', 2), -5n);
assert.strictEqual(v.parseDecimal('1.505', 2), null);
assert.strictEqual(v.parseDecimal('1.500', 2), 150n);
assert.strictEqual(v.parseDecimal('12e-1', 1), 12n);
assert.strictEqual(v.canonExpected({ t: 'decimal', scale: 3 }, '99999999999999999999999999999999999.999'),
                   '99999999999999999999999999999999999.999');

// Floats: float32 compares after rounding to float32.
assert.strictEqual(v.canonActual({ t: 'float', bits: 32 }, { num: '0.1' }), v.canonExpected({ t: 'float', bits: 32 }, Math.fround(0.1)));
assert.strictEqual(v.canonActual({ t: 'float', bits: 64 }, 'NaN'), 'NaN');
assert.strictEqual(v.canonActual({ t: 'float', bits: 64 }, { num: '-0.0' }), '-0');
assert.ok(v.canonActual({ t: 'float', bits: 64 }, 'nan').bad);

// Parser: agrees with JSON.parse on strings, keeps big numbers exact and key order.
const tricky = ['', 'a"b', 'back\\slash', 'tab\tnl\ncr\r', '\u0001\u001f', 'héllo ✓ 日本 😀', '</script>'];
for (const s of tricky) assert.strictEqual(v.parseJsonLine(JSON.stringify(s)), s);
const obj = v.parseJsonLine('{"b":18446744073709551615,"a":-9223372036854775808,"c":[1,{"x":null}],"d":1.5e-300}');
assert.deepStrictEqual(obj.obj.map(p => p[0]), ['b', 'a', 'c', 'd']);
assert.strictEqual(obj.obj[0][1].num, '18446744073709551615');
assert.throws(() => v.parseJsonLine('{"a":1,}'));
assert.throws(() => v.parseJsonLine('{"a":"x\ny"}'));
assert.throws(() => v.parseJsonl('{"a":1}\n\n{"a":2}\n'));

// Comparator: equal data passes; each kind of difference is caught and located.
const cols = [{ name: 'id', kind: { t: 'int' } }, { name: 'ts', kind: { t: 'timestamp', utc: true } },
              { name: 'u', kind: { t: 'uuid' } }];
const expected = { columns: cols, rows: [
  ['1', v.canonExpected(cols[1].kind, 1000n), v.canonExpected(cols[2].kind, '550e8400-e29b-41d4-a716-446655440000')],
  ['18446744073709551615', null, null]] };
const good = v.parseJsonl('{"id":1,"ts":"1970-01-01T00:00:00.000001Z","u":"VQ6EAOKbQdSnFkRmVUQAAA=="}\n' +
                          '{"id":18446744073709551615,"ts":null,"u":null}\n');
assert.strictEqual(v.compareJsonl('f', expected, good), null);
const plant = (text, needle) => {
  const msg = v.compareJsonl('f', expected, v.parseJsonl(text));
  assert.ok(msg && msg.includes(needle), `expected a mismatch naming ${needle}, got ${msg}`);
};
const r0 = '{"id":1,"ts":"1970-01-01T00:00:00.000001Z","u":"550e8400-e29b-41d4-a716-446655440000"}\n';
const r1 = '{"id":18446744073709551615,"ts":null,"u":null}\n';
plant(r0.replace('001Z', '001') + r1, 'column ts');
plant(r0 + r1.replace('615', '614'), 'row 1');
plant(r0, 'expected 2 rows');
plant('{"ts":"1970-01-01T00:00:00.000001Z","id":1,"u":null}\n' + r1, 'schema order');
plant(r0.replace('"id":1', '"id":"1"') + r1, 'JSON integer');
plant(r0.replace('0000"}', '0001"}') + r1, 'column u');
console.log('interop comparator self-test: ok');
