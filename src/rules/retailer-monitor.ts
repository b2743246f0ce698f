/**
 * The decision logic of one retailer's monitor: its state, the three alert rules and incident bookkeeping.
 * Pure (no Temporal imports, no clock, no I/O): every method takes `now` from its caller, so the workflow
 * passes workflow time and tests pass whatever they like. Methods return the alert events to deliver.
 */
import type { RunReport } from '../shared/report';
import { BASELINE_RULE_METRIC, durationVerdict, promoVerdict, skuRobust, warmUpSku, type BaselineVerdict, type RuleInput } from './baseline-rules';
import { baselineSettings, type BaselineSettings } from './baseline-settings';
import { rebuildSamples, sampleOf, seedSamples, type StoredBaselineRun } from './baseline-samples';
import { BASELINE_METRICS, baselineAt, describeBaseline, excludeSample, recordSample, reindexWeekdays, weekdayIn, type BaselineMetric, type BaselineSample, type ExclusionReason } from './baselines';
import { flapControlOn, flappingSummary, flapSettings, pruneFires, quietDeadline, recordFire, stoppedFlappingSummary } from './flapping';
import { isInWindow, MAX_WINDOWS, nextBoundary, windowActive, windowOver, type MaintenanceWindow } from './maintenance';
import {
  deferredMissedRun,
  freshMissedRun,
  graceText,
  missedRunDeadline,
  missedRunGraceMs,
  missedRunRequest,
  missedRunView,
  onMissedRunReport,
  onMissedRunTimer,
  onScheduleFacts,
  onScheduleFactsFailed,
  RECHECK_MIN_MS,
  typicalDurationMs,
  type MissedRunState,
  type ScheduleFacts,
  type ScheduleRequest,
} from './missed-run';
import { isWatchedRun, onOpenRunFacts, onOpenRunFactsFailed, openRunDeadline, openRunDue, type OpenRunState } from './open-run';
import { DEFAULT_THRESHOLDS, HOUR_MS, resolveThresholds, type ThresholdOverrides, type Thresholds } from './thresholds';
import type {
  AlertEvent,
  AlertFigures,
  AlertKind,
  BaselineView,
  Health,
  Incident,
  Rejection,
  RetailerDetail,
  RetailerSnapshot,
  RetailerState,
  RetailerStatus,
  RuleId,
  RunSummary,
  Silence,
} from './types';

/** What the state remembers. Per retailer it stays a few KiB whatever the history (docs/benchmarks.md). */
export const KEEP = {
  recentRuns: 10,
  /** Duplicate detection window: 200 runs is over a week of hourly runs; Postgres dedupes rows beyond it. */
  recentRunIds: 200,
  /** Error text kept in recent runs (the full, already cut text is in Postgres). */
  recentRunErrorChars: 300,
  recentRejections: 20,
  recentAlerts: 20,
} as const;

export type ApplyOutcome = 'accepted' | 'duplicate' | 'out_of_order';

export interface ApplyResult {
  outcome: ApplyOutcome;
  run?: RunSummary;
  alerts: AlertEvent[];
}

/** What Postgres remembers of a retailer, for a monitor started fresh (see the restoreRetailer activity). */
export interface RetailerRestore {
  firstSeenAt?: number;
  lastSuccessAt?: number;
  lastSuccessRunId?: string;
  consecutiveFailures: number;
  recentRuns: RunSummary[];
  skuBaseline: number[];
  recentRunIds: string[];
  openIncidents: Incident[];
  incidentSeq: number;
  actionSeq: number;
  overrides?: ThresholdOverrides;
  silences: Silence[];
  totals: { runs: number; failures: number; outOfOrder: number };
  /** The retailer's own maintenance windows (from `retailer_status.settings`). */
  maintenance?: MaintenanceWindow[];
  /**
   * The successful, in-order runs of the baseline window and the 6 weeks before it (REBUILD_WINDOW), with
   * what keeps each out of a baseline: the robust-baseline samples are rebuilt from them. Absent from
   * workers before it (the samples are then seeded from `recentRuns`).
   */
  baselineRuns?: StoredBaselineRun[];
}

const RULE_ORDER: readonly RuleId[] = ['consecutive_failures', 'sku_drop', 'stale', 'promo_drop', 'run_duration', 'missed_run'];

/** Events that stand for "held open as flapping": no notification; filtered out before they leave the engine. */
const HELD_MARKERS = new WeakSet<AlertEvent>();
const sendable = (alerts: AlertEvent[]) => alerts.filter((a) => !HELD_MARKERS.has(a));

function pushBounded<T>(list: T[], item: T, max: number): void {
  list.push(item);
  if (list.length > max) list.splice(0, list.length - max);
}

/** A retailer with no runs, incidents or settings yet. */
export function freshRetailer(retailer: string, firstSeenAt: number): RetailerState {
  return {
    retailer,
    firstSeenAt,
    consecutiveFailures: 0,
    skuBaseline: [],
    recentRuns: [],
    recentRunIds: [],
    incidents: [],
    silences: [],
    totals: { runs: 0, failures: 0, outOfOrder: 0 },
    baselineSamples: [],
  };
}

/** Optional facts about a report that the rules do not read from the report itself. */
export interface ApplyOptions {
  /** The run finished inside a maintenance window: its values never enter a baseline. */
  inMaintenance?: boolean;
}

export function emptyRetailerSnapshot(retailer: string, now: number, defaults: Thresholds = DEFAULT_THRESHOLDS): RetailerSnapshot {
  return {
    version: 2,
    defaults: { ...defaults },
    retailer: freshRetailer(retailer, now),
    incidentSeq: 0,
    actionSeq: 0,
    counters: { accepted: 0, rejected: 0, duplicates: 0, outOfOrder: 0 },
    recentRejections: [],
    recentAlerts: [],
  };
}

/** The copy of a run kept in recent runs: the error cut short (at a code point; the full text is in Postgres). */
function forRecent(run: RunSummary): RunSummary {
  if (!run.error || run.error.length <= KEEP.recentRunErrorChars) return run;
  return { ...run, error: `${Array.from(run.error).slice(0, KEEP.recentRunErrorChars - 1).join('')}…` };
}

const round1 = (n: number) => Math.round(n * 10) / 10;
const round2 = (n: number) => Math.round(n * 100) / 100;

