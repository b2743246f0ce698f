/**
 * The retailer monitor (`ingestion-monitor/<retailer>`) and the fleet workflow on the time-skipping test
 * server, with the real activities: Postgres persistence on a fresh database and a loopback HTTP server
 * standing in for the alert webhook. Time-driven rules (stale, re-notify, silence end) are checked by
 * jumping workflow time with `env.sleep`; everything else waits on conditions.
 *
 * The Java test server implements neither the OperatorService nor Schedules: ListSearchAttributes and
 * DescribeSchedule answer UNIMPLEMENTED. The monitor is meant to carry on without search attributes there;
 * it does not (see the last test), so the worker's activities get a client on which ListSearchAttributes
 * answers "none registered" and a schedule describe answers "not found" (what this server means; without
 * the latter every stale alert waits ~15 s for the diagnosis activity's five attempts).
 */
import { WorkflowNotFoundError } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { LogEntry, Worker } from '@temporalio/worker';
import {
  commandRetailer,
  CommandRejectedError,
  reportIngestionRun,
  retailerHandle,
  sendIngestionCompleted,
} from '../src/client';
import type { MonitorConfig } from '../src/config';
import { HOUR_MS } from '../src/rules/thresholds';
import {
  acknowledgeSignal,
  acknowledgeUpdate,
  addMaintenanceUpdate,
  ingestionCompletedSignal,
  removeMaintenanceUpdate,
  reprocessUpdate,
  retailerAlertsQuery,
  retailerQuery,
  retailerWorkflowId,
  setThresholdsUpdate,
  silenceUpdate,
  unsilenceUpdate,
} from '../src/shared/messages';
import { InvalidRunReportError, type RunReportInput } from '../src/shared/report';
import { type CaptureServer, startCaptureServer } from './helpers/capture-server';
import { createTestMonitorWorker, startFleet, testConfig } from './helpers/monitor';
import { createTestDatabase, deliveryRecorded, type TestDatabase } from './helpers/postgres';
import { createTimeSkippingEnv, quietRuntime } from './helpers/temporal';
import { until } from './helpers/wait';

const MIN = 60_000;

let env: TestWorkflowEnvironment;
let tdb: TestDatabase;
let hook: CaptureServer;
let config: MonitorConfig;
let worker: Worker;
let running: Promise<void>;
const taskQueue = 'monitor-ts-test';
const target = { taskQueue };
let seq = 0;
/** Retailer monitors a test started; terminated after it so their timers cannot fire in later tests' time jumps. */
const started = new Set<string>();

beforeAll(async () => {
  // Warnings as the helpers show them (held back unless a test fails), less the rejected messages this file
  // provokes on purpose.
  const provoked = (e: LogEntry) => /^rejected /.test(e.message);
  quietRuntime((e) => {
    if (!provoked(e)) process.stderr.write(`[${e.level}] ${e.message} ${e.meta ? JSON.stringify(e.meta) : ''}\n`);
  });
  [env, tdb, hook] = await Promise.all([createTimeSkippingEnv(), createTestDatabase('im_wf'), startCaptureServer()]);
  config = testConfig({ taskQueue, databaseUrl: tdb.url, webhookUrl: `${hook.url}/hook` });
  // The stock worker: on this server ListSearchAttributes and the schedules API answer UNIMPLEMENTED, which
  // the activities take as "no search attributes" and "no schedule".
  worker = await createTestMonitorWorker(env, config, tdb);
  running = worker.run();
  await startFleet(env.client, config, { groupWindowMs: 1000 });
}, 120_000);

afterEach(async () => {
  // Terminated only once idle: the test server stops skipping time for good when a workflow is terminated
  // with an activity in flight (every later env.sleep then runs in real time).
  for (const retailer of started) {
    const handle = retailerHandle(env.client, retailer);
    let quiet = 0;
    await until(
      `${retailer}'s monitor idle`,
      async () => {
        const { raw } = await handle.describe();
        quiet = (raw.pendingActivities ?? []).length === 0 && !raw.pendingWorkflowTask ? quiet + 1 : 0;
        return quiet >= 3;
      },
      10_000,
      50,
    ).catch(() => undefined);
    await handle.terminate('test over').catch(() => undefined);
  }
  started.clear();
});

afterAll(async () => {
  worker?.shutdown();
  await running;
  await Promise.all([env?.teardown(), tdb?.drop(), hook?.close()]);
});

// ---- helpers ------------------------------------------------------------------------------------------

const iso = (ms: number) => new Date(ms).toISOString();

/** A valid report finishing at workflow time `at` (default: now on the test server's clock). */
async function runReport(retailer: string, status: 'success' | 'failure', extra: Partial<RunReportInput> & { at?: number } = {}): Promise<RunReportInput> {
  const { at: given, ...rest } = extra;
  const at = given ?? (await env.currentTimeMs());
  return {
    runId: `${retailer}-${++seq}`,
    retailer,
    status,
    startedAt: iso(at - 5 * MIN),
    finishedAt: iso(at),
    ...(status === 'success' ? { skuCount: 1000 } : { error: 'HTTP 503 from the retailer' }),
    ...rest,
  };
}

