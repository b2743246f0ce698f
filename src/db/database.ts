/** Kysely over node-postgres, plus the migrator. */
import { Kysely, Migrator, PostgresDialect, type MigrationResultSet } from 'kysely';
import { Pool } from 'pg';
import { migrations } from '../../migrations';
import type { Database } from './schema';

export function createDb(databaseUrl: string, poolSize = 5): Kysely<Database> {
  const pool = new Pool({ connectionString: databaseUrl, max: poolSize });
  // An idle connection dropped by the server (restart, failover, Ctrl-C reaching Postgres first) must not
  // crash the worker: the pool discards it and the next query opens a new one.
  pool.on('error', (err) => console.warn(`postgres: idle connection closed (${err.message})`));
  return new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
}

/** Apply every pending migration; throws with the failing migration's name and error. */
export async function migrateToLatest(db: Kysely<any>): Promise<MigrationResultSet> {
  const migrator = new Migrator({ db, provider: { getMigrations: async () => migrations } });
  const result = await migrator.migrateToLatest();
  if (result.error) {
    const failed = result.results?.find((r) => r.status === 'Error')?.migrationName ?? 'unknown';
    const err = result.error instanceof Error ? result.error : new Error(String(result.error));
    throw new Error(`migration ${failed} failed: ${err.message}`, { cause: err });
  }
  return result;
}
