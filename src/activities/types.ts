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
}

export interface PostgresActivities {
  persistBatch(batch: PersistBatch): Promise<{ runs: number; statuses: number; alerts: number }>;
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

export type MonitorActivities = PostgresActivities & AlertActivities;
