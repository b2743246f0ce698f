/**
 * `npm start`: migrate DATABASE_URL, then run the monitor worker against TEMPORAL_ADDRESS until Ctrl-C.
 */
import { loadConfig } from './config';
import { createDb, migrateToLatest } from './db/database';
import { runWorker } from './worker';

async function run(): Promise<void> {
  const config = loadConfig();
  const db = createDb(config.databaseUrl, 1);
  try {
    await migrateToLatest(db);
  } finally {
    await db.destroy();
  }
  await runWorker(config);
}

run().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