/** "4 h", "4.5 h", "3 min": short thresholds (demos, tests) must not read as "0 h". */
export function humanDuration(ms: number): string {
  return ms < HOUR_MS ? `${Math.round(ms / 60_000)} min` : `${round1(ms / HOUR_MS)} h`;
}

function reportFromRun(run: RunSummary): RunReport {
  const iso = (ms: number) => new Date(ms).toISOString();
  return {
    runId: run.runId,
    retailer: run.retailer,
    status: run.status,
    startedAt: iso(run.startedAt),
    finishedAt: iso(run.finishedAt),
    skuCount: run.skuCount ?? (run.status === 'success' ? 0 : undefined),
    promoCount: run.promoCount,
    lastScrapeAt: run.lastScrapeAt === undefined ? undefined : iso(run.lastScrapeAt),
    error: run.error,
    schedule: run.schedule,
    workflowId: run.workflowId,
    workflowRunId: run.workflowRunId,
  };
}

export class RetailerMonitor {
  private readonly s: RetailerSnapshot;
  private readonly seenRunIds: Set<string>;
  /** Thresholds resolved once per change, not on every report or deadline computation. */
  private resolved: Thresholds;
  private baseline: BaselineSettings;
  /**
   * Rules as before the robust baselines (no promo_drop / run_duration, no SKU warm-up hold, no robust
   * figures): for a workflow run whose history began before them (see BASELINES_PATCH). Not in the snapshot.
   */
  private legacy = false;
  /** Flap control applies (off only for workflow histories recorded before it existed). */
  private flapControl = true;
  /** The latest `now` a caller gave (for nextDeadline called without one). */
  private lastNow = 0;
  /** The missed-run rule runs only where the workflow turned it on (behind its patch); not state. */
  private missedRunOn = false;
  /** run_duration also judges a run still open (behind its patch; needs the missed-run rule's describes); not state. */
  private openRunOn = false;

  constructor(snapshot: RetailerSnapshot) {
    // Deep copy so a snapshot handed in (workflow input, test fixture) is never mutated behind its owner.
    this.s = JSON.parse(JSON.stringify(snapshot)) as RetailerSnapshot;
    this.seenRunIds = new Set(this.s.retailer.recentRunIds);
    this.resolved = resolveThresholds(this.s.defaults, this.s.retailer.overrides);
    this.baseline = baselineSettings(this.resolved);
    this.s.retailer.baselineSamples ??= seedSamples(this.s.retailer.recentRuns, this.baseline.timezone);
  }

  /** Judge reports with the rules of before the robust baselines (samples are still recorded). */
  useLegacyRules(): void {
    this.legacy = true;
  }

  private get samples(): BaselineSample[] {
    return (this.s.retailer.baselineSamples ??= []);
  }

  /** Thresholds changed: resolve them again; a new timezone re-buckets the samples by weekday. */
  private resolve(): void {
    const zone = this.baseline.timezone;
    this.resolved = resolveThresholds(this.s.defaults, this.s.retailer.overrides);
    this.baseline = baselineSettings(this.resolved);
    if (this.baseline.timezone !== zone) reindexWeekdays(this.samples, this.baseline.timezone);
  }

  /**
   * Keep a run's values out of every baseline (for a run that turned out to be in a maintenance window, or
   * acknowledged as bad). False when the run is not among the samples (too old, a failure, unknown).
   */
  excludeRun(runId: string, reason: ExclusionReason, metrics?: readonly BaselineMetric[]): boolean {
    return excludeSample(this.samples, runId, reason, metrics);
  }

  static fresh(retailer: string, now: number, defaults?: Thresholds): RetailerMonitor {
    return new RetailerMonitor(emptyRetailerSnapshot(retailer, now, defaults));
  }

  get id(): string {
    return this.s.retailer.retailer;
  }

  get counters() {
    return this.s.counters;
  }

  get thresholds(): Thresholds {
    return this.resolved;
  }

  /** Plain-JSON copy of the whole state (for continue-as-new). */
  snapshot(): RetailerSnapshot {
    return JSON.parse(JSON.stringify(this.s)) as RetailerSnapshot;
  }

  /**
   * Take over what Postgres remembers (a monitor started fresh after a termination, or the first start of
   * this version over the single monitor's data). Open incidents keep their ids and are not announced again.
   */
  restore(restored: RetailerRestore): void {
    const from = JSON.parse(JSON.stringify(restored)) as RetailerRestore;
    const r = this.s.retailer;
    if (from.firstSeenAt !== undefined) r.firstSeenAt = Math.min(r.firstSeenAt, from.firstSeenAt);
    r.lastSuccessAt = from.lastSuccessAt;
    r.lastSuccessRunId = from.lastSuccessRunId;
    r.consecutiveFailures = from.consecutiveFailures;
    r.recentRuns = from.recentRuns.slice(-KEEP.recentRuns).map(forRecent);
    r.lastRun = r.recentRuns[r.recentRuns.length - 1];
    r.skuBaseline = from.skuBaseline.slice(-100);
    r.recentRunIds = from.recentRunIds.slice(-KEEP.recentRunIds);
    for (const id of r.recentRunIds) this.seenRunIds.add(id);
    r.incidents = [];
    for (const rule of RULE_ORDER) {
      const inc = from.openIncidents.find((i) => i.rule === rule);
      if (inc) r.incidents.push({ ...inc, announced: inc.announced ?? true });
    }
    r.overrides = from.overrides;
    r.silences = from.silences;
    if (from.maintenance?.length) r.maintenance = from.maintenance.slice(-MAX_WINDOWS);
    r.totals = { ...from.totals };
    this.s.incidentSeq = Math.max(this.s.incidentSeq, from.incidentSeq);
    this.s.actionSeq = Math.max(this.s.actionSeq, from.actionSeq);
    this.resolve();
    // The baseline window's stored runs give the samples back; without them (an older worker's answer) the
    // restored recent runs seed them and the baselines re-learn from there.
    if (this.samples.length === 0) {
      r.baselineSamples = from.baselineRuns?.length ? rebuildSamples(from.baselineRuns, this.baseline.timezone) : seedSamples(r.recentRuns, this.baseline.timezone);
    }
  }

  recordRejection(rejection: Rejection): void {
    this.s.counters.rejected++;
    pushBounded(this.s.recentRejections, rejection, KEEP.recentRejections);
  }

