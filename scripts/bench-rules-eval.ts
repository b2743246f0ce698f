/**
 * Precision / recall of the alert rules on a deterministic synthetic history (used by scripts/bench-rules.ts
 * and test/bench-rules.test.ts). Pure and fast: the real RetailerMonitor, no Temporal, no I/O.
 *
 * History: 20 retailers, 6 weeks, each with an ingestion Schedule (scripts/bench-rules-schedule.ts: daily at
 * a local time in its timezone, or every 6 h / 4 h); each action starts a run (a few seconds late) that
 * reports when it finishes. Weekly seasonality (weekend SKU and promo dips, Monday price updates: more
 * promos and runs twice as long) and noise; 15 injected incidents (5 SKU drops, 3 promo drops, 3 duration
 * spikes, 3 missed-run gaps: actions that never report, 1 flapping retailer). The monitor is driven as the
 * workflow drives it: reports at their finish, timers at `nextDeadline()`, and every `scheduleRequest()`
 * answered with the Schedule's facts at that moment (so `missed_run` and the open-run `run_duration` check
 * run too, in the methods that have them). Three methods judge the same reports:
 * - `defaults`: the rules as shipped (sku_drop = the story's 7-run mean rule; run_duration on against the
 *   robust seasonal baseline, also for a run still open; promo_drop off; missed_run on, 15 min grace), stale
 *   and consecutive failures as usual;
 * - `robust`: every baseline rule on and the SKU rule with the robust second condition (skuRule
 *   'drop-pct-and-robust', promo_drop on);
 * - `mean7`: the plain mean of the last 7 successful, non-flagged runs for every metric (SKU 30% below,
 *   promos 50% below, duration 100% and 5 min above: the same percentages as the robust rules), i.e. the
 *   engine before the baselines (legacy rules) plus mean-based promo and duration rules; no missed-run rule
 *   and no open-run check (they came with the Schedule facts), so only `stale` sees a missed run.
 */
import { weekdayIn } from '../src/rules/baselines';
import { DEFAULT_MISSED_RUN_GRACE_MS } from '../src/rules/missed-run';
import { RetailerMonitor } from '../src/rules/retailer-monitor';
import { HOUR_MS, type ThresholdOverrides } from '../src/rules/thresholds';
import type { AlertEvent, RuleId } from '../src/rules/types';
import type { RunReport } from '../src/shared/report';
import { actionTimes, factsAt, specOf, workflowIdOf, type Slot, type SyntheticSchedule } from './bench-rules-schedule';

const DAY = 24 * HOUR_MS;
const MIN = 60_000;
/** Monday 2026-10-05 00:00 UTC: six whole weeks follow. */
export const T0 = Date.parse('2026-10-05T00:00:00Z');
export const WEEKS = 6;
const END = T0 + WEEKS * 7 * DAY;

export const INCIDENT_KINDS = ['sku_drop', 'promo_drop', 'duration', 'missed_run', 'flapping'] as const;
export type IncidentKind = (typeof INCIDENT_KINDS)[number];
export const METHODS = ['defaults', 'robust', 'mean7'] as const;
export type Method = (typeof METHODS)[number];

/** Which alert rule can see which injected incident. */
const SEES = new Map<IncidentKind, RuleId[]>([
  ['sku_drop', ['sku_drop']],
  ['promo_drop', ['promo_drop']],
  ['duration', ['run_duration']],
  ['missed_run', ['stale']],
  ['flapping', ['consecutive_failures', 'stale']],
]);

interface Retailer {
  slug: string;
  timezone: string;
  periodMs: number;
  offsetMs: number;
  sku: number;
  promo: number;
  durationMs: number;
  /** SKU fraction lost on weekends (weekend specials replace part of the catalogue). */
  weekendSkuDip: number;
}

export interface Injected {
  retailer: string;
  kind: IncidentKind;
  /** The first affected run's finish (or the gap's start) … */
  from: number;
  /** … and the last affected run's finish (or the gap's end). */
  to: number;
  /** What it does to the runs in [from, to]. */
  factor?: number;
  /** A missed run whose actions the Schedule never took (else taken, and closed without reporting). */
  noAction?: boolean;
}

