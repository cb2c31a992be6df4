// The morsel benchmark: morsel against DuckDB and Polars on the same machine, the same data
// and the same thread count. Run it through bench/run.sh, which builds morsel and installs
// the peers first.
//
// Data: a feature table (int64 entity key, two timestamps, a float64 and an int64 feature,
// one string column), BENCH_ROWS rows (default 10,000,000), generated here as CSV (SQL run
// by DuckDB, deterministic), then converted by morsel into the snappy and zstd Parquet
// files every tool reads.
//
// Tasks, each run BENCH_RUNS times (default 3) in its own process, tools interleaved:
//   decode   Parquet (snappy, zstd) -> memory: `morsel scan`, DuckDB CREATE TABLE AS
//            SELECT * FROM read_parquet, Polars readParquet
//   rewrite  zstd Parquet -> Parquet (snappy, zstd): `morsel convert`, DuckDB COPY (SELECT
//            * FROM read_parquet) TO, Polars readParquet + writeParquet
//   write    memory -> Parquet, peers only (they can time a write from memory; morsel's
//            convert always reads its input too, so its number is the rewrite above)
//   csv      CSV -> memory: `morsel scan` of the .csv, DuckDB read_csv, Polars readCSV
// Time: morsel's is the wall time of the whole process (start-up and teardown included);
// the peers' is measured in-process around the task (node start-up not charged). Peak RSS
// of every process from /usr/bin/time -v. Medians over the runs.
'use strict';
const fs = require('fs');
const os = require('os');
const path = require('path');
const { spawnSync, execSync } = require('child_process');

const root = path.resolve(__dirname, '..');
const ROWS = Number(process.env.BENCH_ROWS || 10000000);
const RUNS = Number(process.env.BENCH_RUNS || 3);
const THREADS = Number(process.env.BENCH_THREADS || 2);
const DIR = process.env.BENCH_DIR || path.join(root, 'build', 'bench');
const MORSEL = process.env.MORSEL || path.join(root, 'build', 'morsel');
const OUT = process.env.BENCH_OUT || (ROWS === 10000000 ? path.join(root, 'docs', 'benchmarks.md') : path.join(DIR, 'benchmarks.md'));
const COMMAND = process.env.BENCH_COMMAND || 'bash bench/run.sh';
const TIME = '/usr/bin/time';

fs.mkdirSync(DIR, { recursive: true });
const data = (name) => path.join(DIR, name);
const log = (...a) => console.log(...a);

