// Shared plumbing of the interop scripts: loading the npm peers (DuckDB, Polars), running
// the morsel binary, scratch folders, the matrix size, and reporting.
//
// The peers live in build/peers/node_modules (scripts/install-test-peers.sh); the ctest
// wrapper (lib/run.sh) puts that folder on NODE_PATH. A missing peer is a failure with a
// message saying how to install it, never a silent skip.
'use strict';
const fs = require('fs');
const path = require('path');
const { spawnSync } = require('child_process');

function loadPeer(name) {
  try {
    return require(name);
  } catch (e) {
    console.error(`interop: cannot load the npm test peer ${name} (${e.message.split('\n')[0]}).\n` +
                  `Install the peers with: bash scripts/install-test-peers.sh`);
    process.exit(2);
  }
}

// A DuckDB connection that never installs or loads extensions from the network.
async function duckdb(threads = 1) {
  const duck = loadPeer('@duckdb/node-api');
  const inst = await duck.DuckDBInstance.create(':memory:', {
    autoinstall_known_extensions: 'false',
    autoload_known_extensions: 'false',
    threads: String(threads),
  });
  const con = await inst.connect();
  return { duck, inst, con };
}

function polars() { return loadPeer('nodejs-polars'); }

const MORSEL = process.env.MORSEL;
function requireMorsel() {
  if (!MORSEL || !fs.existsSync(MORSEL)) {
    console.error(`interop: $MORSEL (${MORSEL}) is not the morsel binary; run through ctest`);
    process.exit(2);
  }
}

// Runs morsel; returns {status, stdout, stderr}. Output may be large (long strings).
function morsel(args, opts = {}) {
  const r = spawnSync(MORSEL, args, { maxBuffer: 2 * 1024 ** 3, encoding: 'utf8', ...opts });
  if (r.error) throw r.error;
  return { status: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr };
}

// Runs morsel and throws with its stderr when it fails.
function morselOk(args, opts = {}) {
  const r = morsel(args, opts);
  if (r.status !== 0) {
    const e = new Error(`morsel ${args.join(' ')} failed (status ${r.status}${r.signal ? ', signal ' + r.signal : ''}):\n${(r.stderr || '').trim().slice(0, 4000)}`);
    e.plain = true; // the message says it all; no stack trace
    throw e;
  }
  return r.stdout;
}

// A fresh scratch folder under $MS_TEST_TMP (kept after a failure for inspection).
function scratch(name) {
  const base = process.env.MS_TEST_TMP || path.join(require('os').tmpdir(), 'morsel-test-tmp');
  const dir = path.join(base, name);
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
  return dir;
}

// 'full' (default) or 'small' (set by scripts/test.sh for the ASan build).
const SMALL = (process.env.MORSEL_INTEROP_MATRIX || 'full') === 'small';

// Collects failures so one run reports every failing case, then exits non-zero.
class Report {
  constructor(name) { this.name = name; this.passed = 0; this.failures = []; this.t0 = Date.now(); }
  ok(what) { this.passed++; if (process.env.MORSEL_INTEROP_VERBOSE) console.log(`ok   ${what}`); }
  fail(what, msg) {
    this.failures.push(what);
    console.log(`FAIL ${what}\n     ${String(msg).split('\n').join('\n     ')}`);
  }
  // Runs one case; an exception or a returned message is a failure.
  async check(what, fn) {
    try {
      const msg = await fn();
      if (msg) this.fail(what, msg); else this.ok(what);
    } catch (e) {
      this.fail(what, e && e.stack && !e.plain ? e.stack : (e && e.message) || e);
    }
  }
  finish() {
    const secs = ((Date.now() - this.t0) / 1000).toFixed(1);
    console.log(`${this.name}: ${this.passed} passed, ${this.failures.length} failed (${SMALL ? 'small' : 'full'} matrix, ${secs} s)`);
    if (this.failures.length) {
      console.log('failed cases:\n  ' + this.failures.join('\n  '));
      process.exitCode = 1;
    }
  }
}

// Page type of a column chunk's first data page, read from the raw bytes: the page header
// is a Thrift compact struct whose field 1 (i32) is the PageType. 0 = DATA_PAGE (v1),
// 3 = DATA_PAGE_V2. An independent check that a writer did what its options said.
function firstPageType(buf, offset) {
  if (buf[offset] !== 0x15) return -1; // field 1, type i32, delta encoded
  let shift = 0, v = 0, i = offset + 1, b;
  do { b = buf[i++]; v |= (b & 0x7f) << shift; shift += 7; } while (b & 0x80);
  return (v >>> 1) ^ -(v & 1);
}

module.exports = { loadPeer, duckdb, polars, morsel, morselOk, requireMorsel, scratch, SMALL, Report, firstPageType, MORSEL };

// The read-direction check for one file or dataset: `morsel cat --format jsonl` must print
// exactly the expected rows; `morsel scan` must count them; `morsel schema` must succeed
// and name every column. Returns null or a message.
function checkMorselRead(file, expected, opts = {}) {
  const { compareJsonl, parseJsonl } = require('./values');
  const catArgs = ['cat', file, '--format', 'jsonl'];
  if (opts.columns) catArgs.push('--columns', opts.columns.join(','));
  const out = morselOk(catArgs);
  const msg = compareJsonl(file, expected, parseJsonl(out), opts);
  if (msg) return msg;
  const scanArgs = ['scan', file];
  if (opts.columns) scanArgs.push('--columns', opts.columns.join(','));
  const scan = morselOk(scanArgs);
  const m = /rows=(\d+)/.exec(scan);
  if (!m) return `${file}: morsel scan printed no rows=N: ${scan.slice(0, 200)}`;
  if (+m[1] !== expected.rows.length) return `${file}: morsel scan counted rows=${m[1]}, expected ${expected.rows.length}`;
  if (!opts.noSchema) {
    const schema = morselOk(['schema', file]);
    for (const c of expected.columns) {
      if (!schema.includes(c.name)) return `${file}: morsel schema does not name column ${c.name}`;
    }
  }
  return null;
}
module.exports.checkMorselRead = checkMorselRead;
