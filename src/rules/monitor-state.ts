/**
 * The decision logic of the monitor: per-retailer state, the three alert rules and incident bookkeeping.
 * Pure (no Temporal imports, no clock, no I/O): every method takes `now` from its caller, so the workflow
 * passes workflow time and tests pass whatever they like. Returns the alert events to deliver.
 */
import type { RunReport } from '../shared/report';
import { DEFAULT_THRESHOLDS, HOUR_MS, resolveThresholds, type ThresholdOverrides, type Thresholds } from './thresholds';
import type {
  AlertEvent,
  AlertFigures,
  AlertKind,
  Incident,
  MonitorSnapshot,
  MonitorStatus,
  Rejection,
  RetailerDetail,
  RetailerState,
  RetailerStatus,
  RuleId,
  RunSummary,
  Silence,
} from './types';

/**
 * What the state remembers per retailer. It travels through continue-as-new (2 MiB payload limit), so it is
 * kept small: ~10 KiB per retailer (docs/benchmarks.md).
 */
export const KEEP = {
  recentRuns: 10,
  /** Duplicate detection window: 200 runs is over a week of hourly runs; Postgres dedupes rows beyond it. */
  recentRunIds: 200,
  /** Error text kept in recent runs (the full, already truncated text is in Postgres). */
  recentRunErrorChars: 300,
  recentRejections: 50,
  recentAlerts: 50,
} as const;

export type ApplyOutcome = 'accepted' | 'duplicate' | 'out_of_order';

export interface ApplyResult {
  outcome: ApplyOutcome;
  run?: RunSummary;
  alerts: AlertEvent[];
}

export function emptySnapshot(defaults: Thresholds = DEFAULT_THRESHOLDS): MonitorSnapshot {
  return {
    version: 1,
    defaults: { ...defaults },
    retailers: {},
    counters: { accepted: 0, rejected: 0, duplicates: 0, outOfOrder: 0 },
    recentRejections: [],
    recentAlerts: [],
    seq: 0,
  };
}

function pushBounded<T>(list: T[], item: T, max: number): void {
  list.push(item);
  if (list.length > max) list.splice(0, list.length - max);
}

/** A retailer with no runs, incidents or settings yet. */
function freshRetailer(retailer: string, firstSeenAt: number): RetailerState {
  return {
    retailer,
    firstSeenAt,
    consecutiveFailures: 0,
    skuBaseline: [],
    recentRuns: [],
    recentRunIds: [],
    incidents: {},
    silences: [],
    totals: { runs: 0, failures: 0, outOfOrder: 0 },
  };
}

/** The copy of a run kept in recent runs: the error cut short (the full text goes to Postgres). */
function forRecent(run: RunSummary): RunSummary {
  return run.error && run.error.length > KEEP.recentRunErrorChars ? { ...run, error: `${run.error.slice(0, KEEP.recentRunErrorChars - 1)}…` } : run;
}

const round1 = (n: number) => Math.round(n * 10) / 10;
const round2 = (n: number) => Math.round(n * 100) / 100;

/** "4 h", "4.5 h", "3 min": short thresholds (demos, tests) must not read as "0 h". */
export function humanDuration(ms: number): string {
  return ms < HOUR_MS ? `${Math.round(ms / 60_000)} min` : `${round1(ms / HOUR_MS)} h`;
}

export class MonitorState {
  private readonly s: MonitorSnapshot;
  /** Index over every retailer's recentRunIds; rebuilt from the snapshot, never serialized. */
  private readonly seenRunIds = new Set<string>();

  constructor(snapshot?: MonitorSnapshot) {
    // Deep copy so a snapshot handed in (workflow input, test fixture) is never mutated behind its owner.
    this.s = snapshot ? (JSON.parse(JSON.stringify(snapshot)) as MonitorSnapshot) : emptySnapshot();
    for (const r of Object.values(this.s.retailers)) for (const id of r.recentRunIds) this.seenRunIds.add(id);
  }

