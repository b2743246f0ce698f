/**
 * `npm start` — one command to see it all work.
 *
 * - No TEMPORAL_ADDRESS: starts a Temporal dev server (Web UI included), persisted under the data folder,
 *   with the retailer monitors' search attributes (RetailerHealth, OpenRules) registered.
 * - No DATABASE_URL: starts an embedded Postgres, persisted under the data folder.
 * - Either missing ("local mode"): also the built-in status page and a demo ingestion stack (Schedules and
 *   workers for a handful of retailers, reporting through the interceptor) with knobs to break them.
 * - Both set (real servers): migrations and the monitor worker only.
 * Stopping (local mode): Ctrl-C, SIGTERM to npm or to the node process, SIGHUP, or npm going away stop
 * everything in order: demo workers, monitor worker (drains), status page, connections and database pool,
 * then the Temporal dev server, then Postgres (both run detached, so Ctrl-C reaches only this process).
 * A second npm start on the same data folder or ports, or a previous run's leftovers, are named (PIDs,
 * ports, the `kill` that stops them) before anything starts.
 */
import { join, resolve } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection, Runtime } from '@temporalio/worker';
import { loadConfig, type LoadedConfig } from './config';
import { createDb, migrateToLatest } from './db/database';
import { createReaderDb } from './db/reader';
import { prepareObservability, type Observability } from './observability/observability';
import { redact, redactUrl } from './shared/redact';
import { startDemo } from './demo/stack';
import { DEMO_RETAILERS } from './demo/retailers';
import { DEMO_WORKFLOW_TYPE } from './demo/stack';
import { ensureReconcilerSchedule } from './reconciler/schedule';
import { syncRetentionSchedule } from './retention/schedule';
import { fleetHandle } from './client';
import { DEFAULTS, SEARCH_ATTRIBUTES, setExpectedRetailersUpdate, setFleetThresholdsUpdate } from './shared/messages';
import { startEmbeddedPostgres } from './stack/embedded-postgres';
import { claimDataDir, type PortUse, StackInUseError } from './stack/run-lock';
import { ExpectedFailureLogger } from './stack/runtime-logger';
import type { ServerProcess } from './stack/server-process';
import { watchStopRequests } from './stack/stop-requests';
import { findTemporalCli, startLocalTemporal, TemporalCliNotFoundError } from './stack/temporal-server';
import { startStatusPage } from './status-page/server';
import { createMonitorWorker, ensureFleet, runWorker } from './worker';

/** The Web UI list filter for retailers that need a look (the runbook gives the same). */
const unhealthyFilter = `WorkflowType = '${DEFAULTS.retailerWorkflowType}' AND ExecutionStatus = 'Running' AND ${SEARCH_ATTRIBUTES.health} = 'unhealthy'`;

/** Ports local mode listens on (those of servers it starts), checked before anything starts. */
function localPorts(env: NodeJS.ProcessEnv, config: LoadedConfig): PortUse[] {
  const ports: PortUse[] = [];
  if (!env.TEMPORAL_ADDRESS) {
    ports.push({ port: config.local.temporalPort, what: 'Temporal dev server', envVar: 'TEMPORAL_PORT' });
    ports.push({ port: config.local.temporalUiPort, what: 'Temporal Web UI', envVar: 'TEMPORAL_UI_PORT' });
  }
  if (!env.DATABASE_URL) ports.push({ port: config.local.embeddedPgPort, what: 'embedded Postgres', envVar: 'EMBEDDED_PG_PORT' });
  ports.push({ port: config.statusPagePort ?? 8080, what: 'status page', envVar: 'STATUS_PAGE_PORT' });
  if (config.metrics.port) ports.push({ port: config.metrics.port, what: 'Prometheus /metrics', envVar: 'METRICS_PORT' });
  return ports;
}

/**
 * The SDK's Runtime, installed once, here. Its logger keeps warnings and errors (the SDK's per-task INFO
 * lines would bury the URLs) but prints the demo's expected ingestion failures as one line each. No SDK
 * signal handling: stopping is ours, so workers drain before the servers they talk to are stopped.
 */
function installRuntime(obs: Observability): void {
  Runtime.install({ logger: new ExpectedFailureLogger([DEMO_WORKFLOW_TYPE]), shutdownSignals: [], telemetryOptions: obs.telemetryOptions() });
}

