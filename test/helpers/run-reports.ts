import type { Client } from '@temporalio/client';
import { reportIngestionRun, type MonitorTarget } from '../../src/client';
import type { RunReport } from '../../src/shared/report';

/** Successful run reports of `retailer`, started by `schedule`, each with a fresh run id (`run-1`, `run-2` …). */
export function scheduledRunReports(retailer: string, schedule: string) {
  let seq = 0;
  return (startedAt: number, finishedAt: number, extra: Partial<RunReport> = {}): RunReport => ({
    runId: `run-${++seq}`,
    retailer,
    status: 'success',
    startedAt: new Date(startedAt).toISOString(),
    finishedAt: new Date(finishedAt).toISOString(),
    skuCount: 5000,
    schedule,
    ...extra,
  });
}

let sent = 0;
/** Report a successful run of `retailer` started by its Schedule (`ingest-<retailer>`), with a fresh run id. */
export function reportScheduledSuccess(client: Client, target: MonitorTarget, retailer: string, startedAt: number, finishedAt: number, extra: Partial<RunReport> = {}) {
  return reportIngestionRun(
    client,
    {
      runId: `${retailer}-${++sent}`,
      retailer,
      schedule: `ingest-${retailer}`,
      status: 'success',
      startedAt: new Date(startedAt).toISOString(),
      finishedAt: new Date(finishedAt).toISOString(),
      skuCount: 5000,
      ...extra,
    },
    target,
  );
}
