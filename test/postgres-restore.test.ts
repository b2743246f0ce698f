/**
 * restoreRetailer on real Postgres: what persistBatch wrote comes back as the state a retailer monitor
 * started fresh needs (recent runs, baseline, open incidents with their ids and announcement, sequences,
 * settings). Settings written apart from the status row survive later status writes.
 */
import { parseWindowSpec } from '../src/rules/maintenance';
import { createPostgresActivities } from '../src/activities/postgres';
import type { AlertRecord, OperatorAction } from '../src/activities/types';
import { DEFAULT_THRESHOLDS } from '../src/rules/thresholds';
import type { AlertEvent, RetailerStatus, RunSummary, Silence } from '../src/rules/types';
import { createTestDatabase, type TestDatabase } from './helpers/postgres';

let tdb: TestDatabase;
beforeAll(async () => {
  tdb = await createTestDatabase('im_restore');
});
afterAll(() => tdb?.drop());

const T0 = Date.parse('2026-11-01T00:00:00Z');
const MIN = 60_000;
const at = (m: number) => T0 + m * MIN;

const run = (runId: string, m: number, over: Partial<RunSummary> = {}): RunSummary => ({
  runId,
  retailer: 'checkers',
  status: 'success',
  startedAt: at(m) - 30_000,
  finishedAt: at(m),
  receivedAt: at(m) + 1000,
  skuCount: 1000,
  ...over,
});

const status = (over: Partial<RetailerStatus> = {}): RetailerStatus => ({
  retailer: 'checkers',
  health: 'unhealthy',
  firstSeenAt: T0,
  lastSuccessAt: at(30),
  consecutiveFailures: 2,
  staleDeadline: at(30) + 240 * MIN,
  openIncidents: [],
  silences: [],
  thresholds: DEFAULT_THRESHOLDS,
  totals: { runs: 0, failures: 0, outOfOrder: 0 },
  ...over,
});

/** An alert event of `incidentId` at minute `m`, opened at minute `openedMin` (default m). */
const ev = (incidentId: string, kind: AlertEvent['kind'], m: number, over: Partial<AlertEvent> = {}, openedMin = m): AlertRecord => {
  const [retailer, rule] = incidentId.split('/') as [string, AlertEvent['rule']];
  return {
    event: {
      eventId: `${incidentId}/${kind}/${m}`,
      incidentId,
      kind,
      retailer,
      rule,
      at: at(m),
      openedAt: at(openedMin),
      summary: `${incidentId} ${kind}`,
      figures: { failureStreak: m },
      ...over,
    },
    delivery: [],
  };
};

const silence: Silence = { rule: 'sku_drop', until: at(10_000), reason: 'catalogue migration', by: 'bob', createdAt: at(1) };

it('returns undefined for a retailer Postgres knows nothing of', async () => {
  const { restoreRetailer } = createPostgresActivities(tdb.db);
  await expect(restoreRetailer({ retailer: 'nobody', keepRuns: 10, keepRunIds: 10, skuWindow: 5 })).resolves.toBeUndefined();
});

