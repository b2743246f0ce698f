/**
 * The monitor worker: runs the fleet workflow, one retailer monitor per retailer, and their activities on
 * the `ingestion-monitor` task queue. On boot it starts the fleet workflow (use-existing).
 * `npm run worker` (after `npm run migrate`). Connection settings come from Temporal's envconfig
 * (TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, TEMPORAL_API_KEY, TLS …); everything else from src/config.ts.
 */
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import { Worker, type NativeConnection } from '@temporalio/worker';
import type { Kysely } from 'kysely';
import { createActivities } from './activities';
import { describeChannels, loadConfig, type MonitorConfig } from './config';
import { connectClient, connectWorker } from './connection';
import { createDb } from './db/database';
import { ensureReconcilerSchedule } from './reconciler/schedule';
import { startStatusPage } from './status-page/server';
import type { Database } from './db/schema';
import { DEFAULTS, type FleetInput } from './shared/messages';

/** The workflow interceptor that applies a run's first messages in arrival order. */
export const workflowInterceptorModules = [require.resolve('./workflows/arrival-order')];

export interface MonitorWorkerOptions {
  connection: NativeConnection;
  namespace?: string;
  config: MonitorConfig;
  db: Kysely<Database>;
  /** For activities that talk to Temporal about ingestion runs (replay, stale diagnosis, reconciler). */
  client: Client;
}

export function createMonitorWorker({ connection, namespace, config, db, client }: MonitorWorkerOptions): Promise<Worker> {
  return Worker.create({
    connection,
    namespace: namespace ?? 'default',
    taskQueue: config.taskQueue,
    workflowsPath: require.resolve('./workflows'),
    interceptors: { workflowModules: workflowInterceptorModules },
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

/** Expected retailers from EXPECTED_RETAILERS (comma-separated slugs), if set. */
export function expectedFromEnv(env: NodeJS.ProcessEnv = process.env): string[] | undefined {
  const v = env.EXPECTED_RETAILERS?.trim();
  return v ? v.split(',').map((s) => s.trim()).filter(Boolean) : undefined;
}

/** Run the monitor worker until SIGINT/SIGTERM, with the reconciler schedule and status page if configured. */
export async function runWorker(config: MonitorConfig = loadConfig()): Promise<void> {
  const { connection, namespace } = await connectWorker();
  const client = await connectClient();
  const db = createDb(config.databaseUrl);
  const worker = await createMonitorWorker({ connection, namespace, config, db, client });
  await ensureFleet(client, config, { retailerWorkflowIdPrefix: config.retailerWorkflowIdPrefix });
  const expected = expectedFromEnv();
  if (expected) {
    await client.workflow.getHandle(config.workflowId).executeUpdate('setExpectedRetailers', { args: [{ add: expected, by: 'EXPECTED_RETAILERS' }] });
  }
  console.log(`monitor worker on task queue "${config.taskQueue}" (namespace ${namespace}); alert channels: ${describeChannels(config)}`);
  if (config.ingestion.workflowType) {
    await ensureReconcilerSchedule(client, { workflowTypes: [config.ingestion.workflowType], taskQueue: config.taskQueue });
    console.log(`reconciler schedule watches ${config.ingestion.workflowType} runs`);
  }
  const page = config.statusPagePort === undefined ? undefined : await startStatusPage({ db, port: config.statusPagePort });
  if (page) console.log(`status page: ${page.url}`);
  try {
    await worker.run(); // resolves after SIGINT/SIGTERM (the worker installs those handlers)
  } finally {
    await page?.close();
    await db.destroy();
    await client.connection.close();
    await connection.close();
  }
}

if (require.main === module) {
  runWorker().catch((err) => {
    console.error(err);
    process.exit(1);
  });
}
