/** Data shapes of the monitor's durable state. Plain JSON so they travel through continue-as-new and queries. */
import type { ThresholdOverrides, Thresholds } from './thresholds';

export const RULES = ['consecutive_failures', 'stale', 'sku_drop'] as const;
export type RuleId = (typeof RULES)[number];

export type AlertKind = 'fire' | 'renotify' | 'resolve';

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
  /**
   * Known only from an operator action (silence, thresholds) and never reported or expected: not watched
   * by the stale rule, so a typo in a CLI command can't page anyone four hours later.
   */
  unwatched?: true;
  lastRun?: RunSummary;
  lastSuccessAt?: number;
  lastSuccessRunId?: string;
  consecutiveFailures: number;
  /** SKU counts of the last successful, non-dropped runs, oldest first. */
  skuBaseline: number[];
  recentRuns: RunSummary[];
  /** For duplicate detection (bounded). */
  recentRunIds: string[];
  incidents: Partial<Record<RuleId, Incident>>;
  overrides?: ThresholdOverrides;
  silences: Silence[];
  totals: { runs: number; failures: number; outOfOrder: number };
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

export interface MonitorSnapshot {
  version: 1;
  defaults: Thresholds;
  retailers: Record<string, RetailerState>;
  counters: MonitorCounters;
  recentRejections: Rejection[];
  recentAlerts: AlertEvent[];
  seq: number;
}

/** Query views. */
export interface RetailerStatus {
  retailer: string;
  health: 'healthy' | 'unhealthy' | 'silenced';
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
}

export interface RetailerDetail extends RetailerStatus {
  recentRuns: RunSummary[];
  skuBaseline: number[];
}

export interface MonitorStatus {
  retailers: RetailerStatus[];
  counters: MonitorCounters;
  recentRejections: Rejection[];
  defaults: Thresholds;
}
