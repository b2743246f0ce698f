/** Shared by the reconciler workflow (types only, bundled) and its activity. */

export const RECONCILER = {
  workflowType: 'ingestionReconcilerWorkflow',
  scheduleId: 'ingestion-monitor-reconciler',
  /** First pass (no watermark yet) looks back this far: 2 × the default 5 min interval + 1 min. */
  lookbackMs: 11 * 60_000,
  /** The previous pass's watermark is moved back this much: visibility can lag behind the close. */
  overlapMs: 60_000,
  /** Never look further back than this, however old the carried watermark is. */
  maxCatchUpMs: 24 * 60 * 60_000,
} as const;

/** Close statuses of a run that may not have reported (visibility's ExecutionStatus names). */
export const UNREPORTED_STATUSES = ['Failed', 'TimedOut', 'Terminated', 'Canceled'] as const;

export interface FindUnreportedRunsRequest {
  workflowTypes: string[];
  /** ISO-8601: runs closed at or after this. */
  since: string;
}

export interface FindUnreportedRunsResult {
  found: number;
  sent: number;
  /** Found but not sent (no retailer, invalid report); logged by the activity. */
  skipped: number;
  /** Latest close time among the runs found (ISO-8601). */
  latestCloseTime?: string;
  /** More runs matched than one pass handles; the oldest were left out. */
  truncated: boolean;
}

export interface ReconcilerActivities {
  findUnreportedRuns(req: FindUnreportedRunsRequest): Promise<FindUnreportedRunsResult>;
}

export interface ReconcilerInput {
  workflowTypes: string[];
  /** Look from here instead of the previous pass's watermark (e.g. to re-scan after an outage). */
  watermark?: string;
  /** First pass only (no watermark): how far back to look. */
  lookbackMs?: number;
}

export interface ReconcilerResult extends FindUnreportedRunsResult {
  since: string;
  /** When this pass started; the next pass looks from here (minus an overlap). */
  watermark: string;
}
