/**
 * run_duration for a run still open, end to end on the real dev server + real Postgres + a loopback Slack
 * stand-in: a real Schedule (every 20 s, first action ~15 s out) whose runs never finish (their task queue
 * has no worker); three 3-s runs reported before it make the duration baseline (median 3 s, so the limit
 * is 3 + max(3 MADs, +100%, +0) = 6 s); missed-run grace 1 s.
 * - the missed-run check (expected + 3 s + 1 s) sees the Schedule's run open; at its start + 6 s the monitor
 *   describes the Schedule again and run_duration fires while that run is still open: in alert_events and
 *   on Slack, with the elapsed time and the usual one. How long after start + limit it fired is printed.
 * - the run's late report fires nothing more (its long duration keeps the same incident open).
 * - with a worker polling the runs' task queue (the run is really running, just long): the missed-run check
 *   leaves the run taken on time to the open-run check, so only run_duration fires, no missed_run.
 */
import { ScheduleOverlapPolicy } from '@temporalio/client';
import { Worker } from '@temporalio/worker';
import { retailerHandle } from '../src/client';
import { reportScheduledSuccess } from './helpers/run-reports';
import { retailerQuery } from '../src/shared/messages';
import { useMonitorBed } from './helpers/monitor-bed';
import { until } from './helpers/wait';

const RETAILER = 'sloth';
const SCHEDULE = `ingest-${RETAILER}`;
const USUAL_MS = 3_000;
/** median 3 s, MAD floored at 5 % (150 ms): 3 s + max(3 × 150 ms, 100 % of 3 s, 0) */
const LIMIT_MS = 6_000;
/** Nobody polls this queue: the Schedule's runs start and stay open. */
const NOBODY_POLLS = 'ingest-nobody-polls-run-open';
// run_duration is on by default; no minimum rise, so second-long runs can be judged here.
const bed = useMonitorBed('run-open', { missedRunGraceMs: 1_000, durationMinRiseMs: 0 });

/** A successful run of USUAL_MS that just finished (or the given one), started by the Schedule. */
function report(startedAt = Date.now() - USUAL_MS, extra: { workflowId?: string; finishedAt?: number } = {}, retailer = RETAILER) {
  return reportScheduledSuccess(bed.env.client, bed.target, retailer, startedAt, extra.finishedAt ?? startedAt + USUAL_MS, extra.workflowId ? { workflowId: extra.workflowId } : {});
}

it('fires run_duration while the Schedule’s run is still open past start + limit, and not again when its report arrives', async () => {
  const { env, tdb, slack, target } = bed;
  // The first action 15 s out, so the baseline runs reported now cannot count for it.
  const schedule = await env.client.schedule.create({
    scheduleId: SCHEDULE,
    spec: { intervals: [{ every: '20s' }], startAt: new Date(Date.now() + 15_000) },
    action: { type: 'startWorkflow', workflowType: 'ingestRetailer', taskQueue: NOBODY_POLLS, args: [{ retailer: RETAILER }] },
    policies: { overlap: ScheduleOverlapPolicy.SKIP },
  });
  for (let i = 0; i < 3; i++) expect((await report()).outcome).toBe('accepted');
  const detail = () => retailerHandle(env.client, RETAILER, target).query(retailerQuery);
  const watched = await until('an expected run', async () => (await detail()).missedRun?.expectedRunAt);
  expect(Date.parse(watched)).toBeGreaterThan(Date.now());

  const fire = await until(
    'the run_duration fire in alert_events',
    () => tdb.db.selectFrom('alert_events').selectAll().where('retailer', '=', RETAILER).where('rule', '=', 'run_duration').where('kind', '=', 'fire').executeTakeFirst(),
    90_000,
  );
  // The run is still open: the Schedule lists it as running, and it has not reported.
  const openRun = (await schedule.describe()).info.runningActions.map((a) => a.workflow.workflowId);
  expect(openRun).toEqual([fire.run_id]);
  const firedAt = new Date(fire.occurred_at as unknown as string | Date).getTime();
  const figures = fire.figures as { runStartedAt: number; durationMs: number; typical: number; typicalBasis: string };
  const action = (await schedule.describe()).info.recentActions.find((a) => a.action.workflow.workflowId === fire.run_id)!;
  expect(figures.runStartedAt).toBe(action.takenAt.getTime());
  // Three runs of today's weekday (or of two weekdays around midnight: the trailing median).
  const basis = /median of (3 [A-Z][a-z]+day runs|the last 3 runs)/;
  expect(figures.typical).toBe(USUAL_MS);
  expect(figures.typicalBasis).toMatch(basis);
  const late = firedAt - (figures.runStartedAt + LIMIT_MS);
  process.stdout.write(`run-open: run_duration fired ${late} ms after start + limit (limit ${LIMIT_MS} ms; elapsed at the fire ${figures.durationMs} ms)\n`);
  expect(late).toBeGreaterThanOrEqual(0);
  expect(late).toBeLessThan(4_000);
  expect(fire.summary).toMatch(new RegExp(`^${RETAILER}: run ${fire.run_id} still running after \\d+ s; usual 3 s \\(${basis.source}\\)`));
  // The missed-run check that first saw the run open fired missed_run before (it had not reported in grace).
  const rules = await tdb.db.selectFrom('alert_events').select(['rule', 'kind']).where('retailer', '=', RETAILER).orderBy('occurred_at').execute();
  expect(rules.map((r) => `${r.kind}:${r.rule}`)).toEqual(['fire:missed_run', 'fire:run_duration']);

  await slack.waitFor((r) => r.some((m) => JSON.stringify(m.body).includes('still running after')), 20_000);
  const text = JSON.stringify(slack.received.find((m) => JSON.stringify(m.body).includes('still running after'))!.body);
  expect(text).toContain('Run duration far above usual');
  expect(text).toContain(fire.run_id!);

  // The run's late report: a long run, the same incident stays open; nothing fires again.
  const verdict = await report(figures.runStartedAt, { workflowId: fire.run_id!, finishedAt: Date.now() });
  expect(verdict.opened).toEqual([]);
  // It answers the missed expected run; run_duration keeps its incident (its verdict: far above usual).
  expect(verdict.resolved.map((r) => r.rule)).toEqual(['missed_run']);
  expect((await detail()).openIncidents.filter((i) => i.rule === 'run_duration').map((i) => i.id)).toEqual([fire.incident_id]);
  const fires = await tdb.db.selectFrom('alert_events').select('event_id').where('retailer', '=', RETAILER).where('rule', '=', 'run_duration').where('kind', '=', 'fire').execute();
  expect(fires).toHaveLength(1);

  await schedule.delete();
  await env.client.workflow.getHandle(fire.run_id!).terminate('test over');
}, 150_000);

