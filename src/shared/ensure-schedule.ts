/**
 * Create a Temporal Schedule, or — when it already exists — update its spec, action and policies while
 * keeping its state (paused, notes). What the reconciler's and the retention job's Schedules share, so a
 * worker can ensure them on every start.
 */
import { type Client, ScheduleAlreadyRunning, type ScheduleHandle, type ScheduleOptions } from '@temporalio/client';

/** @throws whatever the Schedule service answers other than "already exists". */
export async function createOrUpdateSchedule(client: Client, options: ScheduleOptions): Promise<ScheduleHandle> {
  const { scheduleId, spec, action, policies } = options;
  try {
    return await client.schedule.create(options);
  } catch (err) {
    if (!(err instanceof ScheduleAlreadyRunning)) throw err;
  }
  const handle = client.schedule.getHandle(scheduleId);
  await handle.update((previous) => ({ ...previous, spec, action, policies }));
  return handle;
}
