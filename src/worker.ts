/**
 * The monitor worker: runs the fleet workflow, one retailer monitor per retailer, and their activities on
 * the `ingestion-monitor` task queue. On boot it starts the fleet workflow (use-existing).
 * `npm run worker` (after `npm run migrate`). Connection settings come from Temporal's envconfig
 * (TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, TEMPORAL_API_KEY, TLS …); everything else from src/config.ts.
 */
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import { DefaultLogger, Runtime, Worker, type NativeConnection } from '@temporalio/worker';
import type { Kysely } from 'kysely';
import { createActivities } from './activities';
import { describeChannels, loadConfig, type MonitorConfig } from './config';
import { connectClient, connectWorker } from './connection';
import { createDb } from './db/database';
import { createReaderDb } from './db/reader';
import { redactError } from './shared/redact';
import { prepareObservability, type WorkerObservability } from './observability/observability';
import { ensureReconcilerSchedule } from './reconciler/schedule';
import { syncRetentionSchedule } from './retention/schedule';
import { startStatusPage } from './status-page/server';
import { prebuiltWorkflowBundle } from './prebuilt-bundles';
import { applyHeapGrowth, describeTuning } from './worker-tuning';
import { TRACING_WORKFLOW_MODULE } from './observability/tracing';
import type { Database } from './db/schema';
import { DEFAULTS, type FleetInput } from './shared/messages';

/** The workflow interceptor that applies a run's first messages in arrival order. */
export const workflowInterceptorModules = [require.resolve('./workflows/arrival-order')];

/**
 * Modules the workflow context loads once and shares between workflows (the SDK's `preloadModules`),
 * instead of evaluating them again for every workflow it creates: zod (about a third of a cached retailer
 * monitor's heap, docs/benchmarks.md, "Worker RSS per retailer") and our modules that build zod schemas
 * (most of the rest, "Round 6"). Only stateless modules belong here, and the SDK deep-freezes what they
 * export: src/workflows/preloaded.ts says what that asks of them.
 */
export const workflowPreloadModules = [require.resolve('./workflows/preloaded')];

/**
 * What the monitor's workflow bundle is made of, with tracing's workflow interceptors or without: the
 * worker bundles this at start when run from source; `npm run build` prebuilds both forms for dist/.
 */
export function monitorWorkflowCode(tracing: boolean): { workflowsPath: string; workflowInterceptorModules: string[]; preloadModules: string[] } {
  return {
    workflowsPath: require.resolve('./workflows'),
    workflowInterceptorModules: [...workflowInterceptorModules, ...(tracing ? [TRACING_WORKFLOW_MODULE] : [])],
    preloadModules: workflowPreloadModules,
  };
}

export interface MonitorWorkerOptions {
  connection: NativeConnection;
  namespace?: string;
  config: MonitorConfig;
  db: Kysely<Database>;
  /**
   * For activities that talk to Temporal about ingestion runs (replay, stale diagnosis, reconciler) and
   * hand alerts to the fleet. With tracing on, give it the tracing client interceptors too, so the hand-over
   * carries the trace to the fleet workflow.
   */
  client: Client;
  /** Alert metrics (an activity interceptor) and tracing (interceptors and a sink); none by default. */
  observability?: WorkerObservability;
}

export function createMonitorWorker({ connection, namespace, config, db, client, observability = {} }: MonitorWorkerOptions): Promise<Worker> {
  const { alertMetrics, tracing } = observability;
  // Before Worker.create starts the workflow thread; process-wide (a V8 flag), so it holds for every worker here.
  applyHeapGrowth(config.heapGrowingPercent ?? 0);
  // Run from dist/: the bundle `npm run build` made, its workflow interceptors compiled in (no webpack here).
  const bundle = prebuiltWorkflowBundle(tracing ? 'monitor-tracing' : 'monitor');
  const code = monitorWorkflowCode(!!tracing);
  return Worker.create({
    connection,
    namespace: namespace ?? 'default',
    taskQueue: config.taskQueue,
    ...(bundle ? { workflowBundle: bundle } : { workflowsPath: code.workflowsPath, bundlerOptions: { preloadModules: code.preloadModules } }),
    ...config.worker, // WORKER_MAX_*: cache and task slots
    interceptors: {
      // Tracing's workflow module only when tracing is on, so the workflow code is otherwise unchanged.
      ...(bundle ? {} : { workflowModules: code.workflowInterceptorModules }),
      // Tracing outermost, so the metrics interceptor runs inside the activity's span.
      activity: [...(tracing?.activityInterceptors ?? []), ...(alertMetrics ? [alertMetrics.interceptor()] : [])],
    },
    ...(tracing ? { sinks: tracing.sinks } : {}),
    activities: createActivities(config, db, client),
  });
}

