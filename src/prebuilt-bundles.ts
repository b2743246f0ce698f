/**
 * Workflow bundles made by `npm run build` (scripts/bundle-workflows.ts), so that a worker run from dist/
 * with plain `node` starts without webpack. They are written to dist/workflow-bundles/, beside dist/src/
 * where this file is compiled to. Run from source (tsx, jest) this file is a .ts: no prebuilt bundle is
 * used, and workers bundle their workflow code at start as they always did.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';

/** monitor: the monitor worker; monitor-tracing: the same with tracing's workflow interceptors; demo: npm start's ingestion workers. */
export const WORKFLOW_BUNDLES = ['monitor', 'monitor-tracing', 'demo'] as const;
export type WorkflowBundleName = (typeof WORKFLOW_BUNDLES)[number];

/** Where `npm run build` writes the bundle called `name`. */
export function workflowBundleFile(name: WorkflowBundleName): string {
  return join(__dirname, '..', 'workflow-bundles', `${name}.js`);
}

/** The bundle `npm run build` made, when this code runs from dist/ and it exists; undefined otherwise. */
export function prebuiltWorkflowBundle(name: WorkflowBundleName): { codePath: string } | undefined {
  if (!__filename.endsWith('.js')) return undefined;
  const codePath = workflowBundleFile(name);
  return existsSync(codePath) ? { codePath } : undefined;
}