/** A small deterministic PRNG (Park–Miller minimal standard), so every run sees the same history. */
function prng(seed: number): () => number {
  let x = (seed % 2147483646) + 1;
  return () => {
    x = (x * 48271) % 2147483647;
    return (x - 1) / 2147483646;
  };
}

const ZONES = ['Africa/Johannesburg', 'Africa/Johannesburg', 'Africa/Johannesburg', 'Europe/London', 'America/New_York'];
const PERIODS = [24 * HOUR_MS, 6 * HOUR_MS, 4 * HOUR_MS];

export function retailers(): Retailer[] {
  const rnd = prng(42);
  return Array.from({ length: 20 }, (_, i) => ({
    slug: `r${String(i + 1).padStart(2, '0')}`,
    timezone: ZONES[i % ZONES.length]!,
    periodMs: PERIODS[i % PERIODS.length]!,
    offsetMs: Math.floor(rnd() * 3 * HOUR_MS),
    sku: Math.round(2000 + rnd() * 18_000),
    promo: Math.round(200 + rnd() * 1300),
    durationMs: Math.round((5 + rnd() * 35) * MIN),
    weekendSkuDip: i % 2 ? 0.38 : 0.1,
  }));
}

/** The 15 injected incidents: day numbers from T0 (weeks 3–6), hours into that day (UTC). */
export function injected(rs: Retailer[]): Injected[] {
  const at = (day: number, h = 0) => T0 + day * DAY + h * HOUR_MS;
  const r = (n: number) => rs[n - 1]!;
  // Spans cover whole runs: a window of `runs` periods from a time.
  const runs = (n: number, day: number, h: number, count: number) => ({ from: at(day, h), to: at(day, h) + count * r(n).periodMs - 1 });
  return [
    { retailer: 'r01', kind: 'sku_drop', factor: 0.5, ...runs(1, 23, 0, 1) },
    { retailer: 'r04', kind: 'sku_drop', factor: 0.5, ...runs(4, 33, 0, 1) }, // a Saturday of a retailer with weekend dips
    { retailer: 'r07', kind: 'sku_drop', factor: 0.6, ...runs(7, 29, 0, 3) },
    { retailer: 'r10', kind: 'sku_drop', factor: 0.66, ...runs(10, 37, 0, 1) }, // 34% down: just past the story's 30%
    { retailer: 'r13', kind: 'sku_drop', factor: 0.5, ...runs(13, 35, 0, 2) }, // a Monday
    { retailer: 'r02', kind: 'promo_drop', factor: 0.2, ...runs(2, 24, 0, 1) },
    { retailer: 'r05', kind: 'promo_drop', factor: 0.3, ...runs(5, 34, 0, 2) }, // a Sunday
    { retailer: 'r08', kind: 'promo_drop', factor: 0.1, ...runs(8, 38, 0, 2) },
    { retailer: 'r03', kind: 'duration', factor: 4, ...runs(3, 25, 0, 1) },
    { retailer: 'r06', kind: 'duration', factor: 3, ...runs(6, 28, 0, 1) }, // a Monday: 3 × an already long Monday run
    { retailer: 'r09', kind: 'duration', factor: 5, ...runs(9, 39, 0, 2) },
    { retailer: 'r11', kind: 'missed_run', from: at(26), to: at(26, 20) },
    { retailer: 'r14', kind: 'missed_run', from: at(30), to: at(32, 12), noAction: true }, // server down 2.5 days
    { retailer: 'r16', kind: 'missed_run', from: at(36), to: at(36, 10) },
    { retailer: 'r12', kind: 'flapping', from: at(31), to: at(33) },
  ];
}

/** The stale threshold each retailer is given (every method): 1.5 schedule periods, at least the default 4 h. */
export const staleAfterFor = (r: Retailer) => Math.max(4 * HOUR_MS, Math.round(r.periodMs * 1.5));

export interface Fire {
  retailer: string;
  rule: RuleId;
  at: number;
  /** missed_run: the expected run it names. */
  expectedAt?: number;
  /** run_duration fired for a run still open (the Schedule showed it running), not on its report. */
  openRun?: boolean;
}

