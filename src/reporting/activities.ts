/**
 * The reporting activity, run as a LOCAL activity by the interceptor on the ingestion worker: builds the
 * run report and sends it to the monitor with signal-with-start (so a missing monitor is started).
 * Anything wrong with the report itself is logged and swallowed — it must never fail the ingestion run;
 * only transport errors throw, so the interceptor's few retries can cover a blip.
 */
import { log } from '@temporalio/activity';
import type { Client } from '@temporalio/client';
import { reportIngestionRun } from '../client';
import { parseRunReport } from '../shared/report';
import { buildRunReport, type OutcomeExtractor } from './build-report';
import type { IngestionOutcome, ReportingActivities, ReportOutcomeResult } from './types';

export interface ReportingOptions {
  client: Client;
  /** Where the monitor runs; defaults to `ingestion-monitor` / `ingestion-monitor`. */
  monitor?: { workflowId?: string; taskQueue?: string };
  /** Map a workflow's result/args to report fields (counts, retailer …) when it doesn't return the documented shape. */
  extract?: OutcomeExtractor;
  /** Report only these workflow types (default: every workflow on the worker except the monitor's own). */
  workflowTypes?: string[];
  /** To read the retailer from a schedule id; default `ingest-{retailer}`. */
  scheduleIdTemplate?: string;
}

export function createReportingActivities(opts: ReportingOptions): ReportingActivities {
  const types = opts.workflowTypes ? new Set(opts.workflowTypes) : undefined;
  return {
    async reportIngestionOutcome(outcome: IngestionOutcome): Promise<ReportOutcomeResult> {
      const skip = (reason: string): ReportOutcomeResult => {
        log.warn(`ingestion run not reported: ${reason}`, { workflowId: outcome.workflowId, runId: outcome.runId });
        return { sent: false, runId: outcome.runId, reason };
      };
      if (types && !types.has(outcome.workflowType)) return { sent: false, runId: outcome.runId, reason: `workflow type ${outcome.workflowType} not reported` };
      const built = buildRunReport(outcome, opts);
      if (!built.ok) return skip(built.reason);
      const parsed = parseRunReport(built.report);
      if (!parsed.ok) return skip(`invalid report: ${parsed.reason} (return { skuCount, … } or pass \`extract\` to withIngestionReporting)`);
      await reportIngestionRun(opts.client, built.report, opts.monitor);
      return { sent: true, runId: outcome.runId };
    },
  };
}
