/**
 * Least privilege (issue 10): grafana_reader, through which Grafana and the status page read, has SELECT
 * on the monitor's own tables and nothing else — no writes, no DDL, no other application's table in the
 * schema, no migration bookkeeping — and the status page's createReaderDb reads as it without a second
 * credential. Real Postgres; grafana_reader is cluster-wide, but grants are per database, so every case
 * uses its own database.
 */
import { type Kysely, Migrator, sql } from 'kysely';
import { migrations } from '../migrations';
import { createDb, migrateToLatest } from '../src/db/database';
import { createReaderDb, READER_ROLE, ReaderRoleError } from '../src/db/reader';
import type { Database } from '../src/db/schema';
import { ADMIN_URL, admin, createTestDatabase, type TestDatabase } from './helpers/postgres';

/** The monitor's tables (src/db/schema.ts): exactly what the reader may SELECT. */
const MONITOR_TABLES = ['alert_events', 'ingestion_runs', 'ingestion_runs_hourly', 'operator_actions', 'quarantine', 'retailer_status', 'slack_messages'];

/** The tables of the schema grafana_reader may SELECT, as Postgres reports them. */
async function readable(db: Kysely<any>): Promise<string[]> {
  const { rows } = await sql<{ t: string }>`
    select c.relname as t from pg_class c join pg_namespace n on n.oid = c.relnamespace
    where n.nspname = current_schema() and c.relkind in ('r', 'p', 'v', 'm')
      and has_table_privilege(${READER_ROLE}, c.oid, 'SELECT')
    order by 1`.execute(db);
  return rows.map((r) => r.t);
}

/** The error code of a statement that must fail ('none' if it did not). */
async function failure(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return 'none';
  } catch (err) {
    return String((err as { code?: unknown }).code);
  }
}

const READ_ONLY = '25006';
const PERMISSION_DENIED = '42501';

describe('through createReaderDb', () => {
  let tdb: TestDatabase;
  let reader: Kysely<Database>;
  beforeAll(async () => {
    tdb = await createTestDatabase('im_lp');
    await tdb.db
      .insertInto('retailer_status')
      .values({ retailer: 'spar', health: 'healthy', first_seen_at: new Date(), updated_at: new Date(), consecutive_failures: 0, open_incidents: 0, open_rules: '' })
      .execute();
    // Another application's table in the same schema, created by the same role after the migrations.
    await sql`create table other_app_secrets (token text)`.execute(tdb.db);
    await sql`insert into other_app_secrets values ('hunter2')`.execute(tdb.db);
    reader = await createReaderDb(tdb.url);
  });
  afterAll(async () => {
    await reader?.destroy();
    await tdb?.drop();
  });

  it('runs as grafana_reader in read-only transactions', async () => {
    const { rows } = await sql<{ who: string; ro: string }>`select current_user as who, current_setting('transaction_read_only') as ro`.execute(reader);
    expect(rows[0]).toEqual({ who: READER_ROLE, ro: 'on' });
  });

  it("reads every one of the monitor's tables", async () => {
    for (const table of MONITOR_TABLES) {
      await expect(sql`select count(*) from ${sql.table(table)}`.execute(reader)).resolves.toBeDefined();
    }
    const rows = await reader.selectFrom('retailer_status').select(['retailer', 'health']).execute();
    expect(rows).toEqual([{ retailer: 'spar', health: 'healthy' }]);
  });

  it('cannot read the migration tables or another application\'s table in the schema', async () => {
    expect(await failure(sql`select * from other_app_secrets`.execute(reader))).toBe(PERMISSION_DENIED);
    expect(await failure(sql`select * from kysely_migration`.execute(reader))).toBe(PERMISSION_DENIED);
    expect(await failure(sql`select * from kysely_migration_lock`.execute(reader))).toBe(PERMISSION_DENIED);
    expect(await readable(tdb.db)).toEqual(MONITOR_TABLES);
  });

  const writes = {
    INSERT: sql`insert into retailer_status (retailer, health, first_seen_at, updated_at) values ('pnp', 'healthy', now(), now())`,
    UPDATE: sql`update retailer_status set health = 'unhealthy'`,
    DELETE: sql`delete from ingestion_runs`,
    DROP: sql`drop table alert_events`,
    'CREATE TABLE': sql`create table intruder (x int)`,
  };

  it.each(Object.keys(writes))('%s fails: the transaction is read-only', async (what) => {
    expect(await failure(writes[what as keyof typeof writes].execute(reader))).toBe(READ_ONLY);
  });

  it.each(Object.keys(writes))('%s fails even in a read-write transaction: the role may not', async (what) => {
    const code = await failure(
      reader.connection().execute(async (c) => {
        await sql`begin read write`.execute(c);
        try {
          await writes[what as keyof typeof writes].execute(c);
        } finally {
          await sql`rollback`.execute(c);
        }
      }),
    );
    // DROP of a table one does not own is "must be owner" (also 42501).
    expect(code).toBe(PERMISSION_DENIED);
    const { rows } = await sql<{ n: string }>`select count(*) as n from retailer_status where health = 'healthy'`.execute(tdb.db);
    expect(rows[0]!.n).toBe('1');
  });
});