  isDuplicate(runId: string): boolean {
    return this.seenRunIds.has(runId);
  }

  private incident(rule: RuleId): Incident | undefined {
    return this.s.retailer.incidents.find((i) => i.rule === rule);
  }

  /** Apply one validated report of this retailer received at `now`. */
  applyReport(report: RunReport, now: number, opts: ApplyOptions = {}): ApplyResult {
    const r = this.s.retailer;
    if (report.retailer !== r.retailer) throw new RangeError(`report for ${report.retailer} sent to the monitor of ${r.retailer}`);
    if (this.seenRunIds.has(report.runId)) {
      this.s.counters.duplicates++;
      return { outcome: 'duplicate', alerts: [] };
    }
    this.seenRunIds.add(report.runId);
    r.recentRunIds.push(report.runId);
    for (const gone of r.recentRunIds.splice(0, Math.max(0, r.recentRunIds.length - KEEP.recentRunIds))) this.seenRunIds.delete(gone);

    const run: RunSummary = {
      runId: report.runId,
      retailer: report.retailer,
      status: report.status,
      startedAt: Date.parse(report.startedAt),
      // A reporter's clock ahead of ours must not push the stale deadline into the future.
      finishedAt: Math.min(Date.parse(report.finishedAt), now),
      receivedAt: now,
      skuCount: report.skuCount,
      promoCount: report.promoCount,
      lastScrapeAt: report.lastScrapeAt === undefined ? undefined : Date.parse(report.lastScrapeAt),
      error: report.error,
      schedule: report.schedule,
      workflowId: report.workflowId,
      workflowRunId: report.workflowRunId,
    };
    this.lastNow = Math.max(this.lastNow, now);
    if (this.inMaintenance(run.finishedAt)) run.inMaintenance = true;
    r.totals.runs++;
    if (run.status === 'failure') r.totals.failures++;

    if (r.lastRun && run.finishedAt < r.lastRun.finishedAt) {
      run.outOfOrder = true;
      r.totals.outOfOrder++;
      this.s.counters.outOfOrder++;
      pushBounded(r.recentRuns, forRecent(run), KEEP.recentRuns);
      return { outcome: 'out_of_order', run, alerts: [] };
    }

    this.s.counters.accepted++;
    const t = this.resolved;
    const alerts: AlertEvent[] = [];
    r.lastRun = run;

    if (run.status === 'failure') {
      r.consecutiveFailures++;
      const open = this.incident('consecutive_failures');
      if (r.consecutiveFailures >= t.failureStreak && !open) {
        const figures: AlertFigures = { failureStreak: r.consecutiveFailures, lastError: run.error, lastSuccessAt: r.lastSuccessAt };
        const error = run.error ? ` (last error: ${Array.from(run.error).slice(0, 200).join('')})` : '';
        alerts.push(this.open('consecutive_failures', now, `${r.retailer}: ${r.consecutiveFailures} consecutive failed runs${error}`, figures, run));
      } else if (open) {
        // Keep the open incident's figures current for queries and re-notifications.
        open.figures.failureStreak = r.consecutiveFailures;
        open.figures.lastError = run.error;
      }
    } else {
      const streak = r.consecutiveFailures;
      r.consecutiveFailures = 0;
      r.lastSuccessAt = Math.max(r.lastSuccessAt ?? 0, run.finishedAt);
      r.lastSuccessRunId = run.runId;
      if (this.incident('consecutive_failures')) {
        alerts.push(this.close('consecutive_failures', now, `${r.retailer}: run ${run.runId} succeeded after ${streak} failed runs`, run));
      }
      if (this.incident('stale')) alerts.push(this.close('stale', now, `${r.retailer}: fresh data again — run ${run.runId} succeeded`, run));
      alerts.push(...this.evaluateSku(run, t, now));
      if (!this.legacy) alerts.push(...this.evaluateBaselineRules(run, now));
      recordSample(this.samples, sampleOf(this.samples, run, this.baseline.timezone, opts.inMaintenance || run.inMaintenance));
    }
    alerts.push(...this.openRunReport(run, now));
    alerts.push(...this.missedRunReport(run, now));
    pushBounded(r.recentRuns, forRecent(run), KEEP.recentRuns);
    return { outcome: 'accepted', run, alerts: sendable(alerts) };
  }

  private evaluateSku(run: RunSummary, t: Thresholds, now: number): AlertEvent[] {
    const r = this.s.retailer;
    const sku = run.skuCount ?? 0;
    const baseline = r.skuBaseline.slice(-t.skuWindow);
    const avg = baseline.length >= t.skuMinSamples ? baseline.reduce((a, b) => a + b, 0) / baseline.length : undefined;
    const floor = avg === undefined ? undefined : avg * (1 - t.skuDropPct / 100);
    let dropped = floor !== undefined && sku < floor;
    const alerts: AlertEvent[] = [];
    const figures: AlertFigures = {
      skuCount: sku,
      trailingAverage: avg === undefined ? undefined : round1(avg),
      dropPct: avg ? round1(((avg - sku) / avg) * 100) : undefined,
      skuDropPct: t.skuDropPct,
    };
    // The robust view only matters for an alert (a drop, or an open incident's figures): not computed otherwise.
    const open0 = this.incident('sku_drop');
    const robust = this.legacy || (!dropped && !open0) ? undefined : skuRobust(this.samples, sku, run.finishedAt, weekdayIn(run.finishedAt, this.baseline.timezone), this.baseline);
    if (robust) Object.assign(figures, robust.figures);
    // 'drop-pct-and-robust': a noisy retailer's drop must also be far from its robust baseline.
    if (dropped && this.baseline.skuRule === 'drop-pct-and-robust' && !robust?.far) dropped = false;
    if (avg === undefined && !this.legacy) {
      const warm = warmUpSku(baseline, sku, t.skuDropPct, this.heldWarmUpRuns(), t.skuMinSamples);
      r.skuBaseline = warm.baseline;
      if (warm.held) {
        run.skuDrop = true; // flagged, kept out of the average; the rule cannot fire during warm-up
        return alerts;
      }
      const open = this.incident('sku_drop');
      if (open) alerts.push(this.close('sku_drop', now, `${r.retailer}: SKU count back to ${sku} (trailing average n/a)`, run));
      return alerts;
    }
    const open = this.incident('sku_drop');
    if (dropped) {
      run.skuDrop = true;
      if (!open) {
        const why = robust ? `; ${robust.text}` : '';
        const summary = `${r.retailer}: SKU count ${sku} is ${figures.dropPct}% below the trailing average of ${figures.trailingAverage} (threshold ${t.skuDropPct}%)${why}`;
        alerts.push(this.open('sku_drop', now, summary, figures, run));
      } else {
        open.figures = figures;
      }
      return alerts; // a dropped run never joins the baseline
    }
    if (open) {
      alerts.push(this.close('sku_drop', now, `${r.retailer}: SKU count back to ${sku} (trailing average ${figures.trailingAverage ?? 'n/a'})`, run));
    }
    // A run inside a maintenance window never trains the baseline.
    if (!run.inMaintenance) r.skuBaseline = [...baseline, sku].slice(-t.skuWindow);
    return alerts;
  }

