/**
 * One monitor per retailer, on the real dev server + real Postgres + loopback Slack and webhook servers:
 * no single report, row, command or retailer can silence the rest of the fleet; messages apply in arrival
 * order; alerts reach the sink in order and grouped; a terminated monitor rebuilds from Postgres.
 */
import { WorkflowNotFoundError } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { sql } from 'kysely';
import { CommandRejectedError, commandRetailer, fleetHandle, reportIngestionRun, retailerHandle, UnknownRetailerError } from '../src/client';
import type { MonitorConfig } from '../src/config';
import {
  acknowledgeUpdate,
  DEFAULTS,
  ingestionCompletedSignal,
  reportRunUpdate,
  retailerQuery,
  retailerWorkflowId,
  setExpectedRetailersUpdate,
  setFleetThresholdsUpdate,
  silenceSignal,
  silenceUpdate,
} from '../src/shared/messages';
import type { RunReportInput } from '../src/shared/report';
import { ensureFleet } from '../src/worker';
import { type Captured, type CaptureServer, startCaptureServer } from './helpers/capture-server';
import { createTestMonitorWorker, testConfig } from './helpers/monitor';
import { createTestDatabase, type TestDatabase } from './helpers/postgres';
import { createDevServerEnv } from './helpers/temporal';
import { until } from './helpers/wait';

let env: TestWorkflowEnvironment;
let tdb: TestDatabase;
let slack: CaptureServer;
let hook: CaptureServer;
let config: MonitorConfig;
let worker: Worker;
let running: Promise<void>;
const taskQueue = 'isolation';
const target = { taskQueue };
const GROUP_WINDOW_MS = 8_000;
let seq = 0;

beforeAll(async () => {
  [env, tdb, slack, hook] = await Promise.all([createDevServerEnv(), createTestDatabase('im_iso'), startCaptureServer(), startCaptureServer()]);
  config = testConfig({ taskQueue, databaseUrl: tdb.url, slackWebhookUrl: `${slack.url}/services/T0/B0/SECRETiso`, webhookUrl: `${hook.url}/hook` });
  worker = await createTestMonitorWorker(env, config, tdb);
  running = worker.run();
  await ensureFleet(env.client, { workflowId: DEFAULTS.workflowId, taskQueue }, { groupWindowMs: GROUP_WINDOW_MS });
}, 120_000);

afterAll(async () => {
  worker?.shutdown();
  await running;
  await Promise.all([env?.teardown(), tdb?.drop(), slack?.close(), hook?.close()]);
});

function report(retailer: string, status: 'success' | 'failure', extra: Partial<RunReportInput> = {}): RunReportInput {
  const at = Date.now() - 1000;
  return {
    runId: `${retailer}-${++seq}`,
    retailer,
    status,
    startedAt: new Date(at - 60_000).toISOString(),
    finishedAt: new Date(at).toISOString(),
    ...(status === 'success' ? { skuCount: 1000 } : { error: 'HTTP 503 from the retailer' }),
    ...extra,
  };
}
const send = (retailer: string, status: 'success' | 'failure', extra: Partial<RunReportInput> = {}) =>
  reportIngestionRun(env.client, report(retailer, status, extra), target);

const mentions = (r: Captured, retailer: string) => new RegExp(`\\b${retailer}\\b`).test(JSON.stringify(r.body));
const alertRows = (retailer: string) =>
  tdb.db.selectFrom('alert_events').selectAll().where('retailer', '=', retailer).orderBy('id').execute();

// First, while no other retailer could go stale in the same window.
it('30 retailers going stale at once → at most 2 Slack POSTs, naming all 30', async () => {
  const stale = Array.from({ length: 30 }, (_, i) => `stale${String(i).padStart(2, '0')}`);
  const fleet = fleetHandle(env.client, { workflowId: DEFAULTS.workflowId });
  await fleet.executeUpdate(setFleetThresholdsUpdate, { args: [{ thresholds: { staleAfterMs: 60_000 } }] });
  const res = await fleet.executeUpdate(setExpectedRetailersUpdate, { args: [{ add: stale }] });
  expect(res.expectedRetailers).toEqual(expect.arrayContaining(stale));
  const isStale = (r: Captured) => stale.some((s) => mentions(r, s));
  await slack.waitFor((r) => {
    const posts = r.filter(isStale);
    return stale.every((s) => posts.some((p) => mentions(p, s)));
  }, 120_000);
  const posts = slack.received.filter(isStale);
  expect(posts.length).toBeLessThanOrEqual(2);
  expect(hook.received.filter(isStale).length).toBeLessThanOrEqual(2);
  // The Web UI's list filter finds them.
  const listed = await until('visibility lists the stale monitors', async () => {
    const ids: string[] = [];
    for await (const wf of env.client.workflow.list({ query: `RetailerHealth = 'unhealthy' AND OpenRules = 'stale'` })) ids.push(wf.workflowId);
    return ids.filter((i) => i.includes('stale')).length === 30 && ids;
  }, 30_000, 500);
  expect(listed.length).toBeGreaterThanOrEqual(30);
  // Back to the default for the tests below.
  await fleet.executeUpdate(setFleetThresholdsUpdate, { args: [{ thresholds: { staleAfterMs: 4 * 3_600_000 } }] });
}, 180_000);


