/** Shared by the retention workflow (types only, bundled) and its activity. */

export const RETENTION = {
  workflowType: 'runRetentionWorkflow',
  scheduleId: 'ingestion-monitor-retention',
  /** How often the Schedule prunes; hourly keeps each pass small once the backlog is gone. */
  everyMs: 60 * 60_000,
  /** Rows per DELETE statement: each is a short transaction that holds few locks. */
  batchSize: 5000,
  /** DELETE statements per pass; a larger backlog is finished by the following passes. */
  maxBatches: 400,
} as const;

export interface PruneRequest {
  /** Keep rows newer than this many days (RUN_RETENTION_DAYS). */
  retentionDays: number;
  batchSize?: number;
  maxBatches?: number;
}

export interface PruneResult {
  /** Rows older than this (ISO-8601) were pruned. */
  cutoff: string;
  runsDeleted: number;
  alertEventsDeleted: number;
  /** DELETE statements run (both tables). */
  batches: number;
  /** maxBatches was reached with old rows left; the next pass goes on. */
  truncated: boolean;
}

export interface RetentionActivities {
  pruneOldRows(req: PruneRequest): Promise<PruneResult>;
}
