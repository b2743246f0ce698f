/** Data shapes of the monitor's durable state. Plain JSON so they travel through continue-as-new and queries. */
import type { BaselineSample } from './baselines';
import type { FlapRecord, FlapState } from './flapping';
import type { MaintenanceWindow } from './maintenance';
import type { MissedRunState, MissedRunView } from './missed-run';
import type { OpenRunState } from './open-run';
import type { ThresholdOverrides, Thresholds } from './thresholds';

export const RULES = ['consecutive_failures', 'stale', 'sku_drop', 'promo_drop', 'run_duration', 'missed_run'] as const;
export type RuleId = (typeof RULES)[number];

export type AlertKind = 'fire' | 'renotify' | 'resolve' | 'acknowledge';

/** One run as the monitor remembers it (times in epoch ms). */
export interface RunSummary {
  runId: string;
  retailer: string;
  status: 'success' | 'failure';
  startedAt: number;
  finishedAt: number;
  receivedAt: number;
  skuCount?: number;
  promoCount?: number;
  lastScrapeAt?: number;
  error?: string;
  schedule?: string;
  workflowId?: string;
  workflowRunId?: string;
  /** Arrived with an older finishedAt than a run already seen: recorded, state not rewound. */
  outOfOrder?: boolean;
  /** This run's SKU count was below the drop threshold, so it stays out of the trailing average. */
  skuDrop?: boolean;
  /** This run fired (or kept open) promo_drop / run_duration: kept out of that metric's baseline. */
  promoDrop?: boolean;
  longRun?: boolean;
  /** Finished inside a maintenance window: recorded, but never part of a baseline. */
  inMaintenance?: boolean;
}

/** The numbers an alert quotes. */
export interface AlertFigures {
  failureStreak?: number;
  lastError?: string;
  lastSuccessAt?: number;
  hoursSinceSuccess?: number;
  staleAfterHours?: number;
  skuCount?: number;
  trailingAverage?: number;
  dropPct?: number;
  skuDropPct?: number;
  /** Robust baseline figures (src/rules/baselines.ts): the typical value, what it is, how far off. */
  promoCount?: number;
  durationMs?: number;
  typical?: number;
  /** e.g. "median of 5 Tuesdays". */
  typicalBasis?: string;
  /** Signed % from the typical value (−50 = half of it). */
  deviationPct?: number;
  /** How many (scaled) MADs from the typical value, in the rule's direction (6.1 = 6.1 MADs below for a drop). */
  mads?: number;
  /** The robustMads setting the rule used. */
  madThreshold?: number;
  /** Fires of a flapping incident's rule so far. */
  flips?: number;
  /** missed_run: the Schedule's expected action time, the grace, the schedule and how many were missed. */
  expectedRunAt?: number;
  missedRunGraceMs?: number;
  scheduleId?: string;
  missedRuns?: number;
  /** run_duration fired while the run was still open: when the Schedule started it (epoch ms). */
  runStartedAt?: number;
}

export interface Acknowledgement {
  by: string;
  at: number;
  note?: string;
}

export interface Incident {
  id: string;
  retailer: string;
  rule: RuleId;
  openedAt: number;
  lastNotifiedAt: number;
  notifyCount: number;
  summary: string;
  figures: AlertFigures;
  runId?: string;
  workflowId?: string;
  workflowRunId?: string;
  acknowledged?: Acknowledgement;
  /** False while the fire was recorded silenced and not yet announced (announced when the silence ends). */
  announced: boolean;
  /** Set while the incident is held open as flapping (src/rules/flapping.ts). */
  flapping?: FlapState;
}

/** One fire / re-notify / resolve: what the alert activities send and `alert_events` records. */
export interface AlertEvent {
  /** Deterministic and unique: the idempotency key for delivery records. */
  eventId: string;
  incidentId: string;
  kind: AlertKind;
  retailer: string;
  rule: RuleId;
  at: number;
  openedAt: number;
  summary: string;
  figures: AlertFigures;
  runId?: string;
  workflowId?: string;
  workflowRunId?: string;
  schedule?: string;
  /** Recorded but not sent because a silence covers it. */
  silenced?: boolean;
  /** Why a stale retailer might be stale (paused schedule, overlap skip, late start, hung run), if known. */
  diagnosis?: string;
}

export interface Silence {
  /** A rule, or '*' for every rule of the retailer. */
  rule: RuleId | '*';
  until: number;
  reason: string;
  by: string;
  createdAt: number;
}

