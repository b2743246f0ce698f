#!/usr/bin/env node
/**
 * Worker start time and idle memory (docs/benchmarks.md, "Production build"). Creates the monitor worker as
 * the worker process does (createMonitorWorker, config from the environment) against TEMPORAL_ADDRESS, then
 * exits; with IDLE_SECONDS=n it first polls, idle, for n seconds. Prints `worker created in <ms> ms` (from
 * process start) and `rss <MiB> MiB` at the end. Two forms:
 *   node scripts/worker-start-probe.js dist                 # the build: plain node, prebuilt workflow bundle
 *   node --import tsx scripts/worker-start-probe.js src     # from source as `tsx src/worker.ts` runs: webpack at start
 * Time either from outside, e.g. `/usr/bin/time -v` (wall clock, maximum resident set size).
 */
const { join } = require('node:path');

async function main() {
  const form = process.argv[2];
  if (form !== 'dist' && form !== 'src') throw new Error('usage: worker-start-probe.js dist|src');
  const root = join(__dirname, '..', form === 'dist' ? 'dist/src' : 'src');
  const { NativeConnection, Runtime, DefaultLogger } = require('@temporalio/worker');
  const { Client, Connection } = require('@temporalio/client');
  const { loadConfig } = require(join(root, 'config'));
  const { createDb } = require(join(root, 'db', 'database'));
  const { createMonitorWorker } = require(join(root, 'worker'));
  Runtime.install({ logger: new DefaultLogger('WARN') });
  const address = process.env.TEMPORAL_ADDRESS;
  if (!address) throw new Error('TEMPORAL_ADDRESS is required');
  const config = loadConfig(process.env);
  const connection = await NativeConnection.connect({ address });
  const clientConnection = await Connection.connect({ address });
  const client = new Client({ connection: clientConnection });
  const db = createDb(config.databaseUrl); // no connection is opened until a query
  const worker = await createMonitorWorker({ connection, config, db, client });
  console.log(`worker created in ${Math.round(performance.now())} ms`);
  const idle = Number(process.env.IDLE_SECONDS ?? 0);
  if (idle > 0) {
    const running = worker.run();
    await new Promise((resolve) => setTimeout(resolve, idle * 1000));
    console.log(`rss ${(process.memoryUsage().rss / 2 ** 20).toFixed(0)} MiB after ${idle} s idle`);
    worker.shutdown();
    await running;
  }
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