/** A retailer's six weeks: its Schedule's actions and the reports they sent, incidents applied. */
export interface History {
  schedule: SyntheticSchedule;
  reports: RunReport[];
}

/**
 * The Schedule and reports of one retailer, incidents applied: a missed run's actions send no report
 * (closed after a minute, or never taken); a run starts 0–19 s after its expected time and reports when it
 * finishes (start + duration). Runs are judged (seasonality) by the weekday of their expected time.
 */
export function historyOf(r: Retailer, incidents: Injected[]): History {
  const rnd = prng(r.slug.charCodeAt(1) * 100 + r.slug.charCodeAt(2));
  const mine = incidents.filter((i) => i.retailer === r.slug);
  const id = `ingest-${r.slug}`;
  // Past END too: the Schedule's next action times at the end of the history.
  const times = actionTimes(r, T0 + r.offsetMs, END + 3 * DAY);
  const schedule: SyntheticSchedule = { id, spec: specOf(r, times[0]!), slots: [] };
  const out: RunReport[] = [];
  let n = 0;
  let flap = 0;
  for (const [k, at] of times.entries()) {
    const slot: Slot = { at, workflowId: workflowIdOf(id, at) };
    schedule.slots.push(slot);
    if (at >= END) continue;
    const started = at + ((k * 7919) % 20) * 1000;
    const hit = (kind: IncidentKind) => mine.find((i) => i.kind === kind && at >= i.from && at <= i.to);
    const missed = hit('missed_run');
    if (missed) {
      if (!missed.noAction) Object.assign(slot, { startedAt: started, finishedAt: started + MIN });
      continue;
    }
    const wd = weekdayIn(at, r.timezone);
    const weekend = wd === 0 || wd === 6;
    const monday = wd === 1;
    const jitter = (pct: number) => 1 + (rnd() * 2 - 1) * pct;
    let sku = r.sku * (weekend ? 1 - r.weekendSkuDip : 1) * (monday ? 1.04 : 1) * jitter(0.03);
    let promo = r.promo * (weekend ? 0.55 : 1) * (monday ? 1.25 : 1) * jitter(0.06);
    let duration = r.durationMs * (monday ? 2.3 : 1) * jitter(0.08);
    sku *= hit('sku_drop')?.factor ?? 1;
    promo *= hit('promo_drop')?.factor ?? 1;
    duration *= hit('duration')?.factor ?? 1;
    const failing = hit('flapping') !== undefined && flap++ % 3 !== 2; // fail, fail, succeed, …
    const finished = started + Math.round(duration);
    if (finished >= (times[k + 1] ?? Infinity)) throw new Error(`${slot.workflowId} would overlap the next action`);
    Object.assign(slot, { startedAt: started, finishedAt: finished });
    out.push({
      runId: `${r.slug}-${++n}`,
      retailer: r.slug,
      status: failing ? 'failure' : 'success',
      startedAt: new Date(started).toISOString(),
      finishedAt: new Date(finished).toISOString(),
      schedule: id,
      workflowId: slot.workflowId,
      ...(failing ? { error: 'HTTP 503' } : { skuCount: Math.round(sku), promoCount: Math.round(promo) }),
    });
  }
  return { schedule, reports: out };
}

/** The plain 7-run mean for promo counts and durations (the SKU rule is the legacy engine's own). */
class Mean7 {
  private promo: number[] = [];
  private duration: number[] = [];
  private open = new Set<string>();

  judge(report: RunReport, at: number): RuleId[] {
    if (report.status !== 'success') return [];
    const fired: RuleId[] = [];
    const duration = Date.parse(report.finishedAt) - Date.parse(report.startedAt);
    const check = (rule: RuleId, list: number[], value: number, bad: (avg: number) => boolean) => {
      const avg = list.length >= 3 ? list.reduce((a, b) => a + b, 0) / list.length : undefined;
      const anomalous = avg !== undefined && bad(avg);
      if (anomalous && !this.open.has(rule)) fired.push(rule);
      if (anomalous) this.open.add(rule);
      else {
        this.open.delete(rule);
        list.push(value);
        if (list.length > 7) list.shift();
      }
    };
    if (report.promoCount !== undefined) check('promo_drop', this.promo, report.promoCount, (avg) => report.promoCount! < avg * 0.5);
    check('run_duration', this.duration, duration, (avg) => duration > avg * 2 && duration - avg >= 5 * MIN);
    void at;
    return fired;
  }
}