it('50 retailers keep firing and resolving while one is fed every poison input', async () => {
  const fleet = Array.from({ length: 50 }, (_, i) => `shop${String(i).padStart(2, '0')}`);
  // Postgres refuses one particular row (stands in for any row it rejects): it must be quarantined.
  await sql`ALTER TABLE ingestion_runs ADD CONSTRAINT refuse_poison_row CHECK (run_id <> 'poison-refused')`.execute(tdb.db);

  for (const r of fleet) await send(r, 'success');

  // The poison, all into one retailer (or naming one) ------------------------------------------------
  // 1. a slug that is an Object.prototype property works like any other retailer
  await send('constructor', 'success');
  expect(await send('constructor', 'failure')).toMatchObject({ outcome: 'accepted' });
  expect(await send('constructor', 'failure')).toMatchObject({ health: 'unhealthy', opened: [{ rule: 'consecutive_failures' }] });
  // 2. prototype names as retailer arguments of queries and commands: a clear error, nothing created
  for (const name of ['toString', '__proto__', 'hasOwnProperty']) {
    await expect(commandRetailer(env.client, name, silenceUpdate, [{ retailer: name, until: new Date(Date.now() + 3_600_000).toISOString(), reason: 'x' }], target)).rejects.toThrow(
      /unknown retailer|lower-case slug/,
    );
    await expect(retailerHandle(env.client, name).query(retailerQuery)).rejects.toThrow();
  }
  await expect(commandRetailer(env.client, 'constructor', acknowledgeUpdate, [{ incidentId: '__proto__' }], target)).rejects.toBeInstanceOf(CommandRejectedError);
  // 3. NUL, control characters and lone surrogates in the error text; a 1 MB string
  expect(await send('poison', 'failure', { error: `bad\u0000byte \ud800 lone <!channel> \u0007` })).toMatchObject({ outcome: 'accepted' });
  expect(await send('poison', 'failure', { error: `${'x'.repeat(1_000_000)}😀` })).toMatchObject({ outcome: 'accepted' });
  // 4. a row Postgres refuses
  expect(await send('poison', 'success', { runId: 'poison-refused' })).toMatchObject({ outcome: 'accepted' });
  await until('the refused row quarantined', async () => {
    const q = await tdb.db.selectFrom('quarantine').selectAll().where('row_key', '=', 'poison-refused').execute();
    return q.length === 1 && q;
  });
  // 5. its monitor terminated: the next report restarts it from Postgres
  await retailerHandle(env.client, 'poison').terminate('poison test');
  expect(await send('poison', 'success')).toMatchObject({ outcome: 'accepted' });

  // Every other retailer still fires and resolves ---------------------------------------------------
  for (const r of fleet) {
    await send(r, 'failure');
    await send(r, 'failure');
  }
  for (const r of fleet) await send(r, 'success');
  const rows = await until(
    '50 fires and 50 resolves recorded as delivered',
    async () => {
      const all = await tdb.db
        .selectFrom('alert_events')
        .select(['retailer', 'kind', 'delivered'])
        .where('retailer', 'in', fleet)
        .where('rule', '=', 'consecutive_failures')
        .execute();
      return all.filter((a) => a.delivered).length === 100 && all;
    },
    90_000,
    500,
  );
  expect(new Set(rows.filter((a) => a.kind === 'fire').map((a) => a.retailer)).size).toBe(50);
  expect(new Set(rows.filter((a) => a.kind === 'resolve').map((a) => a.retailer)).size).toBe(50);
  // Grouped: far fewer Slack POSTs than 100 alerts, and every retailer named in them.
  const posts = slack.received.filter((r) => fleet.some((f) => mentions(r, f)));
  expect(posts.length).toBeLessThan(20);
  for (const r of fleet) expect(posts.some((p) => mentions(p, r))).toBe(true);

  // The poisoned retailer recovered: its rows are in Postgres (cut, sanitised), one quarantined.
  const poisonRuns = await tdb.db.selectFrom('ingestion_runs').select(['run_id', 'error']).where('retailer', '=', 'poison').execute();
  expect(poisonRuns.length).toBe(3);
  expect(poisonRuns.every((r) => !(r.error ?? '').includes('\u0000'))).toBe(true);
  const detail = await retailerHandle(env.client, 'poison').query(retailerQuery);
  // Rebuilt from what Postgres holds (the quarantined row is not there), plus the report after the restart.
  expect(detail.totals.runs).toBe(3);
  // Slack's top-level text never carries an unescaped mention.
  expect(slack.received.some((r) => typeof r.body?.text === 'string' && r.body.text.includes('<!channel>'))).toBe(false);
}, 240_000);