  /**
   * Plain-JSON copy of the whole state (for continue-as-new). With `maxBytes`, the per-retailer memories
   * (recent runs, duplicate-detection ids) are halved until it fits, so hand-over never exceeds Temporal's
   * payload limit; the rules' own state (streaks, baselines, incidents) is never trimmed.
   */
  snapshot(maxBytes?: number): MonitorSnapshot {
    let json = JSON.stringify(this.s);
    let copy = JSON.parse(json) as MonitorSnapshot;
    while (maxBytes !== undefined && json.length > maxBytes) {
      let trimmed = false;
      for (const r of Object.values(copy.retailers)) {
        if (r.recentRunIds.length > 10) r.recentRunIds = r.recentRunIds.slice(-Math.ceil(r.recentRunIds.length / 2));
        if (r.recentRuns.length > 1) r.recentRuns = r.recentRuns.slice(-Math.ceil(r.recentRuns.length / 2));
        trimmed = true;
      }
      copy.recentAlerts = copy.recentAlerts.slice(-10);
      copy.recentRejections = copy.recentRejections.slice(-10);
      const next = JSON.stringify(copy);
      if (!trimmed || next.length === json.length) break; // nothing left to trim
      json = next;
      copy = JSON.parse(json) as MonitorSnapshot;
    }
    return copy;
  }

  get counters() {
    return this.s.counters;
  }

  retailerIds(): string[] {
    return Object.keys(this.s.retailers).sort();
  }

  hasRetailer(id: string): boolean {
    return id in this.s.retailers;
  }

  thresholdsFor(retailer: string): Thresholds {
    return resolveThresholds(this.s.defaults, this.s.retailers[retailer]?.overrides);
  }

  /**
   * Make a retailer known. `watch` (a report, or an expected retailer) starts the stale clock; operator
   * actions on a retailer never seen register it unwatched.
   */
  register(retailer: string, now: number, watch = true): RetailerState {
    let r = this.s.retailers[retailer];
    if (r?.unwatched && watch) {
      delete r.unwatched;
      r.firstSeenAt = now;
    }
    if (!r) {
      r = { ...freshRetailer(retailer, now), ...(watch ? {} : { unwatched: true as const }) };
      this.s.retailers[retailer] = r;
    }
    return r;
  }

  recordRejection(rejection: Rejection): void {
    this.s.counters.rejected++;
    pushBounded(this.s.recentRejections, rejection, KEEP.recentRejections);
  }

  isDuplicate(runId: string): boolean {
    return this.seenRunIds.has(runId);
  }

  /** Apply one validated report received at `now`. */
  applyReport(report: RunReport, now: number): ApplyResult {
    if (this.seenRunIds.has(report.runId)) {
      this.s.counters.duplicates++;
      pushBounded(
        this.s.recentRejections,
        { at: now, reason: 'duplicate runId: already received, ignored', runId: report.runId, retailer: report.retailer },
        KEEP.recentRejections,
      );
      return { outcome: 'duplicate', alerts: [] };
    }
    const r = this.register(report.retailer, now);
    this.seenRunIds.add(report.runId);
    r.recentRunIds.push(report.runId);
    // Forget the oldest ids beyond the window; runIds are globally unique, so deleting from the index is safe.
    for (const gone of r.recentRunIds.splice(0, Math.max(0, r.recentRunIds.length - KEEP.recentRunIds))) {
      this.seenRunIds.delete(gone);
    }

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
    const t = this.thresholdsFor(r.retailer);
    const alerts: AlertEvent[] = [];
    r.lastRun = run;

    if (run.status === 'failure') {
      r.consecutiveFailures++;
      if (r.consecutiveFailures >= t.failureStreak && !r.incidents.consecutive_failures) {
        const figures: AlertFigures = { failureStreak: r.consecutiveFailures, lastError: run.error, lastSuccessAt: r.lastSuccessAt };
        const summary = `${r.retailer}: ${r.consecutiveFailures} consecutive failed runs${run.error ? ` (last error: ${run.error.slice(0, 200)})` : ''}`;
        alerts.push(this.open(r, 'consecutive_failures', now, summary, figures, run));
      } else if (r.incidents.consecutive_failures) {
        // Keep the open incident's figures current for queries and re-notifications.
        r.incidents.consecutive_failures.figures.failureStreak = r.consecutiveFailures;
        r.incidents.consecutive_failures.figures.lastError = run.error;
      }
    } else {
      const streak = r.consecutiveFailures;
      r.consecutiveFailures = 0;
      r.lastSuccessAt = Math.max(r.lastSuccessAt ?? 0, run.finishedAt);
      r.lastSuccessRunId = run.runId;
      if (r.incidents.consecutive_failures) {
        alerts.push(
          this.close(r, 'consecutive_failures', now, `${r.retailer}: run ${run.runId} succeeded after ${streak} failed runs`, run),
        );
      }
      if (r.incidents.stale) {
        alerts.push(this.close(r, 'stale', now, `${r.retailer}: fresh data again — run ${run.runId} succeeded`, run));
      }
      alerts.push(...this.evaluateSku(r, run, t, now));
    }
    pushBounded(r.recentRuns, forRecent(run), KEEP.recentRuns);
    return { outcome: 'accepted', run, alerts };
  }

