import v8 from 'node:v8';

/**
 * The monitor worker's workflow cache and task slots (WORKER_* variables, checked in src/config-env.ts).
 * Defaults for many entity workflows (one monitor per retailer, most of them idle between reports):
 * - the cache is bounded (the SDK's own default grows with the heap limit, about 2,300 workflows on a
 *   4 GB heap), so a fleet of 10,000 retailers cannot fill the worker's memory: a cached monitor holds about
 *   0.125 MiB of workflow heap with zod and our schemas preloaded (docs/benchmarks.md, "Round 6") and about
 *   0.4 MiB of RSS in all (what V8 has not collected yet and the Rust core's share); an evicted monitor is
 *   replayed from its history (short: it continues as new) at its next task. 50 (250 until round 7) keeps the
 *   worker under 300 MiB at 1,000 retailers under load (281–287 MiB against 355–380 at 250) at the same
 *   throughput: with more retailers than either cache, most reports replay anyway (docs/benchmarks.md,
 *   "Round 7");
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
  /**
   * WORKER_WORKFLOW_THREADS: threads that run workflow code (the SDK's `workflowThreadPoolSize`; 1 with its
   * shared V8 context). A second thread shortened a burst of 1,000 stale alerts by about a fifth on 2 cores,
   * for about 45 MiB more at idle (docs/benchmarks.md, "Round 5"): worth it on a worker with spare cores.
   */
  workflowThreadPoolSize: number;
}

/**
 * WORKER_HEAP_GROWING_PERCENT: after each full collection V8 lets a heap grow by this much before the next
 * (`--heap-growing-percent`, for the main thread and the workflow thread alike). V8's own factor lets the
 * workflow thread's heap, whose live part is the cached monitors, grow to several times that under load;
 * 20 kept the worker's RSS at 1,000 retailers (cache 250) at about 480 MiB instead of 630–800, for no
 * measurable CPU (docs/benchmarks.md, "Round 5"). 0 leaves V8's default.
 */
export const HEAP_GROWING_PERCENT_DEFAULT = 20;

export const WORKER_TUNING_DEFAULTS: Readonly<WorkerTuning> = {
  maxCachedWorkflows: 50,
  maxConcurrentWorkflowTaskExecutions: 40,
  maxConcurrentActivityTaskExecutions: 100,
  maxConcurrentLocalActivityExecutions: 100,
  workflowThreadPoolSize: 1,
};

/** For the worker's start line: the cache and slots in force. */
export function describeTuning(t: WorkerTuning | undefined, heapGrowingPercent = 0): string {
  const heap = heapGrowingPercent > 0 ? `; V8 heap growth ${heapGrowingPercent}%` : '';
  if (!t) return `workflow cache and task slots: SDK defaults${heap}`;
  return `workflow cache ${t.maxCachedWorkflows}, task slots: ${t.maxConcurrentWorkflowTaskExecutions} workflow, ${t.maxConcurrentActivityTaskExecutions} activity, ${t.maxConcurrentLocalActivityExecutions} local activity; ${t.workflowThreadPoolSize} workflow thread${t.workflowThreadPoolSize === 1 ? '' : 's'}${heap}`;
}

/**
 * Set V8's heap growth for this process before the worker starts its workflow thread (a GC setting, read at
 * each collection; setting it here rather than on node's command line means every way of starting the
 * worker gets it). 0: leave V8's default.
 */
export function applyHeapGrowth(percent: number, setFlags: (flags: string) => void = v8.setFlagsFromString): void {
  if (percent > 0) setFlags(`--heap-growing-percent=${percent}`);
}
