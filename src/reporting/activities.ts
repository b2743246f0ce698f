/**
 * The reporting activity, run as a LOCAL activity by the interceptor on the ingestion worker: builds the
 * run report and sends it to the retailer's monitor with `reportIngestionRun` (Update-with-Start: a
 * missing monitor is started, and the monitor answers with its verdict).
 * Anything wrong with the report itself — refused by the schema or by the monitor's validator — is logged
 * and swallowed: it must never fail the ingestion run. Only transport errors throw, so the interceptor's
 * few retries can cover a blip.
 */
import { log } from '@temporalio/activity';
import type { Client } from '@temporalio/client';
import { CommandRejectedError, reportIngestionRun, sendIngestionCompleted, type MonitorTarget } from '../client';
import type { RunVerdict } from '../shared/messages';
import { InvalidRunReportError, parseRunReport, type RunReportInput } from '../shared/report';
import { buildRunReport, failureMessage, type OutcomeExtractor } from './build-report';
import type { IngestionOutcome, ReportingActivities, ReportOutcomeResult } from './types';

export interface ReportingOptions {
  client: Client;
  /**
   * Where the monitors run: the fleet workflow id (default `ingestion-monitor`), their task queue (default
   * `ingestion-monitor`) and the retailer monitors' workflow id prefix (default `ingestion-monitor/`).
   */
  monitor?: MonitorTarget;
  /** Map a workflow's result/args to report fields (counts, retailer …) when it doesn't return the documented shape. */
  extract?: OutcomeExtractor;
  /** Report only these workflow types (default: every workflow on the worker except the monitor's own). */
  workflowTypes?: string[];
  /** To read the retailer from a schedule id; default `ingest-{retailer}`. */
  scheduleIdTemplate?: string;
}

/**
 * How long to wait for the monitor's verdict before handing the report over fire-and-forget instead. An
 * Update is only durable once a monitor worker has accepted it; when no worker answers (monitor worker
 * down or busy restoring), the report goes as the `ingestionCompleted` signal (signal-with-start), which
 * is in the monitor's history at once and applied exactly like the Update when the worker is back. A
 * report that arrives both ways is recognised by its runId and counted once.
 */
export const VERDICT_WAIT_MS = 3_000;

export type Delivery = { sent: true; verdict?: RunVerdict } | { sent: false; reason: string };

/**
 * Send one report and say what became of it. Refusals (invalid report, the monitor's validator) are
 * returned, not thrown; a monitor that does not answer in `waitMs` gets the report by signal instead.
 * @throws only when neither the Update nor the signal could be sent (transport error).
 */
export async function deliverReport(client: Client, report: RunReportInput, target: MonitorTarget = {}, waitMs = VERDICT_WAIT_MS): Promise<Delivery> {
  try {
    return { sent: true, verdict: await client.withDeadline(Date.now() + waitMs, () => reportIngestionRun(client, report, target)) };
  } catch (err) {
    if (err instanceof InvalidRunReportError || err instanceof CommandRejectedError) return { sent: false, reason: err.message };
    log.warn('no verdict from the monitor in time; report handed over by signal instead', { runId: report.runId, error: failureMessage(err) });
  }
  await sendIngestionCompleted(client, report, target);
  return { sent: true };
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
      const delivery = await deliverReport(opts.client, built.report, opts.monitor);
      if (!delivery.sent) return skip(`refused by the monitor: ${delivery.reason}`);
      return { sent: true, runId: outcome.runId, ...(delivery.verdict ? { verdict: delivery.verdict } : {}) };
    },
  };
}
