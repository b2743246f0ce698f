/**
 * What the workflows ask of the outside world. Implementations are grouped by the system they touch
 * (postgres.ts, slack.ts, webhook.ts, email.ts, console.ts, pagerduty.ts, temporal.ts, fleet.ts); the workflows see only these
 * signatures.
 */
import type { MaintenanceWindow } from '../rules/maintenance';
import type { ThresholdOverrides, Thresholds } from '../rules/thresholds';
import type { ScheduleFacts } from '../rules/missed-run';
import type { RetailerRestore } from '../rules/retailer-monitor';
import type { AlertEvent, RetailerStatus, RunSummary, Silence } from '../rules/types';
import type { AlertRecord, Channel, DeliveryOutcome, OperatorActionInput } from '../shared/messages';
import type { RetentionActivities } from '../retention/types';

export type { AlertRecord, Channel, DeliveryOutcome };
export type OperatorAction = OperatorActionInput;

/** One batched write: everything that changed since the last flush. */
export interface PersistBatch {
  runs: RunSummary[];
  statuses: RetailerStatus[];
  alerts: AlertRecord[];
  actions?: OperatorAction[];
  /**
   * Per-retailer settings to keep in `retailer_status.settings` (thresholds overrides and silences), so a
   * monitor started fresh (after a termination) gets them back.
   */
  settings?: RetailerSettings[];
}

export interface RetailerSettings {
  retailer: string;
  overrides?: ThresholdOverrides;
  silences: Silence[];
  /** The retailer's own maintenance windows, if any. */
  maintenance?: MaintenanceWindow[];
}

/** A row Postgres refused for a data reason; recorded in `quarantine` and skipped. */
export interface QuarantinedRow {
  table: string;
  key: string;
  reason: string;
}

export interface PersistResult {
  runs: number;
  statuses: number;
  alerts: number;
  /** Rows Postgres refused for a data reason (bad encoding, out-of-range date …), each recorded in `quarantine`. */
  quarantined: QuarantinedRow[];
}

/**
 * What Postgres knows of a retailer, for a monitor started fresh (first deploy of this version, or after a
 * termination): the rule engine's own restore shape. Undefined fields were never recorded.
 */
export type RestoredRetailer = RetailerRestore;

export interface PostgresActivities {
  /**
   * Idempotent batched write. Rows Postgres refuses for a data reason (SQLSTATE classes 22 and 23, except
   * unique violations handled by ON CONFLICT) are quarantined one by one and the rest is written; a
   * connection error throws (retried by Temporal until Postgres is back).
   */
  persistBatch(batch: PersistBatch): Promise<PersistResult>;
  /** A retailer's runs with finished_at in [from, to] (epoch ms), oldest first, for reprocessing. */
  loadRuns(req: { retailer: string; from: number; to: number }): Promise<RunSummary[]>;
  /** What Postgres knows of a retailer; undefined if nothing at all. */
  restoreRetailer(req: { retailer: string; keepRuns: number; keepRunIds: number; skuWindow: number; timeZone?: string }): Promise<RestoredRetailer | undefined>;
}

/**
 * Activities that talk to Temporal itself: about the *ingestion* workflows (schedules, visibility, task
 * queue pollers) and about the monitor's own workflows (fleet hand-over, expected retailers).
 */
export interface TemporalActivities {
  /** Re-run a retailer's ingestion now: trigger its Schedule if it has one, else start the ingestion workflow. */
  triggerIngestion(req: { retailer: string; schedule?: string }): Promise<{ how: 'schedule' | 'workflow' | 'none'; id?: string; detail: string }>;
  /**
   * Why might a retailer be stale? Looks at the ingestion task queue's pollers (no worker polling), its
   * Schedule (paused, skipped by overlap policy, started late) and its open ingestion runs (running past
   * the usual duration). Undefined when nothing explains it.
   */
  diagnoseStale(req: StaleDiagnosisRequest): Promise<string | undefined>;
  /**
   * The retailer's Schedule (`schedule`, else INGESTION_SCHEDULE_ID_TEMPLATE's id) as the missed-run rule
   * needs it: next action times, paused, recent / running actions, overlap skips. `found: false` if none.
   */
  describeIngestionSchedule(req: { retailer: string; schedule?: string; check?: boolean }): Promise<ScheduleFacts>;
}

export interface FleetActivities {
  /** Which alert channels this worker has configured (names only), so the fleet schedules no idle sends. */
  alertChannels(): Promise<Channel[]>;
  /** Hand alert events to the fleet workflow (signal-with-start, so a terminated fleet comes back). */
  forwardAlerts(req: { fleetWorkflowId: string; events: AlertEvent[] }): Promise<void>;
  /** The fleet's default thresholds and whether the custom search attributes are registered. */
  monitorContext(req: { fleetWorkflowId: string }): Promise<{ defaults?: Thresholds; maintenance?: MaintenanceWindow[]; searchAttributes: boolean }>;
  /** Start the retailer monitors of `retailers` that are not running (conflict policy use-existing). */
  ensureRetailerMonitors(req: { retailers: string[]; fleetWorkflowId: string; retailerWorkflowIdPrefix: string }): Promise<{ started: string[] }>;
  /** Signal every running retailer monitor the new fleet defaults. */
  pushFleetDefaults(req: { defaults: Thresholds; retailerWorkflowIdPrefix: string }): Promise<{ signalled: number }>;
  /** Signal every running retailer monitor the fleet-wide maintenance windows. */
  pushFleetMaintenance(req: { maintenance: MaintenanceWindow[]; retailerWorkflowIdPrefix: string }): Promise<{ signalled: number }>;
}

export interface StaleDiagnosisRequest {
  retailer: string;
  /** Schedule id from the retailer's last report, if any. */
  schedule?: string;
  lastRunAt?: number;
  /** Median duration of recent successful runs (ms), to judge "running past its usual duration". */
  typicalDurationMs?: number;
}

/**
 * One activity per channel. Each returns an outcome rather than throwing for permanent failures (a 4xx
 * such as Slack's invalid_payload), and throws a retryable ApplicationFailure for 429 / 5xx / network
 * errors (with `nextRetryDelay` from Retry-After) so Temporal's retry policy does the backoff. They
 * heartbeat while waiting, so a worker that dies mid-send is noticed within the heartbeat timeout.
 */
export interface AlertActivities {
  sendSlackAlert(event: AlertEvent): Promise<DeliveryOutcome>;
  sendWebhookAlert(event: AlertEvent): Promise<DeliveryOutcome>;
  sendEmailAlert(event: AlertEvent): Promise<DeliveryOutcome>;
  /** One line on the worker's stdout (ALERT_CONSOLE); never throws. */
  sendConsoleAlert(event: AlertEvent): Promise<DeliveryOutcome>;
  /** PagerDuty Events API v2 (PAGERDUTY_ROUTING_KEY): trigger / acknowledge / resolve, dedup_key = incident id. */
  sendPagerDutyAlert(event: AlertEvent): Promise<DeliveryOutcome>;
  /** One message per channel naming several retailers firing (or resolving) the same rule. */
  sendGroupedAlert(req: { channel: Channel; events: AlertEvent[] }): Promise<DeliveryOutcome>;
}

export type MonitorActivities = PostgresActivities & AlertActivities & TemporalActivities & FleetActivities & RetentionActivities;
