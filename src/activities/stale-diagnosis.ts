/**
 * Why might a retailer's data be stale, judged from its Schedule's description? Pure (clock passed in) so
 * every branch is easy to follow; src/activities/temporal.ts fetches the description and open runs.
 */
import type { ScheduleDescription } from '@temporalio/client';

/** A run of the schedule that is still open (from `info.runningActions`, described). */
export interface OpenRun {
  workflowId: string;
  startedAt: number;
}

export type ScheduleFacts = Pick<ScheduleDescription, 'scheduleId' | 'state' | 'policies' | 'info'>;

/** A run that started this much after its scheduled time started "late". */
export const LATE_START_MS = 5 * 60_000;

export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const s = Math.round(ms / 1000);
  if (s < 120) return `${s} s`;
  const m = Math.round(s / 60);
  if (m < 120) return `${m} min`;
  const h = Math.floor(m / 60);
  return m % 60 ? `${h} h ${m % 60} min` : `${h} h`;
}

/** Gap between the next two action times: the schedule's period, when it has a regular one. */
function period(d: ScheduleFacts): number | undefined {
  const [a, b] = d.info.nextActionTimes;
  return a && b ? b.getTime() - a.getTime() : undefined;
}

/** Reasons found, most telling first, joined into one line; undefined when none applies. */
export function explainSchedule(
  d: ScheduleFacts,
  openRuns: OpenRun[],
  now: number,
  typicalDurationMs?: number,
  pause?: { at: Date; by?: string },
): string | undefined {
  const id = d.scheduleId;
  const reasons: string[] = [];
  if (d.state.paused) {
    const since = pause ? ` since ${pause.at.toISOString()}${pause.by ? ` by ${pause.by}` : ''}` : '';
    reasons.push(`schedule ${id} is paused${since}${d.state.note ? ` (note: "${d.state.note}")` : ''}`);
  }
  if (d.state.remainingActions === 0) reasons.push(`schedule ${id} has no remaining actions`);

  // "Past its usual duration": twice the typical run, or one schedule period when no typical is known.
  const every = period(d);
  const limit = typicalDurationMs ? 2 * typicalDurationMs : every;
  for (const run of openRuns) {
    const open = now - run.startedAt;
    if (limit !== undefined && open > limit) {
      const usual = typicalDurationMs ? ` (usually ${formatDuration(typicalDurationMs)})` : '';
      reasons.push(`run ${run.workflowId} is still open after ${formatDuration(open)}${usual}`);
    }
  }

  const actions = d.info.recentActions;
  const last = actions[actions.length - 1];
  // An action was due since the last one was taken, yet none was taken.
  const overdue = !d.state.paused && (every === undefined || !last || now - last.takenAt.getTime() > every);
  if (overdue && d.info.numActionsSkippedOverlap > 0 && d.policies.overlap !== 'ALLOW_ALL' && (openRuns.length > 0 || every !== undefined)) {
    const blocker = openRuns[0] ? ` while ${openRuns[0].workflowId} is still open` : '';
    reasons.push(`scheduled runs are being skipped by the overlap policy ${d.policies.overlap}${blocker} (${d.info.numActionsSkippedOverlap} skipped so far)`);
  }
  if (overdue && every !== undefined && d.info.numActionsMissedCatchupWindow > 0) {
    reasons.push(`scheduled runs were missed beyond the catchup window (${d.info.numActionsMissedCatchupWindow} so far)`);
  }
  if (last) {
    const late = last.takenAt.getTime() - last.scheduledAt.getTime();
    if (late > LATE_START_MS) {
      reasons.push(`last run ${last.action.workflow.workflowId} started ${formatDuration(late)} late (scheduled for ${last.scheduledAt.toISOString()})`);
    }
  }
  return reasons.length ? reasons.join('; ') : undefined;
}