/** A stop was requested while starting: skip the rest and stop what has started. */
class StopRequestedError extends Error {
  override readonly name = 'StopRequestedError';
}

async function startLocal(): Promise<void> {
  const stop = watchStopRequests();
  const checkpoint = () => {
    if (stop.reason()) throw new StopRequestedError(stop.reason());
  };
  const env = { ...process.env };
  // Alerts show in this terminal when no other channel is configured (the console alert channel).
  env.ALERT_CONSOLE ??= 'true';
  // Commands in alerts as this checkout runs them (the published form is `npx ingestion-monitor`).
  env.MONITOR_CLI ??= 'npm run cli --';
  // Every variable checked before anything starts (ConfigError lists each problem).
  const checked = loadConfig(env);
  if (!env.TEMPORAL_ADDRESS && !findTemporalCli(env)) throw new TemporalCliNotFoundError();
  const dataDir = resolve(env.MONITOR_DATA_DIR ?? '.data');
  // Before anything starts: another npm start on this data folder, a previous one's leftovers, taken ports.
  const lock = await claimDataDir(dataDir, localPorts(env, checked));
  // Metrics (METRICS_PORT) and tracing (OTEL_EXPORTER_OTLP_ENDPOINT) must be known before the Runtime.
  const obs = await prepareObservability(checked);
  installRuntime(obs);
  // Stopped in reverse order: demo workers, monitor worker, status page, client and worker connections,
  // database pool, Temporal dev server, embedded Postgres.
  const cleanup: Array<[string, () => Promise<unknown>]> = [];
  const shutdown = async () => {
    for (const [what, fn] of cleanup.reverse()) {
      await fn().catch((err) => console.error(`shutdown of ${what}: ${errorText(err)}`));
      console.log(`  stopped ${what}`);
    }
  };
  try {
    // The two servers start side by side; each is recorded in the lock file as soon as it is spawned.
    const onSpawn = (p: ServerProcess) => lock.recordServer(p.name, p.pid);
    const temporalPort = checked.local.temporalPort;
    const pgPort = checked.local.embeddedPgPort;
    const [t, pg] = await Promise.allSettled([
      env.TEMPORAL_ADDRESS ? undefined : startLocalTemporal({ dataDir, port: temporalPort, uiPort: checked.local.temporalUiPort, onSpawn }),
      env.DATABASE_URL ? undefined : startEmbeddedPostgres({ dataDir, port: pgPort, onSpawn }),
    ]);
    if (pg.status === 'fulfilled' && pg.value) {
      cleanup.push(['embedded Postgres', pg.value.stop]);
      env.DATABASE_URL = pg.value.url;
      console.log(`embedded Postgres: 127.0.0.1:${pgPort} (data in ${join(dataDir, 'postgres')}, log ${pg.value.process.logFile})`);
    }
    if (t.status === 'fulfilled' && t.value) {
      cleanup.push(['Temporal dev server', t.value.stop]);
      env.TEMPORAL_ADDRESS = t.value.address;
      env.TEMPORAL_UI_URL ??= t.value.uiUrl;
      console.log(`Temporal dev server: ${t.value.address} (CLI: ${t.value.cli}, log ${t.value.process.logFile})`);
    }
    for (const r of [t, pg]) if (r.status === 'rejected') throw r.reason;
    checkpoint();

    const config = loadConfig({ ...env, INGESTION_WORKFLOW_TYPE: env.INGESTION_WORKFLOW_TYPE ?? DEMO_WORKFLOW_TYPE });
    const db = createDb(config.databaseUrl);
    cleanup.push(['database pool', () => db.destroy()]);
    await migrateToLatest(db);

    const connection = await NativeConnection.connect({ address: env.TEMPORAL_ADDRESS });
    cleanup.push(['worker connection', () => connection.close()]);
    const clientConnection = await Connection.connect({ address: env.TEMPORAL_ADDRESS });
    cleanup.push(['client connection', () => clientConnection.close()]);
    const client = new Client({ connection: clientConnection, namespace: config.namespace, interceptors: obs.clientInterceptors });

    // The status page reads as grafana_reader in read-only transactions (migration 005), not as the worker.
    const readerDb = await createReaderDb(config.databaseUrl);
    cleanup.push(['status page database pool', () => readerDb.destroy()]);
    const page = await startStatusPage({ db: readerDb, port: config.statusPagePort ?? 8080, allowedHosts: config.statusPageAllowedHosts });
    cleanup.push(['status page', () => page.close()]);
    // Closed after the worker has drained (cleanup runs in reverse): /metrics, then the last spans flushed.
    cleanup.push(['metrics and tracing', () => obs.shutdown()]);
    const metrics = await obs.serveMetrics(db);
    config.dashboardUrl ??= page.url;
    checkpoint();

    const worker = await createMonitorWorker({ connection, namespace: config.namespace, config, db, client, observability: obs.worker(db) });
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
    // RUN_RETENTION_DAYS: an hourly Schedule prunes old runs (removed again when the variable is unset).
    await syncRetentionSchedule(client, { retentionDays: config.runRetentionDays, taskQueue: config.taskQueue });

    // The fleet workflow, as the worker starts it on boot (use-existing; a v0.1 single monitor is replaced).
    await ensureFleet(client, config);
    const fleet = fleetHandle(client, config);
    // Demo thresholds: runs every minute, so "stale" after 3 minutes rather than 4 hours, and a scheduled run
    // that does not report is a missed run after 30 s rather than 15 min (fleet defaults, pushed to every
    // retailer monitor).
    const everySeconds = config.local.demoEverySeconds;
    const demoThresholds = { staleAfterMs: Math.max(3 * everySeconds * 1000, 60_000), missedRunGraceMs: Math.max(everySeconds * 500, 15_000) };
    await fleet.executeUpdate(setFleetThresholdsUpdate, { args: [{ thresholds: demoThresholds }] });
    // The demo retailers are expected: their monitors run (and go stale) even before a first report.
    const expected = [...new Set([...DEMO_RETAILERS.keys(), ...(config.expectedRetailers ?? [])])];
    await fleet.executeUpdate(setExpectedRetailersUpdate, { args: [{ add: expected, by: 'npm start' }] });
    checkpoint();
    const demo = await startDemo({
      client,
      connection,
      namespace: config.namespace,
      knobsFile: join(dataDir, 'demo-knobs.json'),
      monitor: { workflowId: config.workflowId, taskQueue: config.taskQueue },
      everySeconds,
    });
    cleanup.push(['demo workers', () => demo.stop()]);
    checkpoint();

    console.log(
      [
        '',
        'ingestion monitor is up',
        `  Temporal Web UI : ${config.temporalUiUrl}/namespaces/${config.namespace}/workflows/${config.workflowId}`,
        `  unhealthy       : ${config.temporalUiUrl}/namespaces/${config.namespace}/workflows?query=${encodeURIComponent(unhealthyFilter)}`,
        `  status page     : ${page.url}`,
        `  Postgres        : ${redactUrl(config.databaseUrl)}`,
        ...(metrics ? [`  metrics         : ${metrics.url}`] : []),
        ...(obs.settings.tracing ? [`  tracing         : spans to ${obs.settings.tracing.tracesUrl}`] : []),
        `  demo retailers  : ${demo.retailers.join(', ')} (a run every ${everySeconds} s)`,
        '  break one       : npm run demo -- break spar fail|drop|stop   (fix: npm run demo -- fix spar)',
        `  CLI             : TEMPORAL_ADDRESS=${env.TEMPORAL_ADDRESS} npm run cli -- status`,
        `  stop            : Ctrl-C (or kill ${process.pid})`,
        '',
      ].join('\n'),
    );

    const why = await Promise.race([stop.requested, workerDone.then(() => 'the monitor worker stopped', (err) => `the monitor worker failed: ${errorText(err)}`)]);
    console.log(`shutting down (${why}) …`);
  } catch (err) {
    if (err instanceof StopRequestedError) {
      console.log(`shutting down (${err.message}) …`);
    } else {
      // Said before the "stopped …" lines of what had started.
      console.error(`npm start: ${redact(errorText(err))}`);
      process.exitCode = 1;
    }
  } finally {
    await shutdown();
    lock.release();
    stop.done();
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

/** An error as one readable message (the SDK's native errors are not always `instanceof Error`). */
function errorText(err: unknown): string {
  const message = (err as { message?: unknown } | undefined)?.message;
  return typeof message === 'string' && message ? message : err === undefined ? 'failed, no reason given' : String(err);
}

run().catch((err) => {
  console.error(err instanceof StackInUseError ? err.message : `npm start: ${redact(errorText(err))}`);
  process.exit(1);
});
