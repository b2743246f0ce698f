/**
 * Reporting without pings, on the real dev server + real Postgres + the real monitor worker: an ingestion
 * worker opts in with `withIngestionReporting`, runs a real ingestion workflow, and the monitor records
 * success (counts, duration, ids) and failure (the error) — while the workflow's own result or failure is
 * unchanged and a missing or broken monitor never holds the workflow up.
 */
import { ScheduleOverlapPolicy, WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { sleep as activitySleep } from '@temporalio/activity';
import { bundleWorkflowCode, Worker } from '@temporalio/worker';
import { retailerHandle, type MonitorTarget } from '../src/client';
import { buildRunReport, reportingInterceptorModule, resolveRetailer, retailerFromScheduleId, withIngestionReporting } from '../src/reporting';
import type { IngestionOutcome } from '../src/reporting/types';
import { retailerQuery } from '../src/shared/messages';
import type { IngestArgs } from './fixtures/ingestion-workflows';
import { createTestMonitorWorker, testConfig } from './helpers/monitor';
import { createTestDatabase, type TestDatabase } from './helpers/postgres';
import { createDevServerEnv } from './helpers/temporal';
import { until } from './helpers/wait';

const monitorQueue = 'monitor-reporting';
const monitorId = 'ingestion-monitor-reporting';
const fixtures = require.resolve('./fixtures/ingestion-workflows');

let env: TestWorkflowEnvironment;
let tdb: TestDatabase;
const workers: Worker[] = [];
const runs: Promise<void>[] = [];

/** An ingestion worker on `taskQueue`; `tweak` replaces the reporting activity to simulate a broken monitor. */
async function ingestionWorker(taskQueue: string, monitor: MonitorTarget, tweak?: (o: IngestionOutcome) => Promise<never>) {
  const options = withIngestionReporting(
    { connection: env.nativeConnection, taskQueue, workflowsPath: fixtures },
    {
      client: env.client,
      monitor,
      workflowTypes: ['ingestRetailer', 'ingestCatalogue'],
      // ingestCatalogue does not return the documented shape: map it.
      extract: (o) =>
        o.workflowType === 'ingestCatalogue' && o.status === 'success'
          ? { retailer: (o.firstArg as { store: string }).store, skuCount: (o.result as { items: number }).items, promoCount: (o.result as { specials: number }).specials }
          : undefined,
    },
  );
  if (tweak) {
    // The documented alternative to workflowsPath: a pre-built bundle with the interceptor module.
    const workflowBundle = await bundleWorkflowCode({ workflowsPath: fixtures, workflowInterceptorModules: [reportingInterceptorModule], logger: quiet });
    Object.assign(options, { workflowsPath: undefined, workflowBundle, activities: { ...options.activities, reportIngestionOutcome: tweak } });
  }
  const w = await Worker.create(options);
  workers.push(w);
  runs.push(w.run());
}

const quiet = { log() {}, trace() {}, debug() {}, info() {}, warn() {}, error() {} };

beforeAll(async () => {
  [env, tdb] = await Promise.all([createDevServerEnv(), createTestDatabase('im_reporting')]);
  const monitor = await createTestMonitorWorker(env, { ...testConfig({ taskQueue: monitorQueue, databaseUrl: tdb.url }), workflowId: monitorId }, tdb);
  workers.push(monitor);
  runs.push(monitor.run());
  await ingestionWorker('ingest', { workflowId: monitorId, taskQueue: monitorQueue });
  // Reports to monitors nobody runs: no verdict comes, so the report goes by signal-with-start and waits
  // in the retailer monitor's history.
  await ingestionWorker('ingest-no-monitor', { workflowId: 'monitor-nobody-runs', taskQueue: 'no-worker-polls-this', retailerWorkflowIdPrefix: 'nobody-runs/' });
  await ingestionWorker('ingest-broken', { workflowId: monitorId, taskQueue: monitorQueue }, async () => {
    throw ApplicationFailure.retryable('monitor unreachable');
  });
  await ingestionWorker('ingest-stuck', { workflowId: monitorId, taskQueue: monitorQueue }, async () => {
    await activitySleep(120_000); // cancelled when the local activity times out
    throw new Error('unreachable');
  });
}, 180_000);

afterAll(async () => {
  for (const w of workers) w.shutdown();
  await Promise.allSettled(runs);
  await Promise.all([env?.teardown(), tdb?.drop()]);
});

let seq = 0;
function start(taskQueue: string, args: IngestArgs, workflowType: string = 'ingestRetailer') {
  return env.client.workflow.start(workflowType, { taskQueue, workflowId: `${args.retailer}-${++seq}-${Date.now()}`, args: [args] });
}

/** The retailer monitor's view (null until it runs). */
const detailOf = (retailer: string) => retailerHandle(env.client, retailer).query(retailerQuery).catch(() => null);

/** The retailer monitor's record of one run (by Temporal runId), once it has arrived. */
function recorded(retailer: string, runId: string) {
  return until(`run ${runId} of ${retailer} in the monitor`, async () => (await detailOf(retailer))?.recentRuns.find((r) => r.runId === runId));
}

const took = (run: { startedAt: string; finishedAt: string }) => Date.parse(run.finishedAt) - Date.parse(run.startedAt);

it('reports a successful run with counts, duration, schedule-less ids; the result is unchanged', async () => {
  const handle = await start('ingest', { retailer: 'checkers', skuCount: 15_234, promoCount: 812, workMs: 1500 });
  const result = await handle.result();
  expect(result).toMatchObject({ retailer: 'checkers', skuCount: 15_234, promoCount: 812 });

  const run = await recorded('checkers', handle.firstExecutionRunId);
  expect(run).toMatchObject({
    status: 'success',
    skuCount: 15_234,
    promoCount: 812,
    workflowId: handle.workflowId,
    workflowRunId: handle.firstExecutionRunId,
    lastScrapeAt: new Date(result.lastScrapeAt).toISOString(),
  });
  expect(run.schedule).toBeUndefined();
  expect(took(run)).toBeGreaterThanOrEqual(1500);
  expect(took(run)).toBeLessThan(15_000);
});

it('reports a failed run with its error and rethrows the original failure unchanged', async () => {
  const handle = await start('ingest', { retailer: 'pick-n-pay', mode: 'fail' });
  const err = await handle.result().catch((e: unknown) => e);
  expect(err).toBeInstanceOf(WorkflowFailedError);
  const cause = (err as WorkflowFailedError).cause;
  expect(cause).toBeInstanceOf(ApplicationFailure);
  expect(cause).toMatchObject({ type: 'ScrapeError', nonRetryable: true, message: 'pick-n-pay: product page returned HTTP 503' });

  const run = await recorded('pick-n-pay', handle.firstExecutionRunId);
  expect(run).toMatchObject({ status: 'failure', workflowId: handle.workflowId, error: 'pick-n-pay: product page returned HTTP 503' });
  expect(run.skuCount).toBeUndefined();
});

it('uses the extractor for a result that is not the documented shape', async () => {
  // Neither the result nor the workflow id names the retailer: only the extractor knows it.
  const good = await env.client.workflow.start('ingestCatalogue', { taskQueue: 'ingest', workflowId: `catalogue-${Date.now()}`, args: [{ store: 'spar' }] });
  expect(await good.result()).toEqual({ items: 400, specials: 7 });
  expect(await recorded('spar', good.firstExecutionRunId)).toMatchObject({ status: 'success', skuCount: 400, promoCount: 7 });
});

it('reports only the final run of a continue-as-new chain', async () => {
  const handle = await start('ingest', { retailer: 'game', mode: 'can', skuCount: 900 });
  await handle.result();
  const { runId } = await handle.describe(); // the last run of the chain
  expect(runId).not.toBe(handle.firstExecutionRunId);
  await recorded('game', runId);
  const detail = await detailOf('game');
  expect(detail!.recentRuns.map((r) => r.runId)).toEqual([runId]);
});

it('takes the schedule id from TemporalScheduledById when a Schedule started the run', async () => {
  const scheduleId = `ingest-makro-${Date.now()}`;
  const schedule = await env.client.schedule.create({
    scheduleId,
    spec: { intervals: [{ every: '1h' }] },
    action: { type: 'startWorkflow', workflowType: 'ingestRetailer', taskQueue: 'ingest', args: [{ retailer: 'makro', skuCount: 3000 }] },
    policies: { overlap: ScheduleOverlapPolicy.SKIP },
    state: { triggerImmediately: true },
  });
  try {
    const detail = await until('the scheduled run in the monitor', async () => {
      const d = await detailOf('makro');
      return d?.recentRuns.length ? d : undefined;
    });
    expect(detail.recentRuns[0]).toMatchObject({ status: 'success', skuCount: 3000, schedule: scheduleId });
    expect(detail.recentRuns[0]!.workflowId!.startsWith(scheduleId)).toBe(true);
  } finally {
    await schedule.delete();
  }
});

describe('a missing or broken monitor never holds up the ingestion workflow', () => {
  it('monitor worker not running: no verdict within 3 s, so the report is queued by signal-with-start', async () => {
    const t0 = Date.now();
    const handle = await start('ingest-no-monitor', { retailer: 'checkers', skuCount: 10 });
    expect(await handle.result()).toMatchObject({ skuCount: 10 });
    expect(Date.now() - t0).toBeLessThan(8000); // the 3 s wait for a verdict, then the signal
    // The report is not lost: the retailer's monitor was started and holds it until a worker picks it up.
    const pending = env.client.workflow.getHandle('nobody-runs/checkers');
    expect((await pending.describe()).status.name).toBe('RUNNING');
    const history = JSON.stringify(await pending.fetchHistory(), (k, v) => (k === 'data' && typeof v === 'string' ? Buffer.from(v, 'base64').toString('utf8') : v));
    expect(history).toContain(handle.firstExecutionRunId);
  });

  it('reporting activity failing: success and failure still end as the workflow says, within seconds', async () => {
    const t0 = Date.now();
    const ok = await start('ingest-broken', { retailer: 'woolies', skuCount: 77 });
    const bad = await start('ingest-broken', { retailer: 'woolies', mode: 'fail' });
    expect(await ok.result()).toMatchObject({ retailer: 'woolies', skuCount: 77 });
    const err = await bad.result().catch((e: unknown) => e);
    expect((err as WorkflowFailedError).cause).toMatchObject({ type: 'ScrapeError', message: 'woolies: product page returned HTTP 503' });
    expect(Date.now() - t0).toBeLessThan(8000); // three quick attempts, then given up
  });

  it('reporting activity hanging: bounded by the local activity timeout', async () => {
    const t0 = Date.now();
    const handle = await start('ingest-stuck', { retailer: 'woolies', skuCount: 5 });
    expect(await handle.result()).toMatchObject({ skuCount: 5 });
    const took = Date.now() - t0;
    expect(took).toBeGreaterThan(4000); // it did wait for the stuck report …
    expect(took).toBeLessThan(20_000); // … but only as long as the 15 s schedule-to-close bound
  }, 40_000);
});

describe('building the report (no server needed)', () => {
  const base: IngestionOutcome = { status: 'success', workflowType: 'ingestRetailer', workflowId: 'wf-1', runId: 'run-1', startedAt: 0, finishedAt: 60_000 };

  it('resolves the retailer in the documented order', () => {
    const all: IngestionOutcome = {
      ...base,
      workflowId: 'fromid-2026',
      schedule: 'ingest-fromschedule',
      memo: { retailer: 'frommemo' },
      firstArg: { retailer: 'fromarg' },
      result: { retailer: 'fromresult', skuCount: 1 },
    };
    expect(resolveRetailer(all, { retailer: 'fromextractor' })).toBe('fromextractor');
    expect(resolveRetailer(all, undefined)).toBe('fromresult');
    expect(resolveRetailer({ ...all, result: { skuCount: 1 } }, undefined)).toBe('fromarg');
    expect(resolveRetailer({ ...all, result: undefined, firstArg: undefined }, undefined)).toBe('frommemo');
    expect(resolveRetailer({ ...all, result: undefined, firstArg: undefined, memo: undefined }, undefined)).toBe('fromschedule');
    expect(resolveRetailer({ ...all, result: undefined, firstArg: undefined, memo: undefined, schedule: undefined }, undefined)).toBe('fromid');
    // Not a slug → next candidate; upper case is lowered.
    expect(resolveRetailer({ ...all, result: { retailer: 'Pick n Pay' }, firstArg: { retailer: 'Pick-n-Pay' } }, undefined)).toBe('pick-n-pay');
  });

  it('reads a schedule id through the template', () => {
    expect(retailerFromScheduleId('ingest-checkers')).toBe('checkers');
    expect(retailerFromScheduleId('scrape-checkers-hourly', 'scrape-{retailer}-hourly')).toBe('checkers');
    expect(retailerFromScheduleId('other-checkers')).toBeUndefined();
    expect(retailerFromScheduleId('ingest-')).toBeUndefined();
  });

  it('keeps runId and status from Temporal even if the extractor says otherwise; a throwing extractor falls back', () => {
    const built = buildRunReport({ ...base, firstArg: { retailer: 'spar' }, result: { skuCount: 5 } }, { extract: () => ({ runId: 'mine', status: 'failure', promoCount: 3 }) });
    expect(built).toEqual({
      ok: true,
      report: { runId: 'run-1', workflowRunId: 'run-1', workflowId: 'wf-1', retailer: 'spar', status: 'success', skuCount: 5, promoCount: 3, startedAt: '1970-01-01T00:00:00.000Z', finishedAt: '1970-01-01T00:01:00.000Z' },
    });
    const fallback = buildRunReport({ ...base, firstArg: { retailer: 'spar' }, result: { skuCount: 5 } }, { extract: () => { throw new Error('boom'); } });
    expect(fallback).toMatchObject({ ok: true, report: { retailer: 'spar', skuCount: 5 } });
    expect(buildRunReport({ ...base, workflowId: '!!' }, {})).toEqual({ ok: false, reason: 'no retailer found for ingestRetailer !!' });
  });
});
