/**
 * The missed-run rule end to end on the real dev server + real Postgres + a loopback Slack stand-in:
 * real Schedules (every 20 s) whose runs never report (their task queue has no worker), a retailer
 * monitor that learned the Schedule from a report, grace 5 s.
 * - missed_run fires within grace + a few seconds of the expected time, is recorded in alert_events and
 *   reaches Slack; the next report resolves it.
 * - a paused Schedule produces no missed_run alert (documented choice; the stale rule covers a long pause).
 * - a calendar spec in Africa/Johannesburg: the expected time is 06:30 SAST = 04:30 UTC.
 */
import { ScheduleOverlapPolicy, type ScheduleSpec } from '@temporalio/client';
import { retailerHandle } from '../src/client';
import { reportScheduledSuccess } from './helpers/run-reports';
import { retailerQuery } from '../src/shared/messages';
import { useMonitorBed } from './helpers/monitor-bed';
import { until } from './helpers/wait';

const GRACE_MS = 5_000;
/** Nobody polls this queue: the Schedule's runs start and never finish, so they never report. */
const NOBODY_POLLS = 'ingest-nobody-polls-missed';
// Fleet default grace 5 s (per-retailer overrides work the same way: `im thresholds --retailer r --missed-run-grace 5s`).
const bed = useMonitorBed('missed-run', { missedRunGraceMs: GRACE_MS });

async function createSchedule(retailer: string, spec: ScheduleSpec) {
  return bed.env.client.schedule.create({
    scheduleId: `ingest-${retailer}`,
    spec,
    action: { type: 'startWorkflow', workflowType: 'ingestRetailer', taskQueue: NOBODY_POLLS, args: [{ retailer }] },
    policies: { overlap: ScheduleOverlapPolicy.SKIP },
  });
}

/** A short successful run of `retailer` that just finished, started by its Schedule. */
function report(retailer: string, startedAt = Date.now() - 500) {
  return reportScheduledSuccess(bed.env.client, bed.target, retailer, startedAt, Math.max(startedAt + 500, Date.now()));
}

const detail = (retailer: string) => retailerHandle(bed.env.client, retailer, bed.target).query(retailerQuery);

/** The expected run the monitor watches, once it has described the Schedule. */
async function expectedRun(retailer: string) {
  return until(`${retailer}: an expected run`, async () => {
    const m = (await detail(retailer)).missedRun;
    return m?.expectedRunAt !== undefined && m;
  });
}

