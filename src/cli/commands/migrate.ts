/** `migrate`: bring a database's schema up to date (the same migrations `npm start` applies). */
import { Kysely, PostgresDialect } from 'kysely';
import { Pool } from 'pg';
import { migrateToLatest } from '../../db/database';
import { redact, redactUrl } from '../../shared/redact';
import { Output } from '../context';
import { CliError, databaseFailure, EXIT, usageError } from '../errors';

/** A dead or black-holed database must not hang the CLI. */
const DB_CONNECT_TIMEOUT_MS = 5_000;

function checkUrl(url: string): void {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw usageError('--database-url / DATABASE_URL is not a URL (expected postgres://user:password@host:5432/database)');
  }
  if (u.protocol !== 'postgres:' && u.protocol !== 'postgresql:') {
    throw usageError(`--database-url / DATABASE_URL must be a postgres:// URL, got ${u.protocol}//…`);
  }
}

export async function migrate(out: Output, databaseUrl: string): Promise<void> {
  checkUrl(databaseUrl);
  // Not createDb(): this pool needs a connect timeout, and one connection is all a migration uses.
  const pool = new Pool({ connectionString: databaseUrl, max: 1, connectionTimeoutMillis: DB_CONNECT_TIMEOUT_MS });
  pool.on('error', () => undefined); // an idle client dropped by the server must not crash the process
  const db = new Kysely<unknown>({ dialect: new PostgresDialect({ pool }) });
  try {
    const { results = [] } = await migrateToLatest(db);
    const applied = results.filter((r) => r.status === 'Success').map((r) => r.migrationName);
    out.result(applied.length ? applied.map((n) => `applied: ${n}`).join('\n') : 'database is up to date', { ok: true, applied });
  } catch (err) {
    const f = databaseFailure(err);
    if (f.connection) throw new CliError(`cannot connect to the database at ${redactUrl(databaseUrl)}: ${redact(f.message)}`, EXIT.unreachable);
    throw new CliError(redact(err instanceof Error ? err.message : String(err)), EXIT.unexpected);
  } finally {
    await db.destroy().catch(() => undefined);
  }
}
