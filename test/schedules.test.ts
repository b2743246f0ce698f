/**
 * Replay and stale diagnosis against real Temporal Schedules on the dev server: triggerIngestion re-runs a
 * retailer through its Schedule (or starts the ingestion workflow when it has none); diagnoseStale
 * explains a paused schedule, runs skipped by the overlap policy, a run open too long, and a late start.
 */
import { type Client, ScheduleOverlapPolicy } from '@temporalio/client';
import type { Duration } from '@temporalio/common';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { createTemporalActivities } from '../src/activities/temporal';
import { loadConfig, type MonitorConfig } from '../src/config';
import type { IngestArgs } from './fixtures/ingestion-workflows';
import { createDevServerEnv } from './helpers/temporal';
import { until } from './helpers/wait';

const ingestQueue = 'ingest-schedules';
let env: TestWorkflowEnvironment;
let worker: Worker;
let running: Promise<void>;
let config: MonitorConfig;
const cleanup: Array<() => Promise<unknown>> = [];

beforeAll(async () => {
  env = await createDevServerEnv();
  worker = await Worker.create({ connection: env.nativeConnection, taskQueue: ingestQueue, workflowsPath: require.resolve('./fixtures/ingestion-workflows') });
  running = worker.run();
  const base = loadConfig({});
  config = { ...base, ingestion: { workflowType: 'ingestRetailer', taskQueue: ingestQueue, scheduleIdTemplate: 'ingest-{retailer}' } };
}, 120_000);

afterAll(async () => {
  await Promise.allSettled(cleanup.map((f) => f()));
  worker?.shutdown();
  await running;
  await env?.teardown();
});

async function createSchedule(client: Client, retailer: string, args: IngestArgs, opts: { every?: Duration; overlap?: ScheduleOverlapPolicy } = {}) {
  const handle = await client.schedule.create({
    scheduleId: `ingest-${retailer}`,
    spec: { intervals: [{ every: opts.every ?? '1h' }] },
    action: { type: 'startWorkflow', workflowType: 'ingestRetailer', taskQueue: ingestQueue, args: [args] },
    policies: { overlap: opts.overlap ?? ScheduleOverlapPolicy.SKIP },
  });
  cleanup.push(async () => {
    const d = await handle.describe();
    await handle.delete();
    // recentActions, not runningActions: manual ALLOW_ALL triggers are not tracked as running.
    for (const a of d.info.recentActions) await client.workflow.getHandle(a.action.workflow.workflowId).terminate('test over').catch(() => undefined);
  });
  return handle;
}

describe('triggerIngestion', () => {
  it('triggers the retailer’s Schedule; the run happens', async () => {
    const schedule = await createSchedule(env.client, 'checkers', { retailer: 'checkers', skuCount: 42 });
    const acts = createTemporalActivities(config, env.client);
    await expect(acts.triggerIngestion({ retailer: 'checkers' })).resolves.toEqual({ how: 'schedule', id: 'ingest-checkers', detail: 'triggered schedule ingest-checkers' });
    const action = await until('the triggered action', async () => (await schedule.describe()).info.recentActions[0]);
    const result = await env.client.workflow.getHandle(action.action.workflow.workflowId).result();
    expect(result).toMatchObject({ retailer: 'checkers', skuCount: 42 });
  });

  it('honours an explicit schedule id and is not skipped while a scheduled run is still open', async () => {
    const schedule = await createSchedule(env.client, 'busy', { retailer: 'busy', mode: 'hang' });
    const acts = createTemporalActivities(config, env.client);
    await acts.triggerIngestion({ retailer: 'ignored', schedule: 'ingest-busy' });
    const [first] = await until('the first run', async () => (await schedule.describe()).info.recentActions);
    expect((await env.client.workflow.getHandle(first!.action.workflow.workflowId).describe()).status.name).toBe('RUNNING');
    // The Schedule names runs `<id>-<time to the second>`: a second trigger within the same second is dropped.
    await new Promise((r) => setTimeout(r, 1100));
    await acts.triggerIngestion({ retailer: 'busy' }); // the schedule says SKIP; the manual re-run overrides with ALLOW_ALL
    const d = await until('a second action', async () => {
      const desc = await schedule.describe();
      return desc.info.recentActions.length === 2 && desc;
    });
    expect(d.info.numActionsSkippedOverlap).toBe(0);
    // Manual ALLOW_ALL runs are missing from the Schedule's runningActions; diagnosis finds them through visibility.
    expect(d.info.runningActions).toHaveLength(0);
    const why = await until('both open runs diagnosed', async () => {
      const w = await acts.diagnoseStale({ retailer: 'busy', typicalDurationMs: 1 });
      return (w?.match(/is still open after/g)?.length ?? 0) === 2 && w;
    });
    expect(why).toContain(first!.action.workflow.workflowId);
  });

  it('starts the ingestion workflow when the retailer has no Schedule', async () => {
    const acts = createTemporalActivities(config, env.client);
    const res = await acts.triggerIngestion({ retailer: 'nosched' });
    expect(res).toMatchObject({ how: 'workflow' });
    expect(res.id).toMatch(/^nosched-replay-\d+$/);
    expect(res.detail).toContain('no schedule ingest-nosched');
    expect(await env.client.workflow.getHandle(res.id!).result()).toMatchObject({ retailer: 'nosched' });
  });

  it('says so, without throwing, when there is neither a Schedule nor an ingestion workflow configured', async () => {
    const acts = createTemporalActivities({ ...config, ingestion: { scheduleIdTemplate: 'ingest-{retailer}' } }, env.client);
    await expect(acts.triggerIngestion({ retailer: 'ghost' })).resolves.toEqual({
      how: 'none',
      detail: 'no schedule ingest-ghost and INGESTION_WORKFLOW_TYPE/INGESTION_TASK_QUEUE not set',
    });
  });
});

