/**
 * The typed client helper every ingestion run (or the CLI) uses to report to the monitor.
 * Signal-with-start: if the monitor is not running it is started, so reporting never depends on order.
 */
import type { Client, WorkflowHandle } from '@temporalio/client';
import { DEFAULTS, ingestionCompletedSignal, type MonitorInput } from './shared/messages';
import { InvalidRunReportError, parseRunReport, type RunReportInput } from './shared/report';
import type { ingestionMonitorWorkflow } from './workflows';

export interface MonitorTarget {
  workflowId?: string;
  taskQueue?: string;
  /** Start input used only if the monitor is not running yet. */
  startInput?: MonitorInput;
}

/** Validate and send one run report; throws InvalidRunReportError (nothing sent) if the report is malformed. */
export async function reportIngestionRun(
  client: Client,
  report: RunReportInput,
  target: MonitorTarget = {},
): Promise<WorkflowHandle<typeof ingestionMonitorWorkflow>> {
  const parsed = parseRunReport(report);
  if (!parsed.ok) throw new InvalidRunReportError(parsed.reason);
  return client.workflow.signalWithStart<typeof ingestionMonitorWorkflow, [unknown]>(DEFAULTS.workflowType, {
    workflowId: target.workflowId ?? DEFAULTS.workflowId,
    taskQueue: target.taskQueue ?? DEFAULTS.taskQueue,
    args: [target.startInput ?? {}],
    signal: ingestionCompletedSignal,
    signalArgs: [report],
  });
}

/** Handle on the running monitor, for queries and operator signals. */
export function monitorHandle(client: Client, workflowId: string = DEFAULTS.workflowId): WorkflowHandle<typeof ingestionMonitorWorkflow> {
  return client.workflow.getHandle<typeof ingestionMonitorWorkflow>(workflowId);
}
