/**
 * run_duration while a run is still open: the retailer's Schedule shows an action still running past the
 * duration limit (the smallest duration the completed-run check, `durationVerdict`, calls far above the
 * baseline), so `run_duration` fires without waiting for the run's report.
 *
 * Pure (no Temporal imports, clock passed in). It learns about runs in progress only from the Schedule
 * descriptions the missed-run rule already asks for (src/rules/missed-run.ts): a run that started on time
 * and runs long is seen by the missed-run check (expected + usual duration + grace). Then:
 * - the oldest running action with a known start (`takenAt` of a recent action) is watched; its limit
 *   deadline is start + limit; at that deadline the Schedule is described once more (`check`);
 * - still running then → `run_duration` fires once for that run (judged by `durationVerdict` on the
 *   elapsed time, so exactly the completed-run condition); no longer running → the watch ends (its report,
 *   if any, is judged as usual);
 * - the run's report later: no second fire (the incident is open; the report's verdict updates or resolves
 *   it as the completed-run check does). A report of another run does not resolve an incident opened for
 *   a run still watched.
 */
import { durationVerdict, type BaselineVerdict, type RuleInput } from './baseline-rules';
import { baselineAt, signedPct, type Baseline } from './baselines';
import type { BaselineSettings } from './baseline-settings';
import { EARLY_START_MS, type ScheduleFacts } from './missed-run';

/** The run being watched (part of the retailer's snapshot; one at most). */
export interface OpenRunState {
  /** The Schedule action's workflow id (what the run's report names as `workflowId`). */
  workflowId: string;
  scheduleId: string;
  /** When the Schedule started it (`takenAt`, epoch ms). */
  startedAt: number;
  /** Describe the Schedule again at this time (start + limit, or a retry); unset once fired or without a baseline. */
  checkAt?: number;
  /** run_duration fired for this run: never again for it. */
  fired?: boolean;
}

/** What fired, for the engine to open `run_duration` with. */
export interface OpenRunFinding {
  workflowId: string;
  startedAt: number;
  verdict: BaselineVerdict;
}

/** The run still open longest, with its start (recent actions carry it; a run not among them is not judged). */
export function oldestRunning(facts: ScheduleFacts): { workflowId: string; startedAt: number } | undefined {
  if (!facts.found) return undefined;
  const running = facts.recentActions.filter((a) => facts.runningWorkflowIds.includes(a.workflowId)).sort((a, b) => a.takenAt - b.takenAt);
  const first = running[0];
  return first && { workflowId: first.workflowId, startedAt: first.takenAt };
}

/**
 * The smallest duration `durationVerdict` calls far above the baseline at `at`: median + the largest of
 * robustMads·MAD, durationRisePct % of the median and durationMinRiseMs. With a provisional same-weekday
 * baseline (the check judges against whichever is closer) the larger of the two limits. Undefined: no baseline.
 */
export function durationLimitMs(samples: RuleInput['samples'], at: number, wd: number, s: BaselineSettings): number | undefined {
  const b = baselineAt(samples, 'durationMs', at, wd);
  if (!b || b.median <= 0) return undefined;
  const limit = (x: Baseline) => x.median + Math.max(s.robustMads * x.mad, (x.median * s.durationRisePct) / 100, s.durationMinRiseMs);
  return Math.max(limit(b), b.provisional ? limit(b.provisional) : 0);
}

/** "12 s", "35 min", "2 h 10 min". */
export function elapsedText(ms: number): string {
  if (ms < 60_000) return `${Math.round(ms / 1000)} s`;
  const min = Math.round(ms / 60_000);
  if (min < 60) return `${min} min`;
  return min % 60 ? `${Math.floor(min / 60)} h ${min % 60} min` : `${min / 60} h`;
}

/** "run ingest-x-… still running after 2 h 10 min; usual 35 min (median of 5 Tuesdays), +271%, 12.4 MADs". */
export function openRunSummary(retailer: string, workflowId: string, elapsedMs: number, v: BaselineVerdict, s: BaselineSettings): string {
  const f = v.figures;
  const how = `${signedPct(f.deviationPct ?? 0)}, ${f.mads} MADs`;
  return (
    `${retailer}: run ${workflowId} still running after ${elapsedText(elapsedMs)}; usual ${elapsedText(f.typical ?? 0)} (${f.typicalBasis}), ${how}` +
    ` (thresholds ${s.robustMads} MADs, +${s.durationRisePct}% and +${elapsedText(s.durationMinRiseMs)})`
  );
}

/** When the watched run needs the Schedule described again (its limit, or a retry), if ever. */
export function openRunDeadline(s: OpenRunState | undefined): number | undefined {
  return s && !s.fired ? s.checkAt : undefined;
}

/** The deadline passed: the Schedule should be described (`check`). */
export const openRunDue = (s: OpenRunState | undefined, now: number): boolean => {
  const at = openRunDeadline(s);
  return at !== undefined && now >= at;
};

/**
 * A Schedule description (any kind the missed-run rule asked for). Returns the new watch (undefined: no
 * run open) and, when the watched run is past its limit, the finding to fire with (once per run).
 * `input` is the rule input of a run finishing now (samples, weekday of now, settings); its `run` is ignored.
 */
export function onOpenRunFacts(
  prev: OpenRunState | undefined,
  facts: ScheduleFacts,
  now: number,
  input: Omit<RuleInput, 'run'>,
): { state?: OpenRunState; finding?: OpenRunFinding } {
  const running = oldestRunning(facts);
  if (!running || !facts.found) return {};
  const state: OpenRunState =
    prev?.workflowId === running.workflowId ? { ...prev, checkAt: undefined } : { workflowId: running.workflowId, scheduleId: facts.scheduleId, startedAt: running.startedAt };
  if (state.fired) return { state };
  const limit = durationLimitMs(input.samples, now, input.wd, input.settings);
  if (limit === undefined) return { state }; // no baseline yet: noticed again at the next description
  const due = state.startedAt + limit;
  if (now < due) return { state: { ...state, checkAt: due } };
  const run = { runId: running.workflowId, retailer: input.retailer, status: 'success' as const, startedAt: state.startedAt, finishedAt: now, receivedAt: now };
  const verdict = durationVerdict({ ...input, run });
  // Past the limit by arithmetic but not by the check (a rounding edge, a baseline that moved): look again soon.
  if (!verdict?.anomalous) return { state: { ...state, checkAt: now + EARLY_START_MS } };
  const summary = openRunSummary(input.retailer, running.workflowId, now - state.startedAt, verdict, input.settings);
  return { state: { ...state, fired: true }, finding: { workflowId: running.workflowId, startedAt: state.startedAt, verdict: { ...verdict, summary } } };
}

/** The describe failed: try again after `retryMs` rather than at once. */
export function onOpenRunFactsFailed(s: OpenRunState | undefined, now: number, retryMs: number): OpenRunState | undefined {
  return s && openRunDue(s, now) ? { ...s, checkAt: now + retryMs } : s;
}

/** Whether a report is of the watched run: its workflow id, or (without one) a start within EARLY_START_MS. */
export function isWatchedRun(s: OpenRunState, run: { workflowId?: string; startedAt: number }): boolean {
  if (run.workflowId !== undefined) return run.workflowId === s.workflowId;
  return Math.abs(run.startedAt - s.startedAt) <= EARLY_START_MS;
}
