/**
 * `npm start` — one command to see it all work.
 *
 * - No TEMPORAL_ADDRESS: starts a Temporal dev server (Web UI included), persisted under the data folder,
 *   with the retailer monitors' search attributes (RetailerHealth, OpenRules) registered.
 * - No DATABASE_URL: starts an embedded Postgres, persisted under the data folder.
 * - Either missing ("local mode"): also the built-in status page and a demo ingestion stack (Schedules and
 *   workers for a handful of retailers, reporting through the interceptor) with knobs to break them.
 * - Both set (real servers): migrations and the monitor worker only.
 * Ctrl-C (SIGINT) or SIGTERM shuts everything down in reverse order.
 */
import { join, resolve } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime } from '@temporalio/worker';
import { loadConfig } from './config';
import { createDb, migrateToLatest } from './db/database';
import { startDemo } from './demo/stack';
import { DEMO_RETAILERS } from './demo/retailers';
import { DEMO_WORKFLOW_TYPE } from './demo/stack';
import { ensureReconcilerSchedule } from './reconciler/schedule';
import { fleetHandle } from './client';
import { DEFAULTS, SEARCH_ATTRIBUTES, setExpectedRetailersUpdate, setFleetThresholdsUpdate } from './shared/messages';
import { startEmbeddedPostgres } from './stack/embedded-postgres';
import { startLocalTemporal } from './stack/temporal-server';
import { startStatusPage } from './status-page/server';
import { createMonitorWorker, ensureFleet, expectedFromEnv, runWorker } from './worker';

const num = (v: string | undefined, fallback: number) => (v && /^\d+$/.test(v) ? Number(v) : fallback);

/** The Web UI list filter for retailers that need a look (the runbook gives the same). */
const unhealthyFilter = `WorkflowType = '${DEFAULTS.retailerWorkflowType}' AND ExecutionStatus = 'Running' AND ${SEARCH_ATTRIBUTES.health} = 'unhealthy'`;