it('a typo in a command is an error to the caller and creates no retailer', async () => {
  await expect(commandRetailer(env.client, 'sparr', silenceUpdate, [{ retailer: 'sparr', until: new Date(Date.now() + 3_600_000).toISOString(), reason: 'maintenance' }], target)).rejects.toBeInstanceOf(UnknownRetailerError);
  await expect(env.client.workflow.getHandle(retailerWorkflowId('sparr')).describe()).rejects.toBeInstanceOf(WorkflowNotFoundError);
});

it('a malformed report is refused with its reason and leaves nothing of itself in history', async () => {
  await send('valid', 'success');
  const handle = retailerHandle(env.client, 'valid');
  const historyLength = async () => (await handle.fetchHistory()).events?.length ?? 0;
  // Wait until the monitor is idle (its row written), so only the refused updates could add events.
  let last = -1;
  const before = await until('an idle history', async () => {
    const n = await historyLength();
    const stable = n === last;
    last = n;
    return stable && n;
  }, 20_000, 700);
  const reason = (payload: unknown) =>
    handle.executeUpdate(reportRunUpdate, { args: [payload] }).then(
      () => 'accepted',
      (err: { cause?: { message?: string } }) => err.cause?.message ?? String(err),
    );
  expect(await reason({ ...report('valid', 'success'), skuCount: -5 })).toMatch(/skuCount/);
  expect(await reason({ ...report('valid', 'success'), retailer: 'other' })).toMatch(/sent to the monitor of valid/);
  expect(await reason({ ...report('valid', 'success'), startedAt: '0000-01-01T00:00:00Z' })).toMatch(/startedAt/);
  expect(await reason({ ...report('valid', 'success'), runId: '\u0000' })).toMatch(/runId/);
  // Nothing of the refused reports enters history. The first refusal after a task with local activities may
  // leave one empty workflow task (the server keeps that speculative task); no more than that, and no payload.
  const added = ((await handle.fetchHistory()).events ?? []).slice(before);
  const kind = (e: (typeof added)[number]) =>
    e.workflowTaskScheduledEventAttributes ? 'scheduled' : e.workflowTaskStartedEventAttributes ? 'started' : e.workflowTaskCompletedEventAttributes ? 'completed' : 'other';
  expect(added.map(kind)).toEqual(added.length ? ['scheduled', 'started', 'completed'] : []);
  const accepted = (await handle.fetchHistory()).events?.filter((e) => e.workflowExecutionUpdateAcceptedEventAttributes) ?? [];
  expect(accepted).toHaveLength(1); // the first, valid report only
});

it('messages waiting for a monitor apply in arrival order: silence, then two failures → the fire is silenced', async () => {
  const queue = 'isolation-late-worker';
  const start = { workflowId: retailerWorkflowId('latecomer'), taskQueue: queue, args: [{ retailer: 'latecomer' }] };
  // No worker polls this queue yet, so everything lands in the monitor's first workflow task.
  await env.client.workflow.signalWithStart(DEFAULTS.retailerWorkflowType, {
    ...start,
    signal: silenceSignal,
    signalArgs: [{ retailer: 'latecomer', until: new Date(Date.now() + 3_600_000).toISOString(), reason: 'known outage' }],
  });
  const handle = env.client.workflow.getHandle(start.workflowId);
  await handle.signal(ingestionCompletedSignal, report('latecomer', 'failure'));
  await handle.signal(ingestionCompletedSignal, report('latecomer', 'failure'));
  const late = await createTestMonitorWorker(env, { ...config, taskQueue: queue }, tdb);
  await late.runUntil(async () => {
    const [fire] = await until('the fire recorded', async () => {
      const rows = await alertRows('latecomer');
      return rows.length > 0 && rows;
    });
    expect(fire).toMatchObject({ kind: 'fire', silenced: true });
    const detail = await env.client.workflow.getHandle(start.workflowId).query(retailerQuery);
    expect(detail.health).toBe('silenced');
  });
  expect(slack.received.some((r) => mentions(r, 'latecomer'))).toBe(false);
}, 60_000);