describe('migration 005', () => {
  it('takes back what the old default privileges granted, and down restores them', async () => {
    const tdb = await createTestDatabase('im_lp_mig', { migrate: false });
    try {
      const migrator = new Migrator({ db: tdb.db, provider: { getMigrations: async () => migrations } });
      expect((await migrator.migrateTo('2026-11-27-004-per-retailer')).error).toBeUndefined();
      await sql`create table before_005 (x int)`.execute(tdb.db);
      // The defect: through 002's default privileges, a table another app creates is readable.
      expect(await readable(tdb.db)).toContain('before_005');

      await migrateToLatest(tdb.db);
      // A migration that adds a table must decide whether the reader sees it (and update this list).
      const { rows: tables } = await sql<{ t: string }>`
        select tablename as t from pg_tables where schemaname = current_schema() and tablename not like 'kysely%' and tablename <> 'before_005' order by 1`.execute(tdb.db);
      expect(tables.map((r) => r.t)).toEqual(MONITOR_TABLES);
      await sql`create table after_005 (x int)`.execute(tdb.db);
      expect(await readable(tdb.db)).toEqual(MONITOR_TABLES);

      // Back to before 005 (later migrations are undone on the way).
      expect((await migrator.migrateTo('2026-11-27-004-per-retailer')).error).toBeUndefined();
      await sql`create table after_down (x int)`.execute(tdb.db);
      // 011's slack_messages and 009's rollup are gone again; the tables that remain are readable through the restored defaults.
      const before005 = MONITOR_TABLES.filter((t) => t !== 'ingestion_runs_hourly' && t !== 'slack_messages');
      expect(await readable(tdb.db)).toEqual([...before005, 'after_down'].sort());
    } finally {
      await tdb.drop();
    }
  });
});

describe('a worker role that is not a superuser', () => {
  const role = `im_lp_worker_${process.pid}_${Date.now().toString(36)}`;
  const dbName = `${role}_db`;
  let url: string;
  beforeAll(async () => {
    // grafana_reader exists (a migrated database), as an admin would have created it.
    const seed = await createTestDatabase('im_lp_seed');
    await seed.drop();
    await admin(async (c) => {
      await c.query(`CREATE ROLE ${role} LOGIN`);
      await c.query(`CREATE DATABASE ${dbName} OWNER ${role}`);
    });
    const u = new URL(ADMIN_URL);
    u.username = role;
    u.pathname = `/${dbName}`;
    url = u.toString();
  });
  afterAll(async () => {
    await admin(async (c) => {
      await c.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
      await c.query(`DROP ROLE IF EXISTS ${role}`);
    });
  });

  it('migrates with a warning, and createReaderDb says which GRANT is missing until an admin runs it', async () => {
    const db = createDb(url, 1);
    try {
      // Without CREATEROLE it cannot grant itself grafana_reader: a warning, not a failed deploy.
      await migrateToLatest(db);
      expect(await readable(db)).toEqual(MONITOR_TABLES);
    } finally {
      await db.destroy();
    }

    const refused = await createReaderDb(url).then(
      (r) => r.destroy().then(() => undefined),
      (err: unknown) => err,
    );
    expect(refused).toBeInstanceOf(ReaderRoleError);
    expect((refused as Error).message).toContain(`GRANT grafana_reader TO "${role}"`);

    await admin((c) => c.query(`GRANT grafana_reader TO ${role}`));
    const reader = await createReaderDb(url);
    try {
      await expect(reader.selectFrom('ingestion_runs').selectAll().execute()).resolves.toEqual([]);
      expect(await failure(sql`delete from ingestion_runs`.execute(reader))).toBe(READ_ONLY);
    } finally {
      await reader.destroy();
    }
  });
});