it('a scheduled run that never reports fires missed_run within grace + a few seconds, in alert_events and on Slack; the next report resolves it', async () => {
  const schedule = await createSchedule('ghost', { intervals: [{ every: '20s' }] });
  await report('ghost');
  const watched = await expectedRun('ghost');
  const expectedAt = Date.parse(watched.expectedRunAt!);
  expect(watched).toMatchObject({ scheduleId: 'ingest-ghost', graceMs: GRACE_MS, spec: 'every 20 s (UTC)' });
  // It is one of the server's own next action times.
  const next = (await schedule.describe()).info.nextActionTimes.map((d) => d.getTime());
  // The server's next slot; or the one after it, when our run (started 0.5 s ago) already counts for a slot
  // due within half a period; or the one that passed while we asked.
  expect([next[0]! - 20_000, next[0]!, next[0]! + 20_000]).toContain(expectedAt);

  const fire = await until(
    'the missed_run fire in alert_events',
    () => bed.tdb.db.selectFrom('alert_events').selectAll().where('retailer', '=', 'ghost').where('rule', '=', 'missed_run').where('kind', '=', 'fire').executeTakeFirst(),
    60_000,
  );
  // Deadline = expected + usual duration (the one 0.5 s run) + grace; the describe at the deadline takes milliseconds.
  const firedAt = new Date(fire.occurred_at as unknown as string | Date).getTime();
  expect(firedAt - expectedAt).toBeGreaterThanOrEqual(GRACE_MS);
  expect(firedAt - expectedAt).toBeLessThan(GRACE_MS + 4_000);
  expect(fire.figures).toMatchObject({ expectedRunAt: expectedAt, missedRunGraceMs: GRACE_MS, scheduleId: 'ingest-ghost' });
  // What the Schedule says: the run it started is still open (no worker), or skipped behind that open run.
  expect(fire.diagnosis).toMatch(/still running and has not reported|skipped by the overlap policy SKIP while ingest-ghost-\S+ is still open/);
  // … and why: nobody polls the task queue its runs wait on (as the stale diagnosis would say).
  expect(fire.diagnosis).toContain(`no worker has polled \`${NOBODY_POLLS}\``);

  const [message] = await bed.slack.waitFor((r) => r.some((m) => JSON.stringify(m.body).includes('Missed scheduled run')), 20_000);
  const text = JSON.stringify(bed.slack.received.find((m) => JSON.stringify(m.body).includes('Missed scheduled run'))!.body);
  expect(message).toBeDefined();
  expect(text).toContain('ghost');
  expect(text).toContain(new Date(expectedAt).toISOString());
  expect(text).toContain('grace 5 s');
  expect(text).toContain('ingest-ghost');
  await until('the Slack delivery recorded', async () => {
    const row = await bed.tdb.db.selectFrom('alert_events').select('delivered').where('event_id', '=', fire.event_id).executeTakeFirst();
    return row?.delivered === true;
  });

  // The open incident is visible on the monitor.
  expect((await detail('ghost')).openIncidents.map((i) => i.rule)).toContain('missed_run');

  const verdict = await report('ghost');
  expect(verdict.resolved).toEqual([{ id: fire.incident_id, rule: 'missed_run' }]);
  await until('the resolve in alert_events', () =>
    bed.tdb.db.selectFrom('alert_events').selectAll().where('incident_id', '=', fire.incident_id).where('kind', '=', 'resolve').executeTakeFirst(),
  );
  await bed.slack.waitFor((r) => r.some((m) => /RESOLVED/.test(JSON.stringify(m.body)) && JSON.stringify(m.body).includes('Missed scheduled run')));
}, 120_000);

it('a paused Schedule produces no missed_run alert: the monitor notes the pause and looks again later', async () => {
  const schedule = await createSchedule('dozy', { intervals: [{ every: '20s' }] });
  await report('dozy');
  const watched = await expectedRun('dozy');
  await schedule.pause('vendor maintenance (test)');
  const deadline = Date.parse(watched.deadlineAt!);
  // At the deadline the monitor describes the Schedule, finds it paused, and stands down.
  const seen = await until('the monitor sees the pause', async () => {
    const m = (await detail('dozy')).missedRun;
    return m?.paused === true && m;
  }, 60_000);
  expect(Date.parse(seen.checkedAt!)).toBeGreaterThanOrEqual(deadline);
  expect(seen.expectedRunAt).toBeUndefined();
  const rows = await bed.tdb.db.selectFrom('alert_events').select(['rule', 'kind']).where('retailer', '=', 'dozy').execute();
  expect(rows).toEqual([]);
  expect((await detail('dozy')).openIncidents).toEqual([]);
  expect(bed.slack.received.some((m) => JSON.stringify(m.body).includes('dozy'))).toBe(false);
}, 120_000);

it('reads a calendar spec in Africa/Johannesburg: 06:30 there is 04:30 UTC', async () => {
  await createSchedule('joburg', { calendars: [{ hour: 6, minute: 30 }], timezone: 'Africa/Johannesburg' });
  const startedAt = Date.now() - 500;
  await report('joburg', startedAt);
  const watched = await expectedRun('joburg');
  // The next 04:30:00Z that the run just reported cannot count for (it started more than a minute before it).
  const expected = new Date(startedAt);
  expected.setUTCHours(4, 30, 0, 0);
  while (expected.getTime() - 60_000 <= startedAt) expected.setUTCDate(expected.getUTCDate() + 1);
  expect(watched.expectedRunAt).toBe(expected.toISOString());
  expect(watched.spec).toBe('calendar hour 6 minute 30 (Africa/Johannesburg)');
});
