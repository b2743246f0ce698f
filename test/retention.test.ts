/**
 * RUN_RETENTION_DAYS: the pruning job on real Postgres. Old runs and closed incidents' alert events go, in
 * several bounded batches; recent rows, each retailer's latest run and open incidents' events stay.
 */
import { sql } from 'kysely';
import { checkEnv, ConfigError } from '../src/config-env';
import { loadConfig } from '../src/config';
import { pruneOldRows } from '../src/retention/prune';
import type { PruneResult } from '../src/retention/types';
import { createTestDatabase, type TestDatabase } from './helpers/postgres';

const DAY = 86_400_000;
const now = new Date('2026-11-27T12:00:00Z');
const ago = (days: number) => new Date(now.getTime() - days * DAY).toISOString();

describe('RUN_RETENTION_DAYS', () => {
  it('is a whole number of days 1–3650, unset by default', () => {
    expect(loadConfig({}).runRetentionDays).toBeUndefined();
    expect(loadConfig({ RUN_RETENTION_DAYS: '90' }).runRetentionDays).toBe(90);
    for (const bad of ['0', '3651', '1.5', 'ninety', '-3']) {
      expect(() => checkEnv({ RUN_RETENTION_DAYS: bad })).toThrow(ConfigError);
      expect(() => checkEnv({ RUN_RETENTION_DAYS: bad })).toThrow(`RUN_RETENTION_DAYS: expected a whole number of days, 1–3650 (unset: keep every run), got "${bad}"`);
    }
  });
});

