/** The pure rule engine (one RetailerMonitor per retailer), driven directly with explicit clocks. */
import fc from 'fast-check';
import { KEEP, RetailerMonitor, type RetailerRestore } from '../src/rules/retailer-monitor';
import { DEFAULT_THRESHOLDS, HOUR_MS, type ThresholdOverrides } from '../src/rules/thresholds';
import { isoTimes, RULES, type AlertEvent, type Incident, type RuleId, type RunSummary, type Silence } from '../src/rules/types';
import type { RunReport } from '../src/shared/report';

const T0 = Date.parse('2026-11-01T00:00:00Z');
const MIN = 60_000;
let seq = 0;

function run(retailer: string, at: number, status: 'success' | 'failure', skuCount?: number, extra: Partial<RunReport> = {}): RunReport {
  return {
    runId: `run-${++seq}`,
    retailer,
    status,
    startedAt: new Date(at - 60_000).toISOString(),
    finishedAt: new Date(at).toISOString(),
    skuCount: status === 'success' ? (skuCount ?? 1000) : skuCount,
    ...extra,
  };
}

/** A monitor for `retailer` first seen at `now`, with optional per-retailer overrides. */
function monitor(retailer = 'tesco', now = T0, overrides?: ThresholdOverrides): RetailerMonitor {
  const m = RetailerMonitor.fresh(retailer, now);
  if (overrides) m.setOverrides(overrides);
  return m;
}

/** Apply a report of the monitor's own retailer that finished and was received at `at`. */
function apply(m: RetailerMonitor, at: number, status: 'success' | 'failure', skuCount?: number, extra: Partial<RunReport> = {}) {
  return m.applyReport(run(m.id, at, status, skuCount, extra), at);
}

function silence(rule: RuleId | '*', createdAt: number, until: number): Silence {
  return { rule, until, reason: 'maintenance', by: 'sam', createdAt };
}

const kinds = (alerts: AlertEvent[]) => alerts.map((a) => `${a.kind}:${a.rule}`);

describe('consecutive failures', () => {
  it('fires once when the streak reaches 2 and resolves on the next success', () => {
    const m = monitor();
    expect(kinds(apply(m, T0, 'failure').alerts)).toEqual([]);
    const second = apply(m, T0 + 1000, 'failure', undefined, { error: 'HTTP 503' }).alerts;
    expect(kinds(second)).toEqual(['fire:consecutive_failures']);
    expect(second[0]!.incidentId).toBe('tesco/consecutive_failures/1');
    expect(second[0]!.figures.failureStreak).toBe(2);
    expect(second[0]!.summary).toContain('HTTP 503');
    expect(second[0]!.silenced).toBeUndefined();
    // A third failure keeps the same incident open: no duplicate notification.
    expect(apply(m, T0 + 2000, 'failure').alerts).toEqual([]);
    expect(m.openIncidents()).toHaveLength(1);
    expect(m.openIncidents()[0]!.figures.failureStreak).toBe(3);
    expect(m.health(T0 + 2000)).toBe('unhealthy');
    const resolved = apply(m, T0 + 3000, 'success').alerts;
    expect(kinds(resolved)).toEqual(['resolve:consecutive_failures']);
    expect(resolved[0]!.incidentId).toBe(second[0]!.incidentId);
    expect(resolved[0]!.silenced).toBeUndefined();
    expect(m.openIncidents()).toEqual([]);
    expect(m.health(T0 + 3000)).toBe('healthy');
  });

  it('does not fire for failures separated by a success', () => {
    const m = monitor('aldi');
    const all = [...apply(m, T0, 'failure').alerts, ...apply(m, T0 + 1, 'success').alerts, ...apply(m, T0 + 2, 'failure').alerts];
    expect(all).toEqual([]);
  });

  it('honours a per-retailer streak threshold', () => {
    const m = monitor('lidl', T0, { failureStreak: 3 });
    apply(m, T0, 'failure');
    expect(apply(m, T0 + 1, 'failure').alerts).toEqual([]);
    expect(kinds(apply(m, T0 + 2, 'failure').alerts)).toEqual(['fire:consecutive_failures']);
  });
});

describe('stale', () => {
  it('is due exactly 4 h after the last success, fires once, and resolves on success', () => {
    const m = monitor();
    apply(m, T0, 'success');
    expect(m.nextDeadline()).toBe(T0 + 4 * HOUR_MS);
    expect(m.evaluateTimers(T0 + 4 * HOUR_MS - 1)).toEqual([]);
    const fired = m.evaluateTimers(T0 + 4 * HOUR_MS);
    expect(kinds(fired)).toEqual(['fire:stale']);
    expect(fired[0]!.figures.hoursSinceSuccess).toBe(4);
    expect(m.evaluateTimers(T0 + 5 * HOUR_MS)).toEqual([]);
    expect(m.nextDeadline()).toBeUndefined();
    expect(kinds(apply(m, T0 + 6 * HOUR_MS, 'success').alerts)).toEqual(['resolve:stale']);
    expect(m.nextDeadline()).toBe(T0 + 10 * HOUR_MS);
  });

  it('counts from first sighting when a retailer never succeeded, and failures do not reset it', () => {
    const m = monitor('coop');
    apply(m, T0, 'failure');
    apply(m, T0 + HOUR_MS, 'failure');
    expect(m.nextDeadline()).toBe(T0 + 4 * HOUR_MS);
    expect(m.evaluateTimers(T0 + 4 * HOUR_MS)[0]!.summary).toContain('since it was first seen');
  });

  it('clamps a finish time in the future to the time of receipt', () => {
    const m = monitor();
    apply(m, T0, 'success');
    // Reporter clock 2 h ahead: the deadline is based on when we received it, not a future time.
    m.applyReport(run('tesco', T0 + 3 * HOUR_MS, 'success'), T0 + HOUR_MS);
    expect(m.status(T0 + HOUR_MS).lastSuccessAt).toBe(T0 + HOUR_MS);
    expect(m.nextDeadline()).toBe(T0 + 5 * HOUR_MS);
  });

  it('a lowered threshold is due immediately', () => {
    const m = monitor();
    apply(m, T0, 'success');
    m.setOverrides({ staleAfterMs: HOUR_MS });
    expect(m.nextDeadline()).toBe(T0 + HOUR_MS);
    expect(kinds(m.evaluateTimers(T0 + 2 * HOUR_MS))).toEqual(['fire:stale']);
  });
});