/**
 * Make sure the fleet workflow runs. The single monitor of v0.1 had the same id: it is terminated (its
 * data lives on in Postgres, from which each retailer monitor rebuilds) and the fleet takes its place.
 */
export async function ensureFleet(client: Client, config: Pick<MonitorConfig, 'workflowId' | 'taskQueue'>, input: FleetInput = {}): Promise<void> {
  const handle = client.workflow.getHandle(config.workflowId);
  try {
    const d = await handle.describe();
    if (d.status.name === 'RUNNING' && d.type === DEFAULTS.legacyWorkflowType) {
      await handle.terminate('replaced by per-retailer monitors (ingestion-monitor/<retailer>); state rebuilt from Postgres');
      console.log(`terminated the v0.1 single monitor ${config.workflowId}; retailer monitors rebuild from Postgres`);
    }
  } catch (err) {
    if (!(err instanceof WorkflowNotFoundError)) throw err;
  }
  await client.workflow.start(DEFAULTS.fleetWorkflowType, {
    workflowId: config.workflowId,
    taskQueue: config.taskQueue,
    args: [input],
    workflowIdConflictPolicy: 'USE_EXISTING',
  });
}


/**
 * Run the monitor worker until SIGINT/SIGTERM, with the reconciler schedule and status page if configured,
 * `/metrics` if METRICS_PORT is set and tracing if OTEL_EXPORTER_OTLP_ENDPOINT is set. Installs the SDK
 * Runtime (pass `installRuntime: false` if the process already did; the SDK's own metrics are then left out).
 */
export async function runWorker(config: MonitorConfig = loadConfig(), opts: { installRuntime?: boolean } = {}): Promise<void> {
  const obs = await prepareObservability(config);
  if (opts.installRuntime !== false) Runtime.install({ logger: new DefaultLogger('INFO'), telemetryOptions: obs.telemetryOptions() });
  const { connection, namespace } = await connectWorker();
  const client = await connectClient(process.env, { interceptors: obs.clientInterceptors });
  const db = createDb(config.databaseUrl);
  const worker = await createMonitorWorker({ connection, namespace, config, db, client, observability: obs.worker(db) });
  await ensureFleet(client, config, { retailerWorkflowIdPrefix: config.retailerWorkflowIdPrefix });
  const expected = config.expectedRetailers;
  if (expected) {
    await client.workflow.getHandle(config.workflowId).executeUpdate('setExpectedRetailers', { args: [{ add: expected, by: 'EXPECTED_RETAILERS' }] });
  }
  console.log(`monitor worker on task queue "${config.taskQueue}" (namespace ${namespace}); alert channels: ${describeChannels(config)}`);
  const bundle = prebuiltWorkflowBundle(obs.settings.tracing ? 'monitor-tracing' : 'monitor');
  console.log(`workflow code: ${bundle ? `prebuilt bundle ${bundle.codePath}` : 'bundled at start (run from source)'}; ${describeTuning(config.worker, config.heapGrowingPercent)}`);
  if (config.ingestion.workflowType) {
    await ensureReconcilerSchedule(client, { workflowTypes: [config.ingestion.workflowType], taskQueue: config.taskQueue });
    console.log(`reconciler schedule watches ${config.ingestion.workflowType} runs`);
  }
  const retention = await syncRetentionSchedule(client, { retentionDays: config.runRetentionDays, taskQueue: config.taskQueue });
  if (retention === 'ensured') console.log(`retention schedule prunes runs older than ${config.runRetentionDays} days, hourly`);
  if (retention === 'removed') console.log('retention schedule removed (RUN_RETENTION_DAYS is unset: runs are kept)');
  // The status page reads as grafana_reader in read-only transactions, never with the worker's own role.
  const readerDb = config.statusPagePort === undefined ? undefined : await createReaderDb(config.databaseUrl);
  const page = readerDb && (await startStatusPage({ db: readerDb, port: config.statusPagePort!, allowedHosts: config.statusPageAllowedHosts }));
  if (page) console.log(`status page: ${page.url}`);
  const metrics = await obs.serveMetrics(db);
  if (metrics) console.log(`metrics: ${metrics.url}`);
  if (obs.settings.tracing) console.log(`tracing: spans to ${obs.settings.tracing.tracesUrl} as service ${obs.settings.tracing.serviceName}`);
  try {
    await worker.run(); // resolves after SIGINT/SIGTERM (the worker installs those handlers)
  } finally {
    await page?.close();
    await readerDb?.destroy();
    await obs.shutdown();
    await db.destroy();
    await client.connection.close();
    await connection.close();
  }
}

if (require.main === module) {
  runWorker().catch((err) => {
    console.error(redactError(err));
    process.exit(1);
  });
}