  /** SKU counts of the warm-up runs held out just before this one (successes, oldest first). */
  private heldWarmUpRuns(): number[] {
    const held: number[] = [];
    for (const run of [...this.s.retailer.recentRuns].reverse()) {
      if (run.status !== 'success' || run.outOfOrder) continue;
      if (!run.skuDrop || run.skuCount === undefined) break;
      held.unshift(run.skuCount);
    }
    return held;
  }

  /** promo_drop and run_duration (each on/off per retailer): open, update or resolve their incidents. */
  private evaluateBaselineRules(run: RunSummary, now: number): AlertEvent[] {
    const input: RuleInput = { retailer: this.id, samples: this.samples, run, wd: weekdayIn(run.finishedAt, this.baseline.timezone), settings: this.baseline };
    const alerts: AlertEvent[] = [];
    const rules: Array<[RuleId, boolean, (i: RuleInput) => BaselineVerdict | undefined, 'promoDrop' | 'longRun']> = [
      ['promo_drop', this.baseline.promoDrop, promoVerdict, 'promoDrop'],
      ['run_duration', this.baseline.runDuration, durationVerdict, 'longRun'],
    ];
    for (const [rule, on, judge, flag] of rules) {
      const open = this.incident(rule);
      if (!on) {
        if (open) alerts.push(this.close(rule, now, `${this.id}: rule ${rule} turned off`, run));
        continue;
      }
      const verdict = judge(input);
      if (!verdict) continue; // no figure or no baseline yet: an open incident stays as it is
      // Opened for a run still open (./open-run.ts): another run's normal duration does not resolve it.
      if (!verdict.anomalous && open && rule === 'run_duration' && this.openRunHolds(open, run)) continue;
      if (verdict.anomalous) {
        run[flag] = true;
        if (!open) alerts.push(this.open(rule, now, verdict.summary, verdict.figures, run));
        else open.figures = verdict.figures;
      } else if (open) {
        alerts.push(this.close(rule, now, verdict.summary, run));
      }
    }
    return alerts;
  }

  /** When the stale rule would fire (ms), based on the last success or first sighting. */
  staleDeadline(): number {
    const r = this.s.retailer;
    return (r.lastSuccessAt ?? r.firstSeenAt) + this.resolved.staleAfterMs;
  }

  /** The earliest moment something time-driven is due (stale fire, re-notify, silence expiry), if any. */
  nextDeadline(now?: number): number | undefined {
    const r = this.s.retailer;
    const due: number[] = [];
    if (!this.incident('stale')) due.push(this.staleDeadline());
    const every = this.resolved.renotifyEveryMs;
    if (every > 0) for (const inc of r.incidents) if (!inc.acknowledged) due.push(inc.lastNotifiedAt + every);
    for (const s of r.silences) due.push(s.until);
    const boundary = nextBoundary(this.maintenanceWindows(), Math.max(now ?? 0, this.lastNow));
    if (boundary !== undefined) due.push(boundary);
    for (const inc of r.held ?? []) {
      const quiet = quietDeadline(inc, flapSettings(this.resolved));
      if (quiet !== undefined) due.push(quiet);
    }
    const missed = this.missedRun();
    const missedDue = missed && missedRunDeadline(missed, missedRunGraceMs(this.resolved), typicalDurationMs(r.recentRuns));
    if (missedDue !== undefined) due.push(missedDue);
    const openRunAt = this.openRunWatch() && !missed?.need ? openRunDeadline(r.openRun) : undefined;
    if (openRunAt !== undefined) due.push(openRunAt);
    return due.length ? Math.min(...due) : undefined;
  }

  /** Fire everything time-driven that is due at `now`; announce incidents whose silence has ended. */
  evaluateTimers(now: number): AlertEvent[] {
    const r = this.s.retailer;
    const t = this.resolved;
    const alerts: AlertEvent[] = [];
    this.lastNow = Math.max(this.lastNow, now);
    r.silences = r.silences.filter((s) => s.until > now);
    if (r.flaps) r.flaps = pruneFires(r.flaps, now, flapSettings(t));
    alerts.push(...this.closeQuietFlapping(now));
    // Every incident that fired silenced and that no silence covers any more is announced now (at most once).
    alerts.push(...this.announceUnsilenced(now));
    const stale = this.incident('stale');
    if (!stale && now >= this.staleDeadline()) {
      const since = r.lastSuccessAt ?? r.firstSeenAt;
      const figures: AlertFigures = {
        lastSuccessAt: r.lastSuccessAt,
        hoursSinceSuccess: round2((now - since) / HOUR_MS),
        staleAfterHours: round2(t.staleAfterMs / HOUR_MS),
        failureStreak: r.consecutiveFailures,
      };
      const summary = r.lastSuccessAt
        ? `${r.retailer}: no successful run for ${humanDuration(now - since)} (threshold ${humanDuration(t.staleAfterMs)})`
        : `${r.retailer}: no successful run since it was first seen ${humanDuration(now - since)} ago (threshold ${humanDuration(t.staleAfterMs)})`;
      alerts.push(this.open('stale', now, summary, figures, r.lastRun));
    } else if (stale) {
      stale.figures.hoursSinceSuccess = round2((now - (r.lastSuccessAt ?? r.firstSeenAt)) / HOUR_MS);
    }
    this.missedRunTimer(now);
    this.openRunTimer(now);
    if (t.renotifyEveryMs > 0) {
      for (const inc of r.incidents) {
        if (!inc.acknowledged && now >= inc.lastNotifiedAt + t.renotifyEveryMs) {
          // Keep to the schedule (fired → +R → +2R) when this runs a little late; restart it after a long outage.
          const scheduled = inc.lastNotifiedAt + t.renotifyEveryMs;
          inc.lastNotifiedAt = now - scheduled < t.renotifyEveryMs ? scheduled : now;
          inc.notifyCount++;
          alerts.push(this.event(inc, 'renotify', now, `${inc.summary} (still open, reminder ${inc.notifyCount - 1})`));
        }
      }
    }
    // One-off windows that are over go (after the announcements above, which name the window).
    if (r.maintenance?.some((w) => windowOver(w, now))) r.maintenance = r.maintenance.filter((w) => !windowOver(w, now));
    return sendable(alerts);
  }

