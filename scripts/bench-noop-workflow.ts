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
 */
import { allHandlersFinished, condition, continueAsNew, setHandler, workflowInfo } from '@temporalio/workflow';
import { reportRunUpdate, type RetailerMonitorInput, type RunVerdict } from '../src/shared/messages';

export async function retailerMonitorWorkflow(input: RetailerMonitorInput): Promise<void> {
  setHandler(reportRunUpdate, (payload: unknown): RunVerdict => {
    const p = (payload ?? {}) as { runId?: unknown };
    return { outcome: 'accepted', runId: String(p.runId ?? ''), retailer: input.retailer, health: 'healthy', opened: [], resolved: [] };
  });
  await condition(() => workflowInfo().continueAsNewSuggested);
  await condition(allHandlersFinished);
  await continueAsNew<typeof retailerMonitorWorkflow>({ retailer: input.retailer });
}
