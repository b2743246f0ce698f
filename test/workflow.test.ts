/**
 * The monitor workflow on the time-skipping test server, with the real activities: Postgres persistence
 * on a fresh database and a loopback HTTP server standing in for the alert webhook.
 */
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Worker } from '@temporalio/worker';
import { monitorHandle, reportIngestionRun } from '../src/client';
import { HOUR_MS } from '../src/rules/thresholds';
import {
  acknowledgeSignal,
  alertsQuery,
  incidentsQuery,
  type MonitorInput,
  reprocessSignal,
  retailerQuery,
  setThresholdsSignal,
  silenceSignal,
  statusQuery,
} from '../src/shared/messages';
import type { RunReportInput } from '../src/shared/report';
import { type CaptureServer, startCaptureServer } from './helpers/capture-server';
import { createTestMonitorWorker, testConfig } from './helpers/monitor';
import { until } from './helpers/wait';
import { createTestDatabase, type TestDatabase } from './helpers/postgres';
import { createTimeSkippingEnv } from './helpers/temporal';

let env: TestWorkflowEnvironment;
let tdb: TestDatabase;
let hook: CaptureServer;
let worker: Worker;
let running: Promise<void>;
const taskQueue = 'monitor-ts-test';
let n = 0;

beforeAll(async () => {
  [env, tdb, hook] = await Promise.all([createTimeSkippingEnv(), createTestDatabase(), startCaptureServer()]);
  worker = await createTestMonitorWorker(env, testConfig({ taskQueue, databaseUrl: tdb.url, webhookUrl: `${hook.url}/hook` }), tdb);
  running = worker.run();
});

afterAll(async () => {
  worker?.shutdown();
  await running;
  await Promise.all([env?.teardown(), tdb?.drop(), hook?.close()]);
});

/** Each test gets its own monitor workflow id so state never leaks between tests. */
function target(startInput: MonitorInput = {}) {
  return { workflowId: `monitor-${++n}-${Date.now()}`, taskQueue, startInput };
}

async function report(t: ReturnType<typeof target>, r: Partial<RunReportInput> & { retailer: string; status: 'success' | 'failure' }) {
  const now = await env.currentTimeMs();
  return reportIngestionRun(
    env.client,
    {
      runId: `r-${++n}-${Math.random().toString(36).slice(2)}`,
      startedAt: new Date(now - 60_000).toISOString(),
      finishedAt: new Date(now).toISOString(),
      skuCount: r.status === 'success' ? 1000 : undefined,
      ...r,
    },
    t,
  );
}

const hooksFor = (retailer: string) => hook.received.filter((h) => h.body?.retailer === retailer);

/** Let the workflow process what was sent (queries are answered after pending signals are applied). */
async function settle(t: ReturnType<typeof target>) {
  await monitorHandle(env.client, t.workflowId).query(statusQuery);
}