describe('SKU drop', () => {
  const feed = (m: RetailerMonitor, counts: number[], start = T0) =>
    counts.flatMap((c, i) => apply(m, start + i * HOUR_MS, 'success', c).alerts);

  it('needs at least 3 baseline runs', () => {
    expect(feed(monitor(), [1000, 1000, 100])).toEqual([]);
  });

  it('fires when more than 30% below the trailing average, not at exactly 30%', () => {
    expect(feed(monitor(), [1000, 1000, 1000, 700])).toEqual([]); // exactly 30% below: not "more than"
    const alerts = feed(monitor(), [1000, 1000, 1000, 699]);
    expect(kinds(alerts)).toEqual(['fire:sku_drop']);
    expect(alerts[0]!.figures).toMatchObject({ skuCount: 699, trailingAverage: 1000, dropPct: 30.1, skuDropPct: 30 });
  });

  it('keeps dropped and failed runs out of the baseline and resolves when back within range', () => {
    const m = monitor();
    feed(m, [1000, 1000, 1000]);
    expect(kinds(feed(m, [500], T0 + 10 * HOUR_MS))).toEqual(['fire:sku_drop']);
    expect(feed(m, [400], T0 + 11 * HOUR_MS)).toEqual([]); // still dropped: same incident, no duplicate
    expect(m.openIncidents()[0]!.figures.skuCount).toBe(400);
    apply(m, T0 + 12 * HOUR_MS, 'failure', 0);
    expect(m.status(T0).trailingAverage).toBe(1000);
    expect(kinds(feed(m, [950], T0 + 13 * HOUR_MS))).toEqual(['resolve:sku_drop']);
    expect(m.detail(T0).skuBaseline).toEqual([1000, 1000, 1000, 950]);
  });

  it('uses only the last W runs', () => {
    const m = monitor('tesco', T0, { skuWindow: 3 });
    feed(m, [2000, 1000, 1000, 1000]);
    expect(m.detail(T0).skuBaseline).toEqual([1000, 1000, 1000]);
    // 750 is 25% below the last three (1000) — fine; against all four (avg 1250) it would be 40% below.
    expect(feed(m, [750], T0 + 10 * HOUR_MS)).toEqual([]);
  });
});

describe('incidents: re-notify, silence, acknowledge', () => {
  it('re-notifies every R while open and stops after an acknowledgement', () => {
    const m = RetailerMonitor.fresh('tesco', T0, { ...DEFAULT_THRESHOLDS, renotifyEveryMs: HOUR_MS });
    apply(m, T0, 'failure');
    const [fire] = apply(m, T0, 'failure').alerts;
    expect(m.nextDeadline()).toBe(T0 + HOUR_MS);
    const reminder = m.evaluateTimers(T0 + HOUR_MS);
    expect(kinds(reminder)).toEqual(['renotify:consecutive_failures']);
    expect(reminder[0]!.incidentId).toBe(fire!.incidentId);
    expect(m.evaluateTimers(T0 + HOUR_MS + 1)).toEqual([]);
    expect(m.acknowledge(fire!.incidentId, { by: 'sam' }, T0 + HOUR_MS + 2)).toBe(true);
    expect(m.evaluateTimers(T0 + 3 * HOUR_MS).filter((a) => a.kind === 'renotify')).toEqual([]);
    expect(m.acknowledge('tesco/stale/99', { by: 'sam' }, T0)).toBe(false);
  });

  it('records fires and reminders silenced while a silence covers them', () => {
    const m = RetailerMonitor.fresh('tesco', T0, { ...DEFAULT_THRESHOLDS, renotifyEveryMs: HOUR_MS });
    m.silence(silence('*', T0, T0 + 10 * HOUR_MS), T0);
    apply(m, T0, 'failure');
    const [fire] = apply(m, T0 + 1, 'failure').alerts;
    expect(fire!.silenced).toBe(true);
    expect(m.health(T0 + 2)).toBe('silenced');
    const [reminder] = m.evaluateTimers(T0 + 1 + HOUR_MS);
    expect(reminder).toMatchObject({ kind: 'renotify', silenced: true });
  });

  it('an incident announced before a silence still gets an unsilenced resolve', () => {
    const m = monitor();
    apply(m, T0, 'failure');
    const [fire] = apply(m, T0 + 1, 'failure').alerts;
    expect(fire!.silenced).toBeUndefined();
    m.silence(silence('*', T0 + 2, T0 + HOUR_MS), T0 + 2);
    expect(m.health(T0 + 3)).toBe('silenced');
    const [resolve] = apply(m, T0 + 4, 'success').alerts;
    expect(resolve).toMatchObject({ kind: 'resolve', incidentId: fire!.incidentId });
    expect(resolve!.silenced).toBeUndefined(); // people were told it is open: they are told it is over
  });

  it('an incident that fired and resolved while silenced gives a silenced resolve (nobody was told)', () => {
    // Old engine: "never the resolve" — a resolve went out for an incident nobody had heard of.
    const m = monitor();
    m.silence(silence('*', T0, T0 + HOUR_MS), T0);
    apply(m, T0, 'failure');
    const [fire] = apply(m, T0 + 1, 'failure').alerts;
    expect(fire!.silenced).toBe(true);
    const [resolve] = apply(m, T0 + 2, 'success').alerts;
    expect(resolve).toMatchObject({ kind: 'resolve', incidentId: fire!.incidentId, silenced: true });
    // Nothing left to announce when the silence ends.
    expect(m.evaluateTimers(T0 + HOUR_MS)).toEqual([]);
    expect(m.health(T0 + HOUR_MS)).toBe('healthy');
  });
});

