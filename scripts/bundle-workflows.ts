/**
 * Second half of `npm run build` (after `tsc -p tsconfig.build.json`), run from dist/ with plain node:
 * bundles the workflow code of the compiled dist/src once, so that workers run from dist/ start without
 * webpack (src/prebuilt-bundles.ts), copies the status page's assets beside the compiled server, and
 * stamps dist/ (scripts/build-if-stale.js compares the sources against the stamp).
 */
import { cpSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { bundleWorkflowCode } from '@temporalio/worker';
import { demoWorkflowCode } from '../src/demo/stack';
import { WORKFLOW_BUNDLES, type WorkflowBundleName, workflowBundleFile } from '../src/prebuilt-bundles';
import { monitorWorkflowCode } from '../src/worker';

const DIST = join(__dirname, '..');
const ROOT = join(DIST, '..');

const sources = new Map<WorkflowBundleName, { workflowsPath: string; workflowInterceptorModules: string[]; preloadModules?: string[] }>([
  ['monitor', monitorWorkflowCode(false)],
  ['monitor-tracing', monitorWorkflowCode(true)],
  ['demo', demoWorkflowCode],
]);

/** webpack's progress stays quiet; its errors are printed. */
const logger = {
  log() {},
  trace() {},
  debug() {},
  info() {},
  warn() {},
  error: (message: string, meta?: Record<string, unknown>) => console.error(message, meta ?? ''),
};

async function main(): Promise<void> {
  for (const name of WORKFLOW_BUNDLES) {
    const started = Date.now();
    const { code } = await bundleWorkflowCode({ ...sources.get(name)!, logger });
    const file = workflowBundleFile(name);
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, code);
    console.error(`  workflow bundle ${relative(ROOT, file)} (${Math.round(code.length / 1024)} KiB, ${Date.now() - started} ms)`);
  }
  cpSync(join(ROOT, 'src', 'status-page', 'assets'), join(DIST, 'src', 'status-page', 'assets'), { recursive: true });
  writeFileSync(join(DIST, 'build-info.json'), `${JSON.stringify({ builtAt: new Date().toISOString(), node: process.version }, null, 2)}\n`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