describe('diagnoseStale', () => {
  it('is undefined without a Schedule, and for a healthy one', async () => {
    const acts = createTemporalActivities(config, env.client);
    await expect(acts.diagnoseStale({ retailer: 'no-such-retailer' })).resolves.toBeUndefined();
    const schedule = await createSchedule(env.client, 'healthy', { retailer: 'healthy' });
    await schedule.trigger();
    await until('the run done', async () => {
      const d = await schedule.describe();
      return d.info.recentActions.length === 1 && d.info.runningActions.length === 0;
    });
    await expect(acts.diagnoseStale({ retailer: 'healthy', typicalDurationMs: 1000 })).resolves.toBeUndefined();
  });

  it('explains a paused Schedule with its note and since when', async () => {
    const schedule = await createSchedule(env.client, 'spar', { retailer: 'spar' });
    await schedule.pause('vendor site maintenance until 14:00 (thabo)');
    const why = await createTemporalActivities(config, env.client).diagnoseStale({ retailer: 'spar' });
    // when and by whom: the pausing client's identity (pid@host by default)
    expect(why).toMatch(/^schedule ingest-spar is paused since \d{4}-\d\d-\d\dT[\d:.]+Z by \d+@\S+ \(note: "vendor site maintenance until 14:00 \(thabo\)"\)$/);
    const paused = Date.parse(why!.split(' ')[5]!);
    expect(Math.abs(paused - Date.now())).toBeLessThan(10_000);
  });

  it('explains runs skipped by the overlap policy behind a run open past its usual duration', async () => {
    await createSchedule(env.client, 'hangco', { retailer: 'hangco', mode: 'hang' }, { every: '1s', overlap: ScheduleOverlapPolicy.SKIP });
    const schedule = env.client.schedule.getHandle('ingest-hangco');
    await until('an action skipped by overlap', async () => (await schedule.describe()).info.numActionsSkippedOverlap >= 2);
    const why = await createTemporalActivities(config, env.client).diagnoseStale({ retailer: 'hangco', typicalDurationMs: 200 });
    expect(why).toMatch(/run ingest-hangco-\S+ is still open after \d+ s \(usually 200 ms\)/);
    expect(why).toMatch(/scheduled runs are being skipped by the overlap policy SKIP while ingest-hangco-\S+ is still open \(\d+ skipped so far\)/);
  });

  it('names a queue no worker polls, and does not blame the overlap policy for the skips it causes', async () => {
    const queue = 'ingest-nobody-polls';
    const handle = await env.client.schedule.create({
      scheduleId: 'ingest-orphan',
      spec: { intervals: [{ every: '1s' }] },
      action: { type: 'startWorkflow', workflowType: 'ingestRetailer', taskQueue: queue, args: [{ retailer: 'orphan' }] },
      policies: { overlap: ScheduleOverlapPolicy.SKIP },
    });
    cleanup.push(async () => {
      const d = await handle.describe();
      await handle.delete();
      for (const a of d.info.recentActions) await env.client.workflow.getHandle(a.action.workflow.workflowId).terminate('test over').catch(() => undefined);
    });
    // The first run never gets a worker, so the next actions are skipped by SKIP: the misleading symptom.
    await until('an action skipped by overlap', async () => (await handle.describe()).info.numActionsSkippedOverlap >= 2);
    const acts = createTemporalActivities({ ...config, ingestion: { ...config.ingestion, taskQueue: queue } }, env.client);
    const why = await acts.diagnoseStale({ retailer: 'orphan' });
    expect(why).toMatch(/^no worker has polled `ingest-nobody-polls` in the last 5 min/);
    expect(why).not.toMatch(/overlap policy/);
  });

  it('explains a run that started late (a backfilled action taken long after its scheduled time)', async () => {
    const schedule = await createSchedule(env.client, 'lateco', { retailer: 'lateco' });
    const hourAgo = Date.now() - 3_600_000;
    await schedule.backfill({ start: new Date(hourAgo - 3_600_000), end: new Date(hourAgo), overlap: ScheduleOverlapPolicy.ALLOW_ALL });
    await until('the backfilled action', async () => (await schedule.describe()).info.recentActions.length >= 1);
    const why = await createTemporalActivities(config, env.client).diagnoseStale({ retailer: 'lateco' });
    expect(why).toMatch(/last run ingest-lateco-\S+ started (\d+ min|\d+ h( \d+ min)?) late \(scheduled for /);
  });
});
