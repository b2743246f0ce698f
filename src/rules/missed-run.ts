/**
 * The missed-run rule: a retailer's ingestion Schedule was due to run at a known time, and no run of it
 * reported within a grace period. Catches a late or missing run long before the stale rule (4 h).
 *
 * Pure (no Temporal imports, clock passed in). The workflow asks the Schedule (`describe`, through an
 * activity) only when `missedRunRequest` says so and hands the answer to `onScheduleFacts`; the upcoming
 * action times the server computed (timezone, calendar, jitter applied) are kept, a few at a time, so a
 * healthy retailer costs one `describe` per `KEEP_UPCOMING` runs, not one per report.
 *
 * - Expected run: the head of `upcoming`. A report whose run started at or after it (less a small
 *   tolerance for reporters' clocks) answers it; the head then moves to the next time not yet answered.
 * - Deadline: expected + the usual run duration (median of recent successful runs; a report arrives when
 *   a run *finishes*) + grace. At the deadline the Schedule is described once more: paused → no alert
 *   (the stale rule, whose diagnosis names the pause, still catches a forgotten pause); otherwise
 *   `missed_run` fires with what the Schedule says about that action (taken and still running, closed
 *   without reporting, skipped by the overlap policy, missed beyond the catchup window, not taken).
 * - With the open-run check on (`handOver`, src/rules/open-run.ts): an expected action the Schedule took
 *   on time whose run is still running (a worker polls its task queue) is not a missed run. It is handed
 *   over (`running`): the open-run check fires `run_duration` if it passes its limit, and this rule looks
 *   at the Schedule again after max(grace, 1 min, time since expected) until a report answers it; if the
 *   run closes without one, `missed_run` fires then ("it closed without reporting"). A run whose task
 *   queue no worker polls (`pollers`) is not running: it still fires at the deadline.
 * - Resolved by the next accepted report (success or failure); while open, further missed times only
 *   count up (`missedRuns`), without describing the Schedule again until the kept times run out.
 */
import type { Thresholds } from './thresholds';

/** Grace after the expected time (plus usual duration) before `missed_run` fires, unless set per retailer. */
export const DEFAULT_MISSED_RUN_GRACE_MS = 15 * 60_000;
/** Upcoming action times kept from one `describe` (the server lists 10). */
export const KEEP_UPCOMING = 10;
/** Recent actions and running workflows kept from one `describe`, to explain a missed run. */
export const KEEP_ACTIONS = 5;
/** A run that started up to this much before an expected time (half a period at most) still answers it. */
export const EARLY_START_MS = 60_000;
/** A paused Schedule (or one that could not be read) is looked at again after max(grace, this). */
export const RECHECK_MIN_MS = 60_000;
/** A Schedule that was not found, or has no future actions, is looked at again after this long. */
export const NOT_FOUND_RECHECK_MS = 60 * 60_000;

/** One action the Schedule took (epoch ms). */
export interface ScheduleActionFacts {
  scheduledAt: number;
  takenAt: number;
  workflowId: string;
}

/** What the missed-run rule needs from a Schedule's description; plain JSON (an activity result). */
export type ScheduleFacts =
  | { found: false; scheduleId: string }
  | {
      found: true;
      scheduleId: string;
      paused: boolean;
      note?: string;
      /** The server's next action times (timezone-aware, jitter applied), ascending, epoch ms. */
      nextActionTimes: number[];
      recentActions: ScheduleActionFacts[];
      runningWorkflowIds: string[];
      /** Overlap policy name, e.g. SKIP, ALLOW_ALL. */
      overlap: string;
      skippedOverlap: number;
      missedCatchupWindow: number;
      /** The spec in one line, e.g. `calendar hour 6 minute 30 (Africa/Johannesburg)`. */
      spec: string;
      /** On a check with runs open: "no worker has polled `q` …" when none polls the action's task queue. */
      pollers?: string;
    };

export type ScheduleRequestKind = 'lookup' | 'refresh' | 'check';

/** A `describe` the rule wants; `scheduleId` undefined = the configured template's id for the retailer. */
export interface ScheduleRequest {
  kind: ScheduleRequestKind;
  scheduleId?: string;
}

