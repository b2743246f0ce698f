/**
 * The typed client helpers every ingestion run (or the CLI) uses to talk to the monitors.
 *
 * `reportIngestionRun` uses Update-with-Start: the retailer's monitor is started if it is not running
 * (it then rebuilds from Postgres), and the call returns the verdict once the report is applied.
 * `sendIngestionCompleted` is the fire-and-forget form (signal-with-start).
 * Operator commands go to an *existing* monitor only, so a typo never creates a retailer.
 */
import {
  WithStartWorkflowOperation,
  WorkflowNotFoundError,
  WorkflowUpdateFailedError,
  type Client,
  type WorkflowHandle,
} from '@temporalio/client';
import {
  DEFAULTS,
  ingestionCompletedSignal,
  reportRunUpdate,
  retailerWorkflowId,
  type RetailerMonitorInput,
  type RunVerdict,
} from './shared/messages';
import { InvalidRunReportError, parseRunReport, type RunReportInput } from './shared/report';
import type { fleetMonitorWorkflow, retailerMonitorWorkflow } from './workflows';

export interface MonitorTarget {
  /** The fleet workflow's id (default `ingestion-monitor`). */
  workflowId?: string;
  taskQueue?: string;
  /** Retailer monitors are `<prefix><retailer>` (default `ingestion-monitor/`). */
  retailerWorkflowIdPrefix?: string;
}

/** Thrown when a command names a retailer that has no running monitor. */
export class UnknownRetailerError extends Error {
  override readonly name = 'UnknownRetailerError';
  constructor(
    readonly retailer: string,
    readonly workflowId: string,
  ) {
    super(`unknown retailer "${retailer}": no monitor ${workflowId} is running (it starts with the retailer's first report)`);
  }
}

/** Thrown when a monitor refuses a command or report (the validator's or handler's reason). */
export class CommandRejectedError extends Error {
  override readonly name = 'CommandRejectedError';
  constructor(
    readonly reason: string,
    readonly command: string,
  ) {
    super(`${command} refused: ${reason}`);
  }
}

function startInput(retailer: string, target: MonitorTarget): RetailerMonitorInput {
  return { retailer, ...(target.workflowId ? { fleetWorkflowId: target.workflowId } : {}) };
}

/**
 * Validate and send one run report; resolves with the verdict once the monitor has applied it.
 * @throws InvalidRunReportError (nothing sent) if the report is malformed.
 * @throws CommandRejectedError if the monitor's validator refuses it.
 */
export async function reportIngestionRun(client: Client, report: RunReportInput, target: MonitorTarget = {}): Promise<RunVerdict> {
  const parsed = parseRunReport(report);
  if (!parsed.ok) throw new InvalidRunReportError(parsed.reason);
  const retailer = parsed.report.retailer;
  for (let attempt = 1; ; attempt++) {
    // One operation per attempt: an operation can be executed once.
    const startWorkflowOperation = new WithStartWorkflowOperation<typeof retailerMonitorWorkflow>(DEFAULTS.retailerWorkflowType, {
      workflowId: retailerWorkflowId(retailer, target.retailerWorkflowIdPrefix),
      taskQueue: target.taskQueue ?? DEFAULTS.taskQueue,
      args: [startInput(retailer, target)],
      workflowIdConflictPolicy: 'USE_EXISTING',
    });
    try {
      return await client.workflow.executeUpdateWithStart(reportRunUpdate, { args: [report], startWorkflowOperation });
    } catch (err) {
      if (!(err instanceof WorkflowUpdateFailedError)) throw err;
      // Not the monitor's answer: the server dropped the Update before any handler saw it (nothing applied),
      // so the same report is sent again; a report the monitor already has comes back as a duplicate.
      if (unprocessedByWorker(err) && attempt < UNPROCESSED_RETRIES) {
        await new Promise((resolve) => setTimeout(resolve, 25 * 2 ** attempt));
        continue;
      }
      throw new CommandRejectedError(err.cause?.message ?? err.message, 'report');
    }
  }
}

/** Attempts for a report whose Update the server rejected unprocessed (waits of 50 ms doubling: about 1.5 s in all). */
const UNPROCESSED_RETRIES = 6;

/**
 * The server rejects an Update "because it wasn't processed by worker" when the workflow task that carried it
 * completed without an answer for it: seen at 64 reports in flight on 10 monitors (a few in 400). The
 * monitor never ran a validator or handler for it, so sending it again is safe.
 */
function unprocessedByWorker(err: WorkflowUpdateFailedError): boolean {
  return /wasn't processed by worker/.test(err.cause?.message ?? '');
}

/** Fire-and-forget form: signal-with-start; the monitor applies it exactly like the Update. */
export async function sendIngestionCompleted(client: Client, report: RunReportInput, target: MonitorTarget = {}): Promise<void> {
  const parsed = parseRunReport(report);
  if (!parsed.ok) throw new InvalidRunReportError(parsed.reason);
  const retailer = parsed.report.retailer;
  await client.workflow.signalWithStart<typeof retailerMonitorWorkflow, [unknown]>(DEFAULTS.retailerWorkflowType, {
    workflowId: retailerWorkflowId(retailer, target.retailerWorkflowIdPrefix),
    taskQueue: target.taskQueue ?? DEFAULTS.taskQueue,
    args: [startInput(retailer, target)],
    signal: ingestionCompletedSignal,
    signalArgs: [report],
  });
}

/** Handle on a retailer's monitor (for queries and commands). */
export function retailerHandle(client: Client, retailer: string, target: MonitorTarget = {}): WorkflowHandle<typeof retailerMonitorWorkflow> {
  return client.workflow.getHandle<typeof retailerMonitorWorkflow>(retailerWorkflowId(retailer, target.retailerWorkflowIdPrefix));
}

/** Handle on the fleet workflow. */
export function fleetHandle(client: Client, target: MonitorTarget = {}): WorkflowHandle<typeof fleetMonitorWorkflow> {
  return client.workflow.getHandle<typeof fleetMonitorWorkflow>(target.workflowId ?? DEFAULTS.workflowId);
}

/**
 * Run an operator Update on a retailer's *running* monitor.
 * @throws UnknownRetailerError when no monitor runs for the retailer (nothing is created).
 * @throws CommandRejectedError when the monitor refuses the command (unknown incident, bad arguments …).
 */
export async function commandRetailer<Ret, Args extends [any, ...any[]]>(
  client: Client,
  retailer: string,
  update: import('@temporalio/client').UpdateDefinition<Ret, Args>,
  args: Args,
  target: MonitorTarget = {},
): Promise<Ret> {
  const handle = retailerHandle(client, retailer, target);
  try {
    const desc = await handle.describe();
    if (desc.status.name !== 'RUNNING') throw new UnknownRetailerError(retailer, handle.workflowId);
    return await handle.executeUpdate(update, { args });
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) throw new UnknownRetailerError(retailer, handle.workflowId);
    if (err instanceof WorkflowUpdateFailedError) throw new CommandRejectedError(err.cause?.message ?? err.message, update.name);
    throw err;
  }
}
