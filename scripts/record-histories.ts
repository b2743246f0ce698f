/**
 * Records workflow histories for the replay test (test/replay.test.ts): runs a scenario that touches every
 * handler and loop of a retailer monitor and of the fleet (reports as Update and signal, a malformed one,
 * duplicate, fire / resolve, silence, unsilence, acknowledge, thresholds, replay, reprocess, fleet defaults,
 * continue-as-new, and from v7 a second retailer going stale) on a real dev server whose continue-as-new suggestion comes early, and writes each run's
 * history to test/histories/. Re-run (`npm run record-histories`) only when a deliberate, patched() change
 * alters history; keep the old files, they must still replay.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
// Not a public API (no public equivalent writes Temporal's JSON history format); pinned by
// test/sdk-internals.test.ts, which fails loudly if an SDK upgrade moves or changes it.
import { historyToJSON } from '@temporalio/common/lib/proto-utils';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { bundleWorkflowCode, Worker, type InjectedSinks } from '@temporalio/worker';
import type { WorkflowInfo } from '@temporalio/workflow';
import { createActivities } from '../src/activities';
import { commandRetailer, fleetHandle, reportIngestionRun, retailerHandle, sendIngestionCompleted } from '../src/client';
import { HOUR_MS } from '../src/rules/thresholds';
import {
  acknowledgeUpdate,
  DEFAULTS,
  fleetAlertsQuery,
  replayUpdate,
  reprocessUpdate,
  retailerQuery,
  retailerWorkflowId,
  setFleetThresholdsUpdate,
  setThresholdsUpdate,
  silenceUpdate,
  unsilenceUpdate,
} from '../src/shared/messages';
import { ensureFleet, workflowInterceptorModules, workflowPreloadModules } from '../src/worker';
import type { RecorderSinks } from '../test/helpers/activity-input-recorder';
import { startCaptureServer } from '../test/helpers/capture-server';
import { testConfig } from '../test/helpers/monitor';
import { createTestDatabase } from '../test/helpers/postgres';
import { temporalCliPath } from '../test/helpers/temporal';
import { until } from '../test/helpers/wait';

/** Bump when a deliberate (patched) workflow change deserves a new set. */
const VERSION = 'v8';

