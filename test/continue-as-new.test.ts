/**
 * Continue-as-new of a retailer monitor, on its own dev server told to suggest continue-as-new after 40
 * history events (so a few dozen reports make several runs), with real Postgres and a loopback webhook.
 * Every report is kept, the state crosses each run boundary, and a `reprocess` Update sent while reports
 * keep arriving (so possibly during the drain before continue-as-new) completes (defect 3).
 */
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Worker } from '@temporalio/worker';
import { commandRetailer, fleetHandle, reportIngestionRun, retailerHandle } from '../src/client';
import type { OperatorResult } from '../src/shared/messages';
import {
  FLEET_CONFIG_MEMO,
  addFleetMaintenanceUpdate,
  fleetConfigQuery,
  removeFleetMaintenanceUpdate,
  reprocessUpdate,
  retailerAlertsQuery,
  retailerQuery,
  retailerWorkflowId,
  setThresholdsUpdate,
  silenceUpdate,
} from '../src/shared/messages';
import type { RunReportInput } from '../src/shared/report';
import { type CaptureServer, startCaptureServer } from './helpers/capture-server';
import { createTestMonitorWorker, startFleet, testConfig } from './helpers/monitor';
import { createTestDatabase, deliveryRecorded, type TestDatabase } from './helpers/postgres';
import { createDevServerEnv } from './helpers/temporal';
import { until } from './helpers/wait';

let env: TestWorkflowEnvironment;
let tdb: TestDatabase;
let hook: CaptureServer;
let worker: Worker;
let running: Promise<void>;
const taskQueue = 'monitor-can-test';
const target = { taskQueue };

beforeAll(async () => {
  [env, tdb, hook] = await Promise.all([
    createDevServerEnv({ extraArgs: ['--dynamic-config-value', 'limit.historyCount.suggestContinueAsNew=40'] }),
    createTestDatabase('im_can'),
    startCaptureServer(),
  ]);
  const config = testConfig({ taskQueue, databaseUrl: tdb.url, webhookUrl: `${hook.url}/hook` });
  worker = await createTestMonitorWorker(env, config, tdb);
  running = worker.run();
  await startFleet(env.client, config, { groupWindowMs: 2000 });
}, 120_000);

afterAll(async () => {
  worker?.shutdown();
  await running;
  await Promise.all([env?.teardown(), tdb?.drop(), hook?.close()]);
});

const iso = (ms: number) => new Date(ms).toISOString();
const postedFor = (retailer: string) => hook.received.filter((r) => r.body?.retailer === retailer);

/** With a bound: a deadlocked Update must fail the test, not hang it. */
function within<T>(ms: number, what: string, p: Promise<T>): Promise<T> {
  return Promise.race([p, new Promise<T>((_, reject) => setTimeout(() => reject(new Error(`${what} did not finish within ${ms} ms`)), ms))]);
}

