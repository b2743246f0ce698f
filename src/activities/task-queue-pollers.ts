/** Who polls a task queue (DescribeTaskQueue, workflow and activity pollers): shared by the stale and missed-run diagnoses. */
import type { Client } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { timestampMs } from '../shared/duration';
import type { PollerFacts } from './stale-diagnosis';

const { TaskQueueKind, TaskQueueType } = temporal.api.enums.v1;

/** Workflow and activity pollers of `queue` (Temporal lists those seen in the last minutes). */
export async function pollersOf(client: Client, queue: string): Promise<PollerFacts[]> {
  const out: PollerFacts[] = [];
  for (const taskQueueType of [TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW, TaskQueueType.TASK_QUEUE_TYPE_ACTIVITY]) {
    const res = await client.workflowService.describeTaskQueue({
      namespace: client.options.namespace,
      taskQueue: { name: queue, kind: TaskQueueKind.TASK_QUEUE_KIND_NORMAL },
      taskQueueType,
    });
    for (const p of res.pollers ?? []) out.push({ identity: p.identity ?? undefined, lastAccessTime: timestampMs(p.lastAccessTime) });
  }
  return out;
}
