/**
 * The bench's worker children (scripts/bench-lib.ts `childMain` under tsx, scripts/bench-worker-child.js
 * on dist/) answer their parent the same way: `mem` (optionally after a full GC of the main thread) and
 * `stop`; a parent that goes away stops the worker too. Plain JavaScript so both can load it.
 */
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

module.exports = { serveParent };