describe('silence end announces', () => {
  it('announces an incident that fired silenced once, when the silence expires; its resolve is then not silenced', () => {
    const m = monitor();
    m.silence(silence('*', T0, T0 + HOUR_MS), T0);
    apply(m, T0 + MIN, 'failure');
    const [fire] = apply(m, T0 + 2 * MIN, 'failure').alerts;
    expect(fire).toMatchObject({ kind: 'fire', silenced: true });
    expect(m.health(T0 + 3 * MIN)).toBe('silenced');
    expect(m.nextDeadline()).toBe(T0 + HOUR_MS); // the silence expiry comes before the stale deadline
    expect(m.evaluateTimers(T0 + HOUR_MS - 1)).toEqual([]);

    const announced = m.evaluateTimers(T0 + HOUR_MS);
    expect(kinds(announced)).toEqual(['fire:consecutive_failures']);
    expect(announced[0]!.incidentId).toBe(fire!.incidentId);
    expect(announced[0]!.silenced).not.toBe(true);
    expect(announced[0]!.summary).toContain('silence ended');
    expect(announced[0]!.eventId).not.toBe(fire!.eventId); // its own delivery idempotency key
    expect(announced[0]!.openedAt).toBe(fire!.openedAt);
    expect(m.health(T0 + HOUR_MS)).toBe('unhealthy');
    expect(m.status(T0 + HOUR_MS).silences).toEqual([]);
    // Once only.
    expect(m.evaluateTimers(T0 + HOUR_MS + 1)).toEqual([]);
    expect(m.evaluateTimers(T0 + 2 * HOUR_MS)).toEqual([]);

    const [resolve] = apply(m, T0 + 2 * HOUR_MS, 'success').alerts;
    expect(resolve).toMatchObject({ kind: 'resolve', incidentId: fire!.incidentId });
    expect(resolve!.silenced).toBeUndefined();
  });

  it('announces it when the silence is removed (unsilence), once', () => {
    const m = monitor();
    m.silence(silence('consecutive_failures', T0, T0 + 10 * HOUR_MS), T0);
    apply(m, T0 + MIN, 'failure');
    const [fire] = apply(m, T0 + 2 * MIN, 'failure').alerts;
    expect(fire!.silenced).toBe(true);
    expect(m.unsilence('sku_drop', T0 + 3 * MIN)).toEqual({ removed: false, alerts: [] });

    const { removed, alerts } = m.unsilence('consecutive_failures', T0 + 4 * MIN);
    expect(removed).toBe(true);
    expect(kinds(alerts)).toEqual(['fire:consecutive_failures']);
    expect(alerts[0]!.incidentId).toBe(fire!.incidentId);
    expect(alerts[0]!.silenced).not.toBe(true);
    expect(alerts[0]!.summary).toContain('silence ended');
    expect(m.health(T0 + 4 * MIN)).toBe('unhealthy');
    expect(m.unsilence('consecutive_failures', T0 + 5 * MIN)).toEqual({ removed: false, alerts: [] });
    expect(m.evaluateTimers(T0 + 6 * MIN)).toEqual([]);

    const [resolve] = apply(m, T0 + 7 * MIN, 'success').alerts;
    expect(resolve).toMatchObject({ kind: 'resolve', incidentId: fire!.incidentId });
    expect(resolve!.silenced).toBeUndefined();
  });

  it('waits while another silence still covers the incident', () => {
    const m = monitor();
    m.silence(silence('*', T0, T0 + 2 * HOUR_MS), T0);
    m.silence(silence('consecutive_failures', T0, T0 + 10 * HOUR_MS), T0);
    apply(m, T0 + MIN, 'failure');
    const [fire] = apply(m, T0 + 2 * MIN, 'failure').alerts;
    expect(fire!.silenced).toBe(true);
    // The rule's own silence goes, the '*' one still covers it.
    expect(m.unsilence('consecutive_failures', T0 + 3 * MIN)).toEqual({ removed: true, alerts: [] });
    expect(m.health(T0 + 3 * MIN)).toBe('silenced');
    const announced = m.evaluateTimers(T0 + 2 * HOUR_MS);
    expect(kinds(announced)).toEqual(['fire:consecutive_failures']);
    expect(announced[0]!.silenced).not.toBe(true);
  });

  it('announces it at the next timer evaluation even when a new silence pruned the expired one first', () => {
    // silence() drops expired silences itself, so evaluateTimers no longer sees one end and (before the fix)
    // announced nothing: the incident stayed unannounced, `unhealthy`, and its resolve went out silenced.
    const m = monitor();
    m.silence(silence('*', T0, T0 + HOUR_MS), T0);
    apply(m, T0 + MIN, 'failure');
    const [fire] = apply(m, T0 + 2 * MIN, 'failure').alerts;
    expect(fire!.silenced).toBe(true);
    // The '*' silence has ended, but a silence of another rule arrives before the timer runs (a busy or late
    // workflow task handles the update first).
    m.silence(silence('stale', T0 + 2 * HOUR_MS, T0 + 10 * HOUR_MS), T0 + 2 * HOUR_MS);
    expect(m.health(T0 + 2 * HOUR_MS)).toBe('unhealthy');
    const announced = m.evaluateTimers(T0 + 2 * HOUR_MS);
    expect(kinds(announced)).toEqual(['fire:consecutive_failures']);
    expect(announced[0]!.silenced).not.toBe(true);
    const [resolve] = apply(m, T0 + 3 * HOUR_MS, 'success').alerts;
    expect(resolve!.silenced).toBeUndefined();
  });

  it('survives a snapshot round trip: the copy announces when the silence ends', () => {
    const m = monitor();
    m.silence(silence('*', T0, T0 + HOUR_MS), T0);
    apply(m, T0 + MIN, 'failure');
    const [fire] = apply(m, T0 + 2 * MIN, 'failure').alerts;
    const copy = new RetailerMonitor(JSON.parse(JSON.stringify(m.snapshot())));
    const announced = copy.evaluateTimers(T0 + HOUR_MS);
    expect(kinds(announced)).toEqual(['fire:consecutive_failures']);
    expect(announced[0]!.incidentId).toBe(fire!.incidentId);
    expect(announced[0]!.silenced).not.toBe(true);
  });
});

