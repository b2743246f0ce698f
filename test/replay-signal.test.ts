/**
 * The design card's operator action, end to end on the real dev server: `replay` to a retailer's monitor
 * (the Update the CLI sends, and the signal form of the same message) triggers the retailer's real Temporal
 * Schedule, the ingestion run reports back through the interceptor, and each action is recorded in Postgres.
 * The signal form goes to an existing monitor only: a replay for a retailer without one creates nothing.
 */
import { ScheduleOverlapPolicy, WorkflowNotFoundError } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { commandRetailer, retailerHandle, UnknownRetailerError } from '../src/client';
import { withIngestionReporting } from '../src/reporting';
import { replaySignal, replayUpdate, retailerQuery } from '../src/shared/messages';
import { createTestMonitorWorker, startFleet, testConfig } from './helpers/monitor';
import { createTestDatabase, type TestDatabase } from './helpers/postgres';
import { createDevServerEnv } from './helpers/temporal';
import { until } from './helpers/wait';

const monitor = { workflowId: 'ingestion-monitor-replay', taskQueue: 'monitor-replay' };
const ingestQueue = 'ingest-replay';
let env: TestWorkflowEnvironment;
let monitorConfig: { workflowId: string; taskQueue: string };
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
  monitorConfig = config;
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

it('replay (Update, then signal) triggers the retailer’s Schedule and each new run reports back to its monitor', async () => {
  const schedule = await env.client.schedule.create({
    scheduleId: 'ingest-replay-mart',
    spec: { intervals: [{ every: '1h' }] },
    action: { type: 'startWorkflow', workflowType: 'ingestRetailer', taskQueue: ingestQueue, args: [{ retailer: 'replay-mart', skuCount: 77 }] },
    policies: { overlap: ScheduleOverlapPolicy.SKIP },
    state: { paused: true, note: 'only manual runs in this test' },
  });
  // An unknown retailer is refused before anything is sent: no monitor is conjured up.
  await expect(commandRetailer(env.client, 'replay-mart', replayUpdate, [{ retailer: 'replay-mart', by: 'kim' }], monitor)).rejects.toBeInstanceOf(UnknownRetailerError);
  const handle = retailerHandle(env.client, 'replay-mart');
  await expect(handle.signal(replaySignal, { retailer: 'replay-mart', by: 'kim' })).rejects.toBeInstanceOf(WorkflowNotFoundError);

  // The fleet starts the monitor of an expected retailer, before its first report.
  await startFleet(env.client, monitorConfig, { expectedRetailers: ['replay-mart'] });
  await until('the replay-mart monitor running', async () => (await handle.describe().catch(() => undefined))?.status.name === 'RUNNING', 30_000);

  const answer = await commandRetailer(env.client, 'replay-mart', replayUpdate, [{ retailer: 'replay-mart', by: 'kim' }], monitor);
  expect(answer).toMatchObject({ retailer: 'replay-mart', actionId: expect.any(String) });
  expect(answer.message).toContain('schedule ingest-replay-mart');

  const detail = await until('the replayed run in the monitor', async () => {
    const d = await handle.query(retailerQuery);
    return d.lastRun && d;
  }, 30_000);
  expect(detail.lastRun).toMatchObject({ status: 'success', skuCount: 77, schedule: 'ingest-replay-mart' });
  expect(detail.lastRun!.workflowId).toMatch(/^ingest-replay-mart/);
  expect((await schedule.describe()).info.recentActions).toHaveLength(1);

  const action = await until('the replay action row', async () =>
    tdb.db.selectFrom('operator_actions').selectAll().where('action', '=', 'replay').executeTakeFirst(),
  );
  expect(action).toMatchObject({ retailer: 'replay-mart', by: 'kim' });
  expect(action.outcome).toMatch(/^schedule ingest-replay-mart/);

  // The signal form of the same message (fire-and-forget callers), to the running monitor.
  await new Promise((r) => setTimeout(r, 1100)); // the Schedule names runs to the second
  await handle.signal(replaySignal, { retailer: 'replay-mart', by: 'lee' });
  await until('a second replayed run in the monitor', async () => (await handle.query(retailerQuery)).recentRuns.length === 2, 30_000);
  expect((await schedule.describe()).info.recentActions).toHaveLength(2);
  const rows = await until('both replay rows', async () => {
    const r = await tdb.db.selectFrom('operator_actions').selectAll().where('action', '=', 'replay').orderBy('at').execute();
    return r.length === 2 && r;
  });
  expect(rows.map((r) => r.by)).toEqual(['kim', 'lee']);
  await schedule.delete();
});