describe('ingestion monitor workflow (time-skipping)', () => {
  it('fires the stale alert at 4 h — not before, not minutes after — and resolves on success', async () => {
    const t = target();
    const handle = await report(t, { retailer: 'stale-mart', status: 'success' });
    const successAt = (await handle.query(retailerQuery, 'stale-mart'))!.lastSuccessAt!;

    await env.sleep(4 * HOUR_MS - 60_000);
    expect(await handle.query(incidentsQuery)).toEqual([]);

    await env.sleep(2 * 60_000);
    const [incident] = await handle.query(incidentsQuery);
    expect(incident).toMatchObject({ retailer: 'stale-mart', rule: 'stale' });
    // The durable timer fires at the deadline itself.
    expect(incident!.openedAt - successAt).toBeGreaterThanOrEqual(4 * HOUR_MS);
    expect(incident!.openedAt - successAt).toBeLessThan(4 * HOUR_MS + 1000);
    await hook.waitFor(() => hooksFor('stale-mart').some((h) => h.body.kind === 'fire'));

    await report(t, { retailer: 'stale-mart', status: 'success' });
    await settle(t);
    expect(await handle.query(incidentsQuery)).toEqual([]);
    await hook.waitFor(() => hooksFor('stale-mart').some((h) => h.body.kind === 'resolve'));
    const kinds = hooksFor('stale-mart').map((h) => `${h.body.kind}:${h.body.rule}`);
    expect(kinds).toEqual(['fire:stale', 'resolve:stale']);
  });

  it('two failures fire exactly one alert; a third does not repeat it', async () => {
    const t = target();
    await report(t, { retailer: 'fail-mart', status: 'success' });
    await report(t, { retailer: 'fail-mart', status: 'failure', error: 'timeout waiting for selector' });
    const handle = await report(t, { retailer: 'fail-mart', status: 'failure', error: 'HTTP 503' });
    await report(t, { retailer: 'fail-mart', status: 'failure', error: 'HTTP 503' });
    await settle(t);
    const incidents = await handle.query(incidentsQuery);
    expect(incidents.map((i) => i.rule)).toEqual(['consecutive_failures']);
    expect(incidents[0]!.figures.failureStreak).toBe(3);
    await hook.waitFor(() => hooksFor('fail-mart').length >= 1);
    await env.sleep(5_000);
    expect(hooksFor('fail-mart').map((h) => h.body.kind)).toEqual(['fire']);
  });

  it('fires on an SKU drop of more than 30% and resolves when counts recover', async () => {
    const t = target();
    for (const c of [1000, 1010, 990]) await report(t, { retailer: 'sku-mart', status: 'success', skuCount: c });
    const handle = await report(t, { retailer: 'sku-mart', status: 'success', skuCount: 600 });
    await settle(t);
    const [inc] = await handle.query(incidentsQuery);
    expect(inc).toMatchObject({ rule: 'sku_drop', figures: { skuCount: 600, trailingAverage: 1000, dropPct: 40 } });
    await report(t, { retailer: 'sku-mart', status: 'success', skuCount: 980 });
    await hook.waitFor(() => hooksFor('sku-mart').length >= 2);
    expect(hooksFor('sku-mart').map((h) => h.body.kind)).toEqual(['fire', 'resolve']);
  });

  it('re-notifies every R while an incident stays open', async () => {
    const t = target({ thresholds: { renotifyEveryMs: HOUR_MS } });
    await report(t, { retailer: 'nag-mart', status: 'failure' });
    const handle = await report(t, { retailer: 'nag-mart', status: 'failure' });
    await settle(t);
    await env.sleep(2 * HOUR_MS + 60_000);
    const alerts = (await handle.query(alertsQuery)).filter((a) => a.retailer === 'nag-mart' && a.rule === 'consecutive_failures');
    expect(alerts.map((a) => a.kind)).toEqual(['fire', 'renotify', 'renotify']);
    // Reminders keep to the schedule (the time-skipping server may overshoot a timer by a few ms).
    expect(Math.abs(alerts[1]!.at - alerts[0]!.at - HOUR_MS)).toBeLessThan(1000);
    expect(Math.abs(alerts[2]!.at - alerts[0]!.at - 2 * HOUR_MS)).toBeLessThan(1000);
  });

  it('persists runs, status and alert events to Postgres in batches', async () => {
    const t = target();
    await report(t, { retailer: 'pg-mart', status: 'failure', error: 'boom' });
    await report(t, { retailer: 'pg-mart', status: 'failure', error: 'boom' });
    await settle(t);
    await hook.waitFor(() => hooksFor('pg-mart').length >= 1);
    const deadline = Date.now() + 20_000;
    let rows: any[] = [];
    while (Date.now() < deadline) {
      rows = await tdb.db.selectFrom('alert_events').selectAll().where('retailer', '=', 'pg-mart').execute();
      if (rows.length) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ rule: 'consecutive_failures', kind: 'fire', delivered: true });
    expect(rows[0].delivery).toEqual(
      expect.arrayContaining([
        { channel: 'webhook', status: 'delivered', attempts: 1 },
        { channel: 'slack', status: 'not_configured' },
      ]),
    );
    const runs = await tdb.db.selectFrom('ingestion_runs').selectAll().where('retailer', '=', 'pg-mart').execute();
    expect(runs.map((r) => r.status)).toEqual(['failure', 'failure']);
    const [status] = await tdb.db.selectFrom('retailer_status').selectAll().where('retailer', '=', 'pg-mart').execute();
    expect(status).toMatchObject({ health: 'unhealthy', consecutive_failures: 2, open_incidents: 1, open_rules: 'consecutive_failures' });
  });
});

