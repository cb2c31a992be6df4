// One benchmark task run by DuckDB or Polars, in its own process so /usr/bin/time -v sees
// its peak RSS. Prints "seconds=S rows=N": S is the wall time of the task itself, measured
// in-process, so node start-up and module loading are not charged to the peer.
//
//   node peer.js duckdb|polars decode FILE.parquet
//   node peer.js duckdb|polars csv FILE.csv
//   node peer.js duckdb|polars rewrite SRC.parquet OUT.parquet snappy|zstd
//         (read SRC and write OUT, the same work as `morsel convert SRC OUT`)
//   node peer.js duckdb|polars write SRC.parquet OUT.parquet snappy|zstd
//         (SRC is loaded first, untimed; only the write from memory is timed)
//
// Threads: BENCH_THREADS (DuckDB's threads setting; Polars reads POLARS_MAX_THREADS, which
// bench.js sets in the environment before this process starts).
'use strict';
const [tool, task, a, b, codec] = process.argv.slice(2);
const threads = String(process.env.BENCH_THREADS || 2);
const now = () => Number(process.hrtime.bigint()) / 1e9;
const q = (s) => `'${s.replace(/'/g, "''")}'`;

async function duck() {
  const duckdb = require('@duckdb/node-api');
  const inst = await duckdb.DuckDBInstance.create(':memory:', {
    autoinstall_known_extensions: 'false', autoload_known_extensions: 'false', threads,
  });
  const con = await inst.connect();
  const count = async () => Number((await con.runAndReadAll('SELECT count(*) FROM t')).getRows()[0][0]);
  let t0, t1, rows;
  switch (task) {
    case 'decode':
      t0 = now();
      await con.run(`CREATE TABLE t AS SELECT * FROM read_parquet(${q(a)})`);
      t1 = now();
      rows = await count();
      break;
    case 'csv':
      t0 = now();
      await con.run(`CREATE TABLE t AS SELECT * FROM read_csv(${q(a)})`);
      t1 = now();
      rows = await count();
      break;
    case 'rewrite':
      t0 = now();
      await con.run(`COPY (SELECT * FROM read_parquet(${q(a)})) TO ${q(b)} (FORMAT parquet, COMPRESSION ${codec})`);
      t1 = now();
      rows = Number((await con.runAndReadAll(`SELECT count(*) FROM read_parquet(${q(b)})`)).getRows()[0][0]);
      break;
    case 'write':
      await con.run(`CREATE TABLE t AS SELECT * FROM read_parquet(${q(a)})`);
      t0 = now();
      await con.run(`COPY t TO ${q(b)} (FORMAT parquet, COMPRESSION ${codec})`);
      t1 = now();
      rows = await count();
      break;
    default: throw new Error(`unknown task ${task}`);
  }
  return { seconds: t1 - t0, rows };
}

function polars() {
  const pl = require('nodejs-polars');
  let t0, t1, df;
  switch (task) {
    case 'decode':
      t0 = now(); df = pl.readParquet(a); t1 = now();
      break;
    case 'csv':
      t0 = now(); df = pl.readCSV(a); t1 = now();
      break;
    case 'rewrite':
      t0 = now(); df = pl.readParquet(a); df.writeParquet(b, { compression: codec }); t1 = now();
      break;
    case 'write':
      df = pl.readParquet(a);
      t0 = now(); df.writeParquet(b, { compression: codec }); t1 = now();
      break;
    default: throw new Error(`unknown task ${task}`);
  }
  return { seconds: t1 - t0, rows: df.height };
}

(async () => {
  const r = tool === 'duckdb' ? await duck() : tool === 'polars' ? polars() : null;
  if (!r) throw new Error(`unknown tool ${tool}`);
  console.log(`seconds=${r.seconds.toFixed(3)} rows=${r.rows}`);
})().catch((e) => { console.error(e); process.exit(1); });