it('a signal and Updates waiting for a new monitor apply in arrival order, not handler-registration order', async () => {
  const queue = 'isolation-late-worker-2';
  const workflowId = retailerWorkflowId('latecomer2');
  await env.client.workflow.signalWithStart(DEFAULTS.retailerWorkflowType, {
    workflowId,
    taskQueue: queue,
    args: [{ retailer: 'latecomer2' }],
    signal: silenceSignal,
    signalArgs: [{ retailer: 'latecomer2', until: new Date(Date.now() + 3_600_000).toISOString(), reason: 'known outage' }],
  });
  const handle = env.client.workflow.getHandle(workflowId);
  // Two failure reports as Updates, sent before any worker polls (their handler is registered first). The
  // same times for both: they race to the server, and a report older than one already applied would be
  // out of order (recorded, not counted in the streak), which is not what this test is about.
  const [first, second] = [report('latecomer2', 'failure'), report('latecomer2', 'failure')];
  const times = { startedAt: first.startedAt, finishedAt: first.finishedAt };
  const verdicts = [
    handle.executeUpdate(reportRunUpdate, { args: [first] }),
    handle.executeUpdate(reportRunUpdate, { args: [{ ...second, ...times }] }),
  ];
  // An Update is only admitted once it reaches the server; give the two requests a moment to get there.
  await new Promise((r) => setTimeout(r, 500));
  const late = await createTestMonitorWorker(env, { ...config, taskQueue: queue }, tdb);
  await late.runUntil(async () => {
    // The two Updates are sent concurrently, so either may reach the server first: whichever is applied
    // second opens the incident, silenced by the signal that came before both.
    const both = await Promise.all(verdicts);
    expect(both.filter((v) => v.opened.length > 0)).toEqual([expect.objectContaining({ health: 'silenced', opened: [expect.objectContaining({ rule: 'consecutive_failures' })] })]);
    const [fire] = await until('the fire recorded', async () => {
      const rows = await alertRows('latecomer2');
      return rows.length > 0 && rows;
    });
    expect(fire).toMatchObject({ kind: 'fire', silenced: true });
  });
}, 60_000);

it('fire and resolve reach the sink in order when the fire first gets a 503, then a 429 with Retry-After', async () => {
  let refusals = 0;
  slack.respond = (req) => {
    if (mentions(req, 'ordered') && refusals < 2) {
      refusals++;
      return refusals === 1 ? { status: 503, body: 'busy' } : { status: 429, body: 'slow down', headers: { 'retry-after': '1' } };
    }
    return { status: 200, body: 'ok' };
  };
  try {
    await send('ordered', 'failure');
    await send('ordered', 'failure');
    await send('ordered', 'success');
    const got = await slack.waitFor((r) => r.filter((x) => mentions(x, 'ordered')).length >= 2, 60_000);
    const mine = got.filter((x) => mentions(x, 'ordered')).map((x) => JSON.stringify(x.body));
    expect(refusals).toBe(2);
    expect(mine[0]).toMatch(/consecutive/i);
    expect(mine[0]).not.toMatch(/resolved/i);
    expect(mine[1]).toMatch(/resolved/i);
  } finally {
    slack.respond = () => ({ status: 200, body: 'ok' });
  }
}, 90_000);

it('a terminated monitor rebuilds from Postgres: the open incident keeps its id and is not announced twice', async () => {
  await send('phoenix', 'success');
  await send('phoenix', 'failure');
  const fired = await send('phoenix', 'failure');
  const id = fired.opened[0]!.id;
  await until('the fire recorded', async () => (await alertRows('phoenix')).length === 1);
  await retailerHandle(env.client, 'phoenix').terminate('operator mistake');

  const again = await send('phoenix', 'failure');
  expect(again).toMatchObject({ outcome: 'accepted', health: 'unhealthy', opened: [] });
  const detail = await retailerHandle(env.client, 'phoenix').query(retailerQuery);
  expect(detail.openIncidents.map((i) => i.id)).toEqual([id]);
  expect(detail.consecutiveFailures).toBe(3);
  expect(await send('phoenix', 'success')).toMatchObject({ resolved: [{ id }] });
  const rows = await until('the resolve recorded', async () => {
    const r = await alertRows('phoenix');
    return r.length === 2 && r;
  });
  expect(rows.map((r) => [r.kind, r.incident_id])).toEqual([
    ['fire', id],
    ['resolve', id],
  ]);
}, 60_000);