describe('bad input', () => {
  const base = () => ({
    runId: `bad-${++n}`,
    retailer: 'guard-mart',
    status: 'success',
    startedAt: '2026-11-01T10:00:00Z',
    finishedAt: '2026-11-01T10:05:00Z',
    skuCount: 100,
  });
  const malformed: Array<[string, unknown]> = [
    ['missing runId', { ...base(), runId: undefined }],
    ['missing retailer', { ...base(), retailer: undefined }],
    ['unknown status', { ...base(), status: 'partial' }],
    ['negative skuCount', { ...base(), skuCount: -5 }],
    ['NaN skuCount', { ...base(), skuCount: NaN }],
    ['huge skuCount', { ...base(), skuCount: 1e12 }],
    ['fractional promoCount', { ...base(), promoCount: 2.5 }],
    ['string skuCount', { ...base(), skuCount: '1000' }],
    ['success without skuCount', { ...base(), skuCount: undefined }],
    ['unparseable date', { ...base(), startedAt: 'yesterday' }],
    ['impossible date', { ...base(), finishedAt: '2026-13-45T00:00:00Z' }],
    ['date without timezone', { ...base(), finishedAt: '2026-11-01T10:05:00' }],
    ['finished before started', { ...base(), finishedAt: '2026-11-01T09:00:00Z' }],
    ['retailer not a slug', { ...base(), retailer: 'Tesco UK' }],
    ['oversized runId', { ...base(), runId: 'x'.repeat(10_000) }],
    ['oversized retailer', { ...base(), retailer: 'a'.repeat(500) }],
    ['unknown field', { ...base(), skus: 100 }],
    ['not an object', 'hello'],
    ['null', null],
    ['array', [base()]],
  ];

  it('rejects each malformed report with a reason, keeps running and leaves state unchanged', async () => {
    const t = target();
    const handle = await report(t, { retailer: 'guard-mart', status: 'success', runId: 'good-1' });
    const before = await handle.query(statusQuery);

    for (const [, payload] of malformed) await handle.signal('ingestionCompleted', payload);
    await handle.signal('ingestionCompleted', { ...base(), runId: 'good-1' }); // duplicate runId

    const after = await handle.query(statusQuery);
    expect(after.retailers).toEqual(before.retailers);
    expect(after.counters).toMatchObject({ accepted: 1, rejected: malformed.length, duplicates: 1 });
    const reasons = after.recentRejections.map((r) => r.reason);
    expect(reasons).toHaveLength(malformed.length + 1);
    expect(reasons[0]).toMatch(/runId/);
    expect(reasons[2]).toMatch(/status must be "success" or "failure"/);
    expect(reasons[3]).toMatch(/skuCount: must not be negative/);
    expect(reasons[8]).toMatch(/skuCount is required/);
    expect(reasons[12]).toMatch(/finishedAt is before startedAt/);
    expect(reasons[13]).toMatch(/lower-case slug/);
    expect(reasons[16]).toMatch(/skus/);
    expect(reasons.at(-1)).toMatch(/duplicate runId/);
    for (const r of reasons) expect(r.length).toBeLessThan(1000);

    // Still alive and still correct: a good report after all that is applied normally.
    await report(t, { retailer: 'guard-mart', status: 'failure' });
    const final = await handle.query(retailerQuery, 'guard-mart');
    expect(final!.consecutiveFailures).toBe(1);
    expect((await handle.describe()).status.name).toBe('RUNNING');
  });

  it('the client helper refuses a malformed report before sending anything', async () => {
    const t = target();
    await expect(reportIngestionRun(env.client, { ...base(), skuCount: -1 } as RunReportInput, t)).rejects.toThrow(
      /invalid run report: skuCount: must not be negative/,
    );
    await expect(env.client.workflow.getHandle(t.workflowId).describe()).rejects.toThrow(/not found/i);
  });
});