  /** Open incidents whose fire went out silenced and that no silence covers any more: announce them now. */
  private announceUnsilenced(now: number): AlertEvent[] {
    const out: AlertEvent[] = [];
    for (const inc of this.allOpen()) {
      if (inc.announced || this.isSilenced(inc.rule, now)) continue;
      inc.notifyCount++;
      inc.lastNotifiedAt = now;
      const why = isInWindow(this.maintenanceWindows(), inc.openedAt) ? 'maintenance window ended' : 'silence ended';
      out.push(this.event(inc, 'fire', now, `${inc.summary} (${why}; still open)`));
    }
    return out;
  }

  private open(rule: RuleId, now: number, summary: string, figures: AlertFigures, run?: Pick<RunSummary, 'runId' | 'workflowId' | 'workflowRunId'>): AlertEvent {
    const r = this.s.retailer;
    const t = flapSettings(this.resolved);
    const held = r.held?.find((i) => i.rule === rule);
    if (held) return this.refireHeld(held, figures, now);
    const fires = this.flapControl && flapControlOn(t) ? recordFire((r.flaps ??= []), rule, now, t) : 0;
    const flapping = fires >= t.flapCount && flapControlOn(t);
    if (flapping) {
      summary = `${r.retailer}: ${flappingSummary(summary, rule, fires, t)}`;
      figures = { ...figures, flips: fires };
    }
    const inc: Incident = {
      id: `${r.retailer}/${rule}/${++this.s.incidentSeq}`,
      retailer: r.retailer,
      rule,
      openedAt: now,
      lastNotifiedAt: now,
      notifyCount: 1,
      summary,
      figures,
      runId: run?.runId,
      workflowId: run?.workflowId,
      workflowRunId: run?.workflowRunId,
      announced: false,
      ...(flapping ? { flapping: { since: now, flips: fires } } : {}),
    };
    r.incidents.push(inc);
    return this.event(inc, 'fire', now, summary);
  }

  private close(rule: RuleId, now: number, summary: string, run?: RunSummary): AlertEvent {
    const r = this.s.retailer;
    const inc = this.incident(rule)!;
    r.incidents = r.incidents.filter((i) => i !== inc);
    if (inc.flapping && this.flapControl) return this.hold(inc, now);
    return this.event(inc, 'resolve', now, summary, run);
  }

  // ---- flap control (decisions in ./flapping.ts) ------------------------------------------------

  setFlapControl(on: boolean): void {
    this.flapControl = on;
  }

  /** A flapping incident's condition cleared: keep it open, out of the rules' way, until it stays quiet. */
  private hold(inc: Incident, now: number): AlertEvent {
    const r = this.s.retailer;
    inc.flapping = { ...inc.flapping!, clearedAt: now };
    (r.held ??= []).push(inc);
    return this.heldMarker(inc, now);
  }

  /** The condition of a held flapping incident holds again: the same incident continues, nothing is sent. */
  private refireHeld(inc: Incident, figures: AlertFigures, now: number): AlertEvent {
    const r = this.s.retailer;
    r.held = (r.held ?? []).filter((i) => i !== inc);
    const flips = (inc.flapping?.flips ?? 0) + 1;
    inc.flapping = { since: inc.flapping?.since ?? now, flips };
    inc.figures = { ...figures, flips };
    r.incidents.push(inc);
    return this.heldMarker(inc, now);
  }

  private heldMarker(inc: Incident, now: number): AlertEvent {
    const marker: AlertEvent = { eventId: `${inc.id}/held`, incidentId: inc.id, kind: 'renotify', retailer: inc.retailer, rule: inc.rule, at: now, openedAt: inc.openedAt, summary: inc.summary, figures: {} };
    HELD_MARKERS.add(marker);
    return marker;
  }

  /** Held flapping incidents whose condition stayed clear for the quiet period resolve now. */
  private closeQuietFlapping(now: number): AlertEvent[] {
    const r = this.s.retailer;
    const out: AlertEvent[] = [];
    for (const inc of r.held ?? []) {
      const quiet = quietDeadline(inc, flapSettings(this.resolved));
      if (quiet === undefined || now < quiet) continue;
      r.held = r.held!.filter((i) => i !== inc);
      out.push(this.event(inc, 'resolve', now, stoppedFlappingSummary(r.retailer, inc, flapSettings(this.resolved))));
    }
    return out;
  }

  /** Open incidents, held flapping ones included. */
  private allOpen(): Incident[] {
    return [...this.s.retailer.incidents, ...(this.s.retailer.held ?? [])];
  }

  // ---- maintenance windows (decisions in ./maintenance.ts) ----------------------------------------

  /** The windows that apply to this retailer: its own and the fleet-wide ones. */
  maintenanceWindows(): MaintenanceWindow[] {
    return [...this.ownMaintenanceWindows(), ...(this.s.fleetMaintenance ?? [])];
  }

  inMaintenance(now: number): boolean {
    return isInWindow(this.maintenanceWindows(), now);
  }

  /** This retailer's own windows (the fleet-wide ones are not among them). */
  ownMaintenanceWindows(): MaintenanceWindow[] {
    return this.s.retailer.maintenance ?? [];
  }

  /** Another window of this retailer's own fits (at most MAX_WINDOWS). */
  canAddMaintenance(): boolean {
    return this.ownMaintenanceWindows().length < MAX_WINDOWS;
  }

  /** Add one of this retailer's windows; false when the limit is reached. */
  addMaintenance(w: MaintenanceWindow): boolean {
    if (!this.canAddMaintenance()) return false;
    this.s.retailer.maintenance = [...this.ownMaintenanceWindows(), { ...w }];
    return true;
  }

