/**
 * One retention pass per execution, started hourly by a Temporal Schedule (ensureRetentionSchedule) when
 * RUN_RETENTION_DAYS is set. The activity deletes in bounded batches and heartbeats after each one.
 */
import { proxyActivities } from '@temporalio/workflow';
import type { PruneRequest, PruneResult, RetentionActivities } from './types';

const { pruneOldRows } = proxyActivities<RetentionActivities>({
  startToCloseTimeout: '30 minutes',
  heartbeatTimeout: '2 minutes',
  // A failed pass is not a loss: the next one deletes what this one left.
  retry: { initialInterval: '10 seconds', maximumAttempts: 3 },
});

export async function runRetentionWorkflow(input: PruneRequest): Promise<PruneResult> {
  return await pruneOldRows(input);
}
