/** Kysely over node-postgres, plus the migrator. */
import { Kysely, Migrator, PostgresDialect, type MigrationResultSet } from 'kysely';
import { Pool, type PoolConfig } from 'pg';
import { migrations } from '../../migrations';
import { redact } from '../shared/redact';
import type { Database } from './schema';

/** Kysely over a node-postgres pool built from `config` (what createDb and createReaderDb share). */
export function kyselyOver(config: PoolConfig): Kysely<Database> {
  const pool = new Pool(config);
  // An idle connection dropped by the server (restart, failover, Ctrl-C reaching Postgres first) must not
  // crash the worker: the pool discards it and the next query opens a new one.
  pool.on('error', (err) => console.warn(`postgres: idle connection closed (${redact(err.message)})`));
  return new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
}

/** The worker's read-write pool (the migrating role). */
export function createDb(databaseUrl: string, poolSize = 5): Kysely<Database> {
  return kyselyOver({ connectionString: databaseUrl, max: poolSize });
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