  /** Remove one of this retailer's windows by id; incidents it kept quiet are announced by the next timer run. */
  removeMaintenance(id: string): MaintenanceWindow | undefined {
    const w = this.ownMaintenanceWindows().find((x) => x.id === id);
    if (w) this.s.retailer.maintenance = this.ownMaintenanceWindows().filter((x) => x !== w);
    return w;
  }

  /** Fleet-wide windows changed (pushed by the fleet workflow). */
  setFleetMaintenance(windows: MaintenanceWindow[]): void {
    this.s.fleetMaintenance = windows.map((w) => ({ ...w }));
  }

  private event(inc: Incident, kind: AlertKind, now: number, summary: string, run?: RunSummary): AlertEvent {
    const r = this.s.retailer;
    const ev: AlertEvent = {
      eventId: kind === 'resolve' ? `${inc.id}/resolve` : `${inc.id}/${kind}/${inc.notifyCount}`,
      incidentId: inc.id,
      kind,
      retailer: r.retailer,
      rule: inc.rule,
      at: now,
      openedAt: inc.openedAt,
      summary,
      figures: { ...inc.figures },
      runId: run?.runId ?? inc.runId,
      workflowId: run?.workflowId ?? inc.workflowId,
      workflowRunId: run?.workflowRunId ?? inc.workflowRunId,
      schedule: run?.schedule ?? r.lastRun?.schedule,
    };
    if (kind === 'resolve') {
      // A resolve goes out for every incident people were told about; one never announced stays quiet.
      if (!inc.announced) ev.silenced = true;
    } else if (this.isSilenced(inc.rule, now)) {
      ev.silenced = true;
    } else {
      inc.announced = true;
    }
    pushBounded(this.s.recentAlerts, ev, KEEP.recentAlerts);
    return ev;
  }

  // ---- missed-run rule (decisions in ./missed-run.ts) --------------------------------------------

  /**
   * Turn the missed-run rule on (the workflow does, behind its patch, so old histories replay unchanged).
   * `lookUpNow` false (a monitor carried over from before the rule): the Schedule is looked up on the next report.
   */
  enableMissedRun(lookUpNow: boolean): void {
    this.missedRunOn = true;
    this.s.retailer.missedRun ??= lookUpNow ? freshMissedRun() : deferredMissedRun();
  }

  /** The rule's state, when it is on for this retailer (on unless its grace is set to 0). */
  private missedRun(): MissedRunState | undefined {
    // Created by enableMissedRun, so views and condition predicates never change state by reading it.
    if (!this.missedRunOn || missedRunGraceMs(this.resolved) === 0) return undefined;
    return this.s.retailer.missedRun;
  }

  /** The Schedule `describe` the rule wants now, if any (the workflow runs it as an activity). */
  scheduleRequest(): ScheduleRequest | undefined {
    const m = this.missedRun();
    return m && missedRunRequest(m);
  }

  private missedRunReport(run: RunSummary, now: number): AlertEvent[] {
    const m = this.missedRun();
    if (m) onMissedRunReport(m, run);
    if (!this.incident('missed_run')) return [];
    return [this.close('missed_run', now, `${this.s.retailer.retailer}: run ${run.runId} reported (started ${new Date(run.startedAt).toISOString()})`, run)];
  }

  /** A deadline passed: an overdue expected run asks for a `describe` (or, while open, is counted). */
  private missedRunTimer(now: number): void {
    const m = this.missedRun();
    const open = this.incident('missed_run');
    if (m && onMissedRunTimer(m, now, missedRunGraceMs(this.resolved), typicalDurationMs(this.s.retailer.recentRuns), !!open) && open) {
      open.figures.missedRuns = m.missed;
    }
  }

  /** The missed-run rule's part of a Schedule description: may fire `missed_run`. */
  private missedRunFacts(req: ScheduleRequest, facts: ScheduleFacts, now: number): AlertEvent[] {
    const m = this.missedRun();
    if (!m) return [];
    const grace = missedRunGraceMs(this.resolved);
    // With the open-run check on, a run taken on time and still running is its to watch, not a missed run.
    const found = onScheduleFacts(m, req, facts, now, grace, typicalDurationMs(this.s.retailer.recentRuns), this.openRunWatch());
    const open = this.incident('missed_run');
    if (!found || open) {
      if (open && found) open.figures.missedRuns = m.missed;
      return [];
    }
    const r = this.s.retailer;
    const figures: AlertFigures = {
      expectedRunAt: found.expectedAt,
      missedRunGraceMs: grace,
      scheduleId: found.scheduleId,
      missedRuns: m.missed,
      lastSuccessAt: r.lastSuccessAt,
    };
    const summary = `${r.retailer}: the run Schedule ${found.scheduleId} expected at ${new Date(found.expectedAt).toISOString()} has not reported (grace ${graceText(grace)})`;
    const ev = this.open('missed_run', now, summary, figures);
    ev.schedule = found.scheduleId;
    ev.diagnosis = found.cause;
    return [ev];
  }

  /** The answer to `scheduleRequest()`: missed_run first, then run_duration for a run still open. */
  applyScheduleFacts(req: ScheduleRequest, facts: ScheduleFacts, now: number): AlertEvent[] {
    const alerts = this.missedRunFacts(req, facts, now);
    // Only a description of the Schedule the rule now knows (a report may have named another one meanwhile).
    if (this.openRunWatch() && facts.found && facts.scheduleId === this.s.retailer.missedRun?.scheduleId) alerts.push(...this.openRunFacts(facts, now));
    return alerts;
  }

  /** The `describe` failed after its retries: look again later. */
  scheduleFactsFailed(now: number): void {
    const m = this.missedRun();
    if (m) onScheduleFactsFailed(m, now, missedRunGraceMs(this.resolved));
    const r = this.s.retailer;
    if (this.openRunWatch()) r.openRun = onOpenRunFactsFailed(r.openRun, now, Math.max(missedRunGraceMs(this.resolved), RECHECK_MIN_MS));
  }

  // ---- run_duration while a run is still open (decisions in ./open-run.ts) -------------------------

  /** Turn the open-run check on (the workflow does, behind its patch, with the missed-run rule on). */
  enableOpenRunCheck(): void {
    this.openRunOn = true;
  }