/** The rule's durable state (part of the retailer's snapshot; bounded: ≤ KEEP_UPCOMING times). */
export interface MissedRunState {
  /** Learned from reports (`schedule`) or from the configured template (INGESTION_SCHEDULE_ID_TEMPLATE). */
  scheduleId?: string;
  /** The template's id was looked up and no Schedule was found: wait for a report naming one. */
  lookedUp?: boolean;
  /** The template lookup waits for the first report (a monitor carried over from before the rule existed). */
  deferredLookup?: boolean;
  /** Expected action times not yet answered by a report, ascending; the head is the one watched. */
  upcoming: number[];
  /** Start of the newest accepted run (epoch ms). */
  newestStart?: number;
  /** A `describe` is wanted. */
  need?: ScheduleRequestKind;
  paused?: boolean;
  notFound?: boolean;
  spec?: string;
  /** Look at the Schedule again at this time (paused, not found, no future actions, describe failed). */
  recheckAt?: number;
  /** When the Schedule was last described (found). */
  checkedAt?: number;
  /** Expected runs missed since the last report. */
  missed: number;
  /** An expected action taken on time and still running, handed to the open-run check (open-run check on only). */
  running?: { expectedAt: number; workflowId: string };
}

/** What fired, for the engine to open the incident with. */
export interface MissedRunFinding {
  expectedAt: number;
  scheduleId: string;
  /** What the Schedule says about that action, in one line. */
  cause: string;
}

/** "5 s", "15 min", "1.5 h": graces go down to seconds (tests, demos). */
export function graceText(ms: number): string {
  if (ms < 60_000) return `${Math.round(ms / 1000)} s`;
  if (ms < 3_600_000) return `${Math.round(ms / 60_000)} min`;
  return `${Math.round(ms / 360_000) / 10} h`;
}

export const freshMissedRun = (): MissedRunState => ({ upcoming: [], missed: 0 });

/** State for a monitor that already ran without the rule: look the Schedule up on its next report, not at once. */
export const deferredMissedRun = (): MissedRunState => ({ ...freshMissedRun(), lookedUp: true, deferredLookup: true });

/** Grace in ms; 0 = the rule is off for this retailer. */
export function missedRunGraceMs(t: Thresholds): number {
  return t.missedRunGraceMs ?? DEFAULT_MISSED_RUN_GRACE_MS;
}

/** Median duration of the successful runs given (ms), or 0. */
export function typicalDurationMs(runs: ReadonlyArray<{ status: string; startedAt: number; finishedAt: number }>): number {
  const d = runs
    .filter((r) => r.status === 'success')
    .map((r) => Math.max(0, r.finishedAt - r.startedAt))
    .sort((a, b) => a - b);
  return d.length ? d[Math.floor(d.length / 2)]! : 0;
}

/** How early a run may start and still answer an expected time: EARLY_START_MS, at most half the period. */
function tolerance(s: MissedRunState): number {
  const [a, b] = s.upcoming;
  return a !== undefined && b !== undefined ? Math.min(EARLY_START_MS, (b - a) / 2) : EARLY_START_MS;
}

const answered = (s: MissedRunState, at: number, tol: number) => s.newestStart !== undefined && s.newestStart >= at - tol;

/** Drop expected times answered by the newest run; ask for more times when none are left. */
function advance(s: MissedRunState): void {
  const tol = tolerance(s);
  s.upcoming = s.upcoming.filter((u) => !answered(s, u, tol));
  if (s.upcoming.length === 0 && s.scheduleId && !s.need && !s.notFound && !s.paused) s.need = 'refresh';
}

/** The `describe` the rule wants now, if any. */
export function missedRunRequest(s: MissedRunState): ScheduleRequest | undefined {
  if (s.need) return { kind: s.need, scheduleId: s.scheduleId };
  if (!s.scheduleId && !s.lookedUp) return { kind: 'lookup' };
  return undefined;
}

/** When the expected run is overdue: expected + usual duration + grace. */
export function missedRunDueAt(s: MissedRunState, graceMs: number, typicalMs: number): number | undefined {
  const head = s.upcoming[0];
  return head === undefined || s.paused ? undefined : head + typicalMs + graceMs;
}

/** The next moment the rule needs the timer for (overdue check or re-check), if any. */
export function missedRunDeadline(s: MissedRunState, graceMs: number, typicalMs: number): number | undefined {
  if (s.need) return undefined; // a describe is pending; its answer sets the next deadline
  const due = [missedRunDueAt(s, graceMs, typicalMs), s.recheckAt].filter((d): d is number => d !== undefined);
  return due.length ? Math.min(...due) : undefined;
}

