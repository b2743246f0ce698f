/**
 * The monitor worker's workflow cache and task slots (WORKER_* variables, checked in src/config-env.ts).
 * Defaults for many entity workflows (one monitor per retailer, most of them idle between reports):
 * - the cache is bounded (the SDK's own default grows with the heap limit, about 2,300 workflows on a
 *   4 GB heap), so a fleet of 10,000 retailers cannot fill the worker's memory: a cached monitor holds about
 *   0.4 MiB of workflow heap with zod preloaded (docs/benchmarks.md, "Worker RSS per retailer"), so 250 is
 *   about 100 MiB live, plus what V8 has not collected yet; an evicted monitor is replayed
 *   from its history (short: it continues as new) at its next task;
 * - the slots are the SDK's defaults: a workflow task is short CPU work on one thread, an activity mostly
 *   waits on Postgres or HTTP.
 * docs/ops/scaling.md says when to change them; docs/benchmarks.md has the figures.
 */
export interface WorkerTuning {
  /** WORKER_MAX_CACHED_WORKFLOWS: monitors kept in memory between their tasks (0: none, every task replays). */
  maxCachedWorkflows: number;
  /** WORKER_MAX_CONCURRENT_WORKFLOW_TASKS: workflow tasks at once (at most maxCachedWorkflows when the cache is on). */
  maxConcurrentWorkflowTaskExecutions: number;
  /** WORKER_MAX_CONCURRENT_ACTIVITIES: activities (Postgres writes, alert deliveries) at once. */
  maxConcurrentActivityTaskExecutions: number;
  /** WORKER_MAX_CONCURRENT_LOCAL_ACTIVITIES: local activities at once. */
  maxConcurrentLocalActivityExecutions: number;
}

export const WORKER_TUNING_DEFAULTS: Readonly<WorkerTuning> = {
  maxCachedWorkflows: 250,
  maxConcurrentWorkflowTaskExecutions: 40,
  maxConcurrentActivityTaskExecutions: 100,
  maxConcurrentLocalActivityExecutions: 100,
};

/** For the worker's start line: the cache and slots in force. */
export function describeTuning(t: WorkerTuning | undefined): string {
  if (!t) return 'workflow cache and task slots: SDK defaults';
  return `workflow cache ${t.maxCachedWorkflows}, task slots: ${t.maxConcurrentWorkflowTaskExecutions} workflow, ${t.maxConcurrentActivityTaskExecutions} activity, ${t.maxConcurrentLocalActivityExecutions} local activity`;
}