it('rebuilds a retailer from what persistBatch wrote', async () => {
  const { persistBatch, restoreRetailer } = createPostgresActivities(tdb.db);

  // Settings first, before the retailer has a status row; the status write that follows must keep them.
  await persistBatch({ runs: [], statuses: [], alerts: [], settings: [{ retailer: 'checkers', overrides: { failureStreak: 3 }, silences: [silence] }] });

  const runs = [
    run('s1', 10, { skuCount: 1000 }),
    run('s2', 20, { skuCount: 1100 }),
    run('d3', 30, { skuCount: 500, skuDrop: true }),
    run('f4', 40, { status: 'failure', skuCount: undefined, error: 'blocked' }),
    run('f5', 50, { status: 'failure', skuCount: undefined, error: 'blocked again' }),
    run('late', 15, { receivedAt: at(55), outOfOrder: true, skuCount: 9999 }),
  ];
  const actions: OperatorAction[] = [
    { actionId: 'checkers/action/4', at: at(46), action: 'acknowledge', retailer: 'checkers', incidentId: 'checkers/consecutive_failures/7', by: 'alice', reason: 'looking' },
    { actionId: 'checkers/action/12', at: at(47), action: 'silence', retailer: 'checkers', rule: 'sku_drop', by: 'bob', reason: 'catalogue migration', until: at(10_000) },
    { actionId: 'legacy-99', at: at(48), action: 'replay', retailer: 'checkers', by: 'carol' },
  ];
  await persistBatch({
    runs,
    statuses: [status()],
    actions,
    alerts: [
      ev('checkers/sku_drop/5', 'fire', 30),
      ev('checkers/sku_drop/5', 'resolve', 35, {}, 30),
      ev('checkers/consecutive_failures/7', 'fire', 45, { silenced: true, runId: 'f4', workflowId: 'ingest-checkers', workflowRunId: 'wr-4' }),
      ev('checkers/consecutive_failures/7', 'renotify', 52, { figures: { failureStreak: 3 } }, 45),
      ev('checkers/stale/9', 'fire', 53, { silenced: true, diagnosis: 'no worker has polled `ingestion` since …' }),
      ev('pnp/stale/99', 'fire', 53),
    ],
  });

  const restored = await restoreRetailer({ retailer: 'checkers', keepRuns: 3, keepRunIds: 10, skuWindow: 2 });
  expect(restored).toBeDefined();
  const r = restored!;
  expect(r.firstSeenAt).toBe(T0);
  expect(r.lastSuccessAt).toBe(at(30));
  expect(r.lastSuccessRunId).toBe('d3');
  expect(r.consecutiveFailures).toBe(2);
  expect(r.recentRuns.map((x) => x.runId)).toEqual(['d3', 'f4', 'f5']);
  expect(r.recentRuns[0]).toMatchObject({ skuDrop: true, skuCount: 500, finishedAt: at(30) });
  expect(r.recentRuns[2]).toMatchObject({ status: 'failure', error: 'blocked again' });
  expect([...r.recentRunIds].sort()).toEqual(['d3', 'f4', 'f5', 'late', 's1', 's2']);
  expect(r.skuBaseline).toEqual([1000, 1100]);
  expect(r.totals).toEqual({ runs: 6, failures: 2, outOfOrder: 1 });
  expect(r.incidentSeq).toBe(9);
  expect(r.actionSeq).toBe(12);
  expect(r.overrides).toEqual({ failureStreak: 3 });
  expect(r.silences).toEqual([silence]);

  expect(r.openIncidents).toEqual([
    {
      id: 'checkers/consecutive_failures/7',
      retailer: 'checkers',
      rule: 'consecutive_failures',
      openedAt: at(45),
      lastNotifiedAt: at(52),
      notifyCount: 2,
      summary: 'checkers/consecutive_failures/7 fire',
      figures: { failureStreak: 3 },
      runId: 'f4',
      workflowId: 'ingest-checkers',
      workflowRunId: 'wr-4',
      acknowledged: { by: 'alice', at: at(46), note: 'looking' },
      // The fire went out silenced, the re-notify was announced.
      announced: true,
    },
    {
      id: 'checkers/stale/9',
      retailer: 'checkers',
      rule: 'stale',
      openedAt: at(53),
      lastNotifiedAt: at(53),
      notifyCount: 1,
      summary: 'checkers/stale/9 fire',
      figures: { failureStreak: 53 },
      announced: false,
    },
  ]);

  const row = await tdb.db.selectFrom('alert_events').select('diagnosis').where('incident_id', '=', 'checkers/stale/9').executeTakeFirstOrThrow();
  expect(row.diagnosis).toMatch(/^no worker has polled/);
});

it('a status write keeps settings, and a settings write keeps the status', async () => {
  const { persistBatch, restoreRetailer } = createPostgresActivities(tdb.db);
  await persistBatch({ runs: [], statuses: [status({ retailer: 'spar', consecutiveFailures: 1, health: 'unhealthy' })], alerts: [] });
  await persistBatch({ runs: [], statuses: [], alerts: [], settings: [{ retailer: 'spar', silences: [], overrides: { staleAfterMs: 60_000 } }] });
  await persistBatch({ runs: [], statuses: [status({ retailer: 'spar', consecutiveFailures: 4 })], alerts: [] });
  const row = await tdb.db.selectFrom('retailer_status').select(['health', 'consecutive_failures', 'settings']).where('retailer', '=', 'spar').executeTakeFirstOrThrow();
  expect(row).toEqual({ health: 'unhealthy', consecutive_failures: 4, settings: { silences: [], overrides: { staleAfterMs: 60_000 } } });
  const r = await restoreRetailer({ retailer: 'spar', keepRuns: 5, keepRunIds: 5, skuWindow: 5 });
  expect(r).toMatchObject({ consecutiveFailures: 4, overrides: { staleAfterMs: 60_000 }, silences: [], openIncidents: [], incidentSeq: 0, actionSeq: 0 });
});

it('a run that finished inside a maintenance window stays out of the restored baseline; the windows come back', async () => {
  const { persistBatch, restoreRetailer } = createPostgresActivities(tdb.db);
  const retailer = 'window-shop';
  const window = { ...parseWindowSpec('every sunday 02:00-04:00 Africa/Johannesburg'), id: `${retailer}/action/1`, retailer, reason: 'db upgrade', by: 'sam', createdAt: T0 };
  const runs = [
    run('w1', 10, { retailer, skuCount: 1000 }),
    run('w2', 20, { retailer, skuCount: 400, inMaintenance: true }),
    run('w3', 30, { retailer, skuCount: 1100 }),
  ];
  await persistBatch({ runs, statuses: [status({ retailer })], alerts: [], settings: [{ retailer, silences: [], maintenance: [window] }] });
  const rows = await tdb.db.selectFrom('ingestion_runs').select(['run_id', 'in_maintenance']).where('retailer', '=', retailer).orderBy('run_id').execute();
  expect(rows).toEqual([
    { run_id: 'w1', in_maintenance: false },
    { run_id: 'w2', in_maintenance: true },
    { run_id: 'w3', in_maintenance: false },
  ]);
  const r = (await restoreRetailer({ retailer, keepRuns: 3, keepRunIds: 10, skuWindow: 3 }))!;
  expect(r.skuBaseline).toEqual([1000, 1100]);
  expect(r.maintenance).toEqual([window]);
});
