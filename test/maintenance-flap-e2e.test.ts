/**
 * Maintenance windows and flap control end to end on the real dev server + real Postgres, with a loopback
 * server standing in for Slack (incoming webhook), in real time:
 * - a one-off window of the current minute (or two): a failure inside it is recorded silenced and nothing
 *   reaches Slack; the incident still open when the window ends is announced then (the monitor's own timer);
 * - with flapCount 2, a fire / resolve / fire / resolve / … sequence posts the first fire, its resolve and one
 *   flapping notice, then nothing more while the incident is held open.
 */
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Worker } from '@temporalio/worker';
import { commandRetailer, reportIngestionRun, retailerHandle } from '../src/client';
import type { ThresholdOverrides } from '../src/rules/thresholds';
import { addMaintenanceUpdate, retailerAlertsQuery, retailerQuery, setThresholdsUpdate } from '../src/shared/messages';
import type { RunReportInput } from '../src/shared/report';
import { ensureFleet } from '../src/worker';
import { type CaptureServer, startCaptureServer } from './helpers/capture-server';
import { createTestMonitorWorker, testConfig } from './helpers/monitor';
import { createTestDatabase, type TestDatabase } from './helpers/postgres';
import { createDevServerEnv } from './helpers/temporal';
import { until } from './helpers/wait';

let env: TestWorkflowEnvironment;
let tdb: TestDatabase;
let slack: CaptureServer;
let worker: Worker;
let running: Promise<void>;
const taskQueue = 'monitor-maintenance-flap-e2e';
const workflowId = `ingestion-monitor-maintenance-flap-${Date.now()}`;
const target = { workflowId, taskQueue };
const MIN = 60_000;

beforeAll(async () => {
  [env, tdb, slack] = await Promise.all([createDevServerEnv(), createTestDatabase('im_maint_flap'), startCaptureServer()]);
  const config = testConfig({ taskQueue, databaseUrl: tdb.url, slackWebhookUrl: `${slack.url}/services/T000/B000/SECRETmaint` });
  worker = await createTestMonitorWorker(env, config, tdb);
  running = worker.run();
  await ensureFleet(env.client, target, { groupWindowMs: 300 });
}, 120_000);

afterAll(async () => {
  worker?.shutdown();
  await running;
  await Promise.all([env?.teardown(), tdb?.drop(), slack?.close()]);
});

/** The Slack messages (their JSON text) that name a retailer. */
const posted = (retailer: string) => slack.received.map((r) => JSON.stringify(r.body)).filter((t) => t.includes(retailer));
const iso = (ms: number) => new Date(ms).toISOString();
let n = 0;
const run = (retailer: string, ok: boolean): RunReportInput => {
  const now = Date.now();
  return { runId: `${retailer}-${++n}`, retailer, status: ok ? 'success' : 'failure', startedAt: iso(now - 2_000), finishedAt: iso(now - 1_000), ...(ok ? { skuCount: 100 } : { error: 'HTTP 503' }) };
};
const send = (retailer: string, ok: boolean) => reportIngestionRun(env.client, run(retailer, ok), target);
const setThresholds = (retailer: string, thresholds: ThresholdOverrides) => commandRetailer(env.client, retailer, setThresholdsUpdate, [{ retailer, thresholds }], target);
const alertRows = (retailer: string) =>
  tdb.db.selectFrom('alert_events').select(['kind', 'rule', 'silenced', 'delivered', 'summary']).where('retailer', '=', retailer).orderBy('occurred_at').orderBy('id').execute();