async function run(): Promise<void> {
  const [env, tdb, hook] = await Promise.all([
    TestWorkflowEnvironment.createLocal({
      server: {
        executable: { type: 'existing-path', path: temporalCliPath() },
        ip: '127.0.0.1',
        ui: false,
        // The server suggests continue-as-new after 60 events, so the recording crosses one.
        extraArgs: ['--dynamic-config-value', 'limit.historyCount.suggestContinueAsNew=60'],
      },
    }),
    createTestDatabase('im_record'),
    startCaptureServer(),
  ]);
  const taskQueue = 'record-histories';
  const config = testConfig({ taskQueue, databaseUrl: tdb.url, webhookUrl: `${hook.url}/hook` });
  config.alerts.console = true; // v4: the console channel (patched 'console-channel'); its lines go to this script's stdout
  // The monitor worker with the replay test's activity-input recorder compiled in: every activity the runs
  // schedule, regular or local, is kept per run id (a local activity's input is not in history).
  const inputs = new Map<string, Array<[string, unknown, string]>>();
  const worker = await Worker.create({
    connection: env.nativeConnection,
    taskQueue,
    workflowBundle: await bundleWorkflowCode({
      workflowsPath: require.resolve('../src/workflows'),
      workflowInterceptorModules: [...workflowInterceptorModules, require.resolve('../test/helpers/activity-input-recorder')],
      preloadModules: workflowPreloadModules,
      logger: { log() {}, trace() {}, debug() {}, info() {}, warn() {}, error: (m: string) => console.error(m) },
    }),
    activities: createActivities(config, tdb.db, env.client),
    sinks: {
      recorder: {
        activity: {
          fn: (info: WorkflowInfo, activityType: string, args: unknown[], kind: string) => {
            const list = inputs.get(info.runId) ?? [];
            list.push([activityType, JSON.parse(JSON.stringify(args)), kind]);
            inputs.set(info.runId, list);
          },
          callDuringReplay: false,
        },
      },
    } as InjectedSinks<RecorderSinks>,
  });
  const target = { taskQueue };
  let i = 0;
  const send = async (status: 'success' | 'failure', skuCount?: number) => {
    const now = Date.now() - 1000;
    return reportIngestionRun(
      env.client,
      {
        runId: `rec-${++i}`,
        retailer: 'alpha',
        status,
        startedAt: new Date(now - 60_000).toISOString(),
        finishedAt: new Date(now).toISOString(),
        skuCount: status === 'success' ? (skuCount ?? 1000) : undefined,
        error: status === 'failure' ? 'HTTP 503' : undefined,
      },
      target,
    );
  };
  try {
    await worker.runUntil(async () => {
      await ensureFleet(env.client, { workflowId: DEFAULTS.workflowId, taskQueue }, { groupWindowMs: 1000 });
      // v7: a second retailer goes stale after a minute (the stale diagnosis and the hand-over as local
      // activities, the alert row written as it fires) while alpha's scenario runs.
      const betaFinished = Date.now() - 1000;
      await reportIngestionRun(
        env.client,
        { runId: 'beta-1', retailer: 'beta', status: 'success', startedAt: new Date(betaFinished - 60_000).toISOString(), finishedAt: new Date(betaFinished).toISOString(), skuCount: 10 },
        target,
      );
      await commandRetailer(env.client, 'beta', setThresholdsUpdate, [{ retailer: 'beta', thresholds: { staleAfterMs: 60_000 } }]);
      for (const c of [1000, 1000, 1000]) await send('success', c);
      await send('success', 500); // SKU drop fires
      await send('failure');
      const fired = await send('failure'); // consecutive failures fire
      await sendIngestionCompleted(env.client, { runId: `rec-${i}`, retailer: 'alpha', status: 'failure', startedAt: new Date(Date.now() - 5000).toISOString(), finishedAt: new Date().toISOString() }, target); // duplicate, as a signal
      await env.client.workflow.getHandle(retailerWorkflowId('alpha')).signal('ingestionCompleted', { runId: 'junk', retailer: 'Not A Slug' }); // rejected signal
      const until1h = new Date(Date.now() + HOUR_MS).toISOString();
      await commandRetailer(env.client, 'alpha', silenceUpdate, [{ retailer: 'alpha', rule: 'stale', until: until1h, reason: 'migration', by: 'recorder' }]);
      await commandRetailer(env.client, 'alpha', setThresholdsUpdate, [{ retailer: 'alpha', thresholds: { failureStreak: 3 } }]);
      await commandRetailer(env.client, 'alpha', acknowledgeUpdate, [{ incidentId: fired.opened[0]!.id, by: 'recorder' }]);
      await commandRetailer(env.client, 'alpha', replayUpdate, [{ retailer: 'alpha', by: 'recorder' }]); // no schedule: "none"
      await commandRetailer(env.client, 'alpha', unsilenceUpdate, [{ retailer: 'alpha', rule: 'stale' }]);
      await fleetHandle(env.client).executeUpdate(setFleetThresholdsUpdate, { args: [{ thresholds: { skuDropPct: 40 } }] });
      const now = Date.now();
      await commandRetailer(env.client, 'alpha', reprocessUpdate, [{ retailer: 'alpha', from: new Date(now - HOUR_MS).toISOString(), to: new Date(now + 60_000).toISOString() }]);
      for (let k = 0; k < 6; k++) await send(k % 2 ? 'success' : 'failure');
      await until('alpha continued as new', async () => (await retailerHandle(env.client, 'alpha').describe()).runId !== (await firstRun('alpha')), 60_000, 200);
      await until('alpha applied every report', async () => (await retailerHandle(env.client, 'alpha').query(retailerQuery)).totals.runs >= i, 30_000, 200);
      await until(
        'beta went stale and its alert was delivered',
        async () => (await tdb.db.selectFrom('alert_events').select('delivered').where('retailer', '=', 'beta').where('rule', '=', 'stale').executeTakeFirst())?.delivered === true,
        120_000,
        500,
      );
      // Settled before the histories are fetched: no hand-over or delivery in flight, every alert the fleet
      // took is recorded. Otherwise a history can end mid-task and replay schedules more than it recorded.
      await until(
        'the monitors idle and every alert recorded',
        async () => {
          const [retailer, fleet, alerts, rows] = await Promise.all([
            retailerHandle(env.client, 'alpha').describe(),
            fleetHandle(env.client).describe(),
            fleetHandle(env.client).query(fleetAlertsQuery),
            tdb.db.selectFrom('alert_events').select((eb) => eb.fn.countAll<string>().as('n')).executeTakeFirstOrThrow(),
          ]);
          const busy = (retailer.raw.pendingActivities?.length ?? 0) + (fleet.raw.pendingActivities?.length ?? 0);
          return busy === 0 && Number(rows.n) === alerts.length;
        },
        60_000,
        200,
      );
    });
    for (const [name, id] of [
      ['retailer', retailerWorkflowId('alpha')],
      ['retailer-stale', retailerWorkflowId('beta')],
      ['fleet', DEFAULTS.workflowId],
    ] as const) {
      let runId: string | undefined = await firstRun(id);
      let n = 0;
      while (runId) {
        const history = await env.client.workflow.getHandle(id, runId).fetchHistory();
        const file = join(__dirname, '..', 'test', 'histories', `${name}-${VERSION}-run-${++n}.json`);
        writeFileSync(file, historyToJSON(history) + '\n');
        console.log(`wrote ${file} (${history.events?.length} events)`);
        const inputsFile = join(__dirname, '..', 'test', 'histories', 'activity-inputs', `${name}-${VERSION}-run-${n}.json`);
        mkdirSync(dirname(inputsFile), { recursive: true });
        writeFileSync(inputsFile, JSON.stringify(inputs.get(runId) ?? []) + '\n');
        runId = history.events?.at(-1)?.workflowExecutionContinuedAsNewEventAttributes?.newExecutionRunId ?? undefined;
      }
    }
  } finally {
    await Promise.all([env.teardown(), tdb.drop(), hook.close()]);
  }

  /** The first run of a workflow id (the oldest execution visibility lists). */
  async function firstRun(workflowId: string): Promise<string | undefined> {
    let first: { runId: string; startTime: Date } | undefined;
    for await (const wf of env.client.workflow.list({ query: `WorkflowId = '${workflowId}'` })) {
      if (!first || wf.startTime < first.startTime) first = { runId: wf.runId, startTime: wf.startTime };
    }
    return first?.runId;
  }
}

run().catch((err) => {
  console.error(err);
  process.exit(1);
});