// Runs a command under /usr/bin/time -v. Returns {wall, rss_kb, stdout}.
function measure(cmd, args, env = {}) {
  const tfile = data('time.txt');
  const t0 = process.hrtime.bigint();
  const r = spawnSync(TIME, ['-v', '-o', tfile, cmd, ...args], {
    encoding: 'utf8', maxBuffer: 64 << 20, env: { ...process.env, ...env },
  });
  const wall = Number(process.hrtime.bigint() - t0) / 1e9;
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.status}):\n${r.stderr}\n${r.stdout}`);
  const tv = fs.readFileSync(tfile, 'utf8');
  const m = /Maximum resident set size \(kbytes\): (\d+)/.exec(tv);
  return { wall, rss_kb: m ? Number(m[1]) : NaN, stdout: r.stdout };
}

function field(text, key) {
  const m = new RegExp(`${key}=([0-9.]+)`).exec(text);
  return m ? Number(m[1]) : NaN;
}

const peerEnv = { BENCH_THREADS: String(THREADS), POLARS_MAX_THREADS: String(THREADS), NODE_PATH: process.env.NODE_PATH };
function peer(tool, task, ...args) {
  const r = measure(process.execPath, [path.join(__dirname, 'peer.js'), tool, task, ...args], peerEnv);
  return { seconds: field(r.stdout, 'seconds'), rows: field(r.stdout, 'rows'), rss_kb: r.rss_kb };
}
function morsel(args) {
  const r = measure(MORSEL, args);
  let rows = field(r.stdout, 'rows');
  if (args[0] === 'convert') { // convert prints nothing: count the output (untimed)
    rows = field(spawnSync(MORSEL, ['scan', args[2]], { encoding: 'utf8' }).stdout || '', 'rows');
  }
  return { seconds: r.wall, rows, rss_kb: r.rss_kb, inner: field(r.stdout, 'seconds') };
}

// --- data
function generate() {
  const csv = data('features.csv');
  const stamp = data('features.rows');
  if (fs.existsSync(csv) && fs.existsSync(stamp) && fs.readFileSync(stamp, 'utf8') === String(ROWS)) {
    log(`data: reusing ${csv}`);
  } else {
    log(`data: generating ${ROWS} rows into ${csv}`);
    const sql = `COPY (SELECT
        (hash(i) % 1000000)::BIGINT AS entity_id,
        make_timestamp(1704067200000000 + i * 3000000 + (hash(i + 1) % 1000000)::BIGINT) AS event_ts,
        make_timestamp(1704067200000000 + i * 3000000 + (hash(i + 2) % 3600000000)::BIGINT) AS created_ts,
        (hash(i + 3) % 100000000)::DOUBLE / 1000 AS f_amount,
        (hash(i + 4) % 100000)::BIGINT AS f_count,
        'segment_' || (hash(i + 5) % 1000) AS segment
      FROM range(${ROWS}) r(i)) TO '${csv}' (FORMAT csv, HEADER)`;
    const gen = `(async () => { const d = require('@duckdb/node-api');
      const inst = await d.DuckDBInstance.create(':memory:', {autoinstall_known_extensions:'false', autoload_known_extensions:'false', threads:'${THREADS}'});
      const con = await inst.connect(); await con.run(${JSON.stringify(sql)}); })().catch(e => { console.error(e); process.exit(1); });`;
    const r = spawnSync(process.execPath, ['-e', gen], { stdio: 'inherit', env: { ...process.env } });
    if (r.status !== 0) throw new Error('data generation failed');
    fs.writeFileSync(stamp, String(ROWS));
    for (const codec of ['snappy', 'zstd']) fs.rmSync(data(`features_${codec}.parquet`), { force: true });
  }
  for (const codec of ['snappy', 'zstd']) {
    const f = data(`features_${codec}.parquet`);
    if (!fs.existsSync(f)) {
      log(`data: morsel convert -> ${path.basename(f)}`);
      const r = spawnSync(MORSEL, ['convert', csv, f, '--compression', codec], { stdio: 'inherit' });
      if (r.status !== 0) throw new Error(`morsel convert to ${codec} failed`);
    }
  }
  for (const f of ['features.csv', 'features_snappy.parquet', 'features_zstd.parquet']) {
    const r = spawnSync(MORSEL, ['scan', data(f)], { encoding: 'utf8' });
    if (field(r.stdout, 'rows') !== ROWS) throw new Error(`${f}: morsel scan counts ${r.stdout.trim()}, expected rows=${ROWS}`);
  }
}

// --- tasks: [id, label, tool -> measurement]
function tasks() {
  const T = String(THREADS);
  const list = [];
  for (const codec of ['snappy', 'zstd']) {
    const f = data(`features_${codec}.parquet`);
    list.push({ id: `decode_${codec}`, label: `decode ${codec} Parquet -> memory`, run: {
      morsel: () => morsel(['scan', f, '--threads', T]),
      duckdb: () => peer('duckdb', 'decode', f),
      polars: () => peer('polars', 'decode', f),
    } });
  }
  const src = data('features_zstd.parquet');
  for (const codec of ['snappy', 'zstd']) {
    const out = (tool) => data(`out_${tool}_${codec}.parquet`);
    list.push({ id: `rewrite_${codec}`, label: `write ${codec} Parquet (read zstd Parquet + write)`, run: {
      morsel: () => morsel(['convert', src, out('morsel'), '--compression', codec, '--threads', T]),
      duckdb: () => peer('duckdb', 'rewrite', src, out('duckdb'), codec),
      polars: () => peer('polars', 'rewrite', src, out('polars'), codec),
    }, cleanup: () => ['morsel', 'duckdb', 'polars'].forEach(t => fs.rmSync(out(t), { force: true })) });
  }
  for (const codec of ['snappy', 'zstd']) {
    const out = (tool) => data(`outw_${tool}_${codec}.parquet`);
    list.push({ id: `write_${codec}`, label: `write ${codec} Parquet from memory (peers only)`, run: {
      duckdb: () => peer('duckdb', 'write', src, out('duckdb'), codec),
      polars: () => peer('polars', 'write', src, out('polars'), codec),
    }, cleanup: () => ['duckdb', 'polars'].forEach(t => fs.rmSync(out(t), { force: true })) });
  }
  const csv = data('features.csv');
  list.push({ id: 'csv', label: 'CSV -> memory', run: {
    morsel: () => morsel(['scan', csv, '--threads', T]),
    duckdb: () => peer('duckdb', 'csv', csv),
    polars: () => peer('polars', 'csv', csv),
  } });
  return list;
}

const median = (xs) => { const s = xs.filter(x => !Number.isNaN(x)).sort((a, b) => a - b); return s.length ? s[Math.floor((s.length - 1) / 2)] : NaN; };

function machine() {
  const cpu = (fs.readFileSync('/proc/cpuinfo', 'utf8').match(/model name\s*:\s*(.*)/) || [, 'unknown'])[1];
  const memGiB = (os.totalmem() / 2 ** 30).toFixed(1);
  let commit = 'unknown';
  try { commit = execSync('git rev-parse --short HEAD', { cwd: root, encoding: 'utf8' }).trim(); } catch (e) { /* not a git checkout */ }
  const pkg = (name) => { try { return require(`${name}/package.json`).version; } catch (e) { return 'unknown'; } };
  let duckVersion = pkg('@duckdb/node-api');
  return { load: os.loadavg().map(x => x.toFixed(2)).join(' '), cpu, nproc: os.cpus().length, memGiB, kernel: os.release(), commit, duckVersion, polarsVersion: pkg('nodejs-polars'), node: process.version };
}

function main() {
  if (!fs.existsSync(MORSEL)) throw new Error(`no morsel binary at ${MORSEL}; build first (bash bench/run.sh does)`);
  if (!fs.existsSync(TIME)) throw new Error(`${TIME} is missing: run scripts/install-deps.sh (Debian package "time")`);
  const started = new Date();
  generate();
  const sizes = {};
  for (const f of ['features.csv', 'features_snappy.parquet', 'features_zstd.parquet']) sizes[f] = fs.statSync(data(f)).size;
  const list = tasks();
  const results = {}; // id -> tool -> [measurements]
  for (let run = 1; run <= RUNS; run++) {
    for (const t of list) {
      for (const tool of Object.keys(t.run)) {
        const m = t.run[tool]();
        if (m.rows !== ROWS) throw new Error(`${t.id} ${tool}: ${m.rows} rows, expected ${ROWS}`);
        ((results[t.id] = results[t.id] || {})[tool] = results[t.id][tool] || []).push(m);
        log(`run ${run}/${RUNS} ${t.id.padEnd(14)} ${tool.padEnd(6)} ${m.seconds.toFixed(3)} s  ${(m.rss_kb / 1024).toFixed(0)} MiB`);
      }
      if (t.cleanup) t.cleanup();
    }
  }
  const summary = list.map(t => {
    const s = { id: t.id, label: t.label };
    for (const tool of ['morsel', 'duckdb', 'polars']) {
      const ms = (results[t.id] || {})[tool];
      s[tool] = ms ? { seconds: median(ms.map(m => m.seconds)), rss: median(ms.map(m => m.rss_kb)) / 1024, inner: median(ms.map(m => m.inner)) } : null;
    }
    return s;
  });
  fs.writeFileSync(data('results.json'), JSON.stringify({ rows: ROWS, runs: RUNS, threads: THREADS, summary, results }, null, 1));
  // Keep the point-in-time join section that bench/run-pit.sh maintains in the same file.
  const prev = fs.existsSync(OUT) ? fs.readFileSync(OUT, 'utf8') : '';
  const pit = /<!-- pit:begin[\s\S]*<!-- pit:end -->/.exec(prev);
  fs.writeFileSync(OUT, report(summary, sizes, machine(), started) + (pit ? `\n${pit[0]}\n` : ''));
  log(`wrote ${OUT}`);
}

function report(summary, sizes, mc, started) {
  const f2 = (x) => Number.isNaN(x) ? '–' : x.toFixed(2);
  const fx = (x) => Number.isNaN(x) || !isFinite(x) ? '–' : `${x.toFixed(2)}×`;
  const mib = (x) => (x === undefined || Number.isNaN(x)) ? '–' : `${Math.round(x)}`;
  const lines = [];
  lines.push('# Benchmarks', '');
  lines.push(`morsel against DuckDB and Polars on the same machine, data and thread count (${THREADS}).`);
  lines.push('Generated by `bench/run.sh`; do not edit by hand, rerun it.', '');
  lines.push('## Setup', '');
  lines.push(`- Command: \`${COMMAND}\``);
  lines.push(`- Date: ${started.toISOString().replace(/\.\d+Z$/, 'Z')}`);
  lines.push(`- Machine: ${mc.cpu}, nproc = ${mc.nproc}, ${mc.memGiB} GiB RAM, Linux ${mc.kernel}; load average at the end ${mc.load}`);
  lines.push(`- Versions: morsel ${mc.commit} (RelWithDebInfo, -O2), DuckDB ${mc.duckVersion} (@duckdb/node-api), Polars ${mc.polarsVersion} (nodejs-polars), node ${mc.node}`);
  lines.push(`- Threads: morsel \`--threads ${THREADS}\`, DuckDB \`threads=${THREADS}\`, Polars \`POLARS_MAX_THREADS=${THREADS}\``);
  lines.push(`- Runs: median of ${RUNS} runs per cell, each run a fresh process; tools interleaved within a run`);
  lines.push(`- Data: ${ROWS.toLocaleString('en-US')} rows: entity_id int64, event_ts and created_ts timestamps, f_amount float64, f_count int64, segment string (1,000 distinct).`);
  lines.push(`  CSV ${(sizes['features.csv'] / 2 ** 20).toFixed(0)} MiB (generated by SQL in DuckDB); Parquet written by \`morsel convert\`: snappy ${(sizes['features_snappy.parquet'] / 2 ** 20).toFixed(0)} MiB, zstd ${(sizes['features_zstd.parquet'] / 2 ** 20).toFixed(0)} MiB.`);
  lines.push('');
  lines.push('## Results', '');
  lines.push('Time in seconds (median); speed-up = the other tool\'s time / morsel\'s time (above 1 means morsel is faster); peak RSS in MiB.', '');
  lines.push('| task | morsel s | DuckDB s | Polars s | speed-up vs faster peer | speed-up vs DuckDB | morsel RSS | DuckDB RSS | Polars RSS |');
  lines.push('|---|---:|---:|---:|---:|---:|---:|---:|---:|');
  for (const s of summary) {
    const m = s.morsel, dd = s.duckdb, po = s.polars;
    const faster = Math.min(dd ? dd.seconds : Infinity, po ? po.seconds : Infinity);
    lines.push(`| ${s.label} | ${m ? f2(m.seconds) : '–'} | ${dd ? f2(dd.seconds) : '–'} | ${po ? f2(po.seconds) : '–'} | ` +
               `${m ? fx(faster / m.seconds) : '–'} | ${m && dd ? fx(dd.seconds / m.seconds) : '–'} | ` +
               `${m ? mib(m.rss) : '–'} | ${dd ? mib(dd.rss) : '–'} | ${po ? mib(po.rss) : '–'} |`);
  }
  lines.push('');
  lines.push('## Against the targets', '');
  const get = (id) => summary.find(s => s.id === id);
  const verdict = (ok) => ok ? 'met' : '**not met**';
  for (const codec of ['snappy', 'zstd']) {
    const s = get(`decode_${codec}`);
    const faster = Math.min(s.duckdb.seconds, s.polars.seconds);
    const r = faster / s.morsel.seconds;
    lines.push(`- Decode ${codec}: ${fx(r)} the faster peer (target ≥ 1.5×): ${verdict(r >= 1.5)}; peak RSS ${mib(s.morsel.rss)} MiB vs ${mib(s.duckdb.rss)} / ${mib(s.polars.rss)} MiB: ${verdict(s.morsel.rss <= Math.min(s.duckdb.rss, s.polars.rss))}`);
  }
  for (const codec of ['snappy', 'zstd']) {
    const s = get(`rewrite_${codec}`);
    const r = s.duckdb.seconds / s.morsel.seconds;
    lines.push(`- Write ${codec}: ${fx(r)} DuckDB (target ≥ 1.5×): ${verdict(r >= 1.5)}; peak RSS ${mib(s.morsel.rss)} MiB vs ${mib(s.duckdb.rss)} / ${mib(s.polars.rss)} MiB: ${verdict(s.morsel.rss <= Math.min(s.duckdb.rss, s.polars.rss))}`);
  }
  {
    const s = get('csv');
    const faster = Math.min(s.duckdb.seconds, s.polars.seconds);
    lines.push(`- CSV parse: ${fx(faster / s.morsel.seconds)} the faster peer (no numeric target); peak RSS ${mib(s.morsel.rss)} MiB vs ${mib(s.duckdb.rss)} / ${mib(s.polars.rss)} MiB`);
  }
  lines.push('');
  lines.push('## How it is measured', '');
  lines.push('- morsel: the wall time of the whole `morsel scan` / `morsel convert` process, start-up, footer reading and teardown included.');
  lines.push('  `morsel scan` also prints its own read time; medians: ' +
             summary.filter(s => s.morsel && !Number.isNaN(s.morsel.inner)).map(s => `${s.id} ${f2(s.morsel.inner)} s`).join(', ') + '.');
  lines.push('- DuckDB and Polars: the task timed inside the node process (`bench/peer.js`), so node start-up and module loading are not charged to them.');
  lines.push('  Decode is `CREATE TABLE t AS SELECT * FROM read_parquet(...)` in an in-memory DuckDB and `pl.readParquet(...)`; CSV is `read_csv(...)` (auto-detected) and `pl.readCSV(...)`.');
  lines.push('- Write: morsel\'s `convert` reads its input too, so the write rows compare the same work for all three: read the zstd file and write the other codec');
  lines.push('  (DuckDB `COPY (SELECT * FROM read_parquet(src)) TO dst (FORMAT parquet, COMPRESSION c)`, Polars `readParquet(src).writeParquet(dst, {compression: c})`).');
  lines.push('  The "from memory (peers only)" rows time the peers\' write alone after an untimed load, as a bound on what their write costs.');
  lines.push('- Peak RSS: "Maximum resident set size" from `/usr/bin/time -v` of each process; for the peers it includes the node runtime (about 40-60 MiB).');
  lines.push('- The machine may be shared with other jobs; each cell is a median of several runs but small differences are noise.');
  if (Number(mc.load.split(' ')[2]) > mc.nproc)
    lines.push(`- **Caveat for this run**: the 15-minute load average (${mc.load.split(' ')[2]}) exceeded the ${mc.nproc} CPUs: other jobs competed for the CPUs throughout, so absolute times are inflated several-fold and the ratios are noisy. Rerun on an idle machine for numbers to quote.`);
  lines.push('');
  return lines.join('\n');
}

try { main(); } catch (e) { console.error(e.message || e); process.exit(1); }
