/**
 * The reconciler on the real dev server: ingestion runs that never reported (terminated, timed out) are
 * found through visibility and fed to the real monitor as failure reports; a run the interceptor already
 * reported is sent again but not counted twice; passes carry their watermark through a real Schedule.
 */
import { ScheduleOverlapPolicy, TimeoutFailure, WorkflowFailedError } from '@temporalio/client';
import type { Duration } from '@temporalio/common';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { retailerHandle } from '../src/client';
import {
  createReconcilerActivities,
  ensureReconcilerSchedule,
  reconcilerWorkflowsPath,
  RECONCILER,
  type ReconcilerResult,
  unreportedRunsQuery,
  windowStart,
} from '../src/reconciler';
import { withIngestionReporting } from '../src/reporting';
import { retailerQuery } from '../src/shared/messages';
import type { IngestArgs } from './fixtures/ingestion-workflows';
import { createTestMonitorWorker, testConfig } from './helpers/monitor';
import { createTestDatabase, type TestDatabase } from './helpers/postgres';
import { createDevServerEnv } from './helpers/temporal';
import { until } from './helpers/wait';

const monitorQueue = 'monitor-reconciler';
const monitorId = 'ingestion-monitor-reconciler-test';
const ingestQueue = 'ingest-reconciler';
const reconcilerQueue = 'reconciler';
const monitor = { workflowId: monitorId, taskQueue: monitorQueue };

let env: TestWorkflowEnvironment;
let tdb: TestDatabase;
const workers: Worker[] = [];
const runs: Promise<void>[] = [];

beforeAll(async () => {
  [env, tdb] = await Promise.all([createDevServerEnv(), createTestDatabase('im_reconciler')]);
  const created = await Promise.all([
    createTestMonitorWorker(env, { ...testConfig({ taskQueue: monitorQueue, databaseUrl: tdb.url }), workflowId: monitorId }, tdb),
    Worker.create(
      withIngestionReporting(
        { connection: env.nativeConnection, taskQueue: ingestQueue, workflowsPath: require.resolve('./fixtures/ingestion-workflows') },
        { client: env.client, monitor },
      ),
    ),
    Worker.create({
      connection: env.nativeConnection,
      taskQueue: reconcilerQueue,
      workflowsPath: reconcilerWorkflowsPath,
      activities: createReconcilerActivities({ client: env.client, monitor }),
    }),
  ]);
  for (const w of created) {
    workers.push(w);
    runs.push(w.run());
  }
}, 180_000);

afterAll(async () => {
  for (const w of workers) w.shutdown();
  await Promise.allSettled(runs);
  await Promise.all([env?.teardown(), tdb?.drop()]);
});

const start = (args: IngestArgs, extra: { workflowExecutionTimeout?: Duration } = {}) =>
  env.client.workflow.start('ingestRetailer', { taskQueue: ingestQueue, workflowId: `${args.retailer}-${Date.now()}`, args: [args], ...extra });

const detailOf = (retailer: string) => retailerHandle(env.client, retailer).query(retailerQuery).catch(() => null);
const runOf = async (retailer: string, runId: string) => (await detailOf(retailer))?.recentRuns.filter((r) => r.runId === runId) ?? [];

function reconcile(input: { workflowTypes: string[]; lookbackMs?: number; watermark?: string }): Promise<ReconcilerResult> {
  return env.client.workflow.execute('ingestionReconcilerWorkflow', { taskQueue: reconcilerQueue, workflowId: `reconcile-${Date.now()}`, args: [input] });
}

it('builds the visibility query with quoted types and the four unsuccessful close statuses', () => {
  expect(unreportedRunsQuery(['ingestRetailer', "it's"], '2026-11-27T10:00:00.000Z')).toBe(
    "WorkflowType IN ('ingestRetailer', 'it\\'s') AND CloseTime >= '2026-11-27T10:00:00.000Z' " +
      "AND ExecutionStatus IN ('Failed', 'TimedOut', 'Terminated', 'Canceled')",
  );
});

it('window: first pass looks back lookbackMs; later passes start at the watermark minus the overlap, capped', () => {
  const now = Date.parse('2026-11-27T12:00:00Z');
  expect(windowStart(now, 11 * 60_000)).toBe(now - 11 * 60_000);
  expect(windowStart(now, 11 * 60_000, '2026-11-27T11:55:00Z')).toBe(Date.parse('2026-11-27T11:54:00Z'));
  expect(windowStart(now, 11 * 60_000, '2026-11-20T00:00:00Z')).toBe(now - RECONCILER.maxCatchUpMs);
  expect(windowStart(now, 11 * 60_000, 'garbage')).toBe(now - 11 * 60_000);
});

