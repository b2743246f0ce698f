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
