/**
 * The missed-run rule in the pure engine, driven with explicit clocks and hand-made Schedule facts: when
 * it asks the Schedule, when it fires, what it says, how it resolves, paused schedules, the rule off,
 * and its state across continue-as-new.
 */
import fc from 'fast-check';
import { scheduleFacts, specText } from '../src/activities/schedule-facts';
import {
  DEFAULT_MISSED_RUN_GRACE_MS,
  explainMissed,
  freshMissedRun,
  KEEP_UPCOMING,
  onScheduleFacts,
  RECHECK_MIN_MS,
  type ScheduleFacts,
} from '../src/rules/missed-run';
import { RetailerMonitor } from '../src/rules/retailer-monitor';
import { thresholdOverridesSchema, type ThresholdOverrides } from '../src/rules/thresholds';
import { isoTimes } from '../src/rules/types';
import { scheduledRunReports } from './helpers/run-reports';

const T0 = Date.parse('2026-11-27T10:00:00Z');
const MIN = 60_000;
const HOUR = 60 * MIN;
const SCHEDULE = 'ingest-spar';
const report = scheduledRunReports('spar', SCHEDULE);

type Found = Extract<ScheduleFacts, { found: true }>;
function facts(next: number[], extra: Partial<Found> = {}): Found {
  return {
    found: true,
    scheduleId: SCHEDULE,
    paused: false,
    nextActionTimes: next,
    recentActions: [],
    runningWorkflowIds: [],
    overlap: 'SKIP',
    skippedOverlap: 0,
    missedCatchupWindow: 0,
    spec: 'every 1 h (UTC)',
    ...extra,
  };
}

const hourly = (from: number, n = KEEP_UPCOMING) => Array.from({ length: n }, (_, i) => from + i * HOUR);

/**
 * A monitor with the rule on, that has seen one hourly run (10:00–10:05) of SCHEDULE and described it;
 * `openRunCheck`: with the open-run check on too (as the workflow behind RUN_OPEN_PATCH).
 */
function watching(overrides?: ThresholdOverrides, next = hourly(T0 + HOUR), openRunCheck = false) {
  const m = RetailerMonitor.fresh('spar', T0 - HOUR);
  m.enableMissedRun(true);
  if (openRunCheck) m.enableOpenRunCheck();
  if (overrides) m.setOverrides(overrides);
  expect(m.scheduleRequest()).toEqual({ kind: 'lookup' });
  m.applyReport(report(T0, T0 + 5 * MIN), T0 + 5 * MIN);
  const req = m.scheduleRequest()!;
  expect(req).toEqual({ kind: 'refresh', scheduleId: SCHEDULE });
  expect(m.applyScheduleFacts(req, facts(next), T0 + 5 * MIN)).toEqual([]);
  expect(m.scheduleRequest()).toBeUndefined();
  return m;
}

/** Run the timer at `now` and answer the describe it asks for with `f`. */
function timerThenFacts(m: RetailerMonitor, now: number, f: ScheduleFacts) {
  const timerAlerts = m.evaluateTimers(now);
  const req = m.scheduleRequest();
  return { timerAlerts, req, alerts: req ? m.applyScheduleFacts(req, f, now) : [] };
}