it('a failure inside a one-off window is recorded silenced, nothing is posted, and the open incident is announced when the window ends', async () => {
  const retailer = 'window-mart';
  // A window from the start of this minute to the end of it (or of the next, when under 40 s remain); not
  // across midnight UTC (a one-off window is one local date).
  await until('a minute that is not among the last two of the UTC day', async () => Date.now() % (24 * 60 * MIN) < 24 * 60 * MIN - 2 * MIN, 3 * MIN, 1000);
  const start = Math.floor(Date.now() / MIN) * MIN;
  const end = start + (Date.now() - start < 40_000 ? 1 : 2) * MIN;
  const hhmm = (ms: number) => iso(ms).slice(11, 16);
  const spec = `once ${iso(start).slice(0, 10)} ${hhmm(start)}-${hhmm(end)} UTC`;

  expect(await send(retailer, true)).toMatchObject({ outcome: 'accepted' });
  await setThresholds(retailer, { failureStreak: 1 });
  await commandRetailer(env.client, retailer, addMaintenanceUpdate, [{ retailer, spec, reason: 'db failover drill', by: 'e2e' }], target);
  const failed = await send(retailer, false);
  expect(Date.now()).toBeLessThan(end); // the failure fell inside the window
  expect(failed.opened.map((o) => o.rule)).toEqual(['consecutive_failures']);
  const fires = await retailerHandle(env.client, retailer, target).query(retailerAlertsQuery);
  expect(fires).toEqual([expect.objectContaining({ kind: 'fire', rule: 'consecutive_failures', silenced: true })]);
  // Recorded in Postgres as silenced and not delivered; Slack has heard nothing of it.
  await until('the silenced fire in Postgres', async () => (await alertRows(retailer)).length === 1);
  expect(await alertRows(retailer)).toEqual([expect.objectContaining({ kind: 'fire', silenced: true, delivered: false })]);
  expect(posted(retailer)).toEqual([]);

  // The window ends: the monitor's timer announces the incident that is still open.
  const [announced] = await until('the announcement in Slack', async () => posted(retailer).length > 0 && posted(retailer), end - Date.now() + 60_000, 250);
  expect(Date.now()).toBeGreaterThanOrEqual(end);
  expect(announced).toContain('FIRING');
  expect(announced).toContain('maintenance window ended; still open');
  const rows = await until('the announcement in Postgres, delivered', async () => {
    const r = await alertRows(retailer);
    return r.length === 2 && r[1]!.delivered && r;
  });
  expect(rows.map((r) => `${r.kind}:${r.silenced}:${r.delivered}`)).toEqual(['fire:true:false', 'fire:false:true']);
  expect(posted(retailer)).toHaveLength(1);
  const detail = await retailerHandle(env.client, retailer, target).query(retailerQuery);
  expect(detail.maintenance ?? []).toEqual([]); // the one-off window is gone once over
  expect(detail.openIncidents.map((i) => i.rule)).toEqual(['consecutive_failures']);
}, 240_000);

it('a flapping rule posts one flapping notice, not a stream of fires and resolves', async () => {
  const retailer = 'flap-mart';
  expect(await send(retailer, true)).toMatchObject({ outcome: 'accepted' });
  await setThresholds(retailer, { failureStreak: 1, flapCount: 2, flapWindowMs: 10 * MIN, flapQuietMs: 10 * MIN });
  /** Wait until `count` rows are delivered, so each event is its own Slack message (not grouped with the next). */
  const delivered = (count: number) =>
    until(`${count} delivered alert rows`, async () => {
      const rows = await alertRows(retailer);
      return rows.length === count && rows.every((r) => r.delivered && !r.silenced);
    });
  // fail, ok, fail, ok, fail, ok, fail: four fires of consecutive_failures and three recoveries.
  const verdicts = [await send(retailer, false)];
  await delivered(1);
  verdicts.push(await send(retailer, true));
  await delivered(2);
  for (let i = 2; i < 7; i++) verdicts.push(await send(retailer, i % 2 === 1));
  expect(verdicts.map((v) => v.outcome)).toEqual(Array(7).fill('accepted'));

  // The monitor sent three events: the first fire, its resolve, and the second fire as the flapping notice.
  const events = await retailerHandle(env.client, retailer, target).query(retailerAlertsQuery);
  expect(events.map((e) => `${e.kind}:${e.rule}`)).toEqual(['fire:consecutive_failures', 'resolve:consecutive_failures', 'fire:consecutive_failures']);
  expect(events[2]!.summary).toMatch(/FLAPPING: consecutive_failures fired 2 times within 10 min/);
  const detail = await retailerHandle(env.client, retailer, target).query(retailerQuery);
  expect(detail.openIncidents).toEqual([expect.objectContaining({ rule: 'consecutive_failures', flapping: expect.objectContaining({ flips: 4 }) })]);

  // All three delivered (Postgres says so), and Slack got exactly those three: one flapping notice.
  await delivered(3);
  const messages = posted(retailer);
  expect(messages).toHaveLength(3);
  expect(messages.filter((m) => m.includes('FLAPPING'))).toHaveLength(1);
  expect(messages.filter((m) => m.includes('RESOLVED'))).toHaveLength(1);
}, 120_000);