async function send(retailer: string, status: 'success' | 'failure', extra: Partial<RunReportInput> & { at?: number } = {}) {
  started.add(retailer);
  return reportIngestionRun(env.client, await runReport(retailer, status, extra), target);
}

const monitor = (retailer: string) => retailerHandle(env.client, retailer);
const detail = (retailer: string) => monitor(retailer).query(retailerQuery);
const command = <Ret, Args extends [any, ...any[]]>(retailer: string, update: import('@temporalio/client').UpdateDefinition<Ret, Args>, args: Args) =>
  commandRetailer(env.client, retailer, update, args, target);

interface Posted {
  kind: string;
  rule: string;
  retailer: string;
  incidentId: string;
  eventId: string;
  summary: string;
  at: string;
}
/** Alerts POSTed to the webhook for `retailer` (single messages and members of grouped ones), in arrival order. */
function posted(retailer: string, rule?: string): Posted[] {
  return hook.received
    .flatMap((r): Posted[] => (r.body?.type === 'ingestion-monitor.alert-group' ? r.body.alerts : [r.body]))
    .filter((b) => b?.retailer === retailer && (rule === undefined || b.rule === rule));
}
const kindsPosted = (retailer: string, rule?: string) => posted(retailer, rule).map((p) => `${p.kind}:${p.rule}`);

const alertRows = (retailer: string) => tdb.db.selectFrom('alert_events').selectAll().where('retailer', '=', retailer).orderBy('id').execute();
const statusRow = (retailer: string) => tdb.db.selectFrom('retailer_status').selectAll().where('retailer', '=', retailer).executeTakeFirst();
const runRows = (retailer: string) => tdb.db.selectFrom('ingestion_runs').selectAll().where('retailer', '=', retailer).orderBy('finished_at').execute();

/** Jump workflow time to `at` (ms) on the test server. */
/**
 * Two failures while the retailer's alerts are held (a silence or a maintenance window): the fire is
 * answered `silenced` and recorded silenced, not delivered. Returns the incident id.
 */
async function failTwiceSilenced(retailer: string): Promise<string> {
  await send(retailer, 'failure');
  const fired = await send(retailer, 'failure');
  expect(fired).toMatchObject({ health: 'silenced', opened: [{ rule: 'consecutive_failures' }] });
  const id = fired.opened[0]!.id;
  const [row] = await until('the silenced fire recorded', async () => {
    const r = await alertRows(retailer);
    return r.length > 0 && r;
  });
  expect(row).toMatchObject({ kind: 'fire', incident_id: id, silenced: true, delivered: false });
  return id;
}

async function sleepUntil(at: number) {
  const now = await env.currentTimeMs();
  if (at > now) await env.sleep(at - now);
}

// ---- time-driven rules ----------------------------------------------------------------------------------