describe('the missed-run rule', () => {
  it('watches the next expected run: its deadline is expected + usual duration + grace (default 15 min)', () => {
    const m = watching();
    // Usual duration 5 min (the one run), grace 15 min: 11:20, well before the stale deadline (14:05).
    expect(m.nextDeadline()).toBe(T0 + HOUR + 5 * MIN + DEFAULT_MISSED_RUN_GRACE_MS);
    const view = isoTimes(m.detail(T0 + 6 * MIN)).missedRun;
    expect(view).toMatchObject({ scheduleId: SCHEDULE, expectedRunAt: '2026-11-27T11:00:00.000Z', deadlineAt: '2026-11-27T11:20:00.000Z', graceMs: 15 * MIN, missedRuns: 0 });
  });

  it('stays quiet when the run reports in time, and moves on to the next expected run without asking the Schedule', () => {
    const m = watching();
    const r = m.applyReport(report(T0 + HOUR + 2_000, T0 + HOUR + 2_000 + 5 * MIN), T0 + HOUR + 6 * MIN);
    expect(r.alerts).toEqual([]);
    expect(m.scheduleRequest()).toBeUndefined();
    expect(m.nextDeadline()).toBe(T0 + 2 * HOUR + 5 * MIN + 15 * MIN);
    expect(m.evaluateTimers(T0 + HOUR + 30 * MIN)).toEqual([]);
    expect(m.scheduleRequest()).toBeUndefined();
  });

  it('asks the Schedule again only when the kept action times run out (one describe per 10 runs)', () => {
    const m = watching(undefined, hourly(T0 + HOUR, 3));
    let describes = 0;
    for (let i = 1; i <= 3; i++) {
      m.applyReport(report(T0 + i * HOUR + 1000, T0 + i * HOUR + 5 * MIN), T0 + i * HOUR + 5 * MIN);
      if (m.scheduleRequest()) describes++;
    }
    expect(describes).toBe(1);
    expect(m.scheduleRequest()).toEqual({ kind: 'refresh', scheduleId: SCHEDULE });
  });

  it('fires missed_run at the deadline with the expected time, grace, schedule and what the Schedule says; the next report resolves it', () => {
    const m = watching();
    const due = T0 + HOUR + 20 * MIN;
    expect(m.evaluateTimers(due - 1)).toEqual([]);
    expect(m.scheduleRequest()).toBeUndefined();
    const { timerAlerts, req, alerts } = timerThenFacts(
      m,
      due,
      facts(hourly(T0 + 2 * HOUR), {
        recentActions: [{ scheduledAt: T0 + HOUR, takenAt: T0 + HOUR + 300, workflowId: 'ingest-spar-2026-11-27T11:00:00Z' }],
        runningWorkflowIds: ['ingest-spar-2026-11-27T11:00:00Z'],
      }),
    );
    expect(timerAlerts).toEqual([]); // the timer only asks the Schedule; the answer decides
    expect(req).toEqual({ kind: 'check', scheduleId: SCHEDULE });
    expect(alerts).toHaveLength(1);
    const fire = alerts[0]!;
    expect(fire).toMatchObject({ kind: 'fire', rule: 'missed_run', incidentId: 'spar/missed_run/1', schedule: SCHEDULE, at: due });
    expect(fire.figures).toMatchObject({ expectedRunAt: T0 + HOUR, missedRunGraceMs: 15 * MIN, scheduleId: SCHEDULE, missedRuns: 1, lastSuccessAt: T0 + 5 * MIN });
    expect(fire.summary).toBe('spar: the run Schedule ingest-spar expected at 2026-11-27T11:00:00.000Z has not reported (grace 15 min)');
    expect(fire.diagnosis).toBe(
      'the Schedule started ingest-spar-2026-11-27T11:00:00Z at 2026-11-27T11:00:00.300Z; it is still running and has not reported (no worker on its task queue, or running long)',
    );
    // Now watching 12:00.
    expect(m.nextDeadline()).toBe(T0 + 2 * HOUR + 20 * MIN);

    // 12:20 passes too: counted on the open incident, no second fire, no describe.
    expect(m.evaluateTimers(T0 + 2 * HOUR + 20 * MIN)).toEqual([]);
    expect(m.scheduleRequest()).toBeUndefined();
    expect(m.openIncidents()[0]!.figures.missedRuns).toBe(2);

    const late = m.applyReport(report(T0 + 2 * HOUR + 25 * MIN, T0 + 2 * HOUR + 30 * MIN), T0 + 2 * HOUR + 30 * MIN);
    expect(late.alerts.map((a) => `${a.kind}:${a.rule}`)).toEqual(['resolve:missed_run']);
    expect(late.alerts[0]!.incidentId).toBe(fire.incidentId);
    expect(m.openIncidents()).toEqual([]);
    expect(m.detail(T0 + 2 * HOUR + 30 * MIN).missedRun?.missedRuns).toBe(0);
  });

  it('a failed run that reports also answers the expected run (failures are the failure rule’s business)', () => {
    const m = watching();
    const r = m.applyReport(report(T0 + HOUR + 1000, T0 + HOUR + 2 * MIN, { status: 'failure', skuCount: undefined, error: 'HTTP 503' }), T0 + HOUR + 2 * MIN);
    expect(r.alerts).toEqual([]);
    expect(timerThenFacts(m, T0 + HOUR + 20 * MIN, facts(hourly(T0 + 2 * HOUR))).alerts).toEqual([]);
  });

  it('does not fire when the report arrived while the describe was under way', () => {
    const m = watching();
    m.evaluateTimers(T0 + HOUR + 20 * MIN);
    const req = m.scheduleRequest()!;
    expect(req.kind).toBe('check');
    m.applyReport(report(T0 + HOUR + 1000, T0 + HOUR + 20 * MIN), T0 + HOUR + 20 * MIN);
    expect(m.applyScheduleFacts(req, facts(hourly(T0 + 2 * HOUR)), T0 + HOUR + 20 * MIN + 50)).toEqual([]);
  });

  it('a paused Schedule produces no missed_run alert; it is looked at again after max(grace, 1 min) and watched once resumed', () => {
    const m = watching({ missedRunGraceMs: 30_000 });
    const due = T0 + HOUR + 5 * MIN + 30_000;
    expect(m.nextDeadline()).toBe(due);
    const { req, alerts } = timerThenFacts(m, due, facts([], { paused: true, note: 'vendor maintenance' }));
    expect(req?.kind).toBe('check');
    expect(alerts).toEqual([]);
    expect(m.detail(due).missedRun).toMatchObject({ paused: true, expectedRunAt: undefined });
    expect(m.nextDeadline()).toBe(due + RECHECK_MIN_MS);
    // Still paused at the re-check.
    expect(timerThenFacts(m, due + RECHECK_MIN_MS, facts([], { paused: true })).req?.kind).toBe('refresh');
    // Resumed: the next expected run is watched again.
    const resumed = timerThenFacts(m, due + 2 * RECHECK_MIN_MS, facts(hourly(T0 + 2 * HOUR)));
    expect(resumed.alerts).toEqual([]);
    expect(m.detail(due + 2 * RECHECK_MIN_MS).missedRun).toMatchObject({ paused: undefined, expectedRunAt: T0 + 2 * HOUR });
  });

  it('names an overlap skip, a missed catchup window, or no action at all', () => {
    const base = facts([], { runningWorkflowIds: ['ingest-spar-10:00'], skippedOverlap: 3 });
    expect(explainMissed(base, T0, MIN)).toBe('skipped by the overlap policy SKIP while ingest-spar-10:00 is still open (3 skipped so far)');
    expect(explainMissed(facts([], { missedCatchupWindow: 2 }), T0, MIN)).toMatch(/^missed beyond the Schedule's catchup window \(2 so far/);
    expect(explainMissed(facts([]), T0, MIN)).toBe('the Schedule took no action for it');
    expect(explainMissed({ ...base, pollers: 'no worker has polled `q` in the last 5 min' }, T0, MIN)).toMatch(/still open \(3 skipped so far\); no worker has polled `q`/);
    expect(explainMissed(facts([], { recentActions: [{ scheduledAt: T0, takenAt: T0 + 500, workflowId: 'w1' }] }), T0, MIN)).toMatch(/^the Schedule started w1 at .*; it closed without reporting/);
  });

  it('learns the schedule from the configured template when no report names one; a missing one is not asked about again', () => {
    const m = RetailerMonitor.fresh('spar', T0);
    m.enableMissedRun(true);
    const req = m.scheduleRequest()!;
    expect(req).toEqual({ kind: 'lookup' });
    expect(m.applyScheduleFacts(req, facts(hourly(T0 + HOUR)), T0)).toEqual([]);
    expect(m.detail(T0).missedRun).toMatchObject({ scheduleId: SCHEDULE, expectedRunAt: T0 + HOUR });

    const none = RetailerMonitor.fresh('spar', T0);
    none.enableMissedRun(true);
    none.applyScheduleFacts(none.scheduleRequest()!, { found: false, scheduleId: SCHEDULE }, T0);
    expect(none.scheduleRequest()).toBeUndefined();
    none.applyReport(report(T0, T0 + MIN, { schedule: undefined }), T0 + MIN);
    expect(none.scheduleRequest()).toBeUndefined(); // a report without a schedule costs nothing
    expect(none.nextDeadline()).toBe(T0 + MIN + 4 * HOUR); // only the stale rule
  });

  it('is off with grace 0, and off entirely unless the workflow enabled it (old histories)', () => {
    const off = RetailerMonitor.fresh('spar', T0);
    off.enableMissedRun(true);
    off.setOverrides({ missedRunGraceMs: 0 });
    expect(off.scheduleRequest()).toBeUndefined();
    off.applyReport(report(T0, T0 + MIN), T0 + MIN);
    expect(off.scheduleRequest()).toBeUndefined();
    expect(off.detail(T0 + MIN).missedRun).toBeUndefined();

    const old = RetailerMonitor.fresh('spar', T0);
    old.applyReport(report(T0, T0 + MIN), T0 + MIN);
    expect(old.scheduleRequest()).toBeUndefined();
    expect(old.snapshot().retailer.missedRun).toBeUndefined();
    expect(old.nextDeadline()).toBe(T0 + MIN + 4 * HOUR);
  });

  it('grace is validated: 0 (off) or 1 s .. 7 days', () => {
    expect(thresholdOverridesSchema().safeParse({ missedRunGraceMs: 0 }).success).toBe(true);
    expect(thresholdOverridesSchema().safeParse({ missedRunGraceMs: 5000 }).success).toBe(true);
    expect(thresholdOverridesSchema().safeParse({ missedRunGraceMs: 500 }).success).toBe(false);
    expect(thresholdOverridesSchema().safeParse({ missedRunGraceMs: 8 * 24 * HOUR }).success).toBe(false);
  });

  it('keeps its state through continue-as-new; a snapshot from before the rule looks the Schedule up on its next report only', () => {
    const m = watching();
    const next = new RetailerMonitor(JSON.parse(JSON.stringify(m.snapshot())));
    next.enableMissedRun(false);
    expect(next.nextDeadline()).toBe(m.nextDeadline());
    expect(next.scheduleRequest()).toBeUndefined();

    const before = RetailerMonitor.fresh('spar', T0).snapshot();
    delete before.retailer.missedRun;
    const upgraded = new RetailerMonitor(before);
    upgraded.enableMissedRun(false);
    expect(upgraded.scheduleRequest()).toBeUndefined();
    upgraded.applyReport(report(T0, T0 + MIN, { schedule: undefined }), T0 + MIN);
    expect(upgraded.scheduleRequest()).toEqual({ kind: 'lookup' });
  });

  it('state stays bounded and never fires twice for one open incident, whatever the order of reports, timers and answers', () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ op: fc.constantFrom('report', 'timer', 'answer', 'paused', 'running', 'closed'), dt: fc.integer({ min: 1, max: 90 * MIN }) }), { maxLength: 60 }),
        fc.boolean(),
        (steps, openRunCheck) => {
          const m = watching(undefined, undefined, openRunCheck);
          let now = T0 + 5 * MIN;
          let fires = 0;
          for (const { op, dt } of steps) {
            now += dt;
            if (op === 'report') fires -= m.applyReport(report(now - 1000, now), now).alerts.filter((a) => a.rule === 'missed_run' && a.kind === 'resolve').length;
            if (op === 'timer') m.evaluateTimers(now);
            const req = m.scheduleRequest();
            if (req && op !== 'report' && op !== 'timer') {
              const next = hourly(Math.ceil(now / HOUR) * HOUR);
              // The action of the last hour was taken on time, still running or closed without reporting.
              const last = Math.floor(now / HOUR) * HOUR;
              const action = { scheduledAt: last, takenAt: last + 300, workflowId: `w-${last}` };
              const taken = op === 'running' || op === 'closed' ? { recentActions: [action], runningWorkflowIds: op === 'running' ? [action.workflowId] : [] } : {};
              fires += m.applyScheduleFacts(req, facts(next, { paused: op === 'paused', ...taken }), now).filter((a) => a.rule === 'missed_run' && a.kind === 'fire').length;
            }
            expect(fires === 0 || fires === 1).toBe(true);
            expect(m.openIncidents().filter((i) => i.rule === 'missed_run').length).toBe(fires);
            expect(m.snapshot().retailer.missedRun!.upcoming.length).toBeLessThanOrEqual(KEEP_UPCOMING);
            const d = m.nextDeadline();
            expect(d === undefined || Number.isFinite(d)).toBe(true);
          }
        },
      ),
      { numRuns: 200 },
    );
  });
});

