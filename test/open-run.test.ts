/**
 * run_duration for a run still open (src/rules/open-run.ts) in the pure engine, driven with explicit clocks
 * and hand-made Schedule facts: it fires once at start + limit while the run is still running, not when the
 * run finished in time, not a second time when the late report arrives, and not when the rule is off.
 */
import fc from 'fast-check';
import { durationVerdict } from '../src/rules/baseline-rules';
import { baselineSettings } from '../src/rules/baseline-settings';
import { weekdayIn, type BaselineSample } from '../src/rules/baselines';
import { KEEP_UPCOMING, type ScheduleFacts } from '../src/rules/missed-run';
import { durationLimitMs, elapsedText } from '../src/rules/open-run';
import { RetailerMonitor } from '../src/rules/retailer-monitor';
import type { ThresholdOverrides } from '../src/rules/thresholds';
import type { AlertEvent } from '../src/rules/types';
import { scheduledRunReports } from './helpers/run-reports';

const T0 = Date.parse('2026-11-27T10:00:00Z');
const MIN = 60_000;
const HOUR = 60 * MIN;
const SCHEDULE = 'ingest-spar';
/** Four hourly runs of 10 min: median 10 min, MAD floored at 30 s → limit 10 + max(1.5, 10, 5) = 20 min. */
const LIMIT = 20 * MIN;
/** The next expected run, and when the Schedule actually started it. */
const E = T0 + 4 * HOUR;
const STARTED = E + 2_000;
const RUNNING = `${SCHEDULE}-${new Date(E).toISOString()}`;
const report = scheduledRunReports('spar', SCHEDULE);

function facts(now: number, running: boolean): ScheduleFacts {
  const next = Array.from({ length: KEEP_UPCOMING }, (_, i) => Math.ceil(now / HOUR) * HOUR + i * HOUR);
  return {
    found: true,
    scheduleId: SCHEDULE,
    paused: false,
    nextActionTimes: next,
    recentActions: [{ scheduledAt: E, takenAt: STARTED, workflowId: RUNNING }],
    runningWorkflowIds: running ? [RUNNING] : [],
    overlap: 'SKIP',
    skippedOverlap: 0,
    missedCatchupWindow: 0,
    spec: 'every 1 h (UTC)',
  };
}

/** A monitor with the check on (as the workflow turns it on), four 10-min hourly runs seen, grace 5 min. */
function monitor(overrides: ThresholdOverrides = {}, openRunCheck = true) {
  const m = RetailerMonitor.fresh('spar', T0 - HOUR);
  m.enableMissedRun(true);
  if (openRunCheck) m.enableOpenRunCheck();
  m.setOverrides({ missedRunGraceMs: 5 * MIN, ...overrides });
  for (let i = 0; i < 4; i++) {
    const start = T0 + i * HOUR;
    m.applyReport(report(start, start + 10 * MIN), start + 10 * MIN);
    const req = m.scheduleRequest();
    if (req) m.applyScheduleFacts(req, facts(start + 10 * MIN, false), start + 10 * MIN);
  }
  expect(m.scheduleRequest()).toBeUndefined();
  return m;
}

/** Run the timer at `now` and answer the describe it asks for (the run still open or not). */
function tick(m: RetailerMonitor, now: number, running = true) {
  const alerts = m.evaluateTimers(now);
  const req = m.scheduleRequest();
  return { req, alerts: [...alerts, ...(req ? m.applyScheduleFacts(req, facts(now, running), now) : [])] };
}

const duration = (alerts: AlertEvent[]) => alerts.filter((a) => a.rule === 'run_duration');

/**
 * Up to the missed-run check (expected + 10 min usual + 5 min grace): it sees the run taken on time and
 * still open, so missed_run stays quiet and leaves the run to this check (`watched`); without the check
 * (off, or run_duration off) it fires missed_run as before.
 */
function pastMissedRunCheck(m: RetailerMonitor, watched = true) {
  const check = tick(m, E + 15 * MIN);
  expect(check.req).toEqual({ kind: 'check', scheduleId: SCHEDULE });
  expect(check.alerts.map((a) => `${a.kind}:${a.rule}`)).toEqual(watched ? [] : ['fire:missed_run']);
  return check;
}

