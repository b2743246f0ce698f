/**
 * Replay what a server ran against the workflow code here: list workflows by a visibility query, fetch each
 * history and replay it (`Worker.runReplayHistories`) on the monitor's bundle. A nondeterminism in any of
 * them (a command the code emits that its history does not have) is reported with the workflow id and the
 * SDK's message. The recorded histories in test/histories cover chosen scenarios; this covers what a load,
 * a restart or a fault loop actually produced.
 *
 *   npx tsx scripts/replay-check.ts [--address 127.0.0.1:7233] [--query "WorkflowType = 'retailerMonitorWorkflow'"] [--limit 2000]
 *
 * The end-to-end bench and each fault-injection scenario call `replayCheck` before they stop their server.
 * Bounded: at most `limit` histories, fetched 8 at a time while they are replayed.
 */
import { Client, Connection } from '@temporalio/client';
import { Worker } from '@temporalio/worker';
import type { temporal } from '@temporalio/proto';
import { workflowBundle } from '../test/helpers/monitor';

export interface ReplayCheck {
  replayed: number;
  failed: Array<{ workflowId: string; error: string }>;
  seconds: number;
}

/** Replay up to `limit` histories matching `query`; never throws for a failed replay (it is in `failed`). */
export async function replayCheck(client: Client, query: string, limit = 2_000): Promise<ReplayCheck> {
  const t0 = Date.now();
  const ids: Array<{ workflowId: string; runId: string }> = [];
  for await (const wf of client.workflow.list({ query })) {
    ids.push({ workflowId: wf.workflowId, runId: wf.runId });
    if (ids.length >= limit) break;
  }
  const failed: ReplayCheck['failed'] = [];
  let replayed = 0;
  const bundle = await workflowBundle();
  // Fetched 8 at a time as the replayer asks for them, so at most a chunk of histories is held at once.
  async function* source(): AsyncGenerator<{ workflowId: string; history: temporal.api.history.v1.IHistory }> {
    for (let i = 0; i < ids.length; i += 8) {
      const chunk = ids.slice(i, i + 8);
      yield* await Promise.all(chunk.map(async ({ workflowId, runId }) => ({ workflowId, history: await client.workflow.getHandle(workflowId, runId).fetchHistory() })));
    }
  }
  for await (const r of Worker.runReplayHistories({ workflowBundle: bundle }, source())) {
    replayed++;
    if (r.error) failed.push({ workflowId: r.workflowId, error: r.error.message.slice(0, 600) });
  }
  return { replayed, failed, seconds: (Date.now() - t0) / 1_000 };
}

async function main() {
  const arg = (name: string, dflt: string) => {
    const i = process.argv.indexOf(name);
    return i >= 0 && process.argv[i + 1] ? process.argv[i + 1]! : dflt;
  };
  const connection = await Connection.connect({ address: arg('--address', '127.0.0.1:7233') });
  try {
    const result = await replayCheck(new Client({ connection }), arg('--query', "WorkflowType = 'retailerMonitorWorkflow'"), Number(arg('--limit', '2000')));
    console.log(`replayed ${result.replayed} histories in ${result.seconds.toFixed(1)} s; ${result.failed.length} failed`);
    for (const f of result.failed) console.log(`  ${f.workflowId}: ${f.error}`);
    process.exitCode = result.failed.length ? 1 : 0;
  } finally {
    await connection.close();
  }
}

if (require.main === module) {
  main().catch((err) => {
    console.error(err);
    process.exit(2);
  });
}