it('a run taken on time and still running, with a worker on its queue, is left to the open-run check: run_duration fires, missed_run does not', async () => {
  const { env, tdb, target } = bed;
  const retailer = 'tortoise';
  const taskQueue = 'ingest-tortoise-worker';
  // A real worker polls the queue; its runs hang (as a run stuck in a slow vendor API would), so they stay open.
  const worker = await Worker.create({ connection: env.nativeConnection, taskQueue, workflowsPath: require.resolve('./fixtures/ingestion-workflows') });
  const running = worker.run();
  try {
    const schedule = await env.client.schedule.create({
      scheduleId: `ingest-${retailer}`,
      spec: { intervals: [{ every: '20s' }], startAt: new Date(Date.now() + 15_000) },
      action: { type: 'startWorkflow', workflowType: 'ingestRetailer', taskQueue, args: [{ retailer, mode: 'hang' }] },
      policies: { overlap: ScheduleOverlapPolicy.SKIP },
    });
    for (let i = 0; i < 3; i++) expect((await report(undefined, {}, retailer)).outcome).toBe('accepted');
    const detail = () => retailerHandle(env.client, retailer, target).query(retailerQuery);
    const expected = Date.parse(await until('an expected run', async () => (await detail()).missedRun?.expectedRunAt));

    const fire = await until(
      'the run_duration fire in alert_events',
      () => tdb.db.selectFrom('alert_events').selectAll().where('retailer', '=', retailer).where('rule', '=', 'run_duration').where('kind', '=', 'fire').executeTakeFirst(),
      90_000,
    );
    // The first action's run: taken on time, still open; its missed-run check (expected + 3 s + 1 s) passed quietly.
    const firedAt = new Date(fire.occurred_at as unknown as string | Date).getTime();
    expect(firedAt).toBeGreaterThan(expected + USUAL_MS + 1_000);
    expect((await schedule.describe()).info.runningActions.map((a) => a.workflow.workflowId)).toEqual([fire.run_id]);
    const rules = await tdb.db.selectFrom('alert_events').select(['rule', 'kind']).where('retailer', '=', retailer).orderBy('occurred_at').execute();
    expect(rules.map((r) => `${r.kind}:${r.rule}`)).toEqual(['fire:run_duration']);
    expect((await detail()).openIncidents.map((i) => i.rule)).toEqual(['run_duration']);

    await schedule.delete();
    await env.client.workflow.getHandle(fire.run_id!).terminate('test over');
  } finally {
    worker.shutdown();
    await running;
  }
}, 150_000);
