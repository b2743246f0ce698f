/**
 * Nothing wedges on data (issue 7, defects 2 and 13): a row Postgres refuses is quarantined with the reason
 * and every other row of the batch is written; NUL and lone surrogates never reach Postgres; a retried batch
 * is idempotent; a connection error still throws (Temporal retries it).
 */
import { createPostgresActivities } from '../src/activities/postgres';
import type { AlertRecord, PersistBatch } from '../src/activities/types';
import { createDb } from '../src/db/database';
import { DEFAULT_THRESHOLDS } from '../src/rules/thresholds';
import type { AlertEvent, RetailerStatus, RunSummary } from '../src/rules/types';
import { createTestDatabase, type TestDatabase } from './helpers/postgres';

let tdb: TestDatabase;
beforeAll(async () => {
  tdb = await createTestDatabase('im_quar');
});
afterAll(() => tdb?.drop());

const T0 = Date.parse('2026-11-01T00:00:00Z');
const run = (runId: string, over: Partial<RunSummary> = {}): RunSummary => ({
  runId,
  retailer: 'spar',
  status: 'success',
  startedAt: T0,
  finishedAt: T0 + 500,
  receivedAt: T0 + 600,
  skuCount: 1000,
  ...over,
});
const status = (retailer: string, over: Partial<RetailerStatus> = {}): RetailerStatus => ({
  retailer,
  health: 'healthy',
  firstSeenAt: T0,
  consecutiveFailures: 0,
  staleDeadline: T0 + 4 * 3_600_000,
  openIncidents: [],
  silences: [],
  thresholds: DEFAULT_THRESHOLDS,
  totals: { runs: 1, failures: 0, outOfOrder: 0 },
  ...over,
});
const alert = (eventId: string, over: Partial<AlertEvent> = {}): AlertRecord => ({
  event: {
    eventId,
    incidentId: 'spar/consecutive_failures/1',
    kind: 'fire',
    retailer: 'spar',
    rule: 'consecutive_failures',
    at: T0,
    openedAt: T0,
    summary: 'spar: 2 consecutive failed runs',
    figures: { failureStreak: 2 },
    ...over,
  },
  delivery: [{ channel: 'slack', status: 'delivered', attempts: 1 }],
});

const count = async (table: 'ingestion_runs' | 'retailer_status' | 'alert_events' | 'quarantine') =>
  Number((await tdb.db.selectFrom(table).select((eb) => eb.fn.countAll<string>().as('n')).executeTakeFirstOrThrow()).n);

it('quarantines the rows Postgres refuses, writes the rest, and is idempotent on retry', async () => {
  const { persistBatch } = createPostgresActivities(tdb.db);
  const batch: PersistBatch = {
    runs: [
      run('good-1'),
      run('year-200000', { startedAt: Date.UTC(200000, 0, 1), finishedAt: Date.UTC(200000, 0, 1) + 500 }), // Postgres: out of range
      run('sku-beyond-int', { skuCount: 3_000_000_000 }), // integer column: 22003
      run('nan-start', { startedAt: NaN }), // cannot even become a row
      run('good-2\u0000', { status: 'failure', skuCount: undefined, error: 'boom\u0000 \uD800 end' }),
    ],
    statuses: [status('spar'), status('pnp', { consecutiveFailures: 3_000_000_000 })],
    alerts: [alert('spar/consecutive_failures/1/fire/1', { summary: 'NUL\u0000 here', figures: { failureStreak: 2, lastError: 'x\u0000\uDC00y' } })],
  };

  const first = await persistBatch(batch);
  expect(first.runs).toBe(2);
  expect(first.statuses).toBe(1);
  expect(first.alerts).toBe(1);
  expect(first.quarantined.map((q) => `${q.table} ${q.key}`).sort()).toEqual([
    'ingestion_runs nan-start',
    'ingestion_runs sku-beyond-int',
    'ingestion_runs year-200000',
    'retailer_status pnp',
  ]);
  const reasons = new Map(first.quarantined.map((q) => [q.key, q.reason]));
  expect(reasons.get('sku-beyond-int')).toMatch(/^22003 /);
  expect(reasons.get('year-200000')).toMatch(/^22\w{3} /);
  expect(reasons.get('nan-start')).toMatch(/invalid time NaN/);
  expect(reasons.get('pnp')).toMatch(/^22003 /);

  // The good rows, cleaned of NUL and lone surrogates.
  const runs = await tdb.db.selectFrom('ingestion_runs').select(['run_id', 'error']).orderBy('run_id').execute();
  expect(runs).toEqual([
    { run_id: 'good-1', error: null },
    { run_id: 'good-2', error: 'boom \uFFFD end' },
  ]);
  const ev = await tdb.db.selectFrom('alert_events').select(['summary', 'figures']).executeTakeFirstOrThrow();
  expect(ev.summary).toBe('NUL here');
  expect(ev.figures).toEqual({ failureStreak: 2, lastError: 'x\uFFFDy' });

  const q = await tdb.db.selectFrom('quarantine').selectAll().where('row_key', '=', 'nan-start').executeTakeFirstOrThrow();
  expect(q.table_name).toBe('ingestion_runs');
  expect(JSON.parse(q.row)).toMatchObject({ runId: 'nan-start', startedAt: 'NaN' });

  // A retried activity: no throw, nothing duplicated.
  const second = await persistBatch(batch);
  expect(second.quarantined).toHaveLength(4);
  expect(await count('quarantine')).toBe(4);
  expect(await count('ingestion_runs')).toBe(2);
  expect(await count('retailer_status')).toBe(1);
  expect(await count('alert_events')).toBe(1);
});

it('throws on a connection error instead of quarantining (Temporal retries until Postgres is back)', async () => {
  const down = createDb('postgres://postgres@127.0.0.1:1/nowhere', 1);
  try {
    const { persistBatch } = createPostgresActivities(down);
    await expect(persistBatch({ runs: [run('conn-1')], statuses: [], alerts: [] })).rejects.toThrow(/ECONNREFUSED|connect/);
  } finally {
    await down.destroy();
  }
});
