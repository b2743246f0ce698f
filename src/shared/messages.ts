/**
 * Every message the monitor workflow understands, as typed constants shared by the workflow, the client
 * helper, the CLI and tests (the samples-typescript `safe-message-handlers` layout).
 */
import { defineQuery, defineSignal } from '@temporalio/workflow';
import type { ThresholdOverrides, Thresholds } from '../rules/thresholds';
import type { AlertRecord, OperatorAction } from '../activities/types';
import type { AlertEvent, Incident, MonitorSnapshot, MonitorStatus, RetailerDetail, RuleId, RunSummary } from '../rules/types';

export const DEFAULTS = {
  workflowId: 'ingestion-monitor',
  taskQueue: 'ingestion-monitor',
  workflowType: 'ingestionMonitorWorkflow',
  /** Continue-as-new after this many accepted reports even if the server has not suggested it yet. */
  maxReportsPerRun: 2000,
} as const;

export interface MonitorInput {
  /** Default thresholds for every retailer (merged over the built-in defaults). */
  thresholds?: ThresholdOverrides;
  /** Per-retailer overrides. */
  retailers?: Record<string, ThresholdOverrides>;
  /** Retailers to watch from the start, so one that never reports still goes stale. */
  expectedRetailers?: string[];
  maxReportsPerRun?: number;
  /** Carried across continue-as-new; not for callers. */
  state?: MonitorSnapshot;
  /** Rows and alerts queued but not yet written/sent when the previous run continued-as-new. */
  pending?: PendingWork;
}

export interface PendingWork {
  runs: RunSummary[];
  dirtyRetailers: string[];
  alertsToSend: AlertEvent[];
  alertRecords: AlertRecord[];
  actions?: OperatorAction[];
}

/** The signal every ingestion run sends; the payload is validated in the workflow (see shared/report.ts). */
export const ingestionCompletedSignal = defineSignal<[unknown]>('ingestionCompleted');

export interface SetThresholdsArgs {
  /** Omit to change the defaults for every retailer. */
  retailer?: string;
  thresholds: ThresholdOverrides;
}
export const setThresholdsSignal = defineSignal<[SetThresholdsArgs]>('setThresholds');

export interface SilenceArgs {
  retailer: string;
  /** One rule, or omit / '*' for all of the retailer's rules. */
  rule?: RuleId | '*';
  /** ISO-8601 end of the silence. */
  until: string;
  reason: string;
  by?: string;
}
export const silenceSignal = defineSignal<[SilenceArgs]>('silence');

export interface UnsilenceArgs {
  retailer: string;
  rule?: RuleId | '*';
}
export const unsilenceSignal = defineSignal<[UnsilenceArgs]>('unsilence');

export interface AcknowledgeArgs {
  incidentId: string;
  by?: string;
  note?: string;
}
export const acknowledgeSignal = defineSignal<[AcknowledgeArgs]>('acknowledge');

/** Re-run a retailer's ingestion now (Schedule trigger where it has one, else start the ingestion workflow). */
export interface ReplayArgs {
  retailer: string;
  by?: string;
}
export const replaySignal = defineSignal<[ReplayArgs]>('replay');

/**
 * Rebuild a retailer's state from `ingestion_runs` over [from, to] (ISO-8601), e.g. after an outage or a
 * threshold change. Incidents already notified are not notified again.
 */
export interface ReprocessArgs {
  retailer: string;
  from: string;
  to: string;
  by?: string;
}
export const reprocessSignal = defineSignal<[ReprocessArgs]>('reprocess');

export const statusQuery = defineQuery<MonitorStatus>('status');
export const retailerQuery = defineQuery<RetailerDetail | null, [string]>('retailer');
export const incidentsQuery = defineQuery<Incident[]>('incidents');
export const alertsQuery = defineQuery<AlertEvent[]>('alerts');

export type { Thresholds };
