/** Workflow entry point for the worker bundle. */
export { ingestionMonitorWorkflow } from './ingestion-monitor';
