/**
 * What the workflow asks of the outside world. Implementations are grouped by the system they touch
 * (postgres.ts, slack.ts, webhook.ts, email.ts); the workflow sees only these signatures.
 */
import type { AlertEvent, RetailerStatus, RunSummary } from '../rules/types';

export type Channel = 'slack' | 'webhook' | 'email';

export interface DeliveryOutcome {
  channel: Channel;
  /** not_configured: the channel has no URL/SMTP set; silenced: a silence covered the alert. */
  status: 'delivered' | 'failed' | 'not_configured' | 'silenced';
  attempts?: number;
  /** Why a delivery failed (HTTP status and body excerpt, SMTP reply …); never the secret URL. */
  detail?: string;
}

export interface AlertRecord {
  event: AlertEvent;
  delivery: DeliveryOutcome[];
}

/** One batched write: everything that changed since the last flush. */
export interface PersistBatch {
  runs: RunSummary[];
  statuses: RetailerStatus[];
  alerts: AlertRecord[];
  /** Optional so histories recorded before operator actions existed still replay. */
  actions?: OperatorAction[];
}

export interface PostgresActivities {
  persistBatch(batch: PersistBatch): Promise<{ runs: number; statuses: number; alerts: number }>;
  /** A retailer's runs with finished_at in [from, to] (epoch ms), oldest first, for reprocessing. */
  loadRuns(req: { retailer: string; from: number; to: number }): Promise<RunSummary[]>;
}

/** What an operator did (silence, ack, replay, reprocess …), recorded in `operator_actions`. */
export interface OperatorAction {
  /** Deterministic id (workflow-side sequence), so a retried write never duplicates it. */
  actionId: string;
  at: number;
  action: 'silence' | 'unsilence' | 'acknowledge' | 'replay' | 'reprocess' | 'set_thresholds';
  retailer?: string;
  rule?: string;
  incidentId?: string;
  by: string;
  reason?: string;
  until?: number;
  outcome?: string;
}

/**
 * Activities that talk to Temporal itself about the *ingestion* workflows (schedules, visibility).
 */
export interface TemporalActivities {
  /** Re-run a retailer's ingestion now: trigger its Schedule if it has one, else start the ingestion workflow. */
  triggerIngestion(req: { retailer: string; schedule?: string }): Promise<{ how: 'schedule' | 'workflow' | 'none'; id?: string; detail: string }>;
  /**
   * Why might a retailer be stale? Looks at its Schedule (paused, skipped by overlap policy, started late)
   * and its open ingestion runs (running past the usual duration). Undefined when nothing explains it.
   */
  diagnoseStale(req: StaleDiagnosisRequest): Promise<string | undefined>;
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
 * errors (with `nextRetryDelay` from Retry-After) so Temporal's retry policy does the backoff.
 */
export interface AlertActivities {
  sendSlackAlert(event: AlertEvent): Promise<DeliveryOutcome>;
  sendWebhookAlert(event: AlertEvent): Promise<DeliveryOutcome>;
  sendEmailAlert(event: AlertEvent): Promise<DeliveryOutcome>;
}

export type MonitorActivities = PostgresActivities & AlertActivities & TemporalActivities;
