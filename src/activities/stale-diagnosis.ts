/**
 * Why might a retailer's data be stale, judged from its ingestion task queue's pollers and its Schedule's
 * description? Pure (clock passed in) so every branch is easy to follow; src/activities/temporal.ts fetches
 * the pollers, the description and the open runs.
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

/** A worker polling the ingestion task queue, as DescribeTaskQueue lists it (workflow and activity pollers). */
export interface PollerFacts {
  identity?: string;
  lastAccessTime?: number;
}

/** A poller seen this recently is polling (workers poll continuously; the server refreshes every minute or so). */
export const POLLER_FRESH_MS = 2 * 60_000;
/** How far back Temporal remembers pollers: an empty list means none in this window. */
export const POLLER_HISTORY_MS = 5 * 60_000;

/**
 * "No worker polls the queue", when that is so: no poller listed, or none seen within POLLER_FRESH_MS.
 * Undefined when some worker is polling.
 */
export function explainPollers(taskQueue: string, pollers: PollerFacts[], now: number): string | undefined {
  const seen = pollers.map((p) => p.lastAccessTime).filter((t): t is number => typeof t === 'number' && Number.isFinite(t));
  const newest = seen.length ? Math.max(...seen) : undefined;
  if (newest !== undefined && now - newest <= POLLER_FRESH_MS) return undefined;
  if (newest !== undefined) return `no worker has polled \`${taskQueue}\` since ${new Date(newest).toISOString()}`;
  if (pollers.length) return `no worker has polled \`${taskQueue}\` recently`; // listed, but without a time
  return `no worker has polled \`${taskQueue}\` in the last ${formatDuration(POLLER_HISTORY_MS)}`;
}

/** Schedule reasons found, most telling first, joined into one line; undefined when none applies. */
export function explainSchedule(
  d: ScheduleFacts,
  openRuns: OpenRun[],
  now: number,
  typicalDurationMs?: number,
  pause?: { at: Date; by?: string },
  opts: { queueUnpolled?: boolean } = {},
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
  // With no worker polling, the previous run never finishes, so the Schedule counts its actions as skipped by
  // the overlap policy: true, but the cause is the missing worker (said first), not the policy.
  if (overdue && !opts.queueUnpolled && d.info.numActionsSkippedOverlap > 0 && d.policies.overlap !== 'ALLOW_ALL' && (openRuns.length > 0 || every !== undefined)) {
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

/** The whole diagnosis: the poller reason first (it explains the rest), then the Schedule's. */
export function combineDiagnosis(pollers: string | undefined, schedule: string | undefined): string | undefined {
  const parts = [pollers, schedule].filter((p): p is string => !!p);
  return parts.length ? parts.join('; ') : undefined;
}