describe('retailer monitor: rules and time (time-skipping server)', () => {
  // First, while no other retailer's stale timer can fire in the same window.
  it('fires stale 4 h after the last success — not at 4 h − 1 min, by 4 h + 1 s — and resolves on the next success', async () => {
    const first = await send('stale-mart', 'success');
    expect(first).toMatchObject({ outcome: 'accepted', health: 'healthy' });
    const successAt = Date.parse((await detail('stale-mart')).lastSuccessAt!);

    await sleepUntil(successAt + 4 * HOUR_MS - MIN);
    expect((await detail('stale-mart')).openIncidents).toEqual([]);
    expect(posted('stale-mart')).toEqual([]);
    expect(await alertRows('stale-mart')).toEqual([]);

    await sleepUntil(successAt + 4 * HOUR_MS + 1000);
    const [incident] = (await detail('stale-mart')).openIncidents;
    expect(incident).toMatchObject({ retailer: 'stale-mart', rule: 'stale' });
    // The durable timer fires at the deadline itself.
    const late = Date.parse(incident!.openedAt) - successAt;
    expect(late).toBeGreaterThanOrEqual(4 * HOUR_MS);
    expect(late).toBeLessThanOrEqual(4 * HOUR_MS + 1000);
    await hook.waitFor(() => posted('stale-mart').length === 1);
    expect(posted('stale-mart')[0]).toMatchObject({ kind: 'fire', rule: 'stale', incidentId: incident!.id });
    expect(posted('stale-mart')[0]!.summary).toMatch(/no successful run for 4 h/);

    const back = await send('stale-mart', 'success');
    expect(back).toMatchObject({ outcome: 'accepted', health: 'healthy', resolved: [{ id: incident!.id, rule: 'stale' }] });
    await hook.waitFor(() => posted('stale-mart').length === 2);
    expect(kindsPosted('stale-mart')).toEqual(['fire:stale', 'resolve:stale']);
    const rows = await until('fire and resolve recorded', async () => {
      const r = await alertRows('stale-mart');
      return r.length === 2 && r.every(deliveryRecorded) && r;
    });
    expect(rows.map((r) => [r.kind, r.rule, r.incident_id, r.delivered])).toEqual([
      ['fire', 'stale', incident!.id, true],
      ['resolve', 'stale', incident!.id, true],
    ]);
  });

  it('two failures fire exactly once; a third does not repeat it; a success resolves the same incident', async () => {
    await send('fail-mart', 'success');
    expect(await send('fail-mart', 'failure', { error: 'timeout waiting for selector' })).toMatchObject({ health: 'healthy', opened: [] });
    const second = await send('fail-mart', 'failure');
    expect(second).toMatchObject({ outcome: 'accepted', health: 'unhealthy', opened: [{ rule: 'consecutive_failures' }] });
    const id = second.opened[0]!.id;
    expect(await send('fail-mart', 'failure')).toMatchObject({ health: 'unhealthy', opened: [], resolved: [] });

    const [open] = (await detail('fail-mart')).openIncidents;
    expect(open).toMatchObject({ id, rule: 'consecutive_failures', figures: { failureStreak: 3 } });
    await hook.waitFor(() => posted('fail-mart').length >= 1);
    await env.sleep(5_000);
    expect(kindsPosted('fail-mart')).toEqual(['fire:consecutive_failures']);

    expect(await send('fail-mart', 'success')).toMatchObject({ health: 'healthy', resolved: [{ id, rule: 'consecutive_failures' }] });
    await hook.waitFor(() => posted('fail-mart').length === 2);
    expect(posted('fail-mart').map((p) => [p.kind, p.incidentId])).toEqual([
      ['fire', id],
      ['resolve', id],
    ]);
  });

  it('fires on an SKU drop of more than 30% and resolves when counts recover', async () => {
    for (const skuCount of [1000, 1010, 990]) expect(await send('sku-mart', 'success', { skuCount })).toMatchObject({ opened: [] });
    // 25% below the average: within the threshold.
    expect(await send('sku-mart', 'success', { skuCount: 750 })).toMatchObject({ opened: [], health: 'healthy' });
    const drop = await send('sku-mart', 'success', { skuCount: 600 });
    expect(drop).toMatchObject({ health: 'unhealthy', opened: [{ rule: 'sku_drop' }] });
    const [inc] = (await detail('sku-mart')).openIncidents;
    expect(inc).toMatchObject({ id: drop.opened[0]!.id, rule: 'sku_drop' });
    expect(inc!.figures.skuCount).toBe(600);
    expect(inc!.figures.dropPct).toBeGreaterThan(30);

    expect(await send('sku-mart', 'success', { skuCount: 980 })).toMatchObject({ health: 'healthy', resolved: [{ id: drop.opened[0]!.id }] });
    await hook.waitFor(() => posted('sku-mart').length >= 2);
    expect(kindsPosted('sku-mart')).toEqual(['fire:sku_drop', 'resolve:sku_drop']);
  });

  it('re-notifies every R (a per-retailer threshold) at +1 h and +2 h while the incident stays open', async () => {
    await send('nag-mart', 'success');
    const set = await command('nag-mart', setThresholdsUpdate, [{ retailer: 'nag-mart', thresholds: { renotifyEveryMs: HOUR_MS } }]);
    expect(set.message).toMatch(/renotifyEveryMs":3600000/);
    await send('nag-mart', 'failure');
    const fired = await send('nag-mart', 'failure');
    const id = fired.opened[0]!.id;
    await hook.waitFor(() => posted('nag-mart').length === 1);

    await env.sleep(2 * HOUR_MS + MIN);
    const alerts = (await monitor('nag-mart').query(retailerAlertsQuery)).filter((a) => a.incidentId === id);
    expect(alerts.map((a) => a.kind)).toEqual(['fire', 'renotify', 'renotify']);
    const at = alerts.map((a) => Date.parse(a.at));
    // Reminders keep to the schedule (the time-skipping server may overshoot a timer by a few ms).
    expect(Math.abs(at[1]! - at[0]! - HOUR_MS)).toBeLessThan(1000);
    expect(Math.abs(at[2]! - at[0]! - 2 * HOUR_MS)).toBeLessThan(1000);
    await hook.waitFor(() => posted('nag-mart').length === 3);
    expect(kindsPosted('nag-mart')).toEqual(['fire:consecutive_failures', 'renotify:consecutive_failures', 'renotify:consecutive_failures']);
    expect(posted('nag-mart').every((p) => p.incidentId === id)).toBe(true);
  });

  it('an acknowledgement stops re-notification and shows in the query and in Postgres', async () => {
    await send('ack-mart', 'success');
    await command('ack-mart', setThresholdsUpdate, [{ retailer: 'ack-mart', thresholds: { renotifyEveryMs: HOUR_MS } }]);
    await send('ack-mart', 'failure');
    const id = (await send('ack-mart', 'failure')).opened[0]!.id;
    const ack = await command('ack-mart', acknowledgeUpdate, [{ incidentId: id, by: 'kim', note: 'on it' }]);
    expect(ack).toMatchObject({ retailer: 'ack-mart', message: `acknowledged ${id}`, health: 'unhealthy' });

    await env.sleep(3 * HOUR_MS);
    const alerts = (await monitor('ack-mart').query(retailerAlertsQuery)).filter((a) => a.incidentId === id);
    // The acknowledgement is announced (Slack updates its message, PagerDuty acknowledges); no reminder follows.
    expect(alerts.map((a) => a.kind)).toEqual(['fire', 'acknowledge']);
    const [open] = (await detail('ack-mart')).openIncidents;
    expect(open).toMatchObject({ id, acknowledged: { by: 'kim', note: 'on it' } });
    await hook.waitFor(() => posted('ack-mart').length >= 2);
    expect(kindsPosted('ack-mart')).toEqual(['fire:consecutive_failures', 'acknowledge:consecutive_failures']);

    const action = await until('the acknowledge action row', async () =>
      tdb.db.selectFrom('operator_actions').selectAll().where('retailer', '=', 'ack-mart').where('action', '=', 'acknowledge').executeTakeFirst(),
    );
    expect(action).toMatchObject({ incident_id: id, rule: 'consecutive_failures', by: 'kim', reason: 'on it', action_id: ack.actionId });
    await until('acknowledged_rules in retailer_status', async () => (await statusRow('ack-mart'))?.acknowledged_rules === 'consecutive_failures');

    // An unknown incident: the Update is refused; the signal form is rejected with the reason (not thrown).
    await expect(command('ack-mart', acknowledgeUpdate, [{ incidentId: 'ack-mart/stale/999', by: 'kim' }])).rejects.toBeInstanceOf(CommandRejectedError);
    await monitor('ack-mart').signal(acknowledgeSignal, { incidentId: 'ack-mart/stale/999', by: 'kim' });
    const rejected = await until('the rejection recorded', async () => {
      const d = await detail('ack-mart');
      return d.recentRejections.length > 0 && d.recentRejections;
    });
    expect(rejected.at(-1)!.reason).toMatch(/no open incident ack-mart\/stale\/999/);
  });
});

// ---- silences ------------------------------------------------------------------------------------------

describe('silence end (defect 4)', () => {
  /** Silence every rule of `retailer` (or one) for an hour, then two failures: a fire recorded silenced and not sent. */
  async function silencedFire(retailer: string, rule?: 'consecutive_failures') {
    await send(retailer, 'success');
    const untilAt = (await env.currentTimeMs()) + HOUR_MS;
    const res = await command(retailer, silenceUpdate, [{ retailer, until: iso(untilAt), reason: 'site migration', by: 'sam', ...(rule ? { rule } : {}) }]);
    expect(res.health).toBe('healthy');
    const id = await failTwiceSilenced(retailer);
    await until('retailer_status says silenced', async () => (await statusRow(retailer))?.health === 'silenced');
    expect(posted(retailer)).toEqual([]);
    return { id, untilAt };
  }

  async function expectAnnounced(retailer: string, id: string) {
    await hook.waitFor(() => posted(retailer).length >= 1);
    expect(posted(retailer)).toHaveLength(1);
    expect(posted(retailer)[0]).toMatchObject({ kind: 'fire', rule: 'consecutive_failures', incidentId: id });
    const rows = await until('the announcement recorded', async () => {
      const r = await alertRows(retailer);
      return r.length === 2 && r.every(deliveryRecorded) && r;
    });
    expect(rows.map((r) => [r.kind, r.incident_id, r.silenced, r.delivered])).toEqual([
      ['fire', id, true, false],
      ['fire', id, false, true],
    ]);
    expect((await detail(retailer)).health).toBe('unhealthy');
    await until('retailer_status no longer silenced', async () => (await statusRow(retailer))?.health === 'unhealthy');
  }

  it('an incident that fired while silenced is announced when the silence runs out', async () => {
    const { id, untilAt } = await silencedFire('hush-mart');
    await sleepUntil(untilAt - MIN);
    expect(posted('hush-mart')).toEqual([]);
    expect((await detail('hush-mart')).health).toBe('silenced');
    await sleepUntil(untilAt + MIN);
    await expectAnnounced('hush-mart', id);
    expect(posted('hush-mart')[0]!.summary).toMatch(/silence ended/);
  });

  it('… and when an operator ends the silence early', async () => {
    const { id } = await silencedFire('early-mart');
    const res = await command('early-mart', unsilenceUpdate, [{ retailer: 'early-mart' }]);
    expect(res).toMatchObject({ health: 'unhealthy' });
    expect(res.message).toMatch(/removed; 1 open incident\(s\) announced/);
    await expectAnnounced('early-mart', id);
    const actions = await until('silence and unsilence actions', async () => {
      const r = await tdb.db.selectFrom('operator_actions').selectAll().where('retailer', '=', 'early-mart').orderBy('id').execute();
      return r.length === 2 && r;
    });
    expect(actions.map((a) => [a.action, a.by, a.rule])).toEqual([
      ['silence', 'sam', '*'],
      ['unsilence', 'operator', '*'],
    ]);
  });

  it('unsilence without a rule removes a one-rule silence too ("remove a retailer\'s silences (or one rule\'s)")', async () => {
    const { id } = await silencedFire('rule-mart', 'consecutive_failures');
    const res = await command('rule-mart', unsilenceUpdate, [{ retailer: 'rule-mart' }]);
    expect({ message: res.message, silences: (await detail('rule-mart')).silences }).toEqual({
      message: expect.stringMatching(/removed; 1 open incident\(s\) announced/),
      silences: [],
    });
    await expectAnnounced('rule-mart', id);
  });

  it('a resolve of an incident nobody was told about stays quiet', async () => {
    const { id } = await silencedFire('quiet-mart');
    expect(await send('quiet-mart', 'success')).toMatchObject({ resolved: [{ id }], health: 'healthy' });
    const rows = await until('the resolve recorded', async () => {
      const r = await alertRows('quiet-mart');
      return r.length === 2 && r;
    });
    expect(rows.map((r) => [r.kind, r.silenced])).toEqual([
      ['fire', true],
      ['resolve', true],
    ]);
    await env.sleep(HOUR_MS + MIN); // past the silence: nothing left to announce
    await until('healthy status row', async () => (await statusRow('quiet-mart'))?.health === 'healthy');
    expect(posted('quiet-mart')).toEqual([]);
  });
});

// ---- reprocess -----------------------------------------------------------------------------------------

describe('reprocess', () => {
  it('a window that ended 20 h ago never moves lastSuccessAt backwards, and pages nobody (defect 9)', async () => {
    // A day of runs every 90 min (one failure early on), in real order: time jumps between the reports.
    const start = await env.currentTimeMs();
    let last: Awaited<ReturnType<typeof send>> | undefined;
    for (let i = 0; i <= 16; i++) {
      if (i > 0) await env.sleep(90 * MIN);
      last = await send('redo-mart', i === 1 ? 'failure' : 'success');
      expect(last.outcome).toBe('accepted');
    }
    const now = await env.currentTimeMs();
    const before = await detail('redo-mart');
    expect(before.lastRun?.runId).toBe(last!.runId);
    expect(before.openIncidents).toEqual([]);
    expect(posted('redo-mart')).toEqual([]);
    const lastSuccessAt = before.lastSuccessAt!;
    expect(Date.parse(lastSuccessAt)).toBeGreaterThan(now - 5 * MIN);

    // [start − 2 h, now − 20 h = start + 4 h]: the first three runs (success, failure, success).
    const window = { retailer: 'redo-mart', from: iso(start - 2 * HOUR_MS), to: iso(now - 20 * HOUR_MS), by: 'kim' };
    const res = await command('redo-mart', reprocessUpdate, [window]);
    expect(res.message).toMatch(/window ends before the latest run; 3 runs read, state kept/);
    const after = await detail('redo-mart');
    expect(after.lastSuccessAt).toBe(lastSuccessAt);
    expect(after.lastRun?.runId).toBe(last!.runId);
    expect(after.staleDeadline).toBe(before.staleDeadline);
    expect(after.consecutiveFailures).toBe(0);
    expect(after.openIncidents).toEqual([]);

    await env.sleep(MIN);
    expect((await detail('redo-mart')).openIncidents).toEqual([]);
    expect(posted('redo-mart')).toEqual([]);
    const action = await until('the reprocess action row', async () =>
      tdb.db.selectFrom('operator_actions').selectAll().where('retailer', '=', 'redo-mart').where('action', '=', 'reprocess').executeTakeFirst(),
    );
    expect(action).toMatchObject({ by: 'kim', action_id: res.actionId });
    expect(action.outcome).toMatch(/state kept/);
    const row = await until('status row of the last run', async () => {
      const r = await statusRow('redo-mart');
      return r?.last_run_id === last!.runId && r;
    });
    expect(row.last_success_at?.toISOString()).toBe(lastSuccessAt);
    expect(row.health).toBe('healthy');
    expect(await alertRows('redo-mart')).toEqual([]);
  });

  it('a window reaching the present rebuilds the state and notifies only what is new, once', async () => {
    const now = await env.currentTimeMs();
    for (const [i, skuCount] of [1000, 1000, 1000, 750].entries()) await send('rebuild-mart', 'success', { skuCount, at: now - (4 - i) * 30 * MIN });
    expect((await detail('rebuild-mart')).openIncidents).toEqual([]); // 25% below: within the default 30%
    await command('rebuild-mart', setThresholdsUpdate, [{ retailer: 'rebuild-mart', thresholds: { skuDropPct: 20 } }]);
    const window = { retailer: 'rebuild-mart', from: iso(now - 24 * HOUR_MS), to: iso(now + MIN), by: 'kim' };
    const res = await command('rebuild-mart', reprocessUpdate, [window]);
    expect(res.message).toMatch(/rebuilt from 4 runs; 1 notification/);
    const [incident] = (await detail('rebuild-mart')).openIncidents;
    expect(incident).toMatchObject({ rule: 'sku_drop' });
    expect(Date.parse((await detail('rebuild-mart')).lastSuccessAt!)).toBe(now - 30 * MIN);
    await hook.waitFor(() => posted('rebuild-mart').length === 1);
    expect(posted('rebuild-mart')[0]).toMatchObject({ kind: 'fire', rule: 'sku_drop', incidentId: incident!.id });
    expect(posted('rebuild-mart')[0]!.summary).toMatch(/found by reprocessing/);

    const again = await command('rebuild-mart', reprocessUpdate, [window]);
    expect(again.message).toMatch(/rebuilt from 4 runs; 0 notification/);
    expect((await detail('rebuild-mart')).openIncidents.map((i) => i.id)).toEqual([incident!.id]);
    await env.sleep(5_000);
    expect(posted('rebuild-mart')).toHaveLength(1);
  });
});

// ---- bad input -----------------------------------------------------------------------------------------

describe('maintenance windows and flapping (issue 9)', () => {
  it('an alert inside a maintenance window is recorded silenced, and announced at the window end if still open', async () => {
    const retailer = 'window-mart';
    await send(retailer, 'success');
    // A one-off window from this minute for an hour, in UTC on the test server's clock (not across midnight).
    let now = await env.currentTimeMs();
    if (new Date(now).getUTCHours() >= 22) await sleepUntil(Date.parse(`${new Date(now + 3 * HOUR_MS).toISOString().slice(0, 10)}T00:05:00Z`));
    now = await env.currentTimeMs();
    const start = Math.floor(now / MIN) * MIN;
    const end = start + HOUR_MS;
    const hhmm = (ms: number) => new Date(ms).toISOString().slice(11, 16);
    const spec = `once ${new Date(start).toISOString().slice(0, 10)} ${hhmm(start)}-${hhmm(end)} UTC`;
    await expect(command(retailer, addMaintenanceUpdate, [{ retailer, spec: 'every sunday 04:00-02:00 UTC', reason: 'db upgrade' }])).rejects.toThrow(
      /end 02:00 is not after start 04:00/,
    );
    const added = await command(retailer, addMaintenanceUpdate, [{ retailer, spec, reason: 'db upgrade', by: 'sam' }]);
    expect(added.message).toMatch(/maintenance window window-mart\/action\/\d+ for window-mart: once .* UTC \(in effect now\)/);
    const d = await detail(retailer);
    expect(d.activeMaintenance).toEqual([added.actionId]);

    const id = await failTwiceSilenced(retailer);
    // The runs inside the window are marked (and so never enter a baseline).
    expect((await detail(retailer)).recentRuns.filter((r) => r.inMaintenance)).toHaveLength(2);
    await until('the window recorded in operator_actions', async () => {
      const r = await tdb.db.selectFrom('operator_actions').selectAll().where('action_id', '=', added.actionId).executeTakeFirst();
      return r?.action === 'maintenance_add' && r.by === 'sam';
    });

    await sleepUntil(end - MIN);
    expect(posted(retailer)).toEqual([]);
    await sleepUntil(end + MIN);
    await hook.waitFor(() => posted(retailer).length >= 1);
    expect(posted(retailer)).toEqual([expect.objectContaining({ kind: 'fire', rule: 'consecutive_failures', incidentId: id })]);
    expect(posted(retailer)[0]!.summary).toMatch(/maintenance window ended; still open/);
    expect((await detail(retailer)).health).toBe('unhealthy');
    const removed = command(retailer, removeMaintenanceUpdate, [{ retailer, id: 'window-mart/action/999' }]);
    await expect(removed).rejects.toThrow(/no maintenance window window-mart\/action\/999 on window-mart/);
  });

  it('a flapping retailer sends one flapping notice instead of a stream, then one resolve after a quiet period', async () => {
    const retailer = 'flap-mart';
    await send(retailer, 'success');
    const cycle = async () => {
      await send(retailer, 'failure');
      await send(retailer, 'failure');
      await send(retailer, 'success');
    };
    for (let i = 0; i < 3; i++) await cycle();
    await hook.waitFor(() => posted(retailer).length >= 5);
    // The fleet sends the first of each (rule, kind) at once and the rest after its grouping window: order by id.
    const notices = () => posted(retailer).sort((a, b) => a.eventId.localeCompare(b.eventId));
    expect(kindsPosted(retailer).sort()).toEqual(['fire:consecutive_failures', 'fire:consecutive_failures', 'fire:consecutive_failures', 'resolve:consecutive_failures', 'resolve:consecutive_failures']);
    const flapping = notices().find((p) => /FLAPPING/.test(p.summary))!;
    expect(flapping.summary).toMatch(/consecutive_failures fired 3 times within 1 h/);
    // More flips: held open, nothing more sent.
    for (let i = 0; i < 3; i++) await cycle();
    const held = await detail(retailer);
    expect(held.openIncidents).toEqual([expect.objectContaining({ id: flapping.incidentId, flapping: expect.objectContaining({ flips: 6 }) })]);
    expect(held.health).toBe('unhealthy');
    expect(posted(retailer)).toHaveLength(5);
    // Quiet for 30 minutes: one resolve for the flapping incident.
    await sleepUntil((await env.currentTimeMs()) + 31 * MIN);
    await hook.waitFor(() => posted(retailer).length >= 6);
    const resolve = posted(retailer).at(-1)!;
    expect(resolve).toMatchObject({ kind: 'resolve', incidentId: flapping.incidentId });
    expect(resolve.summary).toMatch(/stopped flapping — quiet for 30 min after 6 fires/);
    expect((await detail(retailer)).openIncidents).toEqual([]);
    const rows = await until('all alert events recorded', async () => {
      const r = await alertRows(retailer);
      return r.length === 6 && r;
    });
    // (Rows are recorded in delivery order, which the fleet's grouping window may change.)
    expect(rows.map((r) => r.kind).sort()).toEqual(['fire', 'fire', 'fire', 'resolve', 'resolve', 'resolve']);
    expect(rows.filter((r) => r.incident_id === flapping.incidentId).map((r) => r.kind)).toEqual(['fire', 'resolve']);
  });
});

describe('bad input', () => {
  const base = () => ({
    runId: `bad-${++seq}`,
    retailer: 'guard-mart',
    status: 'success',
    startedAt: '2026-11-01T10:00:00Z',
    finishedAt: '2026-11-01T10:05:00Z',
    skuCount: 100,
  });
  const malformed: Array<[string, unknown, RegExp]> = [
    ['wrong type: skuCount a string', { ...base(), skuCount: '1000' }, /skuCount/],
    ['wrong type: status a number', { ...base(), status: 1 }, /status must be "success" or "failure"/],
    ['missing runId', { ...base(), runId: undefined }, /runId/],
    ['missing startedAt', { ...base(), startedAt: undefined }, /startedAt/],
    ['retailer not a slug', { ...base(), retailer: 'Tesco UK' }, /lower-case slug/],
    ['NUL-only runId', { ...base(), runId: '\u0000\u0000' }, /runId must not be empty/],
    ['year 0', { ...base(), startedAt: '0000-01-01T00:00:00Z' }, /startedAt: .*between the years 2000 and 2100/],
    ['finishedAt before startedAt', { ...base(), finishedAt: '2026-11-01T09:00:00Z' }, /finishedAt is before startedAt/],
    ['negative skuCount', { ...base(), skuCount: -5 }, /skuCount: must not be negative/],
    ['extra field', { ...base(), skus: 100 }, /skus/],
    ['date without timezone', { ...base(), finishedAt: '2026-11-01T10:05:00' }, /finishedAt/],
    ['success without skuCount', { ...base(), skuCount: undefined }, /skuCount is required/],
    ['oversized runId', { ...base(), runId: 'x'.repeat(10_000) }, /runId/],
    ['not an object', 'hello', /./],
    ['null', null, /./],
    ["another retailer's report", { ...base(), retailer: 'other-mart' }, /report for other-mart sent to the monitor of guard-mart/],
  ];

  it('the ingestionCompleted signal: each malformed report is rejected with a reason, the monitor keeps running, state unchanged', async () => {
    const good = await send('guard-mart', 'success', { runId: 'good-1' });
    expect(good.outcome).toBe('accepted');
    const handle = monitor('guard-mart');
    const { counters: countersBefore, recentRejections: none, ...before } = await detail('guard-mart');
    expect(none).toEqual([]);

    for (const [, payload] of malformed) await handle.signal(ingestionCompletedSignal, payload);
    const after = await until('every rejection recorded', async () => {
      const d = await detail('guard-mart');
      return d.recentRejections.length === malformed.length && d;
    });
    const { counters, recentRejections, ...state } = after;
    expect(state).toEqual(before);
    expect(counters).toEqual({ ...countersBefore, rejected: malformed.length });
    malformed.forEach(([what, , reason], i) => {
      expect([what, recentRejections[i]!.reason]).toEqual([what, expect.stringMatching(reason)]);
      expect(recentRejections[i]!.reason.length).toBeLessThan(1000);
    });
    // Nothing of it reached Postgres.
    // The accepted report's row is written by the monitor's persistence loop after the verdict: wait for it.
    await until('the accepted run row', async () => (await runRows('guard-mart')).length > 0);
    expect((await runRows('guard-mart')).map((r) => r.run_id)).toEqual(['good-1']);

    // A duplicate is not a rejection; still alive and still correct: a good report after all that is applied.
    await handle.signal(ingestionCompletedSignal, { ...base(), runId: 'good-1' });
    expect(await send('guard-mart', 'failure')).toMatchObject({ outcome: 'accepted' });
    const final = await detail('guard-mart');
    expect(final.consecutiveFailures).toBe(1);
    expect(final.counters).toMatchObject({ accepted: 2, duplicates: 1, rejected: malformed.length });
    expect((await handle.describe()).status.name).toBe('RUNNING');
  });

  it('the client helpers refuse a malformed report before sending anything', async () => {
    const bad = { ...base(), retailer: 'never-mart', skuCount: -1 } as RunReportInput;
    await expect(reportIngestionRun(env.client, bad, target)).rejects.toThrow(InvalidRunReportError);
    await expect(reportIngestionRun(env.client, bad, target)).rejects.toThrow(/invalid run report: skuCount: must not be negative/);
    await expect(sendIngestionCompleted(env.client, { ...bad, skuCount: 1, startedAt: '0000-01-01T00:00:00Z' }, target)).rejects.toThrow(InvalidRunReportError);
    await expect(monitor('never-mart').describe()).rejects.toBeInstanceOf(WorkflowNotFoundError);
  });
});

// ---- persistence ---------------------------------------------------------------------------------------

describe('persistence', () => {
  it('runs, a status row per retailer and alert events land in Postgres', async () => {
    await send('pg-mart', 'failure', { error: 'boom' });
    const fired = await send('pg-mart', 'failure', { error: 'boom again' });
    const id = fired.opened[0]!.id;
    await send('pg-mart', 'success', { skuCount: 1234, promoCount: 56 });
    await send('pg-other', 'success', { skuCount: 10 });

    const runs = await until('3 run rows', async () => {
      const r = await runRows('pg-mart');
      return r.length === 3 && r;
    });
    expect(runs.map((r) => [r.status, r.error, r.sku_count])).toEqual([
      ['failure', 'boom', null],
      ['failure', 'boom again', null],
      ['success', null, 1234],
    ]);
    const rows = await until('fire and resolve rows', async () => {
      const r = await alertRows('pg-mart');
      return r.length === 2 && r.every(deliveryRecorded) && r;
    });
    expect(rows.map((r) => [r.kind, r.rule, r.incident_id, r.delivered, r.silenced])).toEqual([
      ['fire', 'consecutive_failures', id, true, false],
      ['resolve', 'consecutive_failures', id, true, false],
    ]);
    expect(rows[0]!.delivery).toEqual(
      expect.arrayContaining([
        { channel: 'webhook', status: 'delivered', attempts: 1 },
        { channel: 'slack', status: 'not_configured' },
      ]),
    );
    expect(rows[0]!.figures).toMatchObject({ failureStreak: 2, lastError: 'boom again' });

    const status = await until('status rows up to date', async () => {
      const [a, b] = await Promise.all([statusRow('pg-mart'), statusRow('pg-other')]);
      return a?.last_sku_count === 1234 && b?.last_sku_count === 10 && ([a, b] as const);
    });
    expect(status[0]).toMatchObject({ health: 'healthy', consecutive_failures: 0, open_incidents: 0, open_rules: '', last_promo_count: 56, last_run_status: 'success' });
    expect(status[1]).toMatchObject({ health: 'healthy', last_run_status: 'success' });
  });
});

// ---- last: a monitor on a server without the Operator API -----------------------------------------------

describe('a server without search attributes (the time-skipping server)', () => {
  it('the stock monitor worker still starts a retailer monitor and applies its first report', async () => {
    // The unmodified worker (createTestMonitorWorker) on its own queue: monitorContext's ListSearchAttributes
    // answers UNIMPLEMENTED here, which should mean "no search attributes", not "retry forever".
    const queue = 'monitor-ts-stock';
    const stock = await createTestMonitorWorker(env, { ...config, taskQueue: queue }, tdb);
    const workflowId = retailerWorkflowId('stock-mart');
    const verdict = reportIngestionRun(env.client, await runReport('stock-mart', 'success'), { taskQueue: queue });
    verdict.catch(() => undefined);
    try {
      await stock.runUntil(async () => {
        const outcome = await Promise.race([verdict.then((v) => v.outcome), new Promise<string>((r) => setTimeout(() => r('no verdict after 10 s'), 10_000))]);
        expect(outcome).toBe('accepted');
      });
    } finally {
      await env.client.workflow
        .getHandle(workflowId)
        .terminate('test over')
        .catch(() => undefined);
    }
  }, 60_000);
});