it('a retailer monitor continues as new under a stream of reports and keeps every report and its state', async () => {
  const retailer = 'can-mart';
  const total = 60;
  const t0 = Date.now() - total * 10_000;
  const report = (i: number): RunReportInput => {
    const at = t0 + i * 10_000;
    const ok = i < 10; // 10 successes (baseline), then 50 failures
    return {
      runId: `${retailer}-${i}`,
      retailer,
      status: ok ? 'success' : 'failure',
      startedAt: iso(at - 5_000),
      finishedAt: iso(at),
      ...(ok ? { skuCount: 1000 + i } : { error: `HTTP 503 (run ${i})` }),
    };
  };

  expect(await reportIngestionRun(env.client, report(0), target)).toMatchObject({ outcome: 'accepted' });
  const handle = retailerHandle(env.client, retailer);
  const firstRunId = (await handle.describe()).runId;
  const command = <A extends [any]>(update: import('@temporalio/client').UpdateDefinition<OperatorResult, A>, args: A) =>
    commandRetailer(env.client, retailer, update, args, target);
  await command(setThresholdsUpdate, [{ retailer, thresholds: { failureStreak: 3, skuDropPct: 25 } }]);
  const silencedUntil = iso(Date.now() + 2 * 3_600_000);
  await command(silenceUpdate, [{ retailer, rule: 'sku_drop', until: silencedUntil, reason: 'catalogue migration', by: 'sam' }]);

  const runIdNow = async () => (await handle.describe()).runId;
  const runIds = new Set([firstRunId]);
  let incidentId: string | undefined;
  const reprocesses: Array<Promise<OperatorResult>> = [];
  for (let i = 1; i < total; i++) {
    const verdict = await reportIngestionRun(env.client, report(i), target);
    expect([i, verdict.outcome]).toEqual([i, 'accepted']);
    if (i === 12) {
      // The third failure in a row: the per-retailer threshold (3), not the default (2).
      expect(verdict.opened).toEqual([{ id: expect.any(String), rule: 'consecutive_failures' }]);
      incidentId = verdict.opened[0]!.id;
    } else {
      expect([i, verdict.opened]).toEqual([i, []]);
    }
    // A reprocess Update in the middle of each burst of ten reports: the server has suggested
    // continue-as-new by then, so it may land while the run drains. It must answer within a bound.
    if (i % 10 === 5) {
      const p = command(reprocessUpdate, [{ retailer, from: iso(t0 - 60_000), to: iso(Date.now() + 60_000), by: 'kim' }]);
      p.catch(() => undefined);
      reprocesses.push(p);
    }
    if (i % 10 === 9) {
      await within(15_000, `the reprocess sent after report ${i - 4}`, reprocesses.at(-1)!);
      // Between bursts the monitor continues as new on the server's suggestion.
      const before = [...runIds].at(-1);
      const next = await until(`a new run after report ${i}`, async () => {
        const id = await runIdNow();
        return id !== before && id;
      }, 15_000, 100);
      runIds.add(next);
    }
  }
  const done = await Promise.all(reprocesses);
  expect(done).toHaveLength(6);
  for (const r of done) expect(r.message).toMatch(/^reprocess can-mart: (rebuilt from|window ends before)/);
  expect(runIds.size).toBeGreaterThanOrEqual(6);
  const listed = await until(
    'visibility lists every run',
    async () => {
      const ids = new Set<string>();
      for await (const wf of env.client.workflow.list({ query: `WorkflowId = '${retailerWorkflowId(retailer)}'` })) ids.add(wf.runId);
      return ids.size >= runIds.size && ids;
    },
    20_000,
    250,
  );
  for (const id of runIds) expect(listed.has(id)).toBe(true);
  expect((await handle.describe()).status.name).toBe('RUNNING');

  // State carried across every run boundary.
  const detail = await handle.query(retailerQuery);
  expect(detail.consecutiveFailures).toBe(50);
  expect(detail.totals).toMatchObject({ runs: total, failures: 50 });
  expect(detail.counters).toMatchObject({ accepted: total, duplicates: 0, rejected: 0 });
  expect(detail.lastRun?.runId).toBe(`${retailer}-${total - 1}`);
  expect(detail.lastSuccessAt).toBe(iso(t0 + 9 * 10_000));
  expect(detail.openIncidents.map((i) => [i.id, i.rule])).toEqual([[incidentId, 'consecutive_failures']]);
  expect(detail.openIncidents[0]!.figures.failureStreak).toBe(50);
  expect(detail.thresholds).toMatchObject({ failureStreak: 3, skuDropPct: 25 });
  expect(detail.silences).toEqual([expect.objectContaining({ rule: 'sku_drop', until: silencedUntil, reason: 'catalogue migration', by: 'sam' })]);

  // A duplicate of a report from before the first continue-as-new is still recognised.
  expect(await reportIngestionRun(env.client, report(0), target)).toMatchObject({ outcome: 'duplicate' });
  expect(await reportIngestionRun(env.client, report(11), target)).toMatchObject({ outcome: 'duplicate' });

  // Every report reached Postgres exactly once; the fire went out and was recorded once.
  const stored = await until(
    `${total} run rows`,
    async () => {
      const rows = await tdb.db.selectFrom('ingestion_runs').select('run_id').where('retailer', '=', retailer).execute();
      return rows.length >= total && rows;
    },
    30_000,
    250,
  );
  expect(stored.map((r) => r.run_id).sort()).toEqual(Array.from({ length: total }, (_, i) => `${retailer}-${i}`).sort());
  const alerts = await until('the fire recorded', async () => {
    const rows = await tdb.db.selectFrom('alert_events').selectAll().where('retailer', '=', retailer).execute();
    return rows.length > 0 && rows.every(deliveryRecorded) && rows;
  });
  expect(alerts.map((a) => [a.kind, a.incident_id, a.delivered])).toEqual([['fire', incidentId, true]]);
  await hook.waitFor(() => postedFor(retailer).length >= 1);
  expect(postedFor(retailer).map((p) => [p.body.kind, p.body.incidentId])).toEqual([['fire', incidentId]]);
  const actions = await until('operator actions recorded', async () => {
    const rows = await tdb.db.selectFrom('operator_actions').select(['action', 'action_id']).where('retailer', '=', retailer).execute();
    return rows.length >= 8 && rows;
  });
  expect(actions.map((a) => a.action).sort()).toEqual([...Array(6).fill('reprocess'), 'set_thresholds', 'silence']);
  expect(new Set(actions.map((a) => a.action_id)).size).toBe(8);
  const status = await until('the status row caught up', async () => {
    const r = await tdb.db.selectFrom('retailer_status').selectAll().where('retailer', '=', retailer).executeTakeFirst();
    return r?.last_run_id === `${retailer}-${total - 1}` && r;
  });
  expect(status).toMatchObject({ health: 'unhealthy', consecutive_failures: 50, open_rules: 'consecutive_failures' });
}, 120_000);