  /** The check applies: turned on, run_duration on for this retailer, and the Schedule is being described. */
  private openRunWatch(): boolean {
    return this.openRunOn && !this.legacy && this.baseline.runDuration && this.missedRun() !== undefined;
  }

  /** A Schedule description: watch the run still open; past its limit, fire run_duration (once per run). */
  private openRunFacts(facts: ScheduleFacts, now: number): AlertEvent[] {
    const r = this.s.retailer;
    const input = { retailer: r.retailer, samples: this.samples, wd: weekdayIn(now, this.baseline.timezone), settings: this.baseline };
    const { state, finding } = onOpenRunFacts(r.openRun, facts, now, input);
    r.openRun = state;
    if (!finding || this.incident('run_duration')) return [];
    const figures: AlertFigures = { ...finding.verdict.figures, runStartedAt: finding.startedAt, scheduleId: state!.scheduleId };
    const ev = this.open('run_duration', now, finding.verdict.summary, figures, { runId: finding.workflowId, workflowId: finding.workflowId });
    ev.schedule = state!.scheduleId;
    return [ev];
  }

  /** The watched run's limit passed: describe the Schedule (unless a describe is already wanted). */
  private openRunTimer(now: number): void {
    const m = this.missedRun();
    if (m && !m.need && this.openRunWatch() && openRunDue(this.s.retailer.openRun, now)) m.need = 'check';
  }

  /** A report: the watched run's own report ends the watch; one that failed resolves what its open run fired. */
  private openRunReport(run: RunSummary, now: number): AlertEvent[] {
    const r = this.s.retailer;
    const watched = r.openRun;
    if (!watched || !isWatchedRun(watched, run)) return [];
    r.openRun = undefined;
    const open = this.incident('run_duration');
    if (run.status !== 'failure' || !open || open.workflowId !== watched.workflowId) return [];
    const took = humanDuration(Math.max(0, run.finishedAt - watched.startedAt));
    return [this.close('run_duration', now, `${r.retailer}: run ${watched.workflowId} ended (failed) after ${took}; failures are the consecutive_failures rule's`, run)];
  }

  /** `inc` was fired for the run still watched (it has not reported). */
  private firedForOpenRun(inc: Incident): boolean {
    const watched = this.s.retailer.openRun;
    return !!watched?.fired && inc.workflowId === watched.workflowId;
  }

  /** `open` was fired for a run still watched, and `run` is another run. */
  private openRunHolds(open: Incident, run: RunSummary): boolean {
    return this.firedForOpenRun(open) && !isWatchedRun(this.s.retailer.openRun!, run);
  }

  // ---- operator actions -------------------------------------------------------------------------

  /** Fleet defaults changed (pushed by the fleet workflow). */
  setDefaults(defaults: Thresholds): void {
    this.s.defaults = { ...defaults };
    this.resolve();
  }

  setOverrides(update: ThresholdOverrides): void {
    const r = this.s.retailer;
    r.overrides = { ...(r.overrides ?? {}), ...update };
    this.resolve();
  }

  silence(silence: Silence, now: number): void {
    const r = this.s.retailer;
    r.silences = r.silences.filter((s) => s.rule !== silence.rule && s.until > now);
    r.silences.push(silence);
  }

  /** Remove a silence; incidents it kept quiet are announced now. */
  unsilence(rule: RuleId | '*', now: number): { removed: boolean; alerts: AlertEvent[] } {
    const r = this.s.retailer;
    const before = r.silences.length;
    // '*' ends every silence of the retailer; a rule ends that rule's silence.
    r.silences = rule === '*' ? [] : r.silences.filter((s) => s.rule !== rule);
    const removed = r.silences.length !== before;
    return { removed, alerts: removed ? this.announceUnsilenced(now) : [] };
  }

  isSilenced(rule: RuleId, now: number): boolean {
    if (this.inMaintenance(now)) return true;
    return this.s.retailer.silences.some((s) => (s.rule === '*' || s.rule === rule) && s.until > now);
  }

  hasOpenIncident(incidentId: string): boolean {
    return this.allOpen().some((i) => i.id === incidentId);
  }

  /** Acknowledge an open incident by id; stops its re-notifications. Returns false if no such open incident. */
  acknowledge(incidentId: string, ack: { by: string; note?: string }, now: number): boolean {
    const inc = this.allOpen().find((i) => i.id === incidentId);
    if (!inc) return false;
    inc.acknowledged = { by: ack.by, note: ack.note, at: now };
    // Acknowledged as bad: the run behind a baseline rule's incident never enters any baseline.
    if (inc.runId && BASELINE_RULE_METRIC.has(inc.rule)) this.excludeRun(inc.runId, 'acknowledged');
    return true;
  }

  /**
   * The notice that an open incident was acknowledged (Slack updates its message, PagerDuty acknowledges).
   * Quiet (silenced) when nobody was told of the incident; never marks it announced.
   */
  acknowledgementEvent(incidentId: string, now: number): AlertEvent | undefined {
    const inc = this.s.retailer.incidents.find((i) => i.id === incidentId);
    if (!inc?.acknowledged) return undefined;
    const announced = inc.announced;
    const { by, note } = inc.acknowledged;
    const ev = this.event(inc, 'acknowledge', now, `${inc.retailer}: ${inc.id} acknowledged by ${by}${note ? ` (${note})` : ''}`);
    inc.announced = announced;
    if (!announced) ev.silenced = true;
    return ev;
  }

  /** A fresh deterministic operator-action id (`<retailer>/action/<seq>`), separate from incident ids. */
  nextActionId(): string {
    return `${this.s.retailer.retailer}/action/${++this.s.actionSeq}`;
  }

