/** Kysely table types; kept in step with `migrations/`. */
import type { ColumnType, Generated } from 'kysely';

type Timestamp = ColumnType<Date, Date | string, Date | string>;
type BigIntCol = ColumnType<string, number | bigint | string, number | bigint | string>;
type Json<T> = ColumnType<T, string, string>;

export interface IngestionRunsTable {
  run_id: string;
  retailer: string;
  schedule: string | null;
  status: 'success' | 'failure';
  started_at: Timestamp;
  finished_at: Timestamp;
  duration_ms: BigIntCol;
  sku_count: number | null;
  promo_count: number | null;
  last_scrape_at: Timestamp | null;
  error: string | null;
  workflow_id: string | null;
  workflow_run_id: string | null;
  out_of_order: boolean;
  sku_drop: boolean;
  /** Finished inside a maintenance window (migration 010): never part of a baseline. */
  in_maintenance: ColumnType<boolean, boolean | undefined, boolean>;
  /** Its promo count fired or kept open promo_drop (migration 012): never part of the promo baseline. */
  promo_drop: ColumnType<boolean, boolean | undefined, boolean>;
  /** Its duration fired or kept open run_duration (migration 012): never part of the duration baseline. */
  long_run: ColumnType<boolean, boolean | undefined, boolean>;
  received_at: Timestamp;
}

export interface RetailerStatusTable {
  retailer: string;
  health: string;
  first_seen_at: Timestamp;
  last_run_id: string | null;
  last_run_status: string | null;
  last_run_at: Timestamp | null;
  last_success_at: Timestamp | null;
  consecutive_failures: number;
  last_sku_count: number | null;
  last_promo_count: number | null;
  trailing_avg_sku: number | null;
  stale_deadline: Timestamp | null;
  open_incidents: number;
  open_rules: string;
  silenced_until: Timestamp | null;
  silence_reason: string | null;
  acknowledged_rules: ColumnType<string, string | undefined, string>;
  updated_at: Timestamp;
  /** Threshold overrides and silences (`RetailerSettingsJson`); written only with a settings batch. */
  settings: ColumnType<RetailerSettingsJson | null, string | null | undefined, string | null>;
}

/** What `retailer_status.settings` holds (times in epoch ms, as the monitor keeps them). */
export interface RetailerSettingsJson {
  overrides?: Record<string, unknown>;
  silences: Array<{ rule: string; until: number; reason: string; by: string; createdAt: number }>;
  /** The retailer's own maintenance windows (`MaintenanceWindow`, src/rules/maintenance.ts). */
  maintenance?: unknown[];
}

export interface AlertEventsTable {
  id: Generated<string>;
  event_id: string;
  incident_id: string;
  retailer: string;
  rule: string;
  kind: 'fire' | 'renotify' | 'resolve' | 'acknowledge';
  occurred_at: Timestamp;
  opened_at: Timestamp;
  summary: string;
  figures: Json<Record<string, unknown>>;
  run_id: string | null;
  workflow_id: string | null;
  workflow_run_id: string | null;
  silenced: boolean;
  delivered: boolean;
  delivery: Json<unknown[]>;
  diagnosis: ColumnType<string | null, string | null | undefined, string | null>;
  recorded_at: Generated<Date>;
}

export interface OperatorActionsTable {
  id: Generated<string>;
  action_id: string;
  at: Timestamp;
  action: string;
  retailer: string | null;
  rule: string | null;
  incident_id: string | null;
  by: string;
  reason: string | null;
  until: Timestamp | null;
  outcome: string | null;
  recorded_at: Generated<Date>;
}

/** Rows Postgres refused for a data reason, with the reason; one per (table_name, row_key). */
export interface QuarantineTable {
  id: Generated<string>;
  table_name: string;
  row_key: string;
  reason: string;
  /** The refused row as JSON text, NUL and lone surrogates escaped. */
  row: string;
  quarantined_at: Generated<Date>;
}

/** Hourly aggregates of ingestion_runs, kept exact by triggers (migration 009); the trend panels read it. */
export interface IngestionRunsHourlyTable {
  hour: Timestamp;
  retailer: string;
  runs: number;
  failures: number;
  sku_sum: BigIntCol;
  sku_runs: number;
  promo_sum: BigIntCol;
  promo_runs: number;
  duration_sum: BigIntCol;
  duration_runs: number;
}

/** Slack bot mode: the message of each incident (migration 011). */
export interface SlackMessagesTable {
  incident_id: string;
  channel: string;
  ts: string;
  grouped: ColumnType<boolean, boolean | undefined, boolean>;
  last_event_id: string | null;
  posted_at: Generated<Date>;
  updated_at: ColumnType<Date, Date | string | undefined, Date | string>;
}

export interface Database {
  operator_actions: OperatorActionsTable;
  ingestion_runs: IngestionRunsTable;
  ingestion_runs_hourly: IngestionRunsHourlyTable;
  retailer_status: RetailerStatusTable;
  alert_events: AlertEventsTable;
  quarantine: QuarantineTable;
  slack_messages: SlackMessagesTable;
}