describe('reports', () => {
  it('ignores duplicate runIds and keeps out-of-order reports from rewinding state', () => {
    const m = monitor();
    const r1 = run('tesco', T0 + 10 * MIN, 'success', 1000);
    expect(m.applyReport(r1, T0 + 10 * MIN).outcome).toBe('accepted');
    expect(m.applyReport(r1, T0 + 11 * MIN).outcome).toBe('duplicate');
    const late = m.applyReport(run('tesco', T0, 'failure'), T0 + 12 * MIN);
    expect(late.outcome).toBe('out_of_order');
    expect(late.run!.outOfOrder).toBe(true);
    expect(late.alerts).toEqual([]);
    const st = m.status(T0);
    expect(st.consecutiveFailures).toBe(0);
    expect(st.lastRun!.runId).toBe(r1.runId);
    expect(st.totals).toEqual({ runs: 2, failures: 1, outOfOrder: 1 });
    expect(m.counters).toMatchObject({ accepted: 1, duplicates: 1, outOfOrder: 1 });
  });

  it('throws a RangeError for a report of another retailer, and changes nothing', () => {
    // Old engine: one state for the fleet, so a report for any retailer was applied.
    const m = monitor();
    const other = run('aldi', T0, 'failure');
    expect(() => m.applyReport(other, T0)).toThrow(RangeError);
    expect(() => m.applyReport(other, T0)).toThrow(/aldi.*tesco/);
    expect(m.isDuplicate(other.runId)).toBe(false);
    expect(m.counters).toEqual({ accepted: 0, rejected: 0, duplicates: 0, outOfOrder: 0 });
    expect(m.status(T0)).toMatchObject({ consecutiveFailures: 0, totals: { runs: 0, failures: 0, outOfOrder: 0 } });
    expect(m.status(T0).lastRun).toBeUndefined();
  });

  it('survives a snapshot round trip (continue-as-new) with duplicates still detected', () => {
    const m = monitor();
    const r1 = run('tesco', T0, 'failure');
    m.applyReport(r1, T0);
    const snap = m.snapshot();
    const frozen = JSON.stringify(snap);
    const copy = new RetailerMonitor(JSON.parse(JSON.stringify(snap)));
    expect(copy.applyReport(r1, T0 + 1).outcome).toBe('duplicate');
    expect(kinds(copy.applyReport(run('tesco', T0 + 2, 'failure'), T0 + 2).alerts)).toEqual(['fire:consecutive_failures']);
    // The constructor copies: the snapshot handed in is untouched.
    const direct = new RetailerMonitor(snap);
    apply(direct, T0 + 3, 'failure');
    expect(JSON.stringify(snap)).toBe(frozen);
  });

  it('keeps its memory bounded whatever the history', () => {
    const m = monitor();
    let now = T0;
    for (let i = 0; i < 300; i++) {
      now += MIN;
      const fail = i % 7 === 6;
      apply(m, now, fail ? 'failure' : 'success', 1000, { runId: `tesco-${i}`, error: fail ? 'x'.repeat(2000) : undefined });
    }
    const snap = m.snapshot();
    expect(JSON.stringify(snap).length).toBeLessThan(20_000);
    expect(snap.retailer.recentRuns).toHaveLength(KEEP.recentRuns);
    expect(snap.retailer.recentRunIds).toHaveLength(KEEP.recentRunIds);
    for (const r of snap.retailer.recentRuns) expect((r.error ?? '').length).toBeLessThanOrEqual(KEEP.recentRunErrorChars);
    // The newest ids are the ones kept for duplicate detection.
    expect(m.isDuplicate('tesco-299')).toBe(true);
    expect(m.isDuplicate('tesco-100')).toBe(true);
    expect(m.isDuplicate('tesco-99')).toBe(false);
  });
});

