/**
 * The reconciler's durable trigger: a Temporal Schedule starts one reconciler pass every `every`.
 * Idempotent: creates the Schedule, or updates spec/action/policy of the existing one (keeping its paused
 * state), so a worker can call it on every start.
 */
import { type Client, type ScheduleHandle, ScheduleOverlapPolicy } from '@temporalio/client';
import { parseDuration } from '../shared/duration';
import { createOrUpdateSchedule } from '../shared/ensure-schedule';
import { RECONCILER, type ReconcilerInput } from './types';

export interface ReconcilerScheduleOptions {
  /** Interval between passes: ms, or a duration such as '5m', '1h', '1h30m'. */
  every?: string | number;
  /** Ingestion workflow types to reconcile. */
  workflowTypes: string[];
  /** Task queue of the worker that runs `ingestionReconcilerWorkflow` and `findUnreportedRuns`. */
  taskQueue: string;
  /** First pass lookback; default 2 × every + 1 min. */
  lookbackMs?: number;
  scheduleId?: string;
}

/** @throws TypeError when `every` is not a positive duration. */
export async function ensureReconcilerSchedule(client: Client, opts: ReconcilerScheduleOptions): Promise<ScheduleHandle> {
  const every = opts.every ?? '5m';
  const everyMs = typeof every === 'number' ? every : parseDuration(every);
  if (everyMs === undefined || !(everyMs > 0)) throw new TypeError(`every: "${every}" is not a positive duration (e.g. 5m, 1h)`);
  const scheduleId = opts.scheduleId ?? RECONCILER.scheduleId;
  const input: ReconcilerInput = { workflowTypes: opts.workflowTypes, lookbackMs: opts.lookbackMs ?? 2 * everyMs + 60_000 };
  // In ms, so the Schedule's interval is exactly what everyMs (lookback, timeouts) was computed from.
  const spec = { intervals: [{ every: everyMs }] };
  const action = {
    type: 'startWorkflow' as const,
    workflowType: RECONCILER.workflowType,
    workflowId: scheduleId,
    taskQueue: opts.taskQueue,
    args: [input],
    // A stuck pass must not block the following ones forever (overlap SKIP).
    workflowExecutionTimeout: Math.max(everyMs * 2, 10 * 60_000),
  };
  // SKIP: passes never run concurrently; a skipped pass is caught up by the next one's watermark.
  const policies = { overlap: ScheduleOverlapPolicy.SKIP, catchupWindow: everyMs };
  return await createOrUpdateSchedule(client, { scheduleId, spec, action, policies });
}
