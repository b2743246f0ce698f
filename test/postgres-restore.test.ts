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

it("gives back the baseline window's runs with what keeps each out of a baseline, bounded to 12 weeks and 114 per weekday", async () => {
  const { persistBatch, restoreRetailer } = createPostgresActivities(tdb.db);
  const retailer = 'baseline-shop';
  // 100 days of runs every 6 hours (4 a day: 400 runs), the newest at minute 100 days; then flagged runs.
  const runs = Array.from({ length: 400 }, (_, i) => run(`b${i}`, i * 360, { retailer, skuCount: 1000 + i, promoCount: 80 }));
  runs[390] = { ...runs[390]!, skuDrop: true };
  runs[391] = { ...runs[391]!, promoDrop: true };
  runs[392] = { ...runs[392]!, longRun: true };
  runs[393] = { ...runs[393]!, inMaintenance: true };
  runs.push(run('b-failed', 399 * 360 + 10, { retailer, status: 'failure', skuCount: undefined, error: 'x' }));
  runs.push(run('b-late', 380 * 360 + 10, { retailer, outOfOrder: true, receivedAt: at(399 * 360 + 20) }));
  await persistBatch({
    runs,
    statuses: [status({ retailer })],
    // b394 fired promo_drop before the promo_drop column existed (no flag on the row); b395's run_duration
    // incident was acknowledged; b396's consecutive_failures acknowledgement is no baseline matter.
    alerts: [
      ev(`${retailer}/promo_drop/1`, 'fire', 394 * 360, { runId: 'b394' }),
      ev(`${retailer}/run_duration/2`, 'fire', 395 * 360, { runId: 'b395' }),
      ev(`${retailer}/consecutive_failures/3`, 'fire', 396 * 360, { runId: 'b396' }),
    ],
    actions: [
      { actionId: `${retailer}/action/1`, at: at(395 * 360 + 30), action: 'acknowledge', retailer, incidentId: `${retailer}/run_duration/2`, by: 'sam' },
      { actionId: `${retailer}/action/2`, at: at(396 * 360 + 30), action: 'acknowledge', retailer, incidentId: `${retailer}/consecutive_failures/3`, by: 'sam' },
    ],
  });
  const r = (await restoreRetailer({ retailer, keepRuns: 10, keepRunIds: 10, skuWindow: 5, timeZone: 'Africa/Johannesburg' }))!;
  const window = r.baselineRuns!;
  const ids = window.map((w) => w.runId);
  // 12 weeks (84 days) back from the newest success b399: runs after minute (399 − 336)·360, i.e. b64 on.
  expect(ids[0]).toBe('b64');
  expect(ids[ids.length - 1]).toBe('b399');
  expect(ids).not.toContain('b-failed');
  expect(ids).not.toContain('b-late');
  expect(window.length).toBe(336);
  const byId = new Map(window.map((w) => [w.runId, w]));
  expect(byId.get('b100')).toEqual({ runId: 'b100', startedAt: at(36_000) - 30_000, finishedAt: at(36_000), receivedAt: at(36_000) + 1000, sku: 1100, promo: 80 });
  expect(byId.get('b390')).toMatchObject({ skuDrop: true });
  expect(byId.get('b391')).toMatchObject({ promoDrop: true });
  expect(byId.get('b392')).toMatchObject({ longRun: true });
  expect(byId.get('b393')).toMatchObject({ inMaintenance: true });
  expect(byId.get('b394')).toMatchObject({ promoDrop: true });
  expect(byId.get('b395')).toMatchObject({ longRun: true, acknowledgedAt: at(395 * 360 + 30) });
  expect(byId.get('b396')).toEqual(expect.not.objectContaining({ acknowledgedAt: expect.anything() }));

  // Runs every 10 minutes: 144 a day, so the newest 114 per weekday (in the retailer's timezone) are kept.
  const dense = 'dense-shop';
  const many = Array.from({ length: 144 * 8 }, (_, i) => run(`d${i}`, i * 10, { retailer: dense, skuCount: 1000 }));
  await persistBatch({ runs: many, statuses: [status({ retailer: dense })], alerts: [] });
  const d = (await restoreRetailer({ retailer: dense, keepRuns: 10, keepRunIds: 10, skuWindow: 5, timeZone: 'Africa/Johannesburg' }))!;
  const perWeekday = new Map<number, number>();
  for (const w of d.baselineRuns!) {
    const wd = new Date(w.finishedAt + 2 * 3_600_000).getUTCDay(); // Johannesburg is UTC+2 all year
    perWeekday.set(wd, (perWeekday.get(wd) ?? 0) + 1);
  }
  expect([...perWeekday.values()].every((n) => n === 114)).toBe(true);
  expect(perWeekday.size).toBe(7);
  expect(d.baselineRuns![d.baselineRuns!.length - 1]!.runId).toBe(`d${144 * 8 - 1}`);
});
