/**
 * The reconciler: finds ingestion runs that closed without success and may never have reported (timed
 * out, terminated, failed before the interceptor could act) and feeds them to the monitor.
 *
 * Wiring: register `reconcilerWorkflowsPath` (or export `ingestionReconcilerWorkflow` from the worker's
 * workflows module) and `createReconcilerActivities` on a worker, then `ensureReconcilerSchedule`.
 */
export { createReconcilerActivities, unreportedRunsQuery, type ReconcilerOptions } from './activities';
export { ensureReconcilerSchedule, type ReconcilerScheduleOptions } from './schedule';
export { windowStart } from './window';
export * from './types';

/** Workflows module with `ingestionReconcilerWorkflow`, for `Worker.create({ workflowsPath })`. */
export const reconcilerWorkflowsPath: string = require.resolve('./workflow');