async function startLocal(): Promise<void> {
  // The SDK's per-task INFO lines would bury the URLs; warnings and errors still show. No SDK signal
  // handling: Ctrl-C is ours, so workers drain before the servers they talk to are stopped.
  Runtime.install({ logger: new DefaultLogger('WARN'), shutdownSignals: [] });
  const env = { ...process.env };
  const dataDir = resolve(env.MONITOR_DATA_DIR ?? '.data');
  const cleanup: Array<[string, () => Promise<unknown>]> = [];
  const shutdown = async () => {
    for (const [what, fn] of cleanup.reverse()) {
      await fn().catch((err) => console.error(`shutdown of ${what}:`, err));
      console.log(`  stopped ${what}`);
    }
  };
  try {
    if (!env.TEMPORAL_ADDRESS) {
      const t = await startLocalTemporal({ dataDir, port: num(env.TEMPORAL_PORT, 7233), uiPort: num(env.TEMPORAL_UI_PORT, 8233) });
      cleanup.push(['Temporal dev server', t.stop]);
      env.TEMPORAL_ADDRESS = t.address;
      env.TEMPORAL_UI_URL ??= t.uiUrl;
      console.log(`Temporal dev server: ${t.address} (CLI: ${t.cli})`);
    }
    if (!env.DATABASE_URL) {
      const pg = await startEmbeddedPostgres({ dataDir, port: num(env.EMBEDDED_PG_PORT, 5433) });
      cleanup.push(['embedded Postgres', pg.stop]);
      env.DATABASE_URL = pg.url;
      console.log(`embedded Postgres: 127.0.0.1:${num(env.EMBEDDED_PG_PORT, 5433)} (data in ${join(dataDir, 'postgres')})`);
    }
    const config = loadConfig({ ...env, INGESTION_WORKFLOW_TYPE: env.INGESTION_WORKFLOW_TYPE ?? DEMO_WORKFLOW_TYPE });
    const db = createDb(config.databaseUrl);
    cleanup.push(['database pool', () => db.destroy()]);
    await migrateToLatest(db);

    const connection = await NativeConnection.connect({ address: env.TEMPORAL_ADDRESS });
    cleanup.push(['worker connection', () => connection.close()]);
    const clientConnection = await Connection.connect({ address: env.TEMPORAL_ADDRESS });
    cleanup.push(['client connection', () => clientConnection.close()]);
    const client = new Client({ connection: clientConnection, namespace: config.namespace });

    const page = await startStatusPage({ db, port: config.statusPagePort ?? 8080 });
    cleanup.push(['status page', () => page.close()]);
    config.dashboardUrl ??= page.url;

    const worker = await createMonitorWorker({ connection, namespace: config.namespace, config, db, client });
    const workerDone = worker.run();
    cleanup.push([
      'monitor worker',
      async () => {
        if (worker.getState() === 'RUNNING') worker.shutdown();
        await workerDone;
      },
    ]);

    // Runs that time out or are terminated (e.g. a stopped demo worker) never report: the reconciler,
    // on its own Temporal Schedule, finds them and reports them as failures.
    await ensureReconcilerSchedule(client, { workflowTypes: [DEMO_WORKFLOW_TYPE], taskQueue: config.taskQueue, every: '1m' });

    // The fleet workflow, as the worker starts it on boot (use-existing; a v0.1 single monitor is replaced).
    await ensureFleet(client, config);
    const fleet = fleetHandle(client, config);
    // Demo thresholds: runs every minute, so "stale" after 3 minutes rather than 4 hours (fleet defaults,
    // pushed to every retailer monitor).
    const everySeconds = num(env.DEMO_EVERY_SECONDS, 60);
    await fleet.executeUpdate(setFleetThresholdsUpdate, { args: [{ thresholds: { staleAfterMs: Math.max(3 * everySeconds * 1000, 60_000) } }] });
    // The demo retailers are expected: their monitors run (and go stale) even before a first report.
    const expected = [...new Set([...Object.keys(DEMO_RETAILERS), ...(expectedFromEnv(env) ?? [])])];
    await fleet.executeUpdate(setExpectedRetailersUpdate, { args: [{ add: expected, by: 'npm start' }] });
    const demo = await startDemo({
      client,
      connection,
      namespace: config.namespace,
      knobsFile: join(dataDir, 'demo-knobs.json'),
      monitor: { workflowId: config.workflowId, taskQueue: config.taskQueue },
      everySeconds,
    });
    cleanup.push(['demo workers', () => demo.stop()]);

    console.log(
      [
        '',
        'ingestion monitor is up',
        `  Temporal Web UI : ${config.temporalUiUrl}/namespaces/${config.namespace}/workflows/${config.workflowId}`,
        `  unhealthy       : ${config.temporalUiUrl}/namespaces/${config.namespace}/workflows?query=${encodeURIComponent(unhealthyFilter)}`,
        `  status page     : ${page.url}`,
        `  Postgres        : ${config.databaseUrl.replace(/:[^:@/]+@/, ':***@')}`,
        `  demo retailers  : ${demo.retailers.join(', ')} (a run every ${everySeconds} s)`,
        '  break one       : npm run demo -- break spar fail|drop|stop   (fix: npm run demo -- fix spar)',
        `  CLI             : TEMPORAL_ADDRESS=${env.TEMPORAL_ADDRESS} npm run cli -- status`,
        '  stop            : Ctrl-C',
        '',
      ].join('\n'),
    );

    await new Promise<void>((resolve) => {
      for (const sig of ['SIGINT', 'SIGTERM'] as const) process.once(sig, () => resolve());
      void workerDone.then(() => resolve(), () => resolve());
    });
    console.log('shutting down …');
  } finally {
    await shutdown();
  }
  console.log('stopped');
}

async function run(): Promise<void> {
  if (process.env.TEMPORAL_ADDRESS && process.env.DATABASE_URL) {
    // Real servers: migrations and the worker, nothing else.
    const config = loadConfig();
    const db = createDb(config.databaseUrl, 1);
    try {
      await migrateToLatest(db);
    } finally {
      await db.destroy();
    }
    await runWorker(config);
    return;
  }
  await startLocal();
}

run().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