describe('operator action ids', () => {
  it('come from their own counter and do not consume incident sequence numbers', () => {
    // Old engine: nextId() shared the incident sequence, so the first incident after two actions was /3.
    const m = monitor();
    expect(m.nextActionId()).toBe('tesco/action/1');
    expect(m.nextActionId()).toBe('tesco/action/2');
    apply(m, T0, 'failure');
    const [fire] = apply(m, T0 + 1, 'failure').alerts;
    expect(fire!.incidentId).toBe('tesco/consecutive_failures/1');
    expect(m.nextActionId()).toBe('tesco/action/3');
    const copy = new RetailerMonitor(m.snapshot());
    expect(copy.nextActionId()).toBe('tesco/action/4');
    apply(copy, T0 + 2, 'success');
    const [stale] = copy.evaluateTimers(T0 + 2 + 4 * HOUR_MS);
    expect(stale!.incidentId).toBe('tesco/stale/2');
  });
});

describe('restore (a monitor started fresh over what Postgres remembers)', () => {
  const stored = (runId: string, at: number, status: 'success' | 'failure'): RunSummary => ({
    runId,
    retailer: 'tesco',
    status,
    startedAt: at - MIN,
    finishedAt: at,
    receivedAt: at,
    ...(status === 'success' ? { skuCount: 1000 } : { error: 'HTTP 503' }),
  });
  const openCf: Incident = {
    id: 'tesco/consecutive_failures/7',
    retailer: 'tesco',
    rule: 'consecutive_failures',
    openedAt: T0 - 2 * HOUR_MS,
    lastNotifiedAt: T0 - 2 * HOUR_MS,
    notifyCount: 1,
    summary: 'tesco: 2 consecutive failed runs',
    figures: { failureStreak: 2 },
    announced: true,
  };
  const restoreOf = (over: Partial<RetailerRestore> = {}): RetailerRestore => ({
    firstSeenAt: T0 - 48 * HOUR_MS,
    lastSuccessAt: T0 - 3 * HOUR_MS,
    lastSuccessRunId: 'old-1',
    consecutiveFailures: 2,
    recentRuns: [stored('old-1', T0 - 3 * HOUR_MS, 'success'), stored('old-2', T0 - 2 * HOUR_MS - MIN, 'failure'), stored('old-3', T0 - 2 * HOUR_MS, 'failure')],
    skuBaseline: [1000, 1000, 1000],
    recentRunIds: ['old-1', 'old-2', 'old-3'],
    openIncidents: [openCf],
    incidentSeq: 9,
    actionSeq: 4,
    silences: [],
    totals: { runs: 12, failures: 2, outOfOrder: 0 },
    ...over,
  });

  it('keeps an open incident with its id, does not re-fire it, resolves it with the same id, and continues the sequences', () => {
    const m = monitor('tesco', T0);
    m.restore(restoreOf());
    expect(m.openIncidents().map((i) => i.id)).toEqual(['tesco/consecutive_failures/7']);
    expect(m.hasOpenIncident('tesco/consecutive_failures/7')).toBe(true);
    expect(m.status(T0)).toMatchObject({
      firstSeenAt: T0 - 48 * HOUR_MS,
      lastSuccessAt: T0 - 3 * HOUR_MS,
      consecutiveFailures: 2,
      trailingAverage: 1000,
      health: 'unhealthy',
      totals: { runs: 12, failures: 2, outOfOrder: 0 },
    });
    expect(m.status(T0).lastRun!.runId).toBe('old-3');
    expect(m.staleDeadline()).toBe(T0 + HOUR_MS);

    // Restored run ids are duplicates.
    for (const id of ['old-1', 'old-2', 'old-3']) expect(m.isDuplicate(id)).toBe(true);
    expect(m.applyReport(run('tesco', T0, 'failure', undefined, { runId: 'old-3' }), T0).outcome).toBe('duplicate');

    // The next failure continues the streak without a second fire.
    expect(apply(m, T0 + MIN, 'failure').alerts).toEqual([]);
    expect(m.openIncidents()[0]!.figures.failureStreak).toBe(3);
    const resolved = apply(m, T0 + 2 * MIN, 'success').alerts;
    expect(kinds(resolved)).toEqual(['resolve:consecutive_failures']);
    expect(resolved[0]!.incidentId).toBe('tesco/consecutive_failures/7');
    expect(resolved[0]!.silenced).toBeUndefined();

    // The next new incident continues after the restored sequence; so do action ids.
    apply(m, T0 + 3 * MIN, 'failure');
    const [fire] = apply(m, T0 + 4 * MIN, 'failure').alerts;
    expect(fire!.incidentId).toBe('tesco/consecutive_failures/10');
    expect(m.nextActionId()).toBe('tesco/action/5');
  });

  it('takes restored run ids oldest first: a new report forgets the oldest, not the newest', () => {
    const ids = Array.from({ length: KEEP.recentRunIds }, (_, i) => `old-${i}`); // old-199 is the newest
    const m = monitor('tesco', T0);
    m.restore(restoreOf({ recentRunIds: ids }));
    apply(m, T0 + MIN, 'success');
    expect(m.isDuplicate('old-0')).toBe(false);
    expect(m.isDuplicate('old-199')).toBe(true);
  });

  it('treats a restored incident without an announced flag as announced', () => {
    const { announced: _, ...legacy } = openCf;
    const m = monitor('tesco', T0);
    m.restore(restoreOf({ openIncidents: [legacy as Incident] }));
    expect(m.evaluateTimers(T0)).toEqual([]);
    const [resolve] = apply(m, T0 + MIN, 'success').alerts;
    expect(resolve).toMatchObject({ kind: 'resolve', incidentId: openCf.id });
    expect(resolve!.silenced).toBeUndefined();
  });

  it('announces a restored silenced incident when its restored silence expires', () => {
    const m = monitor('tesco', T0);
    m.restore(restoreOf({ openIncidents: [{ ...openCf, announced: false }], silences: [silence('*', T0 - 3 * HOUR_MS, T0 + 30 * MIN)] }));
    expect(m.health(T0)).toBe('silenced');
    expect(m.evaluateTimers(T0)).toEqual([]);
    const announced = m.evaluateTimers(T0 + 30 * MIN);
    expect(kinds(announced)).toEqual(['fire:consecutive_failures']);
    expect(announced[0]).toMatchObject({ incidentId: openCf.id });
    expect(announced[0]!.silenced).not.toBe(true);
  });

  it('announces a restored never-announced incident that no silence covers any more', () => {
    // E.g. the silence was removed (or expired and was written away) but the workflow ended before the
    // announcement reached alert_events: Postgres says "open, only silenced notices" and no silence.
    // Before the fix evaluateTimers announced only when it removed an expired silence itself, so this
    // incident was never announced and its resolve went out silenced.
    const m = monitor('tesco', T0);
    m.restore(restoreOf({ openIncidents: [{ ...openCf, announced: false }], silences: [] }));
    expect(m.health(T0)).toBe('unhealthy');
    const announced = m.evaluateTimers(T0);
    expect(kinds(announced)).toEqual(['fire:consecutive_failures']);
    expect(announced[0]).toMatchObject({ incidentId: openCf.id });
    expect(announced[0]!.silenced).not.toBe(true);
    expect(m.evaluateTimers(T0 + 1)).toEqual([]);
  });
});

