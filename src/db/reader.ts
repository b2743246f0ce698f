/**
 * Read-only access for the status page: the same DATABASE_URL as the worker, but every connection runs as
 * `grafana_reader` (SELECT on the monitor's own tables only, migrations 002 and 005) inside read-only
 * transactions. No second credential: the login role assumes grafana_reader at connection start (the
 * `role` setting in the startup packet), which migration 005 allows by making it a member (a superuser
 * needs no membership).
 *
 * This keeps a query bug from writing or reading beyond the dashboards' tables. It is not a boundary
 * against arbitrary SQL: a session can `SET ROLE NONE` back to its login role. Grafana, which runs
 * user-written SQL, logs in as grafana_reader itself (grafana/README.md); a URL whose user is
 * grafana_reader works here too.
 */
import { type Kysely, sql } from 'kysely';
import { redact } from '../shared/redact';
import { kyselyOver } from './database';
import type { Database } from './schema';

export const READER_ROLE = 'grafana_reader';

/** The login role cannot read as READER_ROLE; the message says what an admin has to do. */
export class ReaderRoleError extends Error {
  override readonly name = 'ReaderRoleError';
}

/** Postgres SQLSTATEs for "no such role" and "not allowed to set it". */
const UNDEFINED_OBJECT = '42704';
const INSUFFICIENT_PRIVILEGE = '42501';

function loginUser(databaseUrl: string): string {
  try {
    return decodeURIComponent(new URL(databaseUrl).username) || 'the DATABASE_URL user';
  } catch {
    return 'the DATABASE_URL user';
  }
}

/**
 * A Kysely whose connections read as grafana_reader in read-only transactions. Checks one connection
 * before returning, so a misconfigured database fails at start, not on the first page view.
 * @throws ReaderRoleError when the role does not exist, the login role may not assume it, or the
 *   connection does not end up as grafana_reader and read-only (an `options` parameter in the URL that
 *   overrides ours, say). Other errors (unreachable server, bad password) pass through, credentials masked.
 */
export async function createReaderDb(databaseUrl: string, poolSize = 3): Promise<Kysely<Database>> {
  const db = kyselyOver({
    connectionString: databaseUrl,
    max: poolSize,
    options: `-c role=${READER_ROLE} -c default_transaction_read_only=on`,
  });
  const user = loginUser(databaseUrl);
  try {
    const { rows } = await sql<{ who: string; ro: string }>`select current_user as who, current_setting('transaction_read_only') as ro`.execute(db);
    if (rows[0]?.who !== READER_ROLE || rows[0]?.ro !== 'on') {
      throw new ReaderRoleError(
        `the status page's connections run as ${rows[0]?.who ?? '?'} (read-only: ${rows[0]?.ro ?? '?'}), not as ${READER_ROLE} read-only; ` +
          'remove any "options" parameter from DATABASE_URL',
      );
    }
    return db;
  } catch (err) {
    await db.destroy().catch(() => undefined);
    if (err instanceof ReaderRoleError) throw err;
    const code = (err as { code?: unknown }).code;
    const detail = redact(err instanceof Error ? err.message : String(err));
    if (code === UNDEFINED_OBJECT && /role/i.test(detail)) {
      throw new ReaderRoleError(`the status page reads as ${READER_ROLE}, which does not exist (${detail}): run the migrations (npm run migrate) as a role with CREATEROLE, or create it as an admin (grafana/README.md)`, { cause: err });
    }
    if (code === INSUFFICIENT_PRIVILEGE) {
      throw new ReaderRoleError(`the status page reads as ${READER_ROLE}, but ${user} may not assume it (${detail}): as an admin, run GRANT ${READER_ROLE} TO "${user}"`, { cause: err });
    }
    throw new Error(detail, { cause: err });
  }
}