/** An accepted report: its start answers expected times; a new schedule id means describing that one. */
export function onMissedRunReport(s: MissedRunState, run: { startedAt: number; schedule?: string }): void {
  s.newestStart = Math.max(s.newestStart ?? run.startedAt, run.startedAt);
  s.missed = 0;
  if (s.running && answered(s, s.running.expectedAt, EARLY_START_MS)) {
    // The handed-over run reported: its re-check is not needed (a paused or unread Schedule keeps its own).
    if (s.upcoming.length && !s.paused) s.recheckAt = undefined;
    s.running = undefined;
  }
  if (s.deferredLookup) Object.assign(s, { deferredLookup: undefined, lookedUp: false });
  if (run.schedule && run.schedule !== s.scheduleId) {
    Object.assign(s, { scheduleId: run.schedule, upcoming: [], paused: false, notFound: false, need: 'refresh', recheckAt: undefined });
    return;
  }
  // A run while we believed the Schedule paused: it may have been resumed; look (runs are rare while paused).
  if (s.paused && s.scheduleId) s.need = 'refresh';
  advance(s);
}

/**
 * The timer reached a deadline. With the expected run overdue: describe the Schedule before firing
 * (`check`), or, with a missed-run incident already open, just count it and watch the next time.
 * @returns true when another expected run was missed while the incident is open (figures change).
 */
export function onMissedRunTimer(s: MissedRunState, now: number, graceMs: number, typicalMs: number, incidentOpen: boolean): boolean {
  if (s.need) return false;
  if (s.recheckAt !== undefined && now >= s.recheckAt) {
    s.recheckAt = undefined;
    s.need = s.scheduleId ? 'refresh' : undefined;
    if (!s.scheduleId) s.lookedUp = false;
    return false;
  }
  const due = missedRunDueAt(s, graceMs, typicalMs);
  if (due === undefined || now < due) return false;
  if (!incidentOpen) {
    s.need = 'check';
    return false;
  }
  s.missed++;
  s.upcoming.shift();
  advance(s);
  return true;
}

/** Why the Schedule's action for `expectedAt` never reported, from its description. */
export function explainMissed(f: Extract<ScheduleFacts, { found: true }>, expectedAt: number, tol: number): string {
  const iso = (ms: number) => new Date(ms).toISOString();
  const action = f.recentActions.find((a) => Math.abs(a.scheduledAt - expectedAt) <= Math.max(tol, 1000));
  if (action) {
    const how = f.runningWorkflowIds.includes(action.workflowId)
      ? f.pollers
        ? `it is still running and has not reported: ${f.pollers}`
        : 'it is still running and has not reported (no worker on its task queue, or running long)'
      : 'it closed without reporting (the reconciler reports runs that failed)';
    return `the Schedule started ${action.workflowId} at ${iso(action.takenAt)}; ${how}`;
  }
  if (f.skippedOverlap > 0 && f.overlap !== 'ALLOW_ALL' && f.runningWorkflowIds.length > 0) {
    const why = f.pollers ? `; ${f.pollers}` : '';
    return `skipped by the overlap policy ${f.overlap} while ${f.runningWorkflowIds[0]} is still open (${f.skippedOverlap} skipped so far)${why}`;
  }
  if (f.missedCatchupWindow > 0) return `missed beyond the Schedule's catchup window (${f.missedCatchupWindow} so far; was the server down?)`;
  return 'the Schedule took no action for it';
}

/** The action taken for `expectedAt`, when it is still running and a worker polls its task queue. */
export function takenAndRunning(f: Extract<ScheduleFacts, { found: true }>, expectedAt: number, tol: number): ScheduleActionFacts | undefined {
  if (f.pollers) return undefined; // nobody polls its queue: it started on time but will not run
  const action = f.recentActions.find((a) => Math.abs(a.scheduledAt - expectedAt) <= Math.max(tol, 1000));
  return action && f.runningWorkflowIds.includes(action.workflowId) ? action : undefined;
}

/** The handed-over run closed without its report: a finding (once); still running: keep watching. */
function handedOverClosed(s: MissedRunState, f: Extract<ScheduleFacts, { found: true }>, tol: number): MissedRunFinding | undefined {
  const r = s.running;
  if (!r || f.runningWorkflowIds.includes(r.workflowId)) return undefined;
  s.running = undefined;
  return answered(s, r.expectedAt, tol) ? undefined : { expectedAt: r.expectedAt, scheduleId: f.scheduleId, cause: explainMissed(f, r.expectedAt, tol) };
}

