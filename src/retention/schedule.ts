/**
 * The retention job's durable trigger: a Temporal Schedule starts one pass every hour. Idempotent like the
 * reconciler's: creates the Schedule or updates the existing one (keeping its paused state), so the worker
 * calls it on every start; `removeRetentionSchedule` deletes it when RUN_RETENTION_DAYS is unset.
 */
import { type Client, type ScheduleHandle, ScheduleNotFoundError, ScheduleOverlapPolicy } from '@temporalio/client';
import { createOrUpdateSchedule } from '../shared/ensure-schedule';
import { RETENTION, type PruneRequest } from './types';

export interface RetentionScheduleOptions {
  retentionDays: number;
  taskQueue: string;
  scheduleId?: string;
}

/** @throws RangeError when retentionDays is not a positive whole number. */
export async function ensureRetentionSchedule(client: Client, opts: RetentionScheduleOptions): Promise<ScheduleHandle> {
  if (!Number.isInteger(opts.retentionDays) || opts.retentionDays < 1) throw new RangeError(`retentionDays must be a positive whole number, got ${opts.retentionDays}`);
  const scheduleId = opts.scheduleId ?? RETENTION.scheduleId;
  const input: PruneRequest = { retentionDays: opts.retentionDays };
  const spec = { intervals: [{ every: RETENTION.everyMs }] };
  const action = {
    type: 'startWorkflow' as const,
    workflowType: RETENTION.workflowType,
    workflowId: scheduleId,
    taskQueue: opts.taskQueue,
    args: [input],
    workflowExecutionTimeout: 2 * RETENTION.everyMs,
  };
  // SKIP: passes never overlap; one missed pass is made up by the next.
  const policies = { overlap: ScheduleOverlapPolicy.SKIP, catchupWindow: RETENTION.everyMs };
  return await createOrUpdateSchedule(client, { scheduleId, spec, action, policies });
}

/** Deletes the retention Schedule if there is one (RUN_RETENTION_DAYS was unset); true when it existed. */
export async function removeRetentionSchedule(client: Client, scheduleId: string = RETENTION.scheduleId): Promise<boolean> {
  try {
    await client.schedule.getHandle(scheduleId).delete();
    return true;
  } catch (err) {
    if (err instanceof ScheduleNotFoundError) return false;
    throw err;
  }
}

/**
 * What the worker does on boot: with `retentionDays` (RUN_RETENTION_DAYS) ensure the Schedule with that
 * horizon; without, remove one an earlier start left, so unsetting the variable really keeps everything.
 * @throws RangeError when retentionDays is given but not a positive whole number.
 */
export async function syncRetentionSchedule(
  client: Client,
  opts: { retentionDays?: number; taskQueue: string; scheduleId?: string },
): Promise<'ensured' | 'removed' | 'none'> {
  if (opts.retentionDays === undefined) return (await removeRetentionSchedule(client, opts.scheduleId)) ? 'removed' : 'none';
  await ensureRetentionSchedule(client, { retentionDays: opts.retentionDays, taskQueue: opts.taskQueue, scheduleId: opts.scheduleId });
  return 'ensured';
}