describe('with the open-run check on: a run taken on time and still running is not a missed run', () => {
  /** The 11:00 action, started on time; `running`: still open. */
  const W = 'ingest-spar-2026-11-27T11:00:00Z';
  const taken = (running: boolean, extra: Partial<Found> = {}) =>
    facts(hourly(T0 + 2 * HOUR), { recentActions: [{ scheduledAt: T0 + HOUR, takenAt: T0 + HOUR + 300, workflowId: W }], runningWorkflowIds: running ? [W] : [], ...extra });
  /** The 11:00 deadline: expected + usual 5 min + grace 15 min. */
  const DUE = T0 + HOUR + 20 * MIN;
  const fired = (alerts: { kind: string; rule: string }[]) => alerts.map((a) => `${a.kind}:${a.rule}`);

  it('taken and still running at the check: no missed_run; the open-run check watches the run, and its report ends the watch', () => {
    const m = watching(undefined, undefined, true);
    const { req, alerts } = timerThenFacts(m, DUE, taken(true));
    expect(req).toEqual({ kind: 'check', scheduleId: SCHEDULE });
    expect(alerts).toEqual([]);
    expect(m.snapshot().retailer.openRun).toMatchObject({ workflowId: W, startedAt: T0 + HOUR + 300 });
    expect(m.snapshot().retailer.missedRun?.running).toEqual({ expectedAt: T0 + HOUR, workflowId: W });
    // Looked at again after max(grace, time since expected) = 20 min; still running: quiet, next look 40 min later.
    expect(m.nextDeadline()).toBe(DUE + 20 * MIN);
    expect(timerThenFacts(m, DUE + 20 * MIN, taken(true)).alerts.filter((a) => a.rule === 'missed_run')).toEqual([]);
    expect(m.nextDeadline()).toBe(DUE + 20 * MIN + 40 * MIN);
    // Its (late) report: nothing more to watch; the next expected run is 12:00.
    m.applyReport(report(T0 + HOUR + 300, T0 + HOUR + 50 * MIN, { workflowId: W }), T0 + HOUR + 50 * MIN);
    expect(m.snapshot().retailer.missedRun?.running).toBeUndefined();
    expect(m.snapshot().retailer.openRun).toBeUndefined();
    expect(m.detail(T0 + HOUR + 50 * MIN).missedRun?.expectedRunAt).toBe(T0 + 2 * HOUR);
    expect(m.openRules().filter((r) => r === 'missed_run')).toEqual([]);
  });

  it('handed over and then closed without a report: missed_run fires at the next look, for the expected time', () => {
    const m = watching(undefined, undefined, true);
    expect(timerThenFacts(m, DUE, taken(true)).alerts).toEqual([]);
    const { req, alerts } = timerThenFacts(m, DUE + 20 * MIN, taken(false));
    expect(req).toEqual({ kind: 'refresh', scheduleId: SCHEDULE });
    expect(fired(alerts)).toEqual(['fire:missed_run']);
    expect(alerts[0]!.figures).toMatchObject({ expectedRunAt: T0 + HOUR, missedRuns: 1 });
    expect(alerts[0]!.diagnosis).toMatch(new RegExp(`^the Schedule started ${W} at .*; it closed without reporting`));
    expect(m.snapshot().retailer.missedRun?.running).toBeUndefined();
  });

  it('still fires when the action was not taken, skipped by the overlap policy, taken and closed, or taken with no worker polling its queue', () => {
    const cases: [Found, RegExp][] = [
      [facts(hourly(T0 + 2 * HOUR)), /^the Schedule took no action for it$/],
      [facts(hourly(T0 + 2 * HOUR), { runningWorkflowIds: ['ingest-spar-10:00'], skippedOverlap: 1 }), /^skipped by the overlap policy SKIP/],
      [facts(hourly(T0 + 2 * HOUR), { missedCatchupWindow: 1 }), /^missed beyond the Schedule's catchup window/],
      [taken(false), /it closed without reporting/],
      [taken(true, { pollers: 'no worker has polled `q` in the last 5 min' }), /it is still running and has not reported: no worker has polled `q`/],
    ];
    for (const [f, cause] of cases) {
      const m = watching(undefined, undefined, true);
      const { alerts } = timerThenFacts(m, DUE, f);
      expect(fired(alerts)).toEqual(['fire:missed_run']);
      expect(alerts[0]!.diagnosis).toMatch(cause);
      expect(m.snapshot().retailer.missedRun?.running).toBeUndefined();
    }
  });

  it('without the open-run check (old histories) or with run_duration off, a run still running fires as before', () => {
    for (const m of [watching(), watching({ runDuration: false }, undefined, true)]) {
      const { alerts } = timerThenFacts(m, DUE, taken(true));
      expect(fired(alerts)).toEqual(['fire:missed_run']);
      expect(alerts[0]!.diagnosis).toMatch(/it is still running and has not reported \(no worker on its task queue, or running long\)$/);
      expect(m.snapshot().retailer.missedRun?.running).toBeUndefined();
    }
  });

  it('the first run (no usual duration known yet): taken and running at expected + grace is watched, not fired', () => {
    const m = RetailerMonitor.fresh('spar', T0);
    m.enableMissedRun(true);
    m.enableOpenRunCheck();
    m.applyScheduleFacts(m.scheduleRequest()!, facts(hourly(T0 + HOUR)), T0);
    expect(m.nextDeadline()).toBe(T0 + HOUR + 15 * MIN); // no run yet: expected + grace
    const { alerts } = timerThenFacts(m, T0 + HOUR + 15 * MIN, taken(true));
    expect(alerts).toEqual([]);
    expect(m.snapshot().retailer.openRun).toMatchObject({ workflowId: W });
    // It reports 40 min in: nothing fires, nothing is left to watch.
    expect(m.applyReport(report(T0 + HOUR + 300, T0 + HOUR + 40 * MIN, { workflowId: W }), T0 + HOUR + 40 * MIN).alerts).toEqual([]);
    expect(m.snapshot().retailer.missedRun?.running).toBeUndefined();
  });

  it('the pure rule: handOver leaves a running action to the open-run check; without it the old finding', () => {
    for (const handOver of [true, false]) {
      const s = { ...freshMissedRun(), scheduleId: SCHEDULE, upcoming: [T0 + HOUR] };
      const finding = onScheduleFacts(s, { kind: 'check', scheduleId: SCHEDULE }, taken(true), DUE, 15 * MIN, 5 * MIN, handOver);
      if (handOver) {
        expect(finding).toBeUndefined();
        expect(s).toMatchObject({ running: { expectedAt: T0 + HOUR, workflowId: W }, missed: 0, recheckAt: DUE + 20 * MIN });
      } else {
        expect(finding).toMatchObject({ expectedAt: T0 + HOUR, scheduleId: SCHEDULE });
        expect(s).toMatchObject({ running: undefined, missed: 1, recheckAt: undefined });
      }
      expect(s.upcoming[0]).toBe(T0 + 2 * HOUR);
    }
  });
});

describe('Schedule facts from a description', () => {
  it('renders the spec with its timezone, and keeps the server’s times (bounded)', () => {
    const times = Array.from({ length: 12 }, (_, i) => new Date(T0 + i * HOUR));
    const d = {
      scheduleId: SCHEDULE,
      spec: {
        calendars: [
          {
            second: [{ start: 0, end: 0, step: 1 }],
            minute: [{ start: 30, end: 30, step: 1 }],
            hour: [{ start: 6, end: 6, step: 1 }],
            dayOfMonth: [{ start: 1, end: 31, step: 1 }],
            month: [{ start: 'JANUARY', end: 'DECEMBER', step: 1 }],
            year: [],
            dayOfWeek: [{ start: 'MONDAY', end: 'FRIDAY', step: 1 }],
          },
        ],
        intervals: [{ every: 20_000, offset: 0 }],
        timezone: 'Africa/Johannesburg',
        jitter: 0,
      },
      state: { paused: false, note: '' },
      policies: { overlap: 'SKIP' },
      info: { nextActionTimes: times, recentActions: [], runningActions: [], numActionsSkippedOverlap: 0, numActionsMissedCatchupWindow: 0 },
    } as unknown as Parameters<typeof scheduleFacts>[0];
    expect(specText(d.spec)).toBe('every 20 s; calendar dayOfWeek MONDAY-FRIDAY hour 6 minute 30 (Africa/Johannesburg)');
    const f = scheduleFacts(d) as Found;
    expect(f.nextActionTimes).toHaveLength(KEEP_UPCOMING);
    expect(f.nextActionTimes[0]).toBe(T0);
    expect(f).not.toHaveProperty('note');
  });
});

describe('CLI: --missed-run-grace', () => {
  it('takes a duration or off, and the thresholds line shows it', async () => {
    const { thresholdsArgs } = await import('../src/cli/args');
    const { formatThresholdChanges, formatThresholds } = await import('../src/cli/format');
    const { DEFAULT_THRESHOLDS } = await import('../src/rules/thresholds');
    expect(thresholdsArgs({ retailer: 'spar', missedRunGrace: '5s' })).toEqual({ retailer: 'spar', thresholds: { missedRunGraceMs: 5000 } });
    expect(thresholdsArgs({ missedRunGrace: 'off' })).toEqual({ thresholds: { missedRunGraceMs: 0 } });
    expect(() => thresholdsArgs({ missedRunGrace: '500ms' })).toThrow(/--missed-run-grace/);
    expect(formatThresholds(DEFAULT_THRESHOLDS)).toMatch(/ · missed run grace 15m$/);
    expect(formatThresholdChanges({ missedRunGraceMs: 0 })).toBe('missed run off');
  });
});