const SETTINGS = new Map<Method, ThresholdOverrides>([
  ['defaults', {}],
  ['robust', { skuRule: 'drop-pct-and-robust', promoDrop: true }],
  ['mean7', {}],
]);

/** Run one method over every retailer's reports; returns every fire. */
export function runMethod(method: Method, rs: Retailer[], histories: Map<string, History>, openRunCheck = true): { fires: Fire[]; notifications: Map<string, number>; snapshotBytes: number[] } {
  const fires: Fire[] = [];
  const notifications = new Map<string, number>();
  const snapshotBytes: number[] = [];
  for (const r of rs) {
    const { schedule, reports } = histories.get(r.slug)!;
    const m = RetailerMonitor.fresh(r.slug, T0 + r.offsetMs); // first seen one period before its first run
    m.setOverrides({ ...SETTINGS.get(method)!, timezone: r.timezone, staleAfterMs: staleAfterFor(r) });
    if (method === 'mean7') m.useLegacyRules();
    else {
      // As the workflow does (behind its patches): the Schedule is described when the rules ask.
      m.enableMissedRun(true);
      if (openRunCheck) m.enableOpenRunCheck();
    }
    const mean = method === 'mean7' ? new Mean7() : undefined;
    const take = (alerts: AlertEvent[]) => {
      for (const a of alerts) {
        if (!a.silenced) notifications.set(r.slug, (notifications.get(r.slug) ?? 0) + 1);
        if (!a.silenced && a.rule === 'missed_run') notifications.set(`${r.slug}:missed_run`, (notifications.get(`${r.slug}:missed_run`) ?? 0) + 1);
        if (a.kind !== 'fire') continue;
        const fire: Fire = { retailer: r.slug, rule: a.rule, at: a.at };
        if (a.rule === 'missed_run') fire.expectedAt = a.figures.expectedRunAt;
        if (a.rule === 'run_duration' && a.figures.runStartedAt !== undefined) fire.openRun = true;
        fires.push(fire);
      }
    };
    // The workflow's schedule loop: every describe the rules want, answered with the facts at `now`.
    const describe = (now: number) => {
      for (let req = m.scheduleRequest(), n = 0; req && n < 5; req = m.scheduleRequest(), n++) take(m.applyScheduleFacts(req, factsAt(schedule, now), now));
    };
    const timersUntil = (t: number) => {
      for (let due = m.nextDeadline(); due !== undefined && due <= t; due = m.nextDeadline()) {
        take(m.evaluateTimers(due));
        describe(due);
        if (m.nextDeadline() === due) break;
      }
    };
    describe(T0 + r.offsetMs); // the start-up lookup of the templated Schedule id
    for (const report of reports) {
      const at = Date.parse(report.finishedAt);
      timersUntil(at);
      take(m.applyReport(report, at).alerts);
      describe(at);
      for (const rule of mean?.judge(report, at) ?? []) {
        fires.push({ retailer: r.slug, rule, at });
        notifications.set(r.slug, (notifications.get(r.slug) ?? 0) + 1);
      }
    }
    timersUntil(END);
    snapshotBytes.push(JSON.stringify(m.snapshot()).length);
  }
  return { fires, notifications, snapshotBytes };
}

export interface KindFigures {
  kind: IncidentKind;
  incidents: number;
  detected: number;
  /** Fires of the rules that see this kind: true (matched an incident) and false. */
  truePositives: number;
  falsePositives: number;
}