  private evaluateSku(r: RetailerState, run: RunSummary, t: Thresholds, now: number): AlertEvent[] {
    const sku = run.skuCount ?? 0;
    const baseline = r.skuBaseline.slice(-t.skuWindow);
    const avg = baseline.length >= t.skuMinSamples ? baseline.reduce((a, b) => a + b, 0) / baseline.length : undefined;
    const floor = avg === undefined ? undefined : avg * (1 - t.skuDropPct / 100);
    const dropped = floor !== undefined && sku < floor;
    const alerts: AlertEvent[] = [];
    const figures: AlertFigures = {
      skuCount: sku,
      trailingAverage: avg === undefined ? undefined : round1(avg),
      dropPct: avg ? round1(((avg - sku) / avg) * 100) : undefined,
      skuDropPct: t.skuDropPct,
    };
    if (dropped) {
      run.skuDrop = true;
      const open = r.incidents.sku_drop;
      if (!open) {
        const summary = `${r.retailer}: SKU count ${sku} is ${figures.dropPct}% below the trailing average of ${figures.trailingAverage} (threshold ${t.skuDropPct}%)`;
        alerts.push(this.open(r, 'sku_drop', now, summary, figures, run));
      } else {
        open.figures = figures;
      }
      return alerts; // a dropped run never joins the baseline
    }
    if (r.incidents.sku_drop) {
      alerts.push(
        this.close(r, 'sku_drop', now, `${r.retailer}: SKU count back to ${sku} (trailing average ${figures.trailingAverage ?? 'n/a'})`, run),
      );
    }
    r.skuBaseline = [...baseline, sku].slice(-t.skuWindow);
    return alerts;
  }

  /** When the stale rule would fire for a retailer (ms), based on its last success or first sighting. */
  staleDeadline(r: RetailerState): number {
    return (r.lastSuccessAt ?? r.firstSeenAt) + this.thresholdsFor(r.retailer).staleAfterMs;
  }

  /** The earliest moment something time-driven is due (stale fire, re-notify, silence expiry), if any. */
  nextDeadline(): number | undefined {
    let next: number | undefined;
    const consider = (t: number) => {
      if (next === undefined || t < next) next = t;
    };
    for (const r of Object.values(this.s.retailers)) {
      if (!r.incidents.stale && !r.unwatched) consider(this.staleDeadline(r));
      const every = this.thresholdsFor(r.retailer).renotifyEveryMs;
      if (every > 0) {
        for (const inc of Object.values(r.incidents)) if (inc && !inc.acknowledged) consider(inc.lastNotifiedAt + every);
      }
      for (const s of r.silences) consider(s.until);
    }
    return next;
  }

  /** Fire everything time-driven that is due at `now`. */
  evaluateTimers(now: number): AlertEvent[] {
    const alerts: AlertEvent[] = [];
    for (const r of Object.values(this.s.retailers)) {
      r.silences = r.silences.filter((s) => s.until > now);
      const t = this.thresholdsFor(r.retailer);
      if (!r.incidents.stale && !r.unwatched && now >= this.staleDeadline(r)) {
        const since = r.lastSuccessAt ?? r.firstSeenAt;
        const hours = round2((now - since) / HOUR_MS);
        const figures: AlertFigures = {
          lastSuccessAt: r.lastSuccessAt,
          hoursSinceSuccess: hours,
          staleAfterHours: round2(t.staleAfterMs / HOUR_MS),
          failureStreak: r.consecutiveFailures,
        };
        const summary = r.lastSuccessAt
          ? `${r.retailer}: no successful run for ${humanDuration(now - since)} (threshold ${humanDuration(t.staleAfterMs)})`
          : `${r.retailer}: no successful run since it was first seen ${humanDuration(now - since)} ago (threshold ${humanDuration(t.staleAfterMs)})`;
        alerts.push(this.open(r, 'stale', now, summary, figures, r.lastRun));
      } else if (r.incidents.stale) {
        const since = r.lastSuccessAt ?? r.firstSeenAt;
        r.incidents.stale.figures.hoursSinceSuccess = round2((now - since) / HOUR_MS);
      }
      if (t.renotifyEveryMs > 0) {
        for (const inc of Object.values(r.incidents)) {
          if (inc && !inc.acknowledged && now >= inc.lastNotifiedAt + t.renotifyEveryMs) {
            // Keep to the schedule (fired → +R → +2R) when this runs a little late; restart it after a long outage.
            const scheduled = inc.lastNotifiedAt + t.renotifyEveryMs;
            inc.lastNotifiedAt = now - scheduled < t.renotifyEveryMs ? scheduled : now;
            inc.notifyCount++;
            alerts.push(this.event(r, inc, 'renotify', now, `${inc.summary} (still open, reminder ${inc.notifyCount - 1})`));
          }
        }
      }
    }
    return alerts;
  }

