/**
 * Reporting without pings: one line in an ingestion worker and every ingestion workflow it runs reports
 * success (counts from its result) or failure (the error) to the monitor.
 */
import type { WorkerOptions } from '@temporalio/worker';
import { createReportingActivities, type ReportingOptions } from './activities';

export { createReportingActivities, deliverReport, type Delivery, type ReportingOptions } from './activities';
export { buildRunReport, resolveRetailer, retailerFromScheduleId, type OutcomeExtractor } from './build-report';
export type { IngestionOutcome, IngestionResultShape, ReportOutcomeResult } from './types';

/** Path of the workflow interceptor module, for `bundleWorkflowCode({ workflowInterceptorModules })`. */
export const reportingInterceptorModule: string = require.resolve('./workflow-interceptor');

/**
 * Adds automatic run reporting to an ingestion worker's options: the workflow interceptor module (reports
 * each run's outcome) and the `reportIngestionOutcome` local activity it calls (`reportIngestionRun`:
 * Update-with-Start on the retailer's monitor, `ingestionCompleted` signal-with-start if it does not
 * answer within 3 s). Workflows returning `{ retailer?, skuCount, promoCount?, lastScrapeAt? }` need nothing more;
 * otherwise pass `extract`. The retailer is resolved as documented in `resolveRetailer`.
 *
 * ```ts
 * const client = new Client({ connection: await Connection.connect() });
 * const worker = await Worker.create(withIngestionReporting(
 *   { connection: await NativeConnection.connect(), taskQueue: 'ingestion', workflowsPath: require.resolve('./workflows'), activities },
 *   { client, workflowTypes: ['ingestRetailer'] },
 * ));
 * ```
 *
 * With a pre-built `workflowBundle`, `interceptors.workflowModules` is ignored by the Worker: bundle with
 * `bundleWorkflowCode({ workflowsPath, workflowInterceptorModules: [reportingInterceptorModule] })` instead.
 */
export function withIngestionReporting(workerOptions: WorkerOptions, reporting: ReportingOptions): WorkerOptions {
  return {
    ...workerOptions,
    activities: { ...(workerOptions.activities ?? {}), ...createReportingActivities(reporting) },
    interceptors: {
      ...workerOptions.interceptors,
      workflowModules: [...(workerOptions.interceptors?.workflowModules ?? []), reportingInterceptorModule],
    },
  };
}