export interface MethodFigures {
  method: Method;
  kinds: KindFigures[];
  /** Over the run-judging rules (sku_drop, promo_drop, run_duration). */
  precision: number;
  recall: number;
  /** False fires of those rules in weeks 1–3 (cold start) and 4–6. */
  falseEarly: number;
  falseLate: number;
  /** Notifications (fire + resolve, every rule) the flapping retailer r12 sent … */
  flappingNotifications: number;
  /** … and of those, missed_run's (its long Monday runs). */
  flappingMissedRunNotifications: number;
  /** Largest snapshot (what a continue-as-new carries), bytes. */
  maxSnapshotBytes: number;
  /** The missed-run incidents as `missed_run` sees them (undefined: the method has no such rule). */
  missedRun?: MissedRunFigures;
  /** … and as `stale` alone sees them (every method). */
  staleMissed: MissedRunFigures;
  /** run_duration fired for runs still open (the Schedule showed them running). */
  openRun: OpenRunFigures;
}

/** How one rule saw the missed-run incidents. */
export interface MissedRunFigures {
  rule: RuleId;
  incidents: number;
  /** A fire between the first expected run that never reported and two periods after the gap. */
  detected: number;
  /** … of those, fired before the next expected run after the first missed one. */
  beforeNextRun: number;
  /** Fires of the rule matching no missed run (for `stale`: no missed run and no flapping retailer). */
  falsePositives: number;
  /** missed_run only: false fires whose expected run was running (reported later than usual + grace) … */
  falseWhileRunning: number;
  /** … of which on the injected duration spikes. */
  falseOnSpikes: number;
  /** Minutes from the first missed expected time + grace (15 min) to the first fire, per detected incident. */
  delaysMin: number[];
}

export interface OpenRunFigures {
  /** run_duration fires for a run still open, and of those matching no duration spike. */
  fires: number;
  falseFires: number;
  /** Duration spikes first caught while their run was still open … */
  spikesWhileOpen: number;
  /** … and how many minutes before that run's report, each. */
  leadMin: number[];
}

const ratio = (a: number, b: number) => (b === 0 ? 1 : a / b);