it('under a steady stream of reports (no pause between them) the monitor still continues as new', async () => {
  const retailer = 'steady-mart';
  const t0 = Date.now() - 3_600_000;
  const handle = retailerHandle(env.client, retailer);
  // Each rollover makes the one Update that meets the closing run wait for the client's retry (~2 s).
  const total = 150;
  let longest = 0;
  for (let i = 0; i < total; i++) {
    const at = t0 + i * 1000;
    const verdict = await reportIngestionRun(
      env.client,
      { runId: `${retailer}-${i}`, retailer, status: 'success', startedAt: iso(at - 500), finishedAt: iso(at), skuCount: 100 },
      target,
    );
    expect([i, verdict.outcome]).toEqual([i, 'accepted']);
    if (i % 25 === 24) longest = Math.max(longest, (await handle.describe()).historyLength);
  }
  // Nothing lost either way.
  await until(`${total} run rows`, async () => {
    const row = await tdb.db.selectFrom('ingestion_runs').select((eb) => eb.fn.countAll<string>().as('n')).where('retailer', '=', retailer).executeTakeFirstOrThrow();
    return Number(row.n) === total;
  }, 30_000, 250);
  // Suggested at 40 events, about 9 events per report: a run should not get far past that. One that waits
  // for a pause in the reports before it continues as new grows for as long as they keep coming (up to the
  // server's hard limit, which terminates the workflow).
  expect(longest).toBeLessThan(600);
}, 150_000);

it("a fleet-wide maintenance window survives the fleet workflow's own continue-as-new: still listed, still silencing", async () => {
  const fleet = fleetHandle(env.client, target);
  const fleetRun = async () => (await fleet.describe()).runId;
  const command = (retailer: string) => commandRetailer(env.client, retailer, setThresholdsUpdate, [{ retailer, thresholds: { failureStreak: 1 } }], target);
  const ok = (retailer: string, i: number): RunReportInput => ({ runId: `${retailer}-ok-${i}`, retailer, status: 'success', startedAt: iso(Date.now() - 5_000), finishedAt: iso(Date.now() - 1_000), skuCount: 100 });
  const failed = (retailer: string): RunReportInput => ({ runId: `${retailer}-failed`, retailer, status: 'failure', startedAt: iso(Date.now() - 2_000), finishedAt: iso(Date.now()), error: 'HTTP 503' });

  // A monitor that runs before the fleet continues as new (it gets the window pushed), one started after
  // (it gets the window from the new fleet run at its start).
  await reportIngestionRun(env.client, ok('early-mart', 0), target);
  await command('early-mart');
  const added = await fleet.executeUpdate(addFleetMaintenanceUpdate, { args: [{ spec: 'every day 00:00-24:00 UTC', reason: 'fleet-wide freeze', by: 'sam' }] });
  const window = added.maintenance.find((w) => w.id === added.actionId)!;
  expect(window).toMatchObject({ spec: 'every day 00:00-24:00 UTC', reason: 'fleet-wide freeze' });

  // Drive the fleet's history (a second window added and removed) until the server suggests continue-as-new.
  const first = await fleetRun();
  await until(
    'the fleet workflow continued as new',
    async () => {
      const extra = await fleet.executeUpdate(addFleetMaintenanceUpdate, { args: [{ spec: 'every monday 01:00-02:00 UTC', reason: 'filler', by: 'sam' }] });
      await fleet.executeUpdate(removeFleetMaintenanceUpdate, { args: [{ id: extra.actionId, by: 'sam' }] });
      return (await fleetRun()) !== first;
    },
    90_000,
    0,
  );
  const listed = await until('the new fleet run answers', async () => (await fleet.query(fleetConfigQuery)).maintenance);
  expect(listed).toEqual([window]);
  // What a monitor started now reads, from the server, without asking a worker: the new run's memo.
  expect((await fleet.describe()).memo?.[FLEET_CONFIG_MEMO]).toMatchObject({ maintenance: [window] });

  await reportIngestionRun(env.client, ok('late-mart', 0), target);
  await command('late-mart');
  for (const retailer of ['early-mart', 'late-mart']) {
    expect(await reportIngestionRun(env.client, failed(retailer), target)).toMatchObject({ outcome: 'accepted', opened: [{ rule: 'consecutive_failures' }] });
    const fired = (await retailerHandle(env.client, retailer, target).query(retailerAlertsQuery)).filter((a) => a.kind === 'fire');
    expect(fired).toEqual([expect.objectContaining({ rule: 'consecutive_failures', silenced: true })]);
  }
  // Recorded silenced in Postgres, and nothing went to the webhook.
  const rows = await until('both silenced fires in Postgres', async () => {
    const r = await tdb.db.selectFrom('alert_events').select(['retailer', 'silenced', 'delivered']).where('retailer', 'in', ['early-mart', 'late-mart']).orderBy('retailer').execute();
    return r.length === 2 && r;
  });
  expect(rows).toEqual([
    { retailer: 'early-mart', silenced: true, delivered: false },
    { retailer: 'late-mart', silenced: true, delivered: false },
  ]);
  expect(postedFor('early-mart').concat(postedFor('late-mart'))).toEqual([]);
}, 180_000);