  /**
   * Rebuild the rule state from stored runs (oldest first), e.g. after an outage or a threshold change.
   * Incidents open before and after keep their identity and are not notified again; only an incident that
   * is newly open fires, and one that no longer holds resolves. "Latest" fields (last run, last success)
   * never move backwards: a window older than what the monitor already saw only informs the baseline
   * when nothing newer has been seen since. Lifetime totals, silences, overrides and duplicate memory are kept.
   */
  reprocess(runs: RunSummary[], now: number): { alerts: AlertEvent[]; applied: number; newest: boolean } {
    const r = this.s.retailer;
    const scratch = new RetailerMonitor({
      ...emptyRetailerSnapshot(r.retailer, r.firstSeenAt, this.s.defaults),
      retailer: { ...freshRetailer(r.retailer, r.firstSeenAt), overrides: r.overrides, ...(r.maintenance ? { maintenance: r.maintenance } : {}) },
      // Runs that finished inside a maintenance window stay out of the rebuilt baseline too.
      ...(this.s.fleetMaintenance ? { fleetMaintenance: this.s.fleetMaintenance } : {}),
    });
    if (this.legacy) scratch.useLegacyRules();
    let applied = 0;
    for (const run of runs) {
      if (run.retailer !== r.retailer) continue;
      if (scratch.applyReport(reportFromRun(run), run.receivedAt).outcome === 'accepted') applied++;
    }
    const rebuilt = scratch.s.retailer;
    // The window describes the present only if its newest run is at least as new as what we already know.
    const newest = !r.lastRun || (rebuilt.lastRun !== undefined && rebuilt.lastRun.finishedAt >= r.lastRun.finishedAt);
    if (!newest) return { alerts: [], applied, newest };
    r.lastRun = rebuilt.lastRun;
    if (rebuilt.lastSuccessAt !== undefined && rebuilt.lastSuccessAt >= (r.lastSuccessAt ?? 0)) {
      r.lastSuccessAt = rebuilt.lastSuccessAt;
      r.lastSuccessRunId = rebuilt.lastSuccessRunId;
    }
    r.consecutiveFailures = rebuilt.consecutiveFailures;
    r.skuBaseline = rebuilt.skuBaseline;
    r.recentRuns = rebuilt.recentRuns;
    // Like the trailing average, the robust baselines are what the window teaches (re-learned from it).
    r.baselineSamples = rebuilt.baselineSamples ?? [];
    const before = r.incidents;
    r.incidents = [];
    const alerts: AlertEvent[] = [];
    for (const rule of RULE_ORDER) {
      const old = before.find((i) => i.rule === rule);
      // The stale rule is time-driven: keep an open stale incident only if still past the deadline.
      // (A stale incident newly due is left to the timer, which fires it with its usual figures.)
      // missed_run is about the Schedule, not the stored runs: an open one stays open; so does run_duration
      // fired for a run still open (no stored run has its duration yet).
      const aboutSchedule = rule === 'missed_run' || (rule === 'run_duration' && old !== undefined && this.firedForOpenRun(old));
      const after = rule === 'stale' ? (now >= this.staleDeadline() ? old : undefined) : aboutSchedule ? old : rebuilt.incidents.find((i) => i.rule === rule);
      if (old && after) {
        r.incidents.push({ ...old, figures: after.figures });
      } else if (after) {
        alerts.push(this.open(rule, now, `${after.summary} (found by reprocessing)`, after.figures, r.lastRun));
      } else if (old) {
        r.incidents.push(old);
        alerts.push(this.close(rule, now, `${r.retailer}: ${rule.replace('_', ' ')} no longer holds after reprocessing`));
      }
    }
    return { alerts, applied, newest };
  }

  // ---- views -------------------------------------------------------------------------------------

  health(now: number): Health {
    const open = this.allOpen();
    if (open.length === 0) return 'healthy';
    return open.every((i) => this.isSilenced(i.rule, now)) ? 'silenced' : 'unhealthy';
  }

  openRules(): RuleId[] {
    return this.allOpen().map((i) => i.rule).sort();
  }

  status(now: number): RetailerStatus {
    const r = this.s.retailer;
    const t = this.resolved;
    const baseline = r.skuBaseline.slice(-t.skuWindow);
    return {
      retailer: r.retailer,
      health: this.health(now),
      firstSeenAt: r.firstSeenAt,
      lastRun: r.lastRun,
      lastSuccessAt: r.lastSuccessAt,
      consecutiveFailures: r.consecutiveFailures,
      trailingAverage: baseline.length ? round1(baseline.reduce((a, b) => a + b, 0) / baseline.length) : undefined,
      staleDeadline: this.staleDeadline(),
      openIncidents: this.openIncidents(),
      silences: r.silences.filter((s) => s.until > now),
      thresholds: { ...t },
      totals: { ...r.totals },
      ...this.maintenanceView(now),
    };
  }

  private maintenanceView(now: number): Pick<RetailerStatus, 'maintenance' | 'activeMaintenance'> {
    const windows = this.maintenanceWindows();
    if (windows.length === 0) return {};
    return { maintenance: windows, activeMaintenance: windows.filter((w) => windowActive(w, now)).map((w) => w.id) };
  }

  detail(now: number): RetailerDetail {
    const r = this.s.retailer;
    return {
      ...this.status(now),
      recentRuns: [...r.recentRuns].reverse(),
      skuBaseline: [...r.skuBaseline],
      counters: { ...this.s.counters },
      recentRejections: [...this.s.recentRejections],
      baselines: this.baselineViews(now),
      ...(this.missedRun() ? { missedRun: missedRunView(this.missedRun()!, missedRunGraceMs(this.resolved), typicalDurationMs(r.recentRuns)) } : {}),
    };
  }

  /** Each metric's robust baseline for a run finishing at `now`. */
  baselineViews(now: number): BaselineView[] {
    const wd = weekdayIn(now, this.baseline.timezone);
    return BASELINE_METRICS.map((metric) => {
      const b = baselineAt(this.samples, metric, now, wd);
      const all = this.samples.filter((x) => x[metric] !== undefined);
      const view: BaselineView = { metric, samples: all.length, excluded: all.filter((x) => x.excluded?.[metric]).length };
      if (b) Object.assign(view, { typical: round1(b.median), mad: round1(b.mad), basis: describeBaseline(b) });
      return view;
    });
  }

  settings(): { overrides?: ThresholdOverrides; silences: Silence[]; maintenance?: MaintenanceWindow[] } {
    const r = this.s.retailer;
    return { overrides: r.overrides ? { ...r.overrides } : undefined, silences: [...r.silences], ...(r.maintenance?.length ? { maintenance: [...r.maintenance] } : {}) };
  }

  openIncidents(): Incident[] {
    return this.allOpen().sort((a, b) => a.openedAt - b.openedAt);
  }

  recentAlerts(): AlertEvent[] {
    return [...this.s.recentAlerts];
  }

  recentRuns(): RunSummary[] {
    return [...this.s.retailer.recentRuns];
  }
}
