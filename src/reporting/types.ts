/**
 * What the reporting interceptor (workflow side) hands to the reporting activity (worker side).
 * Types only, so the workflow bundle pulls in nothing from Node.
 */
import type { RunVerdict } from '../shared/messages';

/** Name of the local activity the interceptor calls; `withIngestionReporting` registers it. */
export const REPORTING_ACTIVITY = 'reportIngestionOutcome';

/**
 * The documented result shape of an ingestion workflow. A workflow returning this needs no extractor.
 * `lastScrapeAt` is an ISO-8601 date-time with a timezone.
 */
export interface IngestionResultShape {
  retailer?: string;
  skuCount: number;
  promoCount?: number;
  lastScrapeAt?: string;
}

/** How one ingestion run ended, as seen by the interceptor (or rebuilt by the reconciler from history). */
export interface IngestionOutcome {
  status: 'success' | 'failure';
  workflowType: string;
  workflowId: string;
  /** Temporal runId: also the report's runId, the dedupe key shared by interceptor and reconciler. */
  runId: string;
  /** Epoch ms. */
  startedAt: number;
  finishedAt: number;
  /** Schedule id from the `TemporalScheduledById` search attribute, when a Schedule started the run. */
  schedule?: string;
  /** The workflow's return value, untouched (success only). */
  result?: unknown;
  /** The workflow's first argument, where the retailer usually is. */
  firstArg?: unknown;
  memo?: Record<string, unknown>;
  /** Failure message (failure only). */
  error?: string;
}

export interface ReportOutcomeResult {
  sent: boolean;
  runId: string;
  /** Why nothing was sent (filtered type, no retailer, invalid report, refused by the monitor). */
  reason?: string;
  /** The monitor's answer; absent when the report was handed over by signal (the monitor did not answer in time). */
  verdict?: RunVerdict;
}

export interface ReportingActivities {
  reportIngestionOutcome(outcome: IngestionOutcome): Promise<ReportOutcomeResult>;
}
