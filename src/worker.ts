/**
 * The monitor worker: runs the monitor workflow and its activities on the `ingestion-monitor` task queue.
 * `npm run worker` (after `npm run migrate`). Connection settings come from Temporal's envconfig
 * (TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, TEMPORAL_API_KEY, TLS …); everything else from src/config.ts.
 */
import { Worker, type NativeConnection } from '@temporalio/worker';
import type { Kysely } from 'kysely';
import { createActivities } from './activities';
import { describeChannels, loadConfig, type MonitorConfig } from './config';
import { connectWorker } from './connection';
import { createDb } from './db/database';
import type { Database } from './db/schema';

export interface MonitorWorkerOptions {
  connection: NativeConnection;
  namespace?: string;
  config: MonitorConfig;
  db: Kysely<Database>;
}

export function createMonitorWorker({ connection, namespace, config, db }: MonitorWorkerOptions): Promise<Worker> {
  return Worker.create({
    connection,
    namespace: namespace ?? 'default',
    taskQueue: config.taskQueue,
    workflowsPath: require.resolve('./workflows'),
    activities: createActivities(config, db),
  });
}

/** Run the monitor worker until SIGINT/SIGTERM. */
export async function runWorker(config: MonitorConfig = loadConfig()): Promise<void> {
  const { connection, namespace } = await connectWorker();
  const db = createDb(config.databaseUrl);
  const worker = await createMonitorWorker({ connection, namespace, config, db });
  console.log(`monitor worker on task queue "${config.taskQueue}" (namespace ${namespace}); alert channels: ${describeChannels(config)}`);
  try {
    await worker.run(); // resolves after SIGINT/SIGTERM (the worker installs those handlers)
  } finally {
    await db.destroy();
    await connection.close();
  }
}

if (require.main === module) {
  runWorker().catch((err) => {
    console.error(err);
    process.exit(1);
  });
}
