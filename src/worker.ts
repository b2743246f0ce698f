/**
 * The monitor worker: runs the monitor workflow and its activities on the `ingestion-monitor` task queue.
 * `npm run worker` (after `npm run migrate`). Connection settings come from Temporal's envconfig
 * (TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, TEMPORAL_API_KEY, TLS …); everything else from src/config.ts.
 */
import type { Client } from '@temporalio/client';
import { Worker, type NativeConnection } from '@temporalio/worker';
import type { Kysely } from 'kysely';
import { createActivities } from './activities';
import { describeChannels, loadConfig, type MonitorConfig } from './config';
import { connectClient, connectWorker } from './connection';
import { createDb } from './db/database';
import { ensureReconcilerSchedule } from './reconciler/schedule';
import { startStatusPage } from './status-page/server';
import type { Database } from './db/schema';

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
    activities: createActivities(config, db, client),
  });
}

/** Run the monitor worker until SIGINT/SIGTERM, with the reconciler schedule and status page if configured. */
export async function runWorker(config: MonitorConfig = loadConfig()): Promise<void> {
  const { connection, namespace } = await connectWorker();
  const client = await connectClient();
  const db = createDb(config.databaseUrl);
  const worker = await createMonitorWorker({ connection, namespace, config, db, client });
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
