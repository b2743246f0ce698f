/** Who polls a task queue (DescribeTaskQueue, workflow and activity pollers): shared by the stale and missed-run diagnoses. */
import type { Client } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { timestampMs } from '../shared/duration';
import type { PollerFacts } from './stale-diagnosis';

const { TaskQueueKind, TaskQueueType } = temporal.api.enums.v1;

/**
 * How long one answer serves every caller in this worker. 1,000 retailers going stale at once would otherwise
 * each ask the server twice about the same queue; a poller counts as polling for 2 minutes
 * (POLLER_FRESH_MS), so an answer a few seconds old says the same.
 */
export const POLLERS_TTL_MS = 5_000;

const answers = new WeakMap<Client, Map<string, { at: number; pollers: Promise<PollerFacts[]> }>>();

/**
 * Workflow and activity pollers of `queue` (Temporal lists those seen in the last minutes): one request per
 * client and queue at a time, its answer shared for POLLERS_TTL_MS. A failed request is not kept.
 */
export function pollersOf(client: Client, queue: string, now = Date.now()): Promise<PollerFacts[]> {
  let byQueue = answers.get(client);
  if (!byQueue) answers.set(client, (byQueue = new Map()));
  const kept = byQueue.get(queue);
  if (kept && now - kept.at < POLLERS_TTL_MS) return kept.pollers;
  const pollers = describePollers(client, queue);
  byQueue.set(queue, { at: now, pollers });
  pollers.catch(() => {
    if (byQueue.get(queue)?.pollers === pollers) byQueue.delete(queue);
  });
  return pollers;
}

async function describePollers(client: Client, queue: string): Promise<PollerFacts[]> {
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