/**
 * The Schedule's description, asked for by `req`. Returns a finding when the watched expected run is
 * overdue, unanswered and the Schedule is not paused (the caller opens `missed_run` unless one is open).
 * `handOver` (the open-run check is on): an overdue action taken on time and still running is not a
 * finding; it is watched (`running`) until it reports or closes.
 */
export function onScheduleFacts(
  s: MissedRunState,
  req: ScheduleRequest,
  facts: ScheduleFacts,
  now: number,
  graceMs: number,
  typicalMs: number,
  handOver = false,
): MissedRunFinding | undefined {
  // Asked about another schedule than the one now known (a report named a new one meanwhile): ignore.
  if (req.scheduleId !== s.scheduleId) return undefined;
  s.need = undefined;
  if (!facts.found) {
    if (!s.scheduleId) s.lookedUp = true;
    else Object.assign(s, { notFound: true, upcoming: [], recheckAt: now + NOT_FOUND_RECHECK_MS });
    return undefined;
  }
  s.scheduleId = facts.scheduleId;
  s.checkedAt = now;
  s.notFound = false;
  s.paused = facts.paused;
  s.spec = facts.spec;
  const tol = tolerance(s);
  const head = s.upcoming[0];
  const due = head !== undefined && !answered(s, head, tol) && now >= head + typicalMs + graceMs;
  if (!handOver) s.running = undefined;
  const closed = handOver && !facts.paused ? handedOverClosed(s, facts, tol) : undefined;
  const running = due && handOver && !facts.paused ? takenAndRunning(facts, head, tol) : undefined;
  if (running) s.running = { expectedAt: head, workflowId: running.workflowId };
  const overdue = due && !running && !facts.paused ? { expectedAt: head, scheduleId: facts.scheduleId, cause: explainMissed(facts, head, tol) } : undefined;
  const finding = closed ?? overdue;
  if (facts.paused) {
    s.running = undefined;
    s.upcoming = [];
    s.recheckAt = now + Math.max(graceMs, RECHECK_MIN_MS);
    return undefined;
  }
  // Keep times still inside their grace; add the server's future times; drop what a run already answered.
  const kept = s.upcoming.filter((u) => now < u + typicalMs + graceMs);
  s.upcoming = [...new Set([...kept, ...facts.nextActionTimes])].sort((a, b) => a - b);
  s.upcoming = s.upcoming.filter((u) => !answered(s, u, tolerance(s))).slice(0, KEEP_UPCOMING);
  s.recheckAt = s.upcoming.length ? undefined : now + NOT_FOUND_RECHECK_MS;
  // A handed-over run is looked at again until it reports or closes: after max(grace, 1 min, time since
  // it was expected), so a run open for hours costs a few describes, not one per grace.
  if (s.running) s.recheckAt = Math.min(s.recheckAt ?? Infinity, now + Math.max(graceMs, RECHECK_MIN_MS, now - s.running.expectedAt));
  s.missed += (closed ? 1 : 0) + (overdue ? 1 : 0);
  return finding;
}

/** A describe that failed (after the activity's retries): try again later rather than wedge. */
export function onScheduleFactsFailed(s: MissedRunState, now: number, graceMs: number): void {
  s.need = undefined;
  if (!s.scheduleId) s.lookedUp = true; // the template lookup is retried at recheckAt
  s.recheckAt = now + Math.max(graceMs, RECHECK_MIN_MS);
}

/** What the `retailer` query shows of the rule. */
export interface MissedRunView {
  scheduleId?: string;
  expectedRunAt?: number;
  deadlineAt?: number;
  graceMs: number;
  paused?: boolean;
  notFound?: boolean;
  spec?: string;
  checkedAt?: number;
  missedRuns: number;
}

export function missedRunView(s: MissedRunState, graceMs: number, typicalMs: number): MissedRunView {
  return {
    scheduleId: s.scheduleId,
    expectedRunAt: s.paused ? undefined : s.upcoming[0],
    deadlineAt: missedRunDueAt(s, graceMs, typicalMs),
    graceMs,
    paused: s.paused || undefined,
    notFound: s.notFound || undefined,
    spec: s.spec,
    checkedAt: s.checkedAt,
    missedRuns: s.missed,
  };
}