export interface RetailerState {
  retailer: string;
  firstSeenAt: number;
  lastRun?: RunSummary;
  lastSuccessAt?: number;
  lastSuccessRunId?: string;
  consecutiveFailures: number;
  /** SKU counts of the last successful, non-dropped runs, oldest first. */
  skuBaseline: number[];
  recentRuns: RunSummary[];
  /** For duplicate detection (bounded). */
  recentRunIds: string[];
  /** Open incidents, at most one per rule (an array: rule names never index a plain object). */
  incidents: Incident[];
  overrides?: ThresholdOverrides;
  silences: Silence[];
  totals: { runs: number; failures: number; outOfOrder: number };
  /** Samples of the robust baselines (bounded, src/rules/baselines.ts); absent in snapshots from before them. */
  baselineSamples?: BaselineSample[];
  /** This retailer's own maintenance windows (absent in older snapshots). */
  maintenance?: MaintenanceWindow[];
  /** Recent fire times per rule, for flap control (bounded; absent in older snapshots). */
  flaps?: FlapRecord[];
  /** Flapping incidents whose condition cleared, held open until quiet (absent in older snapshots). */
  held?: Incident[];
  /** Missed-run rule state (src/rules/missed-run.ts); absent in snapshots from before the rule. */
  missedRun?: MissedRunState;
  /** The run still open that run_duration watches (src/rules/open-run.ts); absent when none or in older snapshots. */
  openRun?: OpenRunState;
}

export interface Rejection {
  at: number;
  reason: string;
  runId?: string;
  retailer?: string;
}

export interface MonitorCounters {
  accepted: number;
  rejected: number;
  duplicates: number;
  outOfOrder: number;
}

/** Everything one retailer monitor remembers; plain JSON, carried through continue-as-new. */
export interface RetailerSnapshot {
  version: 2;
  /** Fleet-wide default thresholds as last pushed by the fleet workflow. */
  defaults: Thresholds;
  retailer: RetailerState;
  /** Last incident sequence number used (ids are `<retailer>/<rule>/<seq>`); restored from Postgres. */
  incidentSeq: number;
  /** Last operator-action sequence number (ids are `<retailer>/action/<seq>`), separate from incidents. */
  actionSeq: number;
  counters: MonitorCounters;
  recentRejections: Rejection[];
  recentAlerts: AlertEvent[];
  /** Fleet-wide maintenance windows as last pushed by the fleet workflow (absent in older snapshots). */
  fleetMaintenance?: MaintenanceWindow[];
}

export type Health = 'healthy' | 'unhealthy' | 'silenced';

/** Query views. */
export interface RetailerStatus {
  retailer: string;
  health: Health;
  firstSeenAt: number;
  lastRun?: RunSummary;
  lastSuccessAt?: number;
  consecutiveFailures: number;
  trailingAverage?: number;
  staleDeadline: number;
  openIncidents: Incident[];
  silences: Silence[];
  thresholds: Thresholds;
  totals: RetailerState['totals'];
  /** Maintenance windows that apply (own and fleet-wide), and the ids of those active now. */
  maintenance?: MaintenanceWindow[];
  activeMaintenance?: string[];
}

export interface RetailerDetail extends RetailerStatus {
  recentRuns: RunSummary[];
  skuBaseline: number[];
  counters: MonitorCounters;
  recentRejections: Rejection[];
  /** The robust baselines of the next run's weekday (query only; not written to Postgres). */
  baselines?: BaselineView[];
  /** The missed-run rule's view: schedule, expected run, deadline (when it is watching one). */
  missedRun?: MissedRunView;
}

/** One metric's robust baseline as the `retailer` query shows it. */
export interface BaselineView {
  metric: 'sku' | 'promo' | 'durationMs';
  typical?: number;
  mad?: number;
  basis?: string;
  samples: number;
  excluded: number;
}

/** Field names that hold epoch milliseconds; query results carry them as ISO-8601 strings instead. */
export const TIME_FIELDS = [
  'startedAt',
  'finishedAt',
  'receivedAt',
  'lastScrapeAt',
  'lastSuccessAt',
  'firstSeenAt',
  'staleDeadline',
  'openedAt',
  'lastNotifiedAt',
  'at',
  'until',
  'createdAt',
  'expectedRunAt',
  'deadlineAt',
  'checkedAt',
  'runStartedAt',
] as const;
type TimeField = (typeof TIME_FIELDS)[number];

/** `T` as a query returns it: every time field an ISO string. */
export type IsoTimes<T> = T extends number
  ? T
  : T extends Array<infer U>
    ? IsoTimes<U>[]
    : T extends object
      ? { [K in keyof T]: K extends TimeField ? (T[K] extends number ? string : T[K] extends number | undefined ? string | undefined : IsoTimes<T[K]>) : IsoTimes<T[K]> }
      : T;

/** A deep copy of `value` with every time field turned into an ISO string. Pure. */
export function isoTimes<T>(value: T): IsoTimes<T> {
  const fields = new Set<string>(TIME_FIELDS);
  const walk = (v: unknown, key?: string): unknown => {
    if (typeof v === 'number' && key !== undefined && fields.has(key) && Number.isFinite(v)) return new Date(v).toISOString();
    if (Array.isArray(v)) return v.map((x) => walk(x));
    // fromEntries defines own properties, so a key such as `__proto__` stays data.
    if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, walk(x, k)]));
    return v;
  };
  return walk(value) as IsoTimes<T>;
}