describe('reprocess', () => {
  const summary = (at: number, status: 'success' | 'failure', sku?: number) => apply(monitor('tesco', at), at, status, sku).run!;

  it('rebuilds streak and baseline from stored runs without re-notifying an incident already open', () => {
    const m = monitor();
    apply(m, T0, 'failure');
    const [fire] = apply(m, T0 + 1, 'failure').alerts;
    const stored = [summary(T0 - 3, 'success', 1000), summary(T0, 'failure'), summary(T0 + 1, 'failure')];
    const { alerts, applied, newest } = m.reprocess(stored, T0 + 10);
    expect(applied).toBe(3);
    expect(newest).toBe(true);
    expect(alerts).toEqual([]);
    expect(m.openIncidents().map((i) => i.id)).toEqual([fire!.incidentId]);
    expect(m.status(T0 + 10)).toMatchObject({ consecutiveFailures: 2, trailingAverage: 1000 });
  });

  it('fires what newly holds (e.g. after a threshold change) and resolves what no longer holds', () => {
    const m = monitor();
    const stored = [1000, 1000, 1000, 750].map((c, i) => summary(T0 + i, 'success', c));
    for (const r of stored) m.applyReport({ ...run('tesco', r.finishedAt, 'success', r.skuCount), runId: r.runId }, r.finishedAt);
    expect(m.openIncidents()).toEqual([]); // 25% below: under the default 30%
    m.setOverrides({ skuDropPct: 20 });
    const fired = m.reprocess(stored, T0 + 10).alerts;
    expect(kinds(fired)).toEqual(['fire:sku_drop']);
    expect(fired[0]!.summary).toContain('found by reprocessing');
    m.setOverrides({ skuDropPct: 30 });
    const resolved = m.reprocess(stored, T0 + 11).alerts;
    expect(kinds(resolved)).toEqual(['resolve:sku_drop']);
    expect(resolved[0]!.incidentId).toBe(fired[0]!.incidentId);
  });

  it('never moves lastSuccessAt or lastRun backwards for a window older than what was seen', () => {
    // Old engine: the window overwrote lastSuccessAt with T0+1h, so a stale alert was due at once.
    const m = monitor();
    const stored: RunSummary[] = [];
    for (let h = 0; h <= 10; h++) stored.push(apply(m, T0 + h * HOUR_MS, 'success', 1000).run!);
    const now = T0 + 10 * HOUR_MS + MIN;
    const before = m.status(now);
    const { alerts, applied, newest } = m.reprocess(stored.slice(0, 2), now); // runs of T0 and T0+1h
    expect(applied).toBe(2);
    expect(newest).toBe(false);
    expect(alerts).toEqual([]);
    const after = m.status(now);
    expect(after.lastSuccessAt).toBe(T0 + 10 * HOUR_MS);
    expect(after.lastRun!.runId).toBe(before.lastRun!.runId);
    expect(after).toEqual(before);
    expect(m.nextDeadline()).toBe(T0 + 14 * HOUR_MS);
    expect(m.nextDeadline()!).toBeGreaterThan(now);
    expect(m.evaluateTimers(now)).toEqual([]);
  });

  it('a window that misses the latest success does not move lastSuccessAt backwards either', () => {
    const m = monitor();
    apply(m, T0 + HOUR_MS, 'success');
    apply(m, T0 + 2 * HOUR_MS, 'failure');
    const window = [summary(T0, 'success'), summary(T0 + 2 * HOUR_MS, 'failure')];
    const { newest } = m.reprocess(window, T0 + 3 * HOUR_MS);
    expect(newest).toBe(true);
    expect(m.status(T0 + 3 * HOUR_MS)).toMatchObject({ lastSuccessAt: T0 + HOUR_MS, consecutiveFailures: 1 });
    expect(m.nextDeadline()).toBe(T0 + 5 * HOUR_MS);
    expect(m.evaluateTimers(T0 + 3 * HOUR_MS)).toEqual([]);
  });
});

