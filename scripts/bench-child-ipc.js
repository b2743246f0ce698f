/**
 * What the bench's worker children (scripts/bench-lib.ts `childMain` under tsx, scripts/bench-worker-child.js
 * on dist/) share: the Worker options the bench may set, and how they answer their parent (`mem`, optionally
 * after a full GC of the main thread, and `stop`; a parent that goes away stops the worker too). Plain
 * JavaScript so both can load it.
 */

/**
 * Worker options the bench may set, the same for every child: BENCH_MAX_CACHED bounds the workflow cache,
 * BENCH_WORKFLOW_THREADS sets the workflow threads (the SDK's workflowThreadPoolSize), BENCH_LOCAL_ACTIVITY_SLOTS the
 * local-activity slots. Unset: left out.
 */
function benchTuning(env = process.env) {
  return {
    ...(env.BENCH_MAX_CACHED ? { maxCachedWorkflows: Number(env.BENCH_MAX_CACHED) } : {}),
    ...(env.BENCH_WORKFLOW_THREADS ? { workflowThreadPoolSize: Number(env.BENCH_WORKFLOW_THREADS) } : {}),
    ...(env.BENCH_LOCAL_ACTIVITY_SLOTS ? { maxConcurrentLocalActivityExecutions: Number(env.BENCH_LOCAL_ACTIVITY_SLOTS) } : {}),
  };
}

function serveParent(worker, gc) {
  process.on('message', (m) => {
    if (m.type === 'stop') worker.shutdown();
    else if (m.type === 'mem') {
      if (m.gc) for (let i = 0; i < 3; i++) gc();
      const u = process.memoryUsage();
      process.send({ type: 'mem', id: m.id, mem: { rss: u.rss, heapUsed: u.heapUsed, heapTotal: u.heapTotal, external: u.external } });
    }
  });
  process.on('disconnect', () => worker.getState() === 'RUNNING' && worker.shutdown()); // parent gone
  process.send({ type: 'ready' });
}

module.exports = { benchTuning, serveParent };