describe('run_duration while the run is still open', () => {
  it('the missed-run check sees the open run; at start + limit the Schedule is described again and run_duration fires once', () => {
    const m = monitor();
    pastMissedRunCheck(m);
    expect(m.nextDeadline(E + 15 * MIN)).toBe(STARTED + LIMIT);

    const early = tick(m, STARTED + LIMIT - 1);
    expect(early.req).toBeUndefined();
    expect(duration(early.alerts)).toEqual([]);

    const due = tick(m, STARTED + LIMIT);
    expect(due.req).toEqual({ kind: 'check', scheduleId: SCHEDULE });
    const [fire, ...rest] = duration(due.alerts);
    expect(rest).toEqual([]);
    expect(fire).toMatchObject({ kind: 'fire', rule: 'run_duration', runId: RUNNING, workflowId: RUNNING, schedule: SCHEDULE });
    expect(fire!.summary).toBe(
      `spar: run ${RUNNING} still running after 20 min; usual 10 min (median of 4 Friday runs), +100%, 20 MADs (thresholds 3 MADs, +100% and +5 min)`,
    );
    expect(fire!.figures).toMatchObject({ durationMs: LIMIT, typical: 10 * MIN, typicalBasis: 'median of 4 Friday runs', runStartedAt: STARTED, scheduleId: SCHEDULE });
    expect(m.openRules()).toEqual(['run_duration']);

    // Still running at later describes: no second fire, and no more deadlines for it.
    expect(m.nextDeadline(STARTED + LIMIT)).not.toBe(STARTED + LIMIT);
    for (const now of [STARTED + LIMIT + 30 * MIN, E + HOUR + 15 * MIN, E + 3 * HOUR]) {
      expect(duration(tick(m, now).alerts).filter((a) => a.kind === 'fire')).toEqual([]);
    }
  });

  it('does not fire when the run finished in time: its report ends the watch and nothing is described at start + limit', () => {
    const m = monitor();
    pastMissedRunCheck(m);
    const done = m.applyReport(report(STARTED, E + 18 * MIN, { workflowId: RUNNING }), E + 18 * MIN);
    expect(duration(done.alerts)).toEqual([]);
    const after = tick(m, STARTED + LIMIT);
    expect(after.req).toBeUndefined();
    expect(duration(after.alerts)).toEqual([]);
    expect(m.openRules()).toEqual([]);
  });

  it('a run that closed without reporting ends the watch at start + limit, and missed_run fires for it then', () => {
    const m = monitor();
    pastMissedRunCheck(m);
    const due = tick(m, STARTED + LIMIT, false);
    expect(due.req).toEqual({ kind: 'check', scheduleId: SCHEDULE });
    expect(duration(due.alerts)).toEqual([]);
    const [missed, ...rest] = due.alerts.filter((a) => a.rule === 'missed_run');
    expect(rest).toEqual([]);
    expect(missed).toMatchObject({ kind: 'fire', figures: { expectedRunAt: E }, diagnosis: expect.stringContaining(`started ${RUNNING}`) });
    expect(missed!.diagnosis).toContain('it closed without reporting');
    expect(m.nextDeadline(STARTED + LIMIT)).not.toBe(STARTED + LIMIT);
  });

  it('the late report of that run fires nothing more: its verdict keeps the incident open; another run’s normal report does not resolve it; the next normal one after it does', () => {
    const m = monitor();
    pastMissedRunCheck(m);
    const [fire] = duration(tick(m, STARTED + LIMIT).alerts);

    // An overlapping run (another workflow) with a normal duration: the open run is still out there.
    const other = m.applyReport(report(E + 30 * MIN, E + 40 * MIN, { workflowId: 'ingest-spar-manual' }), E + 40 * MIN);
    expect(other.alerts.filter((a) => a.rule === 'run_duration')).toEqual([]);
    expect(m.openRules()).toContain('run_duration');

    const late = m.applyReport(report(STARTED, E + 50 * MIN, { workflowId: RUNNING }), E + 50 * MIN);
    expect(duration(late.alerts)).toEqual([]);
    const open = m.openIncidents().find((i) => i.rule === 'run_duration')!;
    expect(open.id).toBe(fire!.incidentId);
    expect(open.figures.durationMs).toBe(E + 50 * MIN - STARTED);

    const next = m.applyReport(report(E + HOUR, E + HOUR + 10 * MIN), E + HOUR + 10 * MIN);
    expect(duration(next.alerts).map((a) => `${a.kind}:${a.incidentId}`)).toEqual([`resolve:${fire!.incidentId}`]);
  });

  it('a failed report of the open run resolves what it fired (failures are the failure rule’s business)', () => {
    const m = monitor();
    pastMissedRunCheck(m);
    const [fire] = duration(tick(m, STARTED + LIMIT).alerts);
    const failed = m.applyReport(report(STARTED, E + 45 * MIN, { workflowId: RUNNING, status: 'failure', skuCount: undefined, error: 'timeout' }), E + 45 * MIN);
    expect(duration(failed.alerts).map((a) => `${a.kind}:${a.incidentId}`)).toEqual([`resolve:${fire!.incidentId}`]);
    expect(duration(failed.alerts)[0]!.summary).toContain(`run ${RUNNING} ended (failed) after`);
  });

  it('is off when run_duration is off for the retailer, and unless the workflow turned the check on (old histories)', () => {
    for (const m of [monitor({ runDuration: false }), monitor({}, false)]) {
      pastMissedRunCheck(m, false);
      expect(m.nextDeadline(E + 15 * MIN)).not.toBe(STARTED + LIMIT);
      for (const now of [STARTED + LIMIT, E + HOUR, E + 2 * HOUR]) expect(duration(tick(m, now).alerts)).toEqual([]);
    }
  });

  it('a silence or maintenance window records the fire silenced, as for the other rules', () => {
    const m = monitor();
    m.silence({ rule: 'run_duration', until: E + 2 * HOUR, reason: 'vendor slow today', by: 'test', createdAt: E }, E);
    pastMissedRunCheck(m);
    const [fire] = duration(tick(m, STARTED + LIMIT).alerts);
    expect(fire).toMatchObject({ kind: 'fire', silenced: true });
  });

  it('reprocessing the stored runs keeps the incident of a run still open (no stored run has its duration)', () => {
    const m = monitor();
    pastMissedRunCheck(m);
    const [fire] = duration(tick(m, STARTED + LIMIT).alerts);
    const { alerts } = m.reprocess(m.recentRuns(), STARTED + LIMIT + MIN);
    expect(duration(alerts)).toEqual([]);
    expect(m.openIncidents().filter((i) => i.rule === 'run_duration').map((i) => i.id)).toEqual([fire!.incidentId]);
  });

  it('the watch survives continue-as-new (it is in the snapshot)', () => {
    const m = monitor();
    pastMissedRunCheck(m);
    const next = new RetailerMonitor(m.snapshot());
    next.enableMissedRun(false);
    next.enableOpenRunCheck();
    expect(next.nextDeadline(E + 15 * MIN)).toBe(STARTED + LIMIT);
    expect(duration(tick(next, STARTED + LIMIT).alerts).map((a) => a.kind)).toEqual(['fire']);
  });
});