export const median = (xs: readonly number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? NaN : s.length % 2 ? s[s.length >> 1]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

/** How `rule` saw the missed-run incidents (see MissedRunFigures). */
function missedRunFigures(rule: RuleId, fires: Fire[], incidents: Injected[], histories: Map<string, History>, after: (i: Injected) => number): MissedRunFigures {
  const slotsOf = (retailer: string) => histories.get(retailer)!.schedule.slots;
  const mine = incidents.filter((i) => i.kind === 'missed_run');
  const sees = (i: Injected) => i.kind === 'missed_run' || (rule === 'stale' && i.kind === 'flapping');
  const ruleFires = fires.filter((f) => f.rule === rule);
  const inWindow = (f: Fire, i: Injected) => f.retailer === i.retailer && f.at >= i.from && f.at <= i.to + after(i);
  const figures: MissedRunFigures = { rule, incidents: mine.length, detected: 0, beforeNextRun: 0, falsePositives: 0, falseWhileRunning: 0, falseOnSpikes: 0, delaysMin: [] };
  for (const i of mine) {
    const slots = slotsOf(i.retailer);
    const k = slots.findIndex((x) => x.at >= i.from);
    const first = ruleFires.filter((f) => inWindow(f, i)).sort((a, b) => a.at - b.at)[0];
    if (!first) continue;
    figures.detected++;
    if (first.at < slots[k + 1]!.at) figures.beforeNextRun++;
    figures.delaysMin.push((first.at - slots[k]!.at - DEFAULT_MISSED_RUN_GRACE_MS) / MIN);
  }
  for (const f of ruleFires) {
    if (incidents.some((i) => sees(i) && inWindow(f, i))) continue;
    figures.falsePositives++;
    const slot = f.expectedAt === undefined ? undefined : slotsOf(f.retailer).find((x) => x.at === f.expectedAt);
    if (!slot || slot.startedAt === undefined || slot.startedAt > f.at || (slot.finishedAt ?? Infinity) <= f.at) continue;
    figures.falseWhileRunning++;
    if (incidents.some((i) => i.kind === 'duration' && i.retailer === f.retailer && slot.at >= i.from && slot.at <= i.to)) figures.falseOnSpikes++;
  }
  return figures;
}

/** run_duration fired for runs still open, against the duration spikes. */
function openRunFigures(fires: Fire[], incidents: Injected[], histories: Map<string, History>, after: (i: Injected) => number): OpenRunFigures {
  const spikes = incidents.filter((i) => i.kind === 'duration');
  const inWindow = (f: Fire, i: Injected) => f.retailer === i.retailer && f.at >= i.from && f.at <= i.to + after(i);
  const open = fires.filter((f) => f.rule === 'run_duration' && f.openRun);
  const figures: OpenRunFigures = { fires: open.length, falseFires: open.filter((f) => !spikes.some((i) => inWindow(f, i))).length, spikesWhileOpen: 0, leadMin: [] };
  for (const i of spikes) {
    const first = fires.filter((f) => f.rule === 'run_duration' && inWindow(f, i)).sort((a, b) => a.at - b.at)[0];
    if (!first?.openRun) continue;
    // The run it fired for: the one of the spike that was running then.
    const run = histories.get(i.retailer)!.schedule.slots.find((x) => x.startedAt !== undefined && x.startedAt <= first.at && (x.finishedAt ?? Infinity) > first.at);
    figures.spikesWhileOpen++;
    if (run?.finishedAt !== undefined) figures.leadMin.push((run.finishedAt - first.at) / MIN);
  }
  return figures;
}

/** The whole evaluation: figures per method. */
export function evaluateRules(): MethodFigures[] {
  const rs = retailers();
  const incidents = injected(rs);
  const histories = new Map(rs.map((r) => [r.slug, historyOf(r, incidents)]));
  const grace = (i: Injected) => rs.find((r) => r.slug === i.retailer)!.periodMs * 2;
  return METHODS.map((method) => {
    const { fires, notifications, snapshotBytes } = runMethod(method, rs, histories);
    const matches = (f: Fire, i: Injected) => f.retailer === i.retailer && SEES.get(i.kind)!.includes(f.rule) && f.at >= i.from && f.at <= i.to + grace(i);
    const kinds = INCIDENT_KINDS.map((kind): KindFigures => {
      const mine = incidents.filter((i) => i.kind === kind);
      const ruleFires = fires.filter((f) => SEES.get(kind)!.includes(f.rule));
      // A fire is true when it matches an injected incident (of any kind its rule sees), false otherwise.
      const tp = ruleFires.filter((f) => mine.some((i) => matches(f, i))).length;
      const fp = ruleFires.filter((f) => !incidents.some((i) => matches(f, i))).length;
      return { kind, incidents: mine.length, detected: mine.filter((i) => fires.some((f) => matches(f, i))).length, truePositives: tp, falsePositives: fp };
    });
    const judged = kinds.filter((k) => k.kind === 'sku_drop' || k.kind === 'promo_drop' || k.kind === 'duration');
    const tp = judged.reduce((a, k) => a + k.truePositives, 0);
    const fp = judged.reduce((a, k) => a + k.falsePositives, 0);
    const runRules: RuleId[] = ['sku_drop', 'promo_drop', 'run_duration'];
    const falseFires = fires.filter((f) => runRules.includes(f.rule) && !incidents.some((i) => matches(f, i)));
    return {
      method,
      kinds,
      precision: ratio(tp, tp + fp),
      recall: ratio(
        judged.reduce((a, k) => a + k.detected, 0),
        judged.reduce((a, k) => a + k.incidents, 0),
      ),
      falseEarly: falseFires.filter((f) => f.at < T0 + 21 * DAY).length,
      falseLate: falseFires.filter((f) => f.at >= T0 + 21 * DAY).length,
      flappingNotifications: notifications.get('r12') ?? 0,
      flappingMissedRunNotifications: notifications.get('r12:missed_run') ?? 0,
      maxSnapshotBytes: Math.max(...snapshotBytes),
      ...(method === 'mean7' ? {} : { missedRun: missedRunFigures('missed_run', fires, incidents, histories, grace) }),
      staleMissed: missedRunFigures('stale', fires, incidents, histories, grace),
      openRun: openRunFigures(fires, incidents, histories, grace),
    };
  });
}
