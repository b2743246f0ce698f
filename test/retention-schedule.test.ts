/**
 * The retention job end to end: the Schedule the worker ensures on boot (RUN_RETENTION_DAYS) starts
 * `runRetentionWorkflow` on a real dev server, whose activity prunes a real Postgres; unsetting the
 * variable removes the Schedule.
 */
import { sql } from 'kysely';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { createRetentionActivities } from '../src/retention/prune';
import { syncRetentionSchedule } from '../src/retention/schedule';
import { RETENTION, type PruneResult } from '../src/retention/types';
import { createTestDatabase, type TestDatabase } from './helpers/postgres';
import { createDevServerEnv } from './helpers/temporal';
import { until } from './helpers/wait';

const taskQueue = 'retention-schedule';
let env: TestWorkflowEnvironment;
let tdb: TestDatabase;
let worker: Worker;
let running: Promise<void>;

beforeAll(async () => {
  [env, tdb] = await Promise.all([createDevServerEnv(), createTestDatabase('im_retention_sched')]);
  worker = await Worker.create({
    connection: env.nativeConnection,
    taskQueue,
    workflowsPath: require.resolve('../src/retention/workflow'),
    activities: createRetentionActivities(tdb.db),
  });
  running = worker.run();
}, 120_000);

afterAll(async () => {
  worker?.shutdown();
  await running;
  await env?.teardown();
  await tdb?.drop();
});

it('RUN_RETENTION_DAYS set: an hourly Schedule prunes old runs; unset: the Schedule is removed', async () => {
  // Two runs of one retailer: 40 days old (pruned at 30 days) and today's (its latest, kept).
  await sql`INSERT INTO ingestion_runs (run_id, retailer, status, started_at, finished_at, duration_ms, received_at) VALUES
    ('old', 'alpha', 'success', now() - interval '40 days', now() - interval '40 days', 1, now()),
    ('new', 'alpha', 'success', now(), now(), 1, now())`.execute(tdb.db);

  expect(await syncRetentionSchedule(env.client, { retentionDays: 30, taskQueue })).toBe('ensured');
  expect(await syncRetentionSchedule(env.client, { retentionDays: 30, taskQueue })).toBe('ensured'); // idempotent
  const handle = env.client.schedule.getHandle(RETENTION.scheduleId);
  const described = await handle.describe();
  expect(described.spec.intervals?.map((i) => i.every)).toEqual([RETENTION.everyMs]);

  await handle.trigger();
  const action = await until('the triggered retention pass', async () => (await handle.describe()).info.recentActions[0], 60_000);
  const result: PruneResult = await env.client.workflow.getHandle(action.action.workflow.workflowId).result();
  expect(result).toMatchObject({ runsDeleted: 1, alertEventsDeleted: 0, truncated: false });
  const { rows } = await sql<{ run_id: string }>`SELECT run_id FROM ingestion_runs`.execute(tdb.db);
  expect(rows.map((r) => r.run_id)).toEqual(['new']);

  expect(await syncRetentionSchedule(env.client, { taskQueue })).toBe('removed');
  expect(await syncRetentionSchedule(env.client, { taskQueue })).toBe('none');
}, 120_000);