describe('pruneOldRows on real Postgres', () => {
  let tdb: TestDatabase;

  beforeAll(async () => {
    tdb = await createTestDatabase('im_retention');
  });
  afterAll(async () => {
    await tdb?.drop();
  });

  async function seed(): Promise<void> {
    await sql`TRUNCATE ingestion_runs, retailer_status, alert_events, slack_messages`.execute(tdb.db);
    // alpha: one run a day for 60 days (days 0..59 ago). beta: its only runs are 50 and 40 days old.
    // gamma: newest run 45 days old, but its status row points at an older one (a late, out-of-order report).
    await sql`INSERT INTO ingestion_runs (run_id, retailer, status, started_at, finished_at, duration_ms, received_at)
      SELECT 'alpha-' || d, 'alpha', 'success', ${now}::timestamptz - make_interval(days => d), ${now}::timestamptz - make_interval(days => d), 1000, ${now}::timestamptz
      FROM generate_series(0, 59) d
      UNION ALL SELECT 'beta-' || d, 'beta', 'failure', ${now}::timestamptz - make_interval(days => d), ${now}::timestamptz - make_interval(days => d), 1000, ${now}::timestamptz
      FROM unnest(ARRAY[50, 40]) d
      UNION ALL SELECT 'gamma-' || d, 'gamma', 'success', ${now}::timestamptz - make_interval(days => d), ${now}::timestamptz - make_interval(days => d), 1000, ${now}::timestamptz
      FROM unnest(ARRAY[70, 45]) d`.execute(tdb.db);
    await sql`INSERT INTO retailer_status (retailer, health, first_seen_at, last_run_id, updated_at) VALUES
      ('alpha', 'healthy', ${ago(60)}, 'alpha-0', ${now}), ('beta', 'unhealthy', ${ago(50)}, 'beta-40', ${now}),
      ('gamma', 'healthy', ${ago(70)}, 'gamma-70', ${now})`.execute(tdb.db);
    // Incidents: closed long ago (i1: fire, renotify, resolve), closed recently (i2: fire 40 d, resolve 1 d),
    // open since long ago (i3: fire 50 d, renotify 35 d), and i4 closed long ago too.
    const events: Array<[string, string, string, number]> = [
      ['e1', 'i1', 'fire', 55], ['e2', 'i1', 'renotify', 54], ['e3', 'i1', 'resolve', 53],
      ['e4', 'i2', 'fire', 40], ['e5', 'i2', 'resolve', 1],
      ['e6', 'i3', 'fire', 50], ['e7', 'i3', 'renotify', 35],
      ['e8', 'i4', 'fire', 45], ['e9', 'i4', 'resolve', 44],
    ];
    for (const [id, inc, kind, days] of events) {
      await sql`INSERT INTO alert_events (event_id, incident_id, retailer, rule, kind, occurred_at, opened_at, summary, figures, delivery)
        VALUES (${id}, ${inc}, 'beta', 'consecutive_failures', ${kind}, ${ago(days)}, ${ago(days)}, 's', '{}', '[]')`.execute(tdb.db);
    }
    // Slack bot mode's message of each incident.
    await sql`INSERT INTO slack_messages (incident_id, channel, ts) VALUES ('i1', 'C1', '1.1'), ('i2', 'C1', '1.2'), ('i3', 'C1', '1.3')`.execute(tdb.db);
  }

  const runIds = async () => (await sql<{ run_id: string }>`SELECT run_id FROM ingestion_runs ORDER BY finished_at, run_id`.execute(tdb.db)).rows.map((r) => r.run_id);
  const eventIds = async () => (await sql<{ event_id: string }>`SELECT event_id FROM alert_events ORDER BY event_id`.execute(tdb.db)).rows.map((r) => r.event_id);

  it('deletes old rows in several batches and keeps recent rows, latest runs and open incidents', async () => {
    await seed();
    const progress: PruneResult[] = [];
    const result = await pruneOldRows(tdb.db, { retentionDays: 30, batchSize: 7, now, onBatch: (p) => progress.push({ ...p }) });

    // alpha-31..59 (29 runs; alpha-30 is exactly at the horizon and stays) and beta-50 go. beta-40 is beta's
    // newest; gamma-45 has no newer run and gamma-70 is the one its status row points at: all three stay.
    const alphaOld = Array.from({ length: 29 }, (_, i) => `alpha-${31 + i}`);
    expect(result).toMatchObject({ cutoff: ago(30), runsDeleted: 30, alertEventsDeleted: 5, truncated: false });
    // 30 runs at 7 a batch: 5 batches with rows + 1 empty; alerts (2 incidents, 5 rows) 1 + 1 empty.
    expect(result.batches).toBe(8);
    expect(progress.map((p) => p.runsDeleted)).toEqual([7, 14, 21, 28, 30, 30, 30, 30]);
    const runs = await runIds();
    for (const id of [...alphaOld, 'beta-50']) expect(runs).not.toContain(id);
    expect(runs).toEqual(expect.arrayContaining(['gamma-70', 'gamma-45', 'beta-40', 'alpha-0', 'alpha-30']));
    expect(runs).toHaveLength(31 + 1 + 2);
    // i1 and i4 (closed beyond the horizon) go whole; i2 (resolved yesterday) and i3 (open) stay.
    expect(await eventIds()).toEqual(['e4', 'e5', 'e6', 'e7']);
    // Their Slack message references go with them.
    expect((await sql<{ i: string }>`SELECT incident_id AS i FROM slack_messages ORDER BY 1`.execute(tdb.db)).rows.map((r) => r.i)).toEqual(['i2', 'i3']);

    // A second pass has nothing left to do.
    expect(await pruneOldRows(tdb.db, { retentionDays: 30, batchSize: 7, now })).toMatchObject({ runsDeleted: 0, alertEventsDeleted: 0, batches: 2 });
  });

  it('stops after maxBatches and the next pass finishes the job', async () => {
    await seed();
    const first = await pruneOldRows(tdb.db, { retentionDays: 30, batchSize: 5, maxBatches: 3, now });
    expect(first).toMatchObject({ runsDeleted: 15, alertEventsDeleted: 0, batches: 3, truncated: true });
    const second = await pruneOldRows(tdb.db, { retentionDays: 30, batchSize: 5, now });
    expect(second).toMatchObject({ runsDeleted: 15, alertEventsDeleted: 5, truncated: false });
    expect(await runIds()).toHaveLength(34);
  });

  it('refuses a retention that is not a positive whole number of days', async () => {
    await expect(pruneOldRows(tdb.db, { retentionDays: 0, now })).rejects.toThrow(RangeError);
    await expect(pruneOldRows(tdb.db, { retentionDays: 30, batchSize: 2.5, now })).rejects.toThrow('batchSize must be a positive whole number');
  });
});
