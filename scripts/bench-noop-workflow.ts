/**
 * The bench's NO-OP BASELINE (scripts/bench.ts only; never registered by the product worker).
 *
 * An entity workflow with the same shape as the retailer monitor as far as Temporal is concerned: it is
 * exported under the same type name (`retailerMonitorWorkflow`) so the bench sends to it with the very same
 * client code (`reportIngestionRun`: client-side zod parse, Update-with-Start, conflict policy
 * use-existing), only with another task queue and id prefix. The `reportIngestionRun` Update just answers a
 * verdict-like object: no validator, no rules, no activities, no timers, no Postgres. It continues-as-new
 * on the server's suggestion like the real monitor. What the real monitor costs on top of this is the
 * monitor's own work; what this costs is Temporal's floor for one Update-with-Start per report.
 *
 * The stale burst's baseline: a no-op whose id starts with `bench-stale-noop-<ms>/` sleeps until its report's
 * `finishedAt` + <ms> (one durable timer, like the monitor's stale deadline) and, woken, does nothing: the
 * workflow task that follows the timer is Temporal's floor for waking that many entities at one moment.
 */
export const STALE_NOOP_PREFIX = 'bench-stale-noop-';
import { allHandlersFinished, condition, continueAsNew, setHandler, sleep, workflowInfo } from '@temporalio/workflow';
import { reportRunUpdate, type RetailerMonitorInput, type RunVerdict } from '../src/shared/messages';

export async function retailerMonitorWorkflow(input: RetailerMonitorInput): Promise<void> {
  const stale = new RegExp(`^${STALE_NOOP_PREFIX}(\\d+)/`).exec(workflowInfo().workflowId);
  let deadline: number | undefined;
  setHandler(reportRunUpdate, (payload: unknown): RunVerdict => {
    const p = (payload ?? {}) as { runId?: unknown; finishedAt?: unknown };
    if (stale && typeof p.finishedAt === 'string') deadline = Date.parse(p.finishedAt) + Number(stale[1]);
    return { outcome: 'accepted', runId: String(p.runId ?? ''), retailer: input.retailer, health: 'healthy', opened: [], resolved: [] };
  });
  if (stale) {
    await condition(() => deadline !== undefined);
    await sleep(Math.max(1, deadline! - Date.now()));
  }
  await condition(() => workflowInfo().continueAsNewSuggested);
  await condition(allHandlersFinished);
  await continueAsNew<typeof retailerMonitorWorkflow>({ retailer: input.retailer });
}
