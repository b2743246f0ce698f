/**
 * The design card's operator action, end to end on the real dev server: a `replay` signal to the monitor
 * triggers the retailer's real Temporal Schedule, the ingestion run reports back through the interceptor,
 * and the action is recorded in Postgres.
 */
import { ScheduleOverlapPolicy } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { monitorHandle } from '../src/client';
import { withIngestionReporting } from '../src/reporting';
import { replaySignal, retailerQuery, setThresholdsSignal } from '../src/shared/messages';
import { createTestMonitorWorker, testConfig } from './helpers/monitor';
import { createTestDatabase, type TestDatabase } from './helpers/postgres';
import { createDevServerEnv } from './helpers/temporal';
import { until } from './helpers/wait';

const monitor = { workflowId: 'ingestion-monitor-replay', taskQueue: 'monitor-replay' };
const ingestQueue = 'ingest-replay';
let env: TestWorkflowEnvironment;
let tdb: TestDatabase;
const workers: Worker[] = [];
const runs: Promise<void>[] = [];

beforeAll(async () => {
  [env, tdb] = await Promise.all([createDevServerEnv(), createTestDatabase('im_replay')]);
  const config = {
    ...testConfig({ taskQueue: monitor.taskQueue, databaseUrl: tdb.url }),
    workflowId: monitor.workflowId,
    ingestion: { workflowType: 'ingestRetailer', taskQueue: ingestQueue, scheduleIdTemplate: 'ingest-{retailer}' },
  };
  workers.push(await createTestMonitorWorker(env, config, tdb));
  workers.push(
    await Worker.create(
      withIngestionReporting(
        { connection: env.nativeConnection, taskQueue: ingestQueue, workflowsPath: require.resolve('./fixtures/ingestion-workflows') },
        { client: env.client, monitor, workflowTypes: ['ingestRetailer'] },
      ),
    ),
  );
  for (const w of workers) runs.push(w.run());
}, 120_000);

afterAll(async () => {
  for (const w of workers) w.shutdown();
  await Promise.all(runs);
  await Promise.all([env?.teardown(), tdb?.drop()]);
});

it('replay triggers the retailer’s Schedule and the new run reports back to the monitor', async () => {
  const schedule = await env.client.schedule.create({
    scheduleId: 'ingest-replay-mart',
    spec: { intervals: [{ every: '1h' }] },
    action: { type: 'startWorkflow', workflowType: 'ingestRetailer', taskQueue: ingestQueue, args: [{ retailer: 'replay-mart', skuCount: 77 }] },
    policies: { overlap: ScheduleOverlapPolicy.SKIP },
    state: { paused: true, note: 'only manual runs in this test' },
  });
  const handle = monitorHandle(env.client, monitor.workflowId);
  // Start the monitor (signal-with-start) with a harmless action, then ask for the replay.
  await env.client.workflow.signalWithStart('ingestionMonitorWorkflow', {
    workflowId: monitor.workflowId,
    taskQueue: monitor.taskQueue,
    args: [{}],
    signal: setThresholdsSignal,
    signalArgs: [{ retailer: 'replay-mart', thresholds: { failureStreak: 2 } }],
  });
  await handle.signal(replaySignal, { retailer: 'replay-mart', by: 'kim' });

  const detail = await until('the replayed run in the monitor', async () => {
    const d = await handle.query(retailerQuery, 'replay-mart');
    return d?.lastRun && d;
  }, 30_000);
  expect(detail.lastRun).toMatchObject({ status: 'success', skuCount: 77, schedule: 'ingest-replay-mart' });
  expect(detail.lastRun!.workflowId).toMatch(/^ingest-replay-mart/);
  expect((await schedule.describe()).info.recentActions).toHaveLength(1);

  const action = await until('the replay action row', async () =>
    tdb.db.selectFrom('operator_actions').selectAll().where('action', '=', 'replay').executeTakeFirst(),
  );
  expect(action).toMatchObject({ retailer: 'replay-mart', by: 'kim' });
  expect(action.outcome).toMatch(/^schedule ingest-replay-mart/);
  await schedule.delete();
});
