/**
 * Least privilege for `grafana_reader` (migration 002), the role Grafana and the built-in status page read
 * through:
 * - No more default privileges: 002's `ALTER DEFAULT PRIVILEGES … GRANT SELECT ON TABLES` let the role read
 *   every table created later in the schema — with the default `public` schema, other applications' tables
 *   too. Revoked, and so is SELECT on every other table or view of the schema it could already read.
 * - SELECT on the monitor's own tables only, listed below; never on Kysely's migration tables. A migration
 *   that adds a table the dashboards read grants it explicitly.
 * - The migrating (worker) role becomes a member of `grafana_reader`, so the status page can read as it
 *   (`createReaderDb`, src/db/reader.ts) without a second credential. A superuser needs no membership.
 * Like 002, a migrating user that may not do something gets a warning instead of a failed deploy; the
 * warning says what an admin has to run.
 */
import { type Kysely, sql } from 'kysely';

/**
 * The tables the reader may SELECT. Frozen here on purpose (a migration must not change with later code);
 * test/least-privilege.test.ts checks it against the schema.
 */
const READER_TABLES = ['ingestion_runs', 'retailer_status', 'alert_events', 'operator_actions', 'quarantine'];

const tableList = sql.raw(READER_TABLES.join(', '));
const tableArray = sql.raw(`ARRAY[${READER_TABLES.map((t) => `'${t}'`).join(', ')}]::text[]`);

export async function up(db: Kysely<any>): Promise<void> {
  await sql`
DO $$
DECLARE
  t record;
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = 'grafana_reader') THEN
    RAISE WARNING 'grafana_reader does not exist (see migration 002): the status page cannot read through it until an admin creates it, grants it SELECT on ${tableList} and grants it to %.', current_user;
    RETURN;
  END IF;

  EXECUTE format('ALTER DEFAULT PRIVILEGES IN SCHEMA %I REVOKE SELECT ON TABLES FROM grafana_reader', current_schema());
  IF EXISTS (
    SELECT 1 FROM pg_catalog.pg_default_acl d
    LEFT JOIN pg_catalog.pg_namespace n ON n.oid = d.defaclnamespace
    WHERE (n.nspname = current_schema() OR d.defaclnamespace = 0)
      AND d.defaclobjtype = 'r'
      AND EXISTS (SELECT 1 FROM aclexplode(d.defaclacl) a JOIN pg_catalog.pg_roles r ON r.oid = a.grantee WHERE r.rolname = 'grafana_reader')
  ) THEN
    RAISE WARNING 'another role still has default privileges granting SELECT to grafana_reader in schema %; its owner should run ALTER DEFAULT PRIVILEGES FOR ROLE <owner> IN SCHEMA % REVOKE SELECT ON TABLES FROM grafana_reader', current_schema(), current_schema();
  END IF;

  -- Tables and views of this schema the reader could read through the old default privileges.
  FOR t IN
    SELECT c.relname, pg_catalog.pg_has_role(c.relowner, 'USAGE') AS ours
    FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname = current_schema()
      AND c.relkind IN ('r', 'p', 'v', 'm', 'f')
      AND c.relname <> ALL (${tableArray})
      AND pg_catalog.has_table_privilege('grafana_reader', c.oid, 'SELECT')
  LOOP
    IF t.ours THEN
      EXECUTE format('REVOKE SELECT ON %I.%I FROM grafana_reader', current_schema(), t.relname);
    ELSE
      RAISE WARNING 'grafana_reader can read %.%, which % does not own; its owner should REVOKE SELECT ON it FROM grafana_reader', current_schema(), t.relname, current_user;
    END IF;
  END LOOP;

  EXECUTE format('GRANT USAGE ON SCHEMA %I TO grafana_reader', current_schema());
  GRANT SELECT ON ${tableList} TO grafana_reader;

  IF NOT pg_catalog.pg_has_role(current_user, 'grafana_reader', 'MEMBER')
     AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = current_user AND rolsuper) THEN
    BEGIN
      EXECUTE format('GRANT grafana_reader TO %I', current_user);
    EXCEPTION WHEN insufficient_privilege OR invalid_grant_operation THEN
      RAISE WARNING '% may not grant itself grafana_reader: the status page cannot read through that role until an admin runs GRANT grafana_reader TO %', current_user, current_user;
    END;
  END IF;
END
$$`.execute(db);
}

/**
 * Back to 002's default privileges. The membership stays: roles are cluster-wide, another database's status
 * page may rely on it, and it gives the owner of the tables nothing it does not already have.
 */
export async function down(db: Kysely<any>): Promise<void> {
  await sql`
DO $$
BEGIN
  IF EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = 'grafana_reader') THEN
    EXECUTE format('ALTER DEFAULT PRIVILEGES IN SCHEMA %I GRANT SELECT ON TABLES TO grafana_reader', current_schema());
  END IF;
END
$$`.execute(db);
}
