#!/usr/bin/env node
/**
 * Worker RSS against its workflow cache (docs/benchmarks.md, "Workflow cache"). Starts `node dist/src/start.js`
 * (migrations, then the monitor worker from the build) against TEMPORAL_ADDRESS and a fresh database beside
 * TEST_DATABASE_URL, with WORKER_MAX_CACHED_WORKFLOWS from the environment; sends one report to each of
 * RETAILERS retailers (default 2000, 16 in flight), so that as many monitors are running; then prints the
 * worker's RSS (VmRSS) at start, right after the load and after 10 s more (HOLD_SECONDS: keep the worker
 * that much longer, e.g. to look at it). The worker gets MALLOC_ARENA_MAX=2 as `npm start` and
 * `npm run worker` give it, unless MALLOC_ARENA_MAX is set (`MALLOC_ARENA_MAX= …` measures glibc's default).
 * WORKER_NODE_ARGS: node flags for the worker (e.g. `--optimize-for-size`); it also prints the worker's CPU
 * time for the load. Bounded: it gives up after 10 minutes. Needs `npm run build` first.
 * Usage: WORKER_MAX_CACHED_WORKFLOWS=1000 RETAILERS=600 node scripts/cache-rss-probe.js
 */
const { spawn } = require('node:child_process');
const { readFileSync } = require('node:fs');
const { join } = require('node:path');
const { Client, Connection } = require('@temporalio/client');
const { Client: Pg } = require('pg');
const { reportIngestionRun } = require('../dist/src/client');

const ROOT = join(__dirname, '..');
const ADMIN_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const RETAILERS = Number(process.env.RETAILERS ?? 2000);
const IN_FLIGHT = 16;
const deadline = Date.now() + 10 * 60_000;

/** The worker's CPU seconds so far (user + system, /proc/<pid>/stat, clock ticks of 1/100 s). */
const cpuSeconds = (pid) => {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(f[11]) + Number(f[12])) / 100;
};
const rssMiB = (pid) => Math.round(Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))[1]) / 1024);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function admin(sql) {
  const c = new Pg({ connectionString: ADMIN_URL });
  await c.connect();
  try {
    await c.query(sql);
  } finally {
    await c.end();
  }
}

async function main() {
  const address = process.env.TEMPORAL_ADDRESS;
  if (!address || !/^(127\.|localhost)/.test(address)) throw new Error('TEMPORAL_ADDRESS must be a loopback dev server');
  const name = `im_cache_${process.pid}_${Date.now().toString(36)}`;
  await admin(`CREATE DATABASE ${name}`);
  const url = new URL(ADMIN_URL);
  url.pathname = `/${name}`;
  const taskQueue = `cache-rss-${process.pid}`;
  // WORKER_NODE_ARGS: node flags for the worker (e.g. V8 heap flags), split on spaces.
  const nodeArgs = (process.env.WORKER_NODE_ARGS ?? '').split(' ').filter(Boolean);
  const worker = spawn(process.execPath, [...nodeArgs, 'dist/src/start.js'], {
    cwd: ROOT,
    env: { MALLOC_ARENA_MAX: '2', ...process.env, DATABASE_URL: url.toString(), MONITOR_TASK_QUEUE: taskQueue, MONITOR_WORKFLOW_ID: `${taskQueue}-fleet` },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  worker.stdout.on('data', (d) => (out += d));
  worker.stderr.on('data', (d) => (out += d));
  try {
    while (!out.includes('workflow code:')) {
      if (worker.exitCode !== null || Date.now() > deadline) throw new Error(`the worker did not start:\n${out}`);
      await sleep(100);
    }
    console.log(out.split('\n').find((l) => l.startsWith('workflow code:')));
    console.log(`worker pid ${worker.pid}; RSS ${rssMiB(worker.pid)} MiB at start`);
    const connection = await Connection.connect({ address });
    const client = new Client({ connection });
    const target = { taskQueue, workflowId: `${taskQueue}-fleet`, retailerWorkflowIdPrefix: `${taskQueue}/` };
    const started = Date.now();
    let next = 0;
    await Promise.all(
      Array.from({ length: IN_FLIGHT }, async () => {
        while (next < RETAILERS && Date.now() < deadline) {
          const i = next++;
          const at = Date.now() - 1000;
          await reportIngestionRun(client, {
            runId: `r${i}-1`,
            retailer: `r${i}`,
            status: 'success',
            startedAt: new Date(at - 60_000).toISOString(),
            finishedAt: new Date(at).toISOString(),
            skuCount: 1000,
          }, target);
        }
      }),
    );
    console.log(`${next} retailers, one report each, in ${((Date.now() - started) / 1000).toFixed(1)} s; worker RSS ${rssMiB(worker.pid)} MiB, CPU ${cpuSeconds(worker.pid).toFixed(1)} s`);
    await sleep(10_000);
    console.log(`worker RSS ${rssMiB(worker.pid)} MiB 10 s later`);
    const hold = Number(process.env.HOLD_SECONDS ?? 0);
    if (hold > 0) {
      console.log(`holding the worker for ${hold} s`);
      await sleep(hold * 1000);
    }
    await connection.close();
  } catch (err) {
    console.error(`worker output (last 3,000 characters):\n${out.slice(-3000)}`);
    throw err;
  } finally {
    worker.kill('SIGKILL');
    await sleep(500);
    await admin(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`).catch(() => undefined);
  }
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
