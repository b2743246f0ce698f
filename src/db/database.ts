/** Kysely over node-postgres, plus the migrator. */
import { Kysely, Migrator, PostgresDialect, type MigrationResultSet } from 'kysely';
import { Pool } from 'pg';
import { migrations } from '../../migrations';
import type { Database } from './schema';

export function createDb(databaseUrl: string, poolSize = 5): Kysely<Database> {
  return new Kysely<Database>({
    dialect: new PostgresDialect({ pool: new Pool({ connectionString: databaseUrl, max: poolSize }) }),
  });
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
