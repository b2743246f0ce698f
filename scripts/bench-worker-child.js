#!/usr/bin/env node
/**
 * The bench's monitor worker as users run it (BENCH_WORKER=dist, the default of a full `npm run bench`):
 * plain `node` on dist/ (`npm run build`), the prebuilt workflow bundle, `createMonitorWorker` with the
 * production tuning (WORKER_* defaults; BENCH_MAX_CACHED overrides the cache, WORKER_HEAP_GROWING_PERCENT the
 * heap growth; BENCH_WORKER_NODE_ARGS adds node flags), no tsx and no webpack in the process. Its RSS is
 * what the "worker RSS" targets mean. It answers the parent as the tsx child in scripts/bench-lib.ts
 * (`childMain`) does (scripts/bench-child-ipc.js): ready, mem (optionally after a full GC of this thread), stop.
 * Plain JavaScript: it runs before and without any TypeScript loader.
 */
const { join } = require('node:path');
const v8 = require('node:v8');
const vm = require('node:vm');

const DIST = join(__dirname, '..', 'dist', 'src');
const { NativeConnection, Runtime, DefaultLogger } = require('@temporalio/worker');
const { Client, Connection } = require('@temporalio/client');
const { createMonitorWorker } = require(join(DIST, 'worker.js'));
const { loadConfig } = require(join(DIST, 'config.js'));
const { createDb } = require(join(DIST, 'db', 'database.js'));
const { prebuiltWorkflowBundle } = require(join(DIST, 'prebuilt-bundles.js'));
const { benchTuning, serveParent } = require('./bench-child-ipc.js');

v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc');

async function main() {
  // As in the tsx child: warnings matter (payload limits, failed tasks), cut long ones short.
  const logger = new DefaultLogger('WARN', ({ level, message, meta }) => {
    const extra = meta && Object.keys(meta).length ? ` ${JSON.stringify(meta)}` : '';
    console.error(`[worker ${level}] ${(message + extra).slice(0, 400)}`);
  });
  Runtime.install({ logger, shutdownSignals: [] });
  if (!prebuiltWorkflowBundle('monitor')) throw new Error('dist/ has no prebuilt monitor bundle: run npm run build');
  const address = process.env.BENCH_TEMPORAL_ADDRESS;
  // The product's defaults; WORKER_HEAP_GROWING_PERCENT from the bench's environment (0: V8's own growth).
  const heap = process.env.WORKER_HEAP_GROWING_PERCENT;
  const base = loadConfig(heap === undefined ? {} : { WORKER_HEAP_GROWING_PERCENT: heap });
  const config = {
    ...base,
    taskQueue: process.env.BENCH_TASK_QUEUE,
    databaseUrl: process.env.BENCH_DATABASE_URL,
    alerts: { ...base.alerts, slackWebhookUrl: process.env.BENCH_SLACK_URL || undefined, httpTimeoutMs: 5000 },
    worker: { ...base.worker, ...benchTuning() },
  };
  const connection = await NativeConnection.connect({ address });
  const clientConnection = await Connection.connect({ address });
  const client = new Client({ connection: clientConnection, namespace: 'default' });
  const db = createDb(config.databaseUrl);
  const worker = await createMonitorWorker({ connection, namespace: 'default', config, db, client });
  console.error(`[worker INFO] monitor (dist, prebuilt bundle): maxCachedWorkflows ${worker.options.maxCachedWorkflows}, workflow threads ${worker.options.workflowThreadPoolSize}`);
  const running = worker.run();
  serveParent(worker, gc);
  try {
    await running;
  } finally {
    await db.destroy();
    await connection.close();
    await clientConnection.close();
    process.disconnect(); // the IPC channel would keep this process alive
  }
}

main().catch((err) => {
  try {
    process.send({ type: 'error', message: String(err && err.stack ? err.stack : err) });
  } catch {
    // no parent
  }
  console.error(err);
  process.exit(1);
});
