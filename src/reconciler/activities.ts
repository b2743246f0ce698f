/**
 * findUnreportedRuns: ingestion runs that closed without success (failed, timed out, terminated,
 * cancelled) since a time, read from Temporal's visibility and sent to the monitor as failure reports.
 * Runs the interceptor already reported are sent again on purpose: the retailer's monitor dedupes by runId
 * (the Temporal runId, the same key the interceptor uses) and answers `duplicate`, which is simpler and
 * safer than asking it first. A report the monitor refuses is counted as skipped and logged.
 */
import { log } from '@temporalio/activity';
import type { Client, WorkflowExecutionInfo } from '@temporalio/client';
import { SearchAttributeType, defineSearchAttributeKey } from '@temporalio/common';
import { temporal } from '@temporalio/proto';
import type { MonitorTarget } from '../client';
import { deliverReport } from '../reporting/activities';
import { buildRunReport, failureMessage, type OutcomeExtractor } from '../reporting/build-report';
import type { IngestionOutcome } from '../reporting/types';
import { parseRunReport } from '../shared/report';
import { type FindUnreportedRunsRequest, type FindUnreportedRunsResult, type ReconcilerActivities, UNREPORTED_STATUSES } from './types';
import { visibilityString } from '../shared/visibility';
import { decodeArguments, decodeFailureToError } from './decode';

export interface ReconcilerOptions {
  client: Client;
  /** Fleet workflow id, task queue and retailer monitor prefix (defaults as in src/shared/messages.ts). */
  monitor?: MonitorTarget;
  extract?: OutcomeExtractor;
  scheduleIdTemplate?: string;
  /** Runs handled per pass (default 1000); beyond that the newest are kept, see findUnreportedRuns. */
  maxRunsPerPass?: number;
}

const CLOSE_EVENT_ONLY = temporal.api.enums.v1.HistoryEventFilterType.HISTORY_EVENT_FILTER_TYPE_CLOSE_EVENT;
const scheduledById = defineSearchAttributeKey('TemporalScheduledById', SearchAttributeType.KEYWORD);


export function unreportedRunsQuery(workflowTypes: string[], since: string): string {
  return (
    `WorkflowType IN (${workflowTypes.map(visibilityString).join(', ')}) AND CloseTime >= ${visibilityString(since)} ` +
    `AND ExecutionStatus IN (${UNREPORTED_STATUSES.map(visibilityString).join(', ')})`
  );
}

export function createReconcilerActivities(opts: ReconcilerOptions): ReconcilerActivities {
  const { client } = opts;
  const max = opts.maxRunsPerPass ?? 1000;

  async function events(wf: WorkflowExecutionInfo, closeOnly: boolean) {
    const res = await client.workflowService.getWorkflowExecutionHistory({
      namespace: client.options.namespace,
      execution: { workflowId: wf.workflowId, runId: wf.runId },
      ...(closeOnly ? { historyEventFilterType: CLOSE_EVENT_ONLY } : { maximumPageSize: 1 }),
    });
    return res.history?.events ?? [];
  }

  /** First argument (for the retailer) and why the run closed, from its first and close events. */
  async function outcomeOf(wf: WorkflowExecutionInfo): Promise<IngestionOutcome> {
    const converter = client.options.loadedDataConverter;
    const status = wf.status.name;
    let firstArg: unknown;
    let why = '';
    try {
      const started = (await events(wf, false))[0]?.workflowExecutionStartedEventAttributes;
      [firstArg] = await decodeArguments(converter, started?.input?.payloads);
      const close = (await events(wf, true))[0];
      const failed = close?.workflowExecutionFailedEventAttributes?.failure;
      const terminated = close?.workflowExecutionTerminatedEventAttributes;
      if (failed) why = failureMessage(await decodeFailureToError(converter, failed));
      else if (terminated) why = `${terminated.identity ? `by ${terminated.identity}` : ''}${terminated.reason ? `: ${terminated.reason}` : ''}`;
      else if (close?.workflowExecutionTimedOutEventAttributes) why = 'hit its workflow execution/run timeout';
    } catch (err) {
      // History gone (retention) or undecodable: still report what visibility knows.
      log.warn('reconciler: could not read history', { workflowId: wf.workflowId, runId: wf.runId, error: failureMessage(err) });
    }
    const canonical = { FAILED: 'Failed', TIMED_OUT: 'TimedOut', TERMINATED: 'Terminated', CANCELLED: 'Canceled' } as Record<string, string>;
    const label = canonical[status] ?? status;
    const schedule = wf.typedSearchAttributes.get(scheduledById);
    return {
      status: 'failure',
      workflowType: wf.type,
      workflowId: wf.workflowId,
      runId: wf.runId,
      startedAt: wf.startTime.getTime(),
      finishedAt: (wf.closeTime ?? wf.startTime).getTime(),
      ...(schedule ? { schedule } : {}),
      firstArg,
      memo: wf.memo,
      error: why.startsWith('by ') ? `${label} ${why}` : why ? `${label}: ${why}` : label,
    };
  }

  return {
    async findUnreportedRuns({ workflowTypes, since }: FindUnreportedRunsRequest): Promise<FindUnreportedRunsResult> {
      const result: FindUnreportedRunsResult = { found: 0, sent: 0, skipped: 0, truncated: false };
      if (workflowTypes.length === 0) return result;
      if (Number.isNaN(Date.parse(since))) throw new TypeError(`since must be an ISO-8601 date-time, got "${since}"`);
      const runs: WorkflowExecutionInfo[] = [];
      for await (const wf of client.workflow.list({ query: unreportedRunsQuery(workflowTypes, new Date(since).toISOString()) })) {
        if (runs.length >= max) {
          result.truncated = true;
          // Visibility lists newest closes first, so the oldest of such a burst go unreported (the monitor
          // is alerting on the rest anyway); raise maxRunsPerPass if bursts this large are normal.
          log.warn(`reconciler: more than ${max} unsuccessful runs since ${since}; only the newest ${max} are reported`);
          break;
        }
        runs.push(wf);
      }
      runs.sort((a, b) => (a.closeTime?.getTime() ?? 0) - (b.closeTime?.getTime() ?? 0));
      for (const wf of runs) {
        result.found++;
        const closed = wf.closeTime?.toISOString();
        if (closed && (!result.latestCloseTime || closed > result.latestCloseTime)) result.latestCloseTime = closed;
        const built = buildRunReport(await outcomeOf(wf), opts);
        const invalid = built.ok ? parseRunReport(built.report) : built;
        if (!built.ok || !invalid.ok) {
          result.skipped++;
          log.warn(`reconciler: run not reported: ${invalid.ok ? '' : invalid.reason}`, { workflowId: wf.workflowId, runId: wf.runId });
          continue;
        }
        const delivery = await deliverReport(client, built.report, opts.monitor);
        if (!delivery.sent) {
          result.skipped++;
          log.warn(`reconciler: run not reported: ${delivery.reason}`, { workflowId: wf.workflowId, runId: wf.runId });
          continue;
        }
        result.sent++;
      }
      return result;
    },
  };
}
