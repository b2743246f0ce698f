/**
 * The missed-run rule's view of a retailer's Schedule: one `describe` turned into plain facts (the
 * server's next action times — timezone, calendar and jitter already applied — paused state, recent and
 * running actions, overlap skips, the spec in one line). "Not found" is an answer, never an error.
 */
import { type Client, type ScheduleDescription, ScheduleNotFoundError } from '@temporalio/client';
import { KEEP_ACTIONS, KEEP_UPCOMING, type ScheduleFacts } from '../rules/missed-run';
import { isUnavailableHere } from './grpc';
import { explainPollers, formatDuration } from './stale-diagnosis';
import { pollersOf } from './task-queue-pollers';

type Spec = ScheduleDescription['spec'];
type Ranges = Array<{ start: number | string; end: number | string; step: number }>;

function ranges(rs: Ranges): string {
  return rs.map((r) => (r.start === r.end ? `${r.start}` : `${r.start}-${r.end}${r.step > 1 ? `/${r.step}` : ''}`)).join(',');
}

/** `calendar dayOfWeek MONDAY hour 6 minute 30`: only the fields that narrow the match (all days, months and years are left out). */
function calendarText(c: NonNullable<Spec['calendars']>[number]): string {
  const fields: Array<[string, Ranges, (rs: Ranges) => boolean]> = [
    ['month', c.month as Ranges, (rs) => rs.length === 1 && rs[0]!.start === 'JANUARY' && rs[0]!.end === 'DECEMBER'],
    ['dayOfMonth', c.dayOfMonth as Ranges, (rs) => rs.length === 1 && rs[0]!.start === 1 && rs[0]!.end === 31],
    ['dayOfWeek', c.dayOfWeek as Ranges, (rs) => rs.length === 1 && rs[0]!.start === 'SUNDAY' && rs[0]!.end === 'SATURDAY'],
    ['hour', c.hour as Ranges, () => false],
    ['minute', c.minute as Ranges, () => false],
    ['second', c.second as Ranges, (rs) => rs.length === 1 && rs[0]!.start === 0 && rs[0]!.end === 0],
  ];
  const parts = fields.filter(([, rs, all]) => rs?.length && !all(rs)).map(([name, rs]) => `${name} ${ranges(rs)}`);
  return `calendar ${parts.join(' ')}`;
}

/** The spec in one line: `every 20 s`, `calendar hour 6 minute 30 (Africa/Johannesburg)`, jitter if any. */
export function specText(spec: Spec): string {
  const parts = [
    ...(spec.intervals ?? []).map((i) => `every ${formatDuration(i.every)}${i.offset ? ` offset ${formatDuration(i.offset)}` : ''}`),
    ...(spec.calendars ?? []).map(calendarText),
  ];
  const jitter = spec.jitter ? `, jitter up to ${formatDuration(spec.jitter)}` : '';
  return `${parts.join('; ') || 'no times'} (${spec.timezone || 'UTC'}${jitter})`;
}

/** The facts of one description, bounded (KEEP_UPCOMING times, KEEP_ACTIONS actions). */
export function scheduleFacts(d: ScheduleDescription): ScheduleFacts {
  return {
    found: true,
    scheduleId: d.scheduleId,
    paused: d.state.paused,
    ...(d.state.note ? { note: d.state.note } : {}),
    nextActionTimes: d.info.nextActionTimes.slice(0, KEEP_UPCOMING).map((t) => t.getTime()),
    recentActions: d.info.recentActions.slice(-KEEP_ACTIONS).map((a) => ({
      scheduledAt: a.scheduledAt.getTime(),
      takenAt: a.takenAt.getTime(),
      workflowId: a.action.workflow.workflowId,
    })),
    runningWorkflowIds: d.info.runningActions.slice(0, KEEP_ACTIONS).map((a) => a.workflow.workflowId),
    overlap: String(d.policies.overlap),
    skippedOverlap: d.info.numActionsSkippedOverlap,
    missedCatchupWindow: d.info.numActionsMissedCatchupWindow,
    spec: specText(d.spec),
  };
}

/**
 * A Schedule's description; undefined when there is no such Schedule, or a server / role without the
 * schedules API (nothing to say about it). Other errors throw, for Temporal to retry.
 */
export async function describeScheduleIfAny(client: Client, scheduleId: string): Promise<ScheduleDescription | undefined> {
  try {
    return await client.schedule.getHandle(scheduleId).describe();
  } catch (err) {
    if (err instanceof ScheduleNotFoundError || isUnavailableHere(err)) return undefined;
    throw err;
  }
}

/** `describeIngestionSchedule`: the retailer's Schedule (`schedule`, else the configured template's id). */
export function createScheduleFactsActivities(client: Client, scheduleIdFor: (retailer: string, schedule?: string) => string) {
  return {
    async describeIngestionSchedule({ retailer, schedule, check }: { retailer: string; schedule?: string; check?: boolean }): Promise<ScheduleFacts> {
      const scheduleId = scheduleIdFor(retailer, schedule);
      const d = await describeScheduleIfAny(client, scheduleId);
      if (!d) return { found: false, scheduleId }; // nothing to expect
      const facts = scheduleFacts(d);
      // A run is overdue and the Schedule has runs open: does any worker poll their task queue? (as the stale diagnosis asks)
      const queue = d.action.type === 'startWorkflow' ? d.action.taskQueue : undefined;
      if (check && facts.found && facts.runningWorkflowIds.length && queue) {
        const seen = await pollersOf(client, queue).catch(() => undefined); // not allowed to look: say nothing
        const pollers = seen && explainPollers(queue, seen, Date.now());
        if (pollers) facts.pollers = pollers;
      }
      return facts;
    },
  };
}
