/**
 * One reconciler pass per execution; a Temporal Schedule (ensureReconcilerSchedule) starts it every few
 * minutes, so there is no polling loop and no ever-growing history. The previous pass's watermark comes in
 * as the Schedule's last completion result (`workflowInfo().lastResult`); see window.ts.
 */
import { proxyActivities, workflowInfo } from '@temporalio/workflow';
import type { ReconcilerActivities, ReconcilerInput, ReconcilerResult } from './types';
import { windowStart } from './window';

const { findUnreportedRuns } = proxyActivities<ReconcilerActivities>({
  startToCloseTimeout: '5 minutes',
  // A failed pass is not a loss: the next pass starts from the same watermark.
  retry: { initialInterval: '5 seconds', maximumAttempts: 3 },
});

export async function ingestionReconcilerWorkflow(input: ReconcilerInput): Promise<ReconcilerResult> {
  const now = Date.now();
  const previous = workflowInfo().lastResult as Partial<ReconcilerResult> | undefined;
  const since = new Date(windowStart(now, input.lookbackMs, input.watermark ?? previous?.watermark)).toISOString();
  const found = await findUnreportedRuns({ workflowTypes: input.workflowTypes, since });
  return { ...found, since, watermark: new Date(now).toISOString() };
}