  private open(r: RetailerState, rule: RuleId, now: number, summary: string, figures: AlertFigures, run?: RunSummary): AlertEvent {
    const inc: Incident = {
      id: `${r.retailer}/${rule}/${++this.s.seq}`,
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
    };
    r.incidents[rule] = inc;
    return this.event(r, inc, 'fire', now, summary);
  }

  private close(r: RetailerState, rule: RuleId, now: number, summary: string, run?: RunSummary): AlertEvent {
    const inc = r.incidents[rule]!;
    delete r.incidents[rule];
    return this.event(r, inc, 'resolve', now, summary, run);
  }

  private event(r: RetailerState, inc: Incident, kind: AlertKind, now: number, summary: string, run?: RunSummary): AlertEvent {
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
    // A resolve notice always goes out so nobody is left believing an incident is still open.
    if (kind !== 'resolve' && this.isSilenced(r, inc.rule, now)) ev.silenced = true;
    pushBounded(this.s.recentAlerts, ev, KEEP.recentAlerts);
    return ev;
  }

  // ---- operator actions -------------------------------------------------------------------------

  /** `watchNew`: register a never-seen retailer as watched (the behaviour before `unwatched` existed). */
  setThresholds(retailer: string | undefined, update: ThresholdOverrides, now: number, watchNew = false): void {
    if (!retailer) {
      Object.assign(this.s.defaults, update);
      return;
    }
    const r = this.register(retailer, now, watchNew);
    r.overrides = { ...(r.overrides ?? {}), ...update };
  }

  silence(retailer: string, silence: Silence, now: number, watchNew = false): void {
    const r = this.register(retailer, now, watchNew && !this.s.retailers[retailer]);
    r.silences = r.silences.filter((s) => s.rule !== silence.rule && s.until > now);
    r.silences.push(silence);
  }

  unsilence(retailer: string, rule: RuleId | '*'): boolean {
    const r = this.s.retailers[retailer];
    if (!r) return false;
    const before = r.silences.length;
    r.silences = r.silences.filter((s) => s.rule !== rule);
    return r.silences.length !== before;
  }

  isSilenced(r: RetailerState, rule: RuleId, now: number): boolean {
    return r.silences.some((s) => (s.rule === '*' || s.rule === rule) && s.until > now);
  }

  /** Acknowledge an open incident by id; stops its re-notifications. Returns false if no such open incident. */
  acknowledge(incidentId: string, ack: { by: string; note?: string }, now: number): boolean {
    for (const r of Object.values(this.s.retailers)) {
      for (const inc of Object.values(r.incidents)) {
        if (inc && inc.id === incidentId) {
          inc.acknowledged = { by: ack.by, note: ack.note, at: now };
          return true;
        }
      }
    }
    return false;
  }

  /** A fresh deterministic id (`prefix/seq`) from the state's sequence, e.g. for operator actions. */
  nextId(prefix: string): string {
    return `${prefix}/${++this.s.seq}`;
  }

