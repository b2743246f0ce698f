/**
 * Records workflow histories for the replay test (test/replay.test.ts): runs a scenario that touches every
 * handler and loop (reports, malformed input, stale timer, re-notify, silence, ack, thresholds,
 * continue-as-new) on the time-skipping server and writes each run's history to test/histories/.
 * Re-run (`npm run record-histories`) only when a deliberate, patched() change alters history.
 */
import { writeFileSync } from 'node:fs';
import { historyToJSON } from '@temporalio/common/lib/proto-utils';
import { join } from 'node:path';
import { monitorHandle, reportIngestionRun } from '../src/client';
import { HOUR_MS } from '../src/rules/thresholds';
import {
  acknowledgeSignal,
  incidentsQuery,
  replaySignal,
  reprocessSignal,
  setThresholdsSignal,
  silenceSignal,
  statusQuery,
  unsilenceSignal,
} from '../src/shared/messages';
import { startCaptureServer } from '../test/helpers/capture-server';
import { createTestMonitorWorker, testConfig } from '../test/helpers/monitor';
import { createTestDatabase } from '../test/helpers/postgres';
import { createTimeSkippingEnv } from '../test/helpers/temporal';

/** Bump when a deliberate (patched) workflow change deserves a new set; keep the old sets, they must still replay. */
const VERSION = 'v2';

async function run(): Promise<void> {
  const [env, tdb, hook] = await Promise.all([createTimeSkippingEnv(), createTestDatabase('im_record'), startCaptureServer()]);
  const taskQueue = 'record-histories';
  const worker = await createTestMonitorWorker(env, testConfig({ taskQueue, databaseUrl: tdb.url, webhookUrl: `${hook.url}/hook` }), tdb);
  const workflowId = 'ingestion-monitor-recorded';
  let firstRunId: string | undefined;
  try {
    await worker.runUntil(async () => {
      const target = { workflowId, taskQueue, startInput: { maxReportsPerRun: 12, thresholds: { renotifyEveryMs: HOUR_MS } } };
      let i = 0;
      const send = async (retailer: string, status: 'success' | 'failure', skuCount?: number) => {
        const now = await env.currentTimeMs();
        await reportIngestionRun(
          env.client,
          {
            runId: `rec-${++i}`,
            retailer,
            status,
            startedAt: new Date(now - 60_000).toISOString(),
            finishedAt: new Date(now).toISOString(),
            skuCount: status === 'success' ? (skuCount ?? 1000) : undefined,
            error: status === 'failure' ? 'HTTP 503' : undefined,
          },
          target,
        );
      };
      const handle = monitorHandle(env.client, workflowId);
      await send('alpha', 'success', 1000);
      firstRunId = (await handle.describe()).runId;
      for (const c of [1000, 1000]) await send('alpha', 'success', c);
      await send('alpha', 'success', 500); // SKU drop
      await send('beta', 'failure');
      await send('beta', 'failure'); // consecutive failures
      await handle.signal('ingestionCompleted', { runId: 'junk', retailer: 'Not A Slug' }); // rejected
      await handle.signal(silenceSignal, { retailer: 'gamma', until: new Date((await env.currentTimeMs()) + HOUR_MS).toISOString(), reason: 'migration' });
      await handle.signal(setThresholdsSignal, { retailer: 'beta', thresholds: { failureStreak: 3 } });
      const [incident] = await handle.query(incidentsQuery);
      await handle.signal(acknowledgeSignal, { incidentId: incident!.id, by: 'recorder' });
      await handle.signal(replaySignal, { retailer: 'beta', by: 'recorder' }); // no schedule here: recorded as "none"
      const now = await env.currentTimeMs();
      await handle.signal(reprocessSignal, { retailer: 'alpha', from: new Date(now - HOUR_MS).toISOString(), to: new Date(now + 60_000).toISOString() });
      await handle.signal(unsilenceSignal, { retailer: 'gamma' });
      await env.sleep(5 * HOUR_MS); // stale + re-notify timers
      await send('alpha', 'success', 990);
      await send('beta', 'success');
      for (let k = 0; k < 6; k++) await send('gamma', k % 2 ? 'success' : 'failure'); // crosses maxReportsPerRun
      const deadline = Date.now() + 30_000;
      while ((await handle.query(statusQuery)).counters.accepted < i && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
      await env.sleep(60_000);
    });
    // Follow the continue-as-new chain from the first run (the test server has no visibility list).
    let runId: string | undefined = firstRunId;
    let n = 0;
    while (runId) {
      const history = await env.client.workflow.getHandle(workflowId, runId).fetchHistory();
      const file = join(__dirname, '..', 'test', 'histories', `monitor-${VERSION}-run-${++n}.json`);
      writeFileSync(file, historyToJSON(history) + '\n');
      console.log(`wrote ${file} (${history.events?.length} events)`);
      runId = history.events?.at(-1)?.workflowExecutionContinuedAsNewEventAttributes?.newExecutionRunId ?? undefined;
    }
  } finally {
    await Promise.all([env.teardown(), tdb.drop(), hook.close()]);
  }
}

run().catch((err) => {
  console.error(err);
  process.exit(1);
});