it('finds a terminated and a timed-out run, reports both as failures, and does not double count a reported one', async () => {
  const terminated = await start({ retailer: 'spar', mode: 'hang' });
  await terminated.terminate('scraper wedged on captcha');

  const timedOut = await start({ retailer: 'makro', mode: 'hang' }, { workflowExecutionTimeout: '2s' });
  const err = await timedOut.result().catch((e: unknown) => e);
  expect(err).toBeInstanceOf(WorkflowFailedError);
  expect((err as WorkflowFailedError).cause).toBeInstanceOf(TimeoutFailure);

  const failed = await start({ retailer: 'game', mode: 'fail' }); // the interceptor reports this one itself
  await failed.result().catch(() => undefined);
  await until('the interceptor report of the failed run', async () => (await runOf('game', failed.firstExecutionRunId)).length === 1);
  const ok = await start({ retailer: 'game', skuCount: 10 }); // succeeded: not the reconciler's business
  await ok.result();

  const query = unreportedRunsQuery(['ingestRetailer'], new Date(Date.now() - 10 * 60_000).toISOString());
  await until('three unsuccessful runs in visibility', async () => (await env.client.workflow.count(query)).count >= 3);
  const duplicatesBefore = (await detailOf('game'))!.counters.duplicates;

  const result = await reconcile({ workflowTypes: ['ingestRetailer'], lookbackMs: 10 * 60_000 });
  expect(result).toMatchObject({ found: 3, sent: 3, skipped: 0, truncated: false });
  expect(Date.parse(result.latestCloseTime!)).toBeGreaterThan(Date.parse(result.since));

  const [spar] = await until('the terminated run in the monitor', async () => {
    const r = await runOf('spar', terminated.firstExecutionRunId);
    return r.length ? r : undefined;
  });
  expect(spar).toMatchObject({ status: 'failure', workflowId: terminated.workflowId, workflowRunId: terminated.firstExecutionRunId });
  expect(spar!.error).toMatch(/^Terminated .*: scraper wedged on captcha$/);

  const [makro] = await until('the timed-out run in the monitor', async () => {
    const r = await runOf('makro', timedOut.firstExecutionRunId);
    return r.length ? r : undefined;
  });
  expect(makro).toMatchObject({ status: 'failure', workflowId: timedOut.workflowId });
  expect(makro!.error).toMatch(/^TimedOut/);
  expect(Date.parse(makro!.finishedAt) - Date.parse(makro!.startedAt)).toBeGreaterThanOrEqual(1900);

  // Sent again by the reconciler, recognised by runId: still one run, one more duplicate (the reconciler's
  // report is an Update: it has been applied by the time the pass returns).
  const game = (await detailOf('game'))!;
  expect(game.counters.duplicates).toBe(duplicatesBefore + 1);
  expect(await runOf('game', failed.firstExecutionRunId)).toHaveLength(1);
  expect(game.recentRuns.map((r) => r.status).sort()).toEqual(['failure', 'success']);
});

it('runs from a Schedule; each pass starts where the previous one ended (last completion result)', async () => {
  const schedule = await ensureReconcilerSchedule(env.client, { every: '1h', workflowTypes: ['ingestRetailer'], taskQueue: reconcilerQueue });
  // Idempotent: a second call updates the same Schedule.
  await ensureReconcilerSchedule(env.client, { every: '1h', workflowTypes: ['ingestRetailer', 'ingestCatalogue'], taskQueue: reconcilerQueue });
  try {
    const described = await schedule.describe();
    expect(described.action).toMatchObject({ workflowType: 'ingestionReconcilerWorkflow', taskQueue: reconcilerQueue });
    expect((described.action as { args: unknown[] }).args[0]).toMatchObject({ workflowTypes: ['ingestRetailer', 'ingestCatalogue'], lookbackMs: 2 * 3_600_000 + 60_000 });

    const passResult = async (n: number): Promise<ReconcilerResult> => {
      // The Schedule keeps the result only of runs it tracks, i.e. not ALLOW_ALL ones: trigger with SKIP
      // (the reconciler's own policy) and only after the previous pass is seen closed.
      await until(`no pass running before pass ${n}`, async () => (await schedule.describe()).info.runningActions.length === 0);
      await schedule.trigger(ScheduleOverlapPolicy.SKIP);
      const action = await until(`pass ${n} started`, async () => (await schedule.describe()).info.recentActions[n - 1]);
      return env.client.workflow.getHandle(action.action.workflow.workflowId).result();
    };
    const first = await passResult(1);
    expect(first.sent).toBe(first.found);
    const second = await passResult(2);
    expect(second.since).toBe(new Date(Date.parse(first.watermark) - RECONCILER.overlapMs).toISOString());
  } finally {
    await schedule.delete();
  }
});