  /**
   * Rebuild one retailer's state from stored runs (oldest first), e.g. after an outage or a threshold
   * change. Incidents open before and after keep their identity and are not notified again; only an
   * incident that is newly open fires, and one that no longer holds resolves. Lifetime totals, silences,
   * overrides and duplicate memory are kept.
   */
  reprocess(retailer: string, runs: RunSummary[], now: number): { alerts: AlertEvent[]; applied: number } {
    const r = this.register(retailer, now);
    const scratch = new MonitorState({
      ...emptySnapshot(this.s.defaults),
      // Same thresholds and first sighting, nothing else: the stored runs rebuild the rest.
      retailers: { [retailer]: { ...freshRetailer(retailer, r.firstSeenAt), overrides: r.overrides } },
    });
    let applied = 0;
    for (const run of runs) {
      if (run.retailer !== retailer) continue;
      const iso = (ms: number) => new Date(ms).toISOString();
      const res = scratch.applyReport(
        {
          runId: run.runId,
          retailer,
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
        },
        run.receivedAt,
      );
      if (res.outcome === 'accepted') applied++;
    }
    const rebuilt = scratch.s.retailers[retailer]!;
    const before = r.incidents;
    r.lastRun = rebuilt.lastRun;
    r.lastSuccessAt = rebuilt.lastSuccessAt;
    r.lastSuccessRunId = rebuilt.lastSuccessRunId;
    r.consecutiveFailures = rebuilt.consecutiveFailures;
    r.skuBaseline = rebuilt.skuBaseline;
    r.recentRuns = rebuilt.recentRuns;
    r.incidents = {};
    const alerts: AlertEvent[] = [];
    for (const rule of ['consecutive_failures', 'sku_drop', 'stale'] as RuleId[]) {
      const old = before[rule];
      // The stale rule is time-driven: keep an open stale incident only if still past the deadline.
      // (A stale incident newly due is left to the timer loop, which fires it with its usual figures.)
      const after = rule === 'stale' ? (now >= this.staleDeadline(r) ? old : undefined) : rebuilt.incidents[rule];
      if (old && after) {
        r.incidents[rule] = { ...old, figures: after.figures };
      } else if (after) {
        alerts.push(this.open(r, rule, now, `${after.summary} (found by reprocessing)`, after.figures, r.lastRun));
      } else if (old) {
        r.incidents[rule] = old;
        alerts.push(this.close(r, rule, now, `${retailer}: ${rule.replace('_', ' ')} no longer holds after reprocessing`));
      }
    }
    return { alerts, applied };
  }

  // ---- views -------------------------------------------------------------------------------------

  retailerStatus(id: string, now: number): RetailerStatus | undefined {
    const r = this.s.retailers[id];
    if (!r) return undefined;
    const openIncidents = Object.values(r.incidents).filter((i): i is Incident => !!i);
    const t = this.thresholdsFor(id);
    const baseline = r.skuBaseline.slice(-t.skuWindow);
    const silences = r.silences.filter((s) => s.until > now);
    return {
      retailer: id,
      health: openIncidents.length === 0 ? 'healthy' : openIncidents.every((i) => this.isSilenced(r, i.rule, now)) ? 'silenced' : 'unhealthy',
      firstSeenAt: r.firstSeenAt,
      lastRun: r.lastRun,
      lastSuccessAt: r.lastSuccessAt,
      consecutiveFailures: r.consecutiveFailures,
      trailingAverage: baseline.length ? round1(baseline.reduce((a, b) => a + b, 0) / baseline.length) : undefined,
      staleDeadline: this.staleDeadline(r),
      openIncidents,
      silences,
      thresholds: t,
      totals: { ...r.totals },
    };
  }

  retailerDetail(id: string, now: number): RetailerDetail | undefined {
    const st = this.retailerStatus(id, now);
    if (!st) return undefined;
    const r = this.s.retailers[id]!;
    return { ...st, recentRuns: [...r.recentRuns].reverse(), skuBaseline: [...r.skuBaseline] };
  }

  status(now: number): MonitorStatus {
    return {
      retailers: this.retailerIds().map((id) => this.retailerStatus(id, now)!),
      counters: { ...this.s.counters },
      recentRejections: [...this.s.recentRejections],
      defaults: { ...this.s.defaults },
    };
  }

  openIncidents(): Incident[] {
    const out: Incident[] = [];
    for (const id of this.retailerIds()) for (const inc of Object.values(this.s.retailers[id]!.incidents)) if (inc) out.push(inc);
    return out.sort((a, b) => a.openedAt - b.openedAt);
  }

  recentAlerts(): AlertEvent[] {
    return [...this.s.recentAlerts];
  }
}
