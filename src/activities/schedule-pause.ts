/**
 * When and by whom a Schedule was paused. DescribeSchedule has the note but neither (its update time is
 * not set by a pause), so this reads the newest `patch` signal of the server's scheduler workflow
 * (`temporal-sys-scheduler:<id>`). That is a server implementation detail: best effort, bounded to one
 * page of history, and undefined on any surprise (other scheduler backends, continue-as-new since the pause).
 */
import type { Client } from '@temporalio/client';
import { temporal } from '@temporalio/proto';

const SCHEDULER_WORKFLOW_PREFIX = 'temporal-sys-scheduler:';

export interface PauseInfo {
  at: Date;
  /** Client identity that sent the pause, e.g. `4242@ops-laptop`, the CLI's or the Web UI's. */
  by?: string;
}

export async function whoPaused(client: Client, scheduleId: string): Promise<PauseInfo | undefined> {
  try {
    const res = await client.workflowService.getWorkflowExecutionHistoryReverse({
      namespace: client.options.namespace,
      execution: { workflowId: SCHEDULER_WORKFLOW_PREFIX + scheduleId },
      maximumPageSize: 100,
    });
    for (const event of res.history?.events ?? []) {
      const signal = event.workflowExecutionSignaledEventAttributes;
      const payload = signal?.signalName === 'patch' ? signal.input?.payloads?.[0] : undefined;
      if (!payload?.data || Buffer.from(payload.metadata?.encoding ?? []).toString() !== 'binary/protobuf') continue;
      const patch = temporal.api.schedule.v1.SchedulePatch.decode(payload.data);
      if (patch.unpause) return undefined; // the newest pause/unpause decides; unpaused means the pause we'd find is stale
      if (patch.pause && event.eventTime?.seconds != null) {
        return { at: new Date(Number(event.eventTime.seconds) * 1000), by: signal!.identity || undefined };
      }
    }
  } catch {
    // Not visible: the caller reports the pause without when/who.
  }
  return undefined;
}
