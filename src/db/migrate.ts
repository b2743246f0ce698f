/** `npm run migrate`: bring DATABASE_URL's schema up to date. */
import { loadConfig } from '../config';
import { redactError } from '../shared/redact';
import { createDb, migrateToLatest } from './database';

async function run(): Promise<void> {
  const db = createDb(loadConfig().databaseUrl, 1);
  try {
    const { results } = await migrateToLatest(db);
    for (const r of results ?? []) console.log(`${r.status === 'Success' ? 'applied' : r.status}: ${r.migrationName}`);
    if (!results?.length) console.log('database is up to date');
  } finally {
    await db.destroy();
  }
}

run().catch((err) => {
  console.error(redactError(err));
  process.exit(1);
});