describe('isoTimes', () => {
  it('turns time fields into ISO strings deeply and leaves other numbers alone', () => {
    const input = {
      retailer: 'tesco',
      at: T0,
      consecutiveFailures: 3,
      skuCount: 1234,
      staleDeadline: T0 + 4 * HOUR_MS,
      lastRun: undefined,
      figures: { lastSuccessAt: T0 - HOUR_MS, hoursSinceSuccess: 4.5, trailingAverage: 1000, failureStreak: 2 },
      recentRuns: [{ runId: 'r1', startedAt: T0 - MIN, finishedAt: T0, receivedAt: T0, skuCount: 5, lastScrapeAt: undefined }],
      silences: [{ rule: '*', until: T0 + HOUR_MS, createdAt: T0, reason: 'x', by: 'sam' }],
      ids: [T0, 7],
      notFinite: { at: Number.NaN },
    };
    const frozen = JSON.stringify(input);
    const out = isoTimes(input);
    expect(out).toEqual({
      retailer: 'tesco',
      at: '2026-11-01T00:00:00.000Z',
      consecutiveFailures: 3,
      skuCount: 1234,
      staleDeadline: '2026-11-01T04:00:00.000Z',
      lastRun: undefined,
      figures: { lastSuccessAt: '2026-10-31T23:00:00.000Z', hoursSinceSuccess: 4.5, trailingAverage: 1000, failureStreak: 2 },
      recentRuns: [{ runId: 'r1', startedAt: '2026-10-31T23:59:00.000Z', finishedAt: '2026-11-01T00:00:00.000Z', receivedAt: '2026-11-01T00:00:00.000Z', skuCount: 5, lastScrapeAt: undefined }],
      silences: [{ rule: '*', until: '2026-11-01T01:00:00.000Z', createdAt: '2026-11-01T00:00:00.000Z', reason: 'x', by: 'sam' }],
      ids: [T0, 7], // array elements have no field name
      notFinite: { at: Number.NaN },
    });
    expect(JSON.stringify(input)).toBe(frozen); // a copy: the input is untouched
  });

  it('keeps __proto__ and constructor keys as plain data (no prototype pollution)', () => {
    const input = JSON.parse('{"__proto__": {"at": 0, "polluted": true}, "constructor": {"at": 0}, "nested": {"__proto__": {"until": 0}}}') as unknown;
    const out = isoTimes(input) as Record<string, unknown>;
    expect(Object.getPrototypeOf(out)).toBe(Object.prototype);
    expect(Object.prototype.hasOwnProperty.call(out, '__proto__')).toBe(true);
    expect(Object.getOwnPropertyDescriptor(out, '__proto__')!.value).toEqual({ at: '1970-01-01T00:00:00.000Z', polluted: true });
    expect(Object.getOwnPropertyDescriptor(out, 'constructor')!.value).toEqual({ at: '1970-01-01T00:00:00.000Z' });
    expect((out as { polluted?: unknown }).polluted).toBeUndefined();
    expect(({} as { polluted?: unknown }).polluted).toBeUndefined();
    expect((Object.prototype as { at?: unknown }).at).toBeUndefined();
    const nested = out.nested as Record<string, unknown>;
    expect(Object.getPrototypeOf(nested)).toBe(Object.prototype);
    expect(Object.getOwnPropertyDescriptor(nested, '__proto__')!.value).toEqual({ until: '1970-01-01T00:00:00.000Z' });
    expect(JSON.parse(JSON.stringify(out))).toEqual(JSON.parse('{"__proto__": {"at": "1970-01-01T00:00:00.000Z", "polluted": true}, "constructor": {"at": "1970-01-01T00:00:00.000Z"}, "nested": {"__proto__": {"until": "1970-01-01T00:00:00.000Z"}}}'));
  });
});

describe('retailer slugs that are Object.prototype names', () => {
  // Old engine: retailers lived in a plain object keyed by slug, so `constructor` found Object's constructor.
  it.each(['constructor', '__proto__', 'toString', 'hasOwnProperty'])('%s works like any other retailer', (slug) => {
    const m = monitor(slug, T0);
    expect(m.id).toBe(slug);
    const first = run(slug, T0, 'failure');
    expect(m.applyReport(first, T0).outcome).toBe('accepted');
    expect(m.applyReport(first, T0 + 1).outcome).toBe('duplicate');
    const [fire] = apply(m, T0 + 2, 'failure').alerts;
    expect(fire).toMatchObject({ kind: 'fire', rule: 'consecutive_failures', retailer: slug, incidentId: `${slug}/consecutive_failures/1` });
    expect(m.openRules()).toEqual(['consecutive_failures']);
    expect(m.health(T0 + 3)).toBe('unhealthy');
    expect(m.acknowledge(fire!.incidentId, { by: 'sam' }, T0 + 3)).toBe(true);
    const copy = new RetailerMonitor(JSON.parse(JSON.stringify(m.snapshot())));
    const [resolve] = apply(copy, T0 + 4, 'success').alerts;
    expect(resolve).toMatchObject({ kind: 'resolve', incidentId: fire!.incidentId, retailer: slug });
    expect(copy.health(T0 + 5)).toBe('healthy');
    expect(kinds(copy.evaluateTimers(T0 + 4 + 4 * HOUR_MS))).toEqual(['fire:stale']);
    expect(copy.nextActionId()).toBe(`${slug}/action/1`);
    expect(isoTimes(copy.detail(T0 + 5)).retailer).toBe(slug);
    expect(() => m.applyReport(run('tesco', T0 + 6, 'failure'), T0 + 6)).toThrow(RangeError);
  });
});

