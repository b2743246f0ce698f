/**
 * Precision / recall of the alert rules on a deterministic synthetic history (used by scripts/bench-rules.ts
 * and test/bench-rules.test.ts). Pure and fast: the real RetailerMonitor, no Temporal, no I/O.
 *
 * History: 20 retailers, 6 weeks, runs every 24 h, 6 h or 4 h, in their own timezones, with weekly
 * seasonality (weekend SKU and promo dips, Monday price updates: more promos and runs twice as long) and
 * noise; 15 injected incidents (5 SKU drops, 3 promo drops, 3 duration spikes, 3 missed-run gaps, 1
 * flapping retailer). Three methods judge the same reports:
 * - `defaults`: the rules as shipped (sku_drop = the story's 7-run mean rule; run_duration on against the
 *   robust seasonal baseline; promo_drop off), stale and consecutive failures as usual;
 * - `robust`: every baseline rule on and the SKU rule with the robust second condition (skuRule
 *   'drop-pct-and-robust', promo_drop on);
 * - `mean7`: the plain mean of the last 7 successful, non-flagged runs for every metric (SKU 30% below,
 *   promos 50% below, duration 100% and 5 min above: the same percentages as the robust rules), i.e. the
 *   engine before the baselines (legacy rules) plus mean-based promo and duration rules.
 */
import { weekdayIn } from '../src/rules/baselines';
import { RetailerMonitor } from '../src/rules/retailer-monitor';
import { HOUR_MS, type ThresholdOverrides } from '../src/rules/thresholds';
import type { AlertEvent, RuleId } from '../src/rules/types';
import type { RunReport } from '../src/shared/report';

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
    { retailer: 'r14', kind: 'missed_run', from: at(30), to: at(32, 12) },
    { retailer: 'r16', kind: 'missed_run', from: at(36), to: at(36, 10) },
    { retailer: 'r12', kind: 'flapping', from: at(31), to: at(33) },
  ];
}

/** The stale threshold each retailer is given (every method): 1.5 schedule periods, at least the default 4 h. */
export const staleAfterFor = (r: Retailer) => Math.max(4 * HOUR_MS, Math.round(r.periodMs * 1.5));

interface Fire {
  retailer: string;
  rule: RuleId;
  at: number;
}

/** The reports of one retailer over the six weeks, incidents applied (missed runs leave gaps). */
function reportsOf(r: Retailer, incidents: Injected[]): RunReport[] {
  const rnd = prng(r.slug.charCodeAt(1) * 100 + r.slug.charCodeAt(2));
  const mine = incidents.filter((i) => i.retailer === r.slug);
  const out: RunReport[] = [];
  let n = 0;
  let flap = 0;
  for (let finished = T0 + r.offsetMs + r.periodMs; finished < END; finished += r.periodMs) {
    const hit = (kind: IncidentKind) => mine.find((i) => i.kind === kind && finished >= i.from && finished <= i.to);
    if (hit('missed_run')) continue;
    const wd = weekdayIn(finished, r.timezone);
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
    out.push({
      runId: `${r.slug}-${++n}`,
      retailer: r.slug,
      status: failing ? 'failure' : 'success',
      startedAt: new Date(finished - Math.round(duration)).toISOString(),
      finishedAt: new Date(finished).toISOString(),
      ...(failing ? { error: 'HTTP 503' } : { skuCount: Math.round(sku), promoCount: Math.round(promo) }),
    });
  }
  return out;
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
function runMethod(method: Method, rs: Retailer[], incidents: Injected[]): { fires: Fire[]; notifications: Map<string, number>; snapshotBytes: number[] } {
  const fires: Fire[] = [];
  const notifications = new Map<string, number>();
  const snapshotBytes: number[] = [];
  for (const r of rs) {
    const m = RetailerMonitor.fresh(r.slug, T0 + r.offsetMs); // first seen one period before its first run
    m.setOverrides({ ...SETTINGS.get(method)!, timezone: r.timezone, staleAfterMs: staleAfterFor(r) });
    if (method === 'mean7') m.useLegacyRules();
    const mean = method === 'mean7' ? new Mean7() : undefined;
    const take = (alerts: AlertEvent[]) => {
      for (const a of alerts) {
        if (!a.silenced) notifications.set(r.slug, (notifications.get(r.slug) ?? 0) + 1);
        if (a.kind === 'fire') fires.push({ retailer: r.slug, rule: a.rule, at: a.at });
      }
    };
    const timersUntil = (t: number) => {
      for (let due = m.nextDeadline(); due !== undefined && due <= t; due = m.nextDeadline()) {
        take(m.evaluateTimers(due));
        if (m.nextDeadline() === due) break;
      }
    };
    for (const report of reportsOf(r, incidents)) {
      const at = Date.parse(report.finishedAt);
      timersUntil(at);
      take(m.applyReport(report, at).alerts);
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
  /** Notifications (fire + resolve, every rule) the flapping retailer r12 sent. */
  flappingNotifications: number;
  /** Largest snapshot (what a continue-as-new carries), bytes. */
  maxSnapshotBytes: number;
}

const ratio = (a: number, b: number) => (b === 0 ? 1 : a / b);

/** The whole evaluation: figures per method. */
export function evaluateRules(): MethodFigures[] {
  const rs = retailers();
  const incidents = injected(rs);
  const grace = (i: Injected) => rs.find((r) => r.slug === i.retailer)!.periodMs * 2;
  return METHODS.map((method) => {
    const { fires, notifications, snapshotBytes } = runMethod(method, rs, incidents);
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
      maxSnapshotBytes: Math.max(...snapshotBytes),
    };
  });
}
