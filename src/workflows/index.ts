/** Workflow entry point for the monitor worker's bundle. */
export { retailerMonitorWorkflow } from './retailer-monitor';
export { fleetMonitorWorkflow } from './fleet-monitor';
// One pass of "find ingestion runs that closed without reporting", started by a Temporal Schedule.
export { ingestionReconcilerWorkflow } from '../reconciler/workflow';
// One retention pass (RUN_RETENTION_DAYS), started hourly by a Temporal Schedule.
export { runRetentionWorkflow } from '../retention/workflow';
