/**
 * The hourly rollup of ingestion_runs (migration 009) that the trend panels read at 24 h and longer: it must
 * equal a GROUP BY of the runs after every kind of write the product does — the monitor's idempotent INSERT
 * (duplicates included, from several connections at once), retention's batched DELETE, an UPDATE, a
 * TRUNCATE — and the migration must backfill the runs already stored.
 */
import { type Kysely, Migrator, sql } from 'kysely';
import { migrations } from '../migrations';
import { migrateToLatest } from '../src/db/database';
import type { Database } from '../src/db/schema';
import { pruneOldRows } from '../src/retention/prune';
import { createTestDatabase, type TestDatabase } from './helpers/postgres';

const HOUR = 3600_000;
const NOW = Date.UTC(2026, 10, 27, 12, 0, 0);

/** Deterministic runs: `n` runs of three retailers at pseudo-random minutes over the last three days. */
function runs(n: number, seed: number) {
  let x = seed;
  const next = () => ((x = (x * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  return Array.from({ length: n }, (_, i) => {
    const finished = NOW - Math.floor(next() * 72 * HOUR);
    const failed = next() < 0.1;
    return {
      run_id: `run-${seed}-${i}`,
      retailer: ['checkers', 'spar', 'pick-n-pay'][i % 3],
      schedule: null,
      status: failed ? ('failure' as const) : ('success' as const),
      started_at: new Date(finished - 60_000),
      finished_at: new Date(finished),
      duration_ms: 30_000 + Math.floor(next() * 300_000),
      sku_count: failed ? null : 4_000 + Math.floor(next() * 2_000),
      promo_count: failed || next() < 0.2 ? null : Math.floor(next() * 500),
      last_scrape_at: null,
      error: failed ? 'boom' : null,
      workflow_id: null,
      workflow_run_id: null,
      out_of_order: false,
      sku_drop: false,
      received_at: new Date(finished),
    };
  });
}

type Run = ReturnType<typeof runs>[number];

/** What the monitor's persistence activity does: an INSERT that skips runs already stored. */
const insert = (db: Kysely<Database>, rows: Run[]) =>
  db.insertInto('ingestion_runs').values(rows).onConflict((oc) => oc.column('run_id').doNothing()).execute();

/** Rows where the rollup and a fresh GROUP BY of the runs disagree (both directions). */
async function mismatches(db: Kysely<Database>): Promise<number> {
  const { rows } = await sql<{ n: string }>`
    WITH truth AS (
      SELECT to_timestamp(floor(extract(epoch FROM finished_at) / 3600) * 3600) AS hour, retailer,
        count(*)::int AS runs, (count(*) FILTER (WHERE status = 'failure'))::int AS failures,
        coalesce(sum(sku_count) FILTER (WHERE status = 'success'), 0)::bigint AS sku_sum,
        (count(sku_count) FILTER (WHERE status = 'success'))::int AS sku_runs,
        coalesce(sum(promo_count) FILTER (WHERE status = 'success'), 0)::bigint AS promo_sum,
        (count(promo_count) FILTER (WHERE status = 'success'))::int AS promo_runs,
        coalesce(sum(duration_ms), 0)::bigint AS duration_sum, count(duration_ms)::int AS duration_runs
      FROM ingestion_runs GROUP BY 1, 2),
    rollup AS (
      SELECT hour, retailer, runs, failures, sku_sum, sku_runs, promo_sum, promo_runs, duration_sum, duration_runs
      FROM ingestion_runs_hourly)
    SELECT count(*) AS n FROM ((SELECT * FROM truth EXCEPT SELECT * FROM rollup) UNION ALL (SELECT * FROM rollup EXCEPT SELECT * FROM truth)) d`.execute(db);
  return Number(rows[0]!.n);
}

const count = async (db: Kysely<Database>, table: 'ingestion_runs' | 'ingestion_runs_hourly') =>
  Number((await db.selectFrom(table).select((eb) => eb.fn.countAll<string>().as('n')).executeTakeFirstOrThrow()).n);

describe('hourly run rollup (migration 009)', () => {
  let tdb: TestDatabase;
  beforeAll(async () => {
    tdb = await createTestDatabase('im_rollup');
  });
  afterAll(async () => {
    await tdb?.drop();
  });

  it('stays exact through concurrent idempotent inserts, retention, an update and a truncate', async () => {
    const db = tdb.db;
    const all = runs(1_200, 7);
    // Six writers at once, each batch overlapping the next one (every run sent twice).
    const batches = Array.from({ length: 12 }, (_, i) => all.slice(i * 100, i * 100 + 150));
    await Promise.all(batches.map((b) => insert(db, b)));
    expect(await count(db, 'ingestion_runs')).toBe(1_200);
    expect(await count(db, 'ingestion_runs_hourly')).toBeGreaterThan(100);
    expect(await mismatches(db)).toBe(0);

    // Retention: one day kept, in batches small enough to take several statements.
    const pruned = await pruneOldRows(db, { retentionDays: 1, batchSize: 97, now: new Date(NOW) });
    expect(pruned.runsDeleted).toBeGreaterThan(500);
    expect(await mismatches(db)).toBe(0);
    const { rows: old } = await sql<{ n: string }>`SELECT count(*) AS n FROM ingestion_runs_hourly WHERE hour < ${new Date(NOW - 25 * HOUR)}`.execute(db);
    expect(Number(old[0]!.n)).toBe(0);

    await sql`UPDATE ingestion_runs SET sku_count = sku_count + 1000, finished_at = finished_at + interval '90 minutes' WHERE run_id LIKE 'run-7-1%'`.execute(db);
    expect(await mismatches(db)).toBe(0);

    await sql`TRUNCATE ingestion_runs`.execute(db);
    expect(await count(db, 'ingestion_runs_hourly')).toBe(0);
  });

  it('the migration backfills the runs already stored', async () => {
    const fresh = await createTestDatabase('im_rollup_mig', { migrate: false });
    try {
      const migrator = new Migrator({ db: fresh.db, provider: { getMigrations: async () => migrations } });
      expect((await migrator.migrateTo('2026-11-27-006-run-time-covering-index')).error).toBeUndefined();
      await insert(fresh.db, runs(300, 11));
      await migrateToLatest(fresh.db);
      expect(await count(fresh.db, 'ingestion_runs_hourly')).toBeGreaterThan(50);
      expect(await mismatches(fresh.db)).toBe(0);
      // And down again leaves the runs alone.
      expect((await migrator.migrateTo('2026-11-27-006-run-time-covering-index')).error).toBeUndefined();
      expect(await count(fresh.db, 'ingestion_runs')).toBe(300);
    } finally {
      await fresh.drop();
    }
  });
});
