/** Temporal visibility (list filter) queries the monitor builds. Pure. */
import { DEFAULTS } from './messages';

/** A string literal for a visibility query: quotes and backslashes escaped. */
export const visibilityString = (s: string) => `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;

/** Every running retailer monitor whose workflow id starts with `prefix`. */
export function runningRetailerMonitorsQuery(prefix: string): string {
  return (
    `WorkflowType = ${visibilityString(DEFAULTS.retailerWorkflowType)} AND ExecutionStatus = 'Running' ` +
    `AND WorkflowId STARTS_WITH ${visibilityString(prefix)}`
  );
}