describe('continue-as-new', () => {
  it('keeps every report and the state across runs with thousands of reports', async () => {
    const t = target({ maxReportsPerRun: 400 });
    const retailers = ['can-a', 'can-b', 'can-c', 'can-d', 'can-e'];
    const perRetailer = 600;
    const start = (await env.currentTimeMs()) - 2 * HOUR_MS;
    const first = await report(t, {
      retailer: 'can-a',
      status: 'failure',
      runId: 'can-first',
      startedAt: new Date(start - 2000).toISOString(),
      finishedAt: new Date(start - 1000).toISOString(),
    });
    const firstRunId = (await first.describe()).runId;
    const handle = monitorHandle(env.client, t.workflowId);
    await Promise.all(
      retailers.map(async (retailer, ri) => {
        for (let i = 0; i < perRetailer; i++) {
          const at = start + i * 1000 + ri;
          // Every 5th run fails so streaks and averages have something to carry.
          await handle.signal('ingestionCompleted', {
            runId: `${retailer}-${i}`,
            retailer,
            status: i % 5 === 4 ? 'failure' : 'success',
            startedAt: new Date(at - 500).toISOString(),
            finishedAt: new Date(at).toISOString(),
            skuCount: i % 5 === 4 ? undefined : 1000 + (i % 3),
          });
        }
      }),
    );
    const total = retailers.length * perRetailer + 1;
    const deadline = Date.now() + 60_000;
    let status = await handle.query(statusQuery);
    while (status.counters.accepted + status.counters.outOfOrder < total && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 200));
      status = await handle.query(statusQuery);
    }
    expect(status.counters.accepted + status.counters.outOfOrder).toBe(total);
    expect(status.counters.rejected).toBe(0);
    for (const r of status.retailers) {
      expect(r.totals.runs).toBe(r.retailer === 'can-a' ? perRetailer + 1 : perRetailer);
      expect(r.lastRun!.runId).toBe(`${r.retailer}-${perRetailer - 1}`);
      expect(r.trailingAverage).toBeGreaterThan(1000);
    }
    // It really did continue-as-new (after writing the backlog down to what it may carry).
    const latest = await until('a continued-as-new run', async () => {
      const d = await handle.describe();
      return d.runId !== firstRunId && d;
    }, 60_000);
    expect(latest.status.name).toBe('RUNNING');
    // Every report reached Postgres exactly once.
    let count = 0;
    while (Date.now() < deadline + 30_000) {
      const row = await tdb.db.selectFrom('ingestion_runs').select((eb) => eb.fn.countAll<string>().as('n')).where('retailer', 'like', 'can-%').executeTakeFirstOrThrow();
      count = Number(row.n);
      if (count >= total) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    expect(count).toBe(total);
    // A duplicate of a report from an earlier run is still recognised.
    await handle.signal('ingestionCompleted', {
      runId: 'can-b-590',
      retailer: 'can-b',
      status: 'success',
      startedAt: new Date(start).toISOString(),
      finishedAt: new Date(start + 1).toISOString(),
      skuCount: 5,
    });
    expect((await handle.query(statusQuery)).counters.duplicates).toBe(1);
  });
});