describe('properties', () => {
  const report = fc.record({
    op: fc.constant('report' as const),
    status: fc.constantFrom('success' as const, 'failure' as const),
    sku: fc.constantFrom(0, 400, 800, 1000, 1000, 1200),
    gapMin: fc.integer({ min: 1, max: 300 }),
  });
  const silenceOp = fc.record({
    op: fc.constant('silence' as const),
    rule: fc.constantFrom<RuleId | '*'>('*', ...RULES),
    forMin: fc.integer({ min: 1, max: 600 }),
    gapMin: fc.integer({ min: 0, max: 120 }),
  });
  const unsilenceOp = fc.record({
    op: fc.constant('unsilence' as const),
    rule: fc.constantFrom<RuleId | '*'>('*', ...RULES),
    gapMin: fc.integer({ min: 0, max: 120 }),
  });
  const steps = fc.array(fc.oneof({ weight: 4, arbitrary: report }, { weight: 1, arbitrary: silenceOp }, { weight: 1, arbitrary: unsilenceOp }), { maxLength: 100 });

  it('never opens two incidents per rule, every resolve matches an open fire, and each incident is announced at most once', () => {
    fc.assert(
      fc.property(steps, fc.constantFrom(0, HOUR_MS), (events, renotifyEveryMs) => {
        const m = RetailerMonitor.fresh('tesco', T0, { ...DEFAULT_THRESHOLDS, renotifyEveryMs });
        const open = new Map<RuleId, { id: string; announced: boolean }>();
        const ids = new Set<string>();
        const told = new Set<string>();
        let now = T0;
        const check = (alerts: AlertEvent[]) => {
          for (const a of alerts) {
            expect(a.retailer).toBe('tesco');
            const cur = open.get(a.rule);
            if (a.kind !== 'resolve') expect(a.silenced === true).toBe(m.isSilenced(a.rule, now));
            if (a.kind === 'fire') {
              if (cur) {
                // Only the announcement of an incident that fired silenced.
                expect(a.incidentId).toBe(cur.id);
                expect(cur.announced).toBe(false);
                expect(a.silenced).not.toBe(true);
                cur.announced = true;
              } else {
                expect(ids.has(a.incidentId)).toBe(false);
                ids.add(a.incidentId);
                open.set(a.rule, { id: a.incidentId, announced: a.silenced !== true });
              }
              if (a.silenced !== true) {
                expect(told.has(a.incidentId)).toBe(false);
                told.add(a.incidentId);
              }
            } else if (a.kind === 'renotify') {
              expect(cur?.id).toBe(a.incidentId);
              // An unsilenced reminder only for an incident people were told about.
              if (a.silenced !== true) expect(cur!.announced).toBe(true);
            } else {
              expect(cur?.id).toBe(a.incidentId);
              expect(a.silenced === true).toBe(!cur!.announced);
              open.delete(a.rule);
            }
          }
        };
        for (const e of events) {
          now += e.gapMin * MIN;
          check(m.evaluateTimers(now));
          // After the timers: every open incident no silence covers has been announced.
          for (const inc of m.openIncidents()) if (!m.isSilenced(inc.rule, now)) expect(open.get(inc.rule)!.announced).toBe(true);
          if (e.op === 'report') check(apply(m, now, e.status, e.sku).alerts);
          else if (e.op === 'silence') m.silence(silence(e.rule, now, now + e.forMin * MIN), now);
          else check(m.unsilence(e.rule, now).alerts);
        }
        expect(m.openRules()).toEqual([...open.keys()].sort());
        expect(m.health(now)).toBe(open.size === 0 ? 'healthy' : m.openIncidents().every((i) => m.isSilenced(i.rule, now)) ? 'silenced' : 'unhealthy');
      }),
      { numRuns: 200 },
    );
  });

  it('the streak equals the number of failures since the last success', () => {
    fc.assert(
      fc.property(fc.array(fc.boolean(), { maxLength: 50 }), (oks) => {
        const m = monitor();
        oks.forEach((ok, i) => apply(m, T0 + i, ok ? 'success' : 'failure', 100));
        const expected = oks.length - 1 - oks.lastIndexOf(true);
        expect(m.status(T0).consecutiveFailures).toBe(expected);
      }),
    );
  });

  it('reprocessing exactly the runs applied changes nothing', () => {
    const entry = fc.record({
      status: fc.constantFrom('success' as const, 'failure' as const),
      sku: fc.constantFrom(0, 500, 800, 1000, 1000, 1200),
      skewMin: fc.integer({ min: -30, max: 5 }), // negative: finished earlier than the previous run (out of order)
    });
    fc.assert(
      fc.property(fc.array(entry, { maxLength: 40 }), (entries) => {
        const m = monitor();
        const stored: RunSummary[] = [];
        let now = T0;
        let accepted = 0;
        for (const e of entries) {
          now += 10 * MIN;
          const res = m.applyReport(run('tesco', now + e.skewMin * MIN, e.status, e.sku), now);
          if (res.outcome === 'accepted') accepted++;
          stored.push(res.run!);
        }
        const before = m.detail(now);
        const { alerts, applied, newest } = m.reprocess(stored, now);
        expect(alerts).toEqual([]);
        expect(newest).toBe(true);
        expect(applied).toBe(accepted);
        expect(m.detail(now)).toEqual(before);
      }),
      { numRuns: 100 },
    );
  });
});
