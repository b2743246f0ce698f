/**
 * Workflow interceptor module: every ingestion workflow on a worker with this module reports its outcome
 * to its retailer's monitor, with no code in the workflow itself. Register it with `withIngestionReporting`.
 *
 * Guarantees to the ingestion workflow:
 * - its result, or its ORIGINAL error, is passed through unchanged;
 * - reporting is a local activity with a short timeout and few attempts (≤ ~15 s worst case, milliseconds
 *   normally), run in a non-cancellable scope so a cancelled run still reports; any reporting error is
 *   logged and swallowed;
 * - histories recorded before the interceptor was added still replay: the report is behind `patched()`.
 */
import { SearchAttributeType, defineSearchAttributeKey } from '@temporalio/common';
import {
  CancellationScope,
  ContinueAsNew,
  TemporalFailure,
  log,
  patched,
  proxyLocalActivities,
  workflowInfo,
  type Next,
  type WorkflowExecuteInput,
  type WorkflowInboundCallsInterceptor,
  type WorkflowInterceptorsFactory,
} from '@temporalio/workflow';
import { RECONCILER } from '../reconciler/types';
import { DEFAULTS } from '../shared/messages';
import { failureMessage } from './build-report';
import type { IngestionOutcome, ReportingActivities } from './types';

/** The monitors and the reconciler run on Temporal too; they must never report themselves. */
const NOT_INGESTION = new Set<string>([DEFAULTS.retailerWorkflowType, DEFAULTS.fleetWorkflowType, DEFAULTS.legacyWorkflowType, RECONCILER.workflowType]);
const PATCH_ID = 'ingestion-monitor-reporting-v1';
const scheduledById = defineSearchAttributeKey('TemporalScheduledById', SearchAttributeType.KEYWORD);

const { reportIngestionOutcome } = proxyLocalActivities<ReportingActivities>({
  startToCloseTimeout: '5 seconds',
  scheduleToCloseTimeout: '15 seconds',
  retry: { initialInterval: '500 milliseconds', backoffCoefficient: 2, maximumAttempts: 3 },
});

function scheduleId(): string | undefined {
  const info = workflowInfo();
  const typed = info.typedSearchAttributes.get(scheduledById);
  if (typed) return typed;
  // Older servers/SDK paths fill only the untyped map.
  const raw = info.searchAttributes?.TemporalScheduledById;
  return Array.isArray(raw) && typeof raw[0] === 'string' ? raw[0] : undefined;
}

async function report(outcome: Omit<IngestionOutcome, 'workflowType' | 'workflowId' | 'runId' | 'startedAt' | 'finishedAt' | 'schedule' | 'memo'>): Promise<void> {
  try {
    await CancellationScope.nonCancellable(async () => {
      if (!patched(PATCH_ID)) return; // replaying a run that completed before reporting existed
      const info = workflowInfo();
      await reportIngestionOutcome({
        ...outcome,
        workflowType: info.workflowType,
        workflowId: info.workflowId,
        runId: info.runId,
        // This run's start, not the chain's: each run (retry, continue-as-new) is its own report.
        startedAt: info.runStartTime.getTime(),
        finishedAt: Date.now(),
        schedule: scheduleId(),
        memo: info.memo,
      });
    });
  } catch (err) {
    log.warn('ingestion run could not be reported to the monitor (the reconciler will pick up failures)', { error: failureMessage(err) });
  }
}

class ReportingInterceptor implements WorkflowInboundCallsInterceptor {
  async execute(input: WorkflowExecuteInput, next: Next<WorkflowInboundCallsInterceptor, 'execute'>): Promise<unknown> {
    if (NOT_INGESTION.has(workflowInfo().workflowType)) return next(input);
    let result: unknown;
    try {
      result = await next(input);
    } catch (err) {
      // Continue-as-new is not an outcome; a non-Temporal error fails the workflow *task* (retried, run stays
      // open) rather than the run, so reporting it would report a failure that has not happened.
      if (err instanceof TemporalFailure && !(err instanceof ContinueAsNew)) {
        await report({ status: 'failure', error: failureMessage(err), firstArg: input.args[0] });
      }
      throw err;
    }
    await report({ status: 'success', result, firstArg: input.args[0] });
    return result;
  }
}

export const interceptors: WorkflowInterceptorsFactory = () => ({ inbound: [new ReportingInterceptor()] });
