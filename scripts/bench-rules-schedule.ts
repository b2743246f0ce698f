/**
 * The synthetic retailers' ingestion Schedules for the rules benchmark (scripts/bench-rules-eval.ts): their
 * action times (a daily calendar time in the retailer's timezone, or an every-4/6-h interval), what each
 * action did (ran and reported, closed without reporting, was never taken), and the `describe` answer
 * (`ScheduleFacts`) the workflow's activity would return at any moment. Pure and deterministic.
 */
import { localNaive } from '../src/rules/maintenance';
import { KEEP_ACTIONS, KEEP_UPCOMING, type ScheduleFacts } from '../src/rules/missed-run';

const HOUR = 60 * 60_000;
const DAY = 24 * HOUR;

/** One expected action of a Schedule and what became of it. */
export interface Slot {
  /** The expected (scheduled) time, epoch ms. */
  at: number;
  /** The workflow id the Schedule gives the action (`<schedule>-<ISO time>`, as Temporal does). */
  workflowId: string;
  /** When the action was taken (the run started); undefined: never taken (missed beyond the catchup window). */
  startedAt?: number;
  /** When the run ended (reported, or closed without reporting). */
  finishedAt?: number;
}

export interface SyntheticSchedule {
  id: string;
  spec: string;
  slots: Slot[];
}

/** What the generator needs of a retailer. */
export interface Cadence {
  slug: string;
  timezone: string;
  periodMs: number;
  offsetMs: number;
}

/** Wall-clock time `naive` (ms, as if UTC) in `timeZone` → epoch ms (the later instant when it is ambiguous). */
function fromLocal(naive: number, timeZone: string): number {
  const first = naive - (localNaive(naive, timeZone) - naive);
  return naive - (localNaive(first, timeZone) - first);
}

/**
 * The expected action times after `anchor` (an action time, T0 + offset) and before `to`. Daily retailers: a
 * calendar time in their timezone (the local time of day of `anchor`; the UTC time moves with daylight
 * saving). Others: every period from the epoch plus their offset (an interval spec, the same in every timezone).
 */
export function actionTimes(c: Cadence, anchor: number, to: number): number[] {
  const out: number[] = [];
  if (c.periodMs === DAY) {
    const local = localNaive(anchor, c.timezone);
    const timeOfDay = local % DAY;
    for (let day = local - timeOfDay + DAY; ; day += DAY) {
      const at = fromLocal(day + timeOfDay, c.timezone);
      if (at >= to) break;
      out.push(at);
    }
    return out;
  }
  for (let at = Math.floor((anchor - c.offsetMs) / c.periodMs) * c.periodMs + c.offsetMs + c.periodMs; at < to; at += c.periodMs) out.push(at);
  return out;
}

/** The spec in one line, as the activity prints it. */
export function specOf(c: Cadence, first: number): string {
  if (c.periodMs !== DAY) return `every ${c.periodMs / HOUR} h offset ${Math.round(c.offsetMs / 60_000)} min (${c.timezone})`;
  const t = localNaive(first, c.timezone) % DAY;
  return `calendar hour ${Math.floor(t / HOUR)} minute ${Math.floor((t % HOUR) / 60_000)} (${c.timezone})`;
}

export const workflowIdOf = (scheduleId: string, at: number) => `${scheduleId}-${new Date(at).toISOString().replace(/\.000Z$/, 'Z')}`;

/** First index of `slots` whose time is > `now` (binary search; slots ascend). */
function firstAfter(slots: readonly Slot[], now: number): number {
  let lo = 0;
  let hi = slots.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (slots[mid]!.at > now) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

/**
 * The Schedule's description at `now`: the next KEEP_UPCOMING action times, the last KEEP_ACTIONS actions
 * taken, the runs still open, and the actions never taken so far (counted as missed beyond the catchup window).
 */
export function factsAt(s: SyntheticSchedule, now: number): ScheduleFacts {
  const next = firstAfter(s.slots, now);
  const past = s.slots.slice(0, next);
  const taken = past.filter((x) => x.startedAt !== undefined && x.startedAt <= now);
  const recent = taken.slice(-KEEP_ACTIONS);
  return {
    found: true,
    scheduleId: s.id,
    paused: false,
    nextActionTimes: s.slots.slice(next, next + KEEP_UPCOMING).map((x) => x.at),
    recentActions: recent.map((x) => ({ scheduledAt: x.at, takenAt: x.startedAt!, workflowId: x.workflowId })),
    runningWorkflowIds: taken.filter((x) => x.finishedAt === undefined || x.finishedAt > now).map((x) => x.workflowId).slice(0, KEEP_ACTIONS),
    overlap: 'SKIP',
    skippedOverlap: 0,
    missedCatchupWindow: past.filter((x) => x.startedAt === undefined).length,
    spec: s.spec,
  };
}