describe('operator actions', () => {

  it('a silence records alerts without sending them, but the resolve still goes out', async () => {
    const t = target();
    const handle = await report(t, { retailer: 'quiet-mart', status: 'success' });
    const until_ = new Date((await env.currentTimeMs()) + HOUR_MS).toISOString();
    await handle.signal(silenceSignal, { retailer: 'quiet-mart', until: until_, reason: 'site migration', by: 'sam' });
    await report(t, { retailer: 'quiet-mart', status: 'failure' });
    await report(t, { retailer: 'quiet-mart', status: 'failure' });
    const row = await until('silenced alert row', async () =>
      tdb.db.selectFrom('alert_events').selectAll().where('retailer', '=', 'quiet-mart').executeTakeFirst(),
    );
    expect(row).toMatchObject({ kind: 'fire', silenced: true, delivered: false });
    expect((row.delivery as any[]).map((d) => d.status)).toEqual(['silenced', 'silenced', 'silenced']);
    const detail = await handle.query(retailerQuery, 'quiet-mart');
    expect(detail).toMatchObject({ health: 'silenced', silences: [{ rule: '*', reason: 'site migration', by: 'sam' }] });
    expect(hooksFor('quiet-mart')).toEqual([]);
    const status = await until('status row with silence', async () => {
      const r = await tdb.db.selectFrom('retailer_status').selectAll().where('retailer', '=', 'quiet-mart').executeTakeFirst();
      return r?.silence_reason === 'site migration' && r;
    });
    expect(status.silenced_until?.toISOString()).toBe(until_);

    await report(t, { retailer: 'quiet-mart', status: 'success' });
    await hook.waitFor(() => hooksFor('quiet-mart').length === 1);
    expect(hooksFor('quiet-mart')[0]!.body.kind).toBe('resolve');
    const actions = await until('silence action row', async () => {
      const rows = await tdb.db.selectFrom('operator_actions').selectAll().where('retailer', '=', 'quiet-mart').execute();
      return rows.length > 0 && rows;
    });
    expect(actions[0]).toMatchObject({ action: 'silence', by: 'sam', reason: 'site migration', rule: '*' });
  });

  it('an acknowledgement stops re-notification and shows in the query and Postgres', async () => {
    const t = target({ thresholds: { renotifyEveryMs: HOUR_MS } });
    await report(t, { retailer: 'ack-mart', status: 'failure' });
    const handle = await report(t, { retailer: 'ack-mart', status: 'failure' });
    const [incident] = await handle.query(incidentsQuery);
    await handle.signal(acknowledgeSignal, { incidentId: incident!.id, by: 'kim', note: 'on it' });
    await env.sleep(3 * HOUR_MS);
    const alerts = (await handle.query(alertsQuery)).filter((a) => a.retailer === 'ack-mart');
    expect(alerts.map((a) => a.kind)).toEqual(['fire']);
    const [open] = await handle.query(incidentsQuery);
    expect(open!.acknowledged).toMatchObject({ by: 'kim', note: 'on it' });
    await until('acknowledged status row', async () => {
      const r = await tdb.db.selectFrom('retailer_status').selectAll().where('retailer', '=', 'ack-mart').executeTakeFirst();
      return r?.acknowledged_rules === 'consecutive_failures';
    });
    // An unknown incident id is rejected with a reason, not thrown.
    await handle.signal(acknowledgeSignal, { incidentId: 'ack-mart/stale/999', by: 'kim' });
    const status = await handle.query(statusQuery);
    expect(status.recentRejections.at(-1)!.reason).toMatch(/no open incident ack-mart\/stale\/999/);
  });

  it('reprocess rebuilds state from Postgres and notifies only what is new, once', async () => {
    const t = target();
    for (const c of [1000, 1000, 1000, 750]) await report(t, { retailer: 'redo-mart', status: 'success', skuCount: c });
    const handle = monitorHandle(env.client, t.workflowId);
    await until('4 stored runs', async () => {
      const rows = await tdb.db.selectFrom('ingestion_runs').select('run_id').where('retailer', '=', 'redo-mart').execute();
      return rows.length === 4;
    });
    expect(await handle.query(incidentsQuery)).toEqual([]); // 25% below: within the default 30%
    await handle.signal(setThresholdsSignal, { retailer: 'redo-mart', thresholds: { skuDropPct: 20 } });
    const now = await env.currentTimeMs();
    const range = { retailer: 'redo-mart', from: new Date(now - 24 * HOUR_MS).toISOString(), to: new Date(now + 60_000).toISOString() };
    await handle.signal(reprocessSignal, { ...range, by: 'kim' });
    const [incident] = await until('the reprocessed incident', async () => {
      const open = await handle.query(incidentsQuery);
      return open.length > 0 && open;
    });
    expect(incident).toMatchObject({ retailer: 'redo-mart', rule: 'sku_drop' });
    await hook.waitFor(() => hooksFor('redo-mart').length === 1);
    expect(hooksFor('redo-mart')[0]!.body.summary).toMatch(/found by reprocessing/);

    // Again: the incident is already notified, so nothing is sent twice.
    await handle.signal(reprocessSignal, { ...range, by: 'kim' });
    const actions = await until('two reprocess actions', async () => {
      const rows = await tdb.db.selectFrom('operator_actions').selectAll().where('retailer', '=', 'redo-mart').where('action', '=', 'reprocess').execute();
      return rows.length === 2 && rows;
    });
    expect(actions.map((a) => a.outcome)).toEqual(['rebuilt from 4 runs; 1 notification(s)', 'rebuilt from 4 runs; 0 notification(s)']);
    expect((await handle.query(incidentsQuery)).map((i) => i.id)).toEqual([incident!.id]);
    await env.sleep(5_000);
    expect(hooksFor('redo-mart')).toHaveLength(1);
  });
});