describe('the duration limit', () => {
  it('is the smallest duration the completed-run check calls far above the baseline', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 1_000, max: 4 * HOUR }), { minLength: 3, maxLength: 12 }),
        fc.integer({ min: 1, max: 10 }),
        fc.integer({ min: 1, max: 300 }),
        fc.integer({ min: 0, max: 30 * MIN }),
        (durations, mads, rise, minRise) => {
          const settings = baselineSettings({ robustMads: mads, durationRisePct: rise, durationMinRiseMs: minRise });
          const samples: BaselineSample[] = durations.map((d, i) => ({ runId: `r${i}`, at: T0 + i * HOUR, wd: weekdayIn(T0 + i * HOUR, 'UTC'), durationMs: d }));
          const at = T0 + 20 * HOUR;
          const wd = weekdayIn(at, 'UTC');
          const limit = durationLimitMs(samples, at, wd, settings)!;
          const judge = (d: number) => durationVerdict({ retailer: 'x', samples, wd, settings, run: { runId: 'x', retailer: 'x', status: 'success', startedAt: at - d, finishedAt: at, receivedAt: at } })!.anomalous;
          expect(judge(Math.ceil(limit) + 1)).toBe(true);
          expect(judge(Math.floor(limit) - 1)).toBe(false);
        },
      ),
    );
  });

  it('reads as people say it', () => {
    expect([12_000, 35 * MIN, 2 * HOUR + 10 * MIN, 3 * HOUR].map(elapsedText)).toEqual(['12 s', '35 min', '2 h 10 min', '3 h']);
  });
});
