/**
 * The production build as an operator runs it: `npm run build` (here through scripts/build-if-stale.js,
 * which `npm start` runs first) emits dist/ and the prebuilt workflow bundles; then `node dist/src/start.js`
 * with real servers (TEMPORAL_ADDRESS and DATABASE_URL set) migrates and runs the monitor worker with plain
 * node — no tsx, no webpack at start — and processes reports; the status page serves its assets from dist/,
 * and the CLI's bin runs from dist/. Real dev server, real Postgres.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { reportIngestionRun } from '../src/client';
import { WORKFLOW_BUNDLES } from '../src/prebuilt-bundles';
import type { RunReportInput } from '../src/shared/report';
import { createTestDatabase, type TestDatabase } from './helpers/postgres';
import { createDevServerEnv } from './helpers/temporal';
import { until } from './helpers/wait';

const root = join(__dirname, '..');
const taskQueue = 'dist-build';
const MONITOR_ID = 'dist-build-fleet';

/** The environment of a child run with plain node: nothing that would load tsx or another loader. */
function plainEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const e: NodeJS.ProcessEnv = { ...process.env, ...extra };
  delete e.NODE_OPTIONS;
  return e;
}

interface Child {
  proc: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
}

function run(args: string[], env: NodeJS.ProcessEnv): Child {
  const proc = spawn(process.execPath, args, { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  proc.stdout!.on('data', (d) => (out += d));
  proc.stderr!.on('data', (d) => (out += d));
  const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));
  return { proc, output: () => out, exited };
}

let env: TestWorkflowEnvironment;
let tdb: TestDatabase;
let worker: Child | undefined;
let passed = false;

beforeAll(async () => {
  // Unmigrated: the worker's start (dist/migrations) migrates it.
  [env, tdb] = await Promise.all([createDevServerEnv(), createTestDatabase('im_dist', { migrate: false })]);
  const build = run(['scripts/build-if-stale.js'], plainEnv({}));
  const code = await build.exited;
  if (code !== 0) throw new Error(`scripts/build-if-stale.js failed (${code}):\n${build.output()}`);
}, 300_000);

afterAll(async () => {
  if (worker && worker.proc.exitCode === null && worker.proc.signalCode === null) worker.proc.kill('SIGKILL');
  if (!passed && worker) console.error(`node dist/src/start.js output:\n${worker.output() || '(none)'}`);
  await Promise.all([env?.teardown(), tdb?.drop()]);
}, 60_000);

function failure(seq: number): RunReportInput {
  const at = Date.now() - 1000;
  return {
    runId: `distmart-${seq}`,
    retailer: 'distmart',
    status: 'failure',
    startedAt: new Date(at - 60_000).toISOString(),
    finishedAt: new Date(at).toISOString(),
    error: 'HTTP 503 from the retailer',
  };
}

it('dist/ is built: compiled entry points, the prebuilt workflow bundles, the status page assets', () => {
  for (const f of ['src/start.js', 'src/worker.js', 'src/cli/index.js', 'migrations/index.js', 'src/status-page/assets/index.html', 'build-info.json']) {
    expect(existsSync(join(root, 'dist', f))).toBe(true);
  }
  for (const name of WORKFLOW_BUNDLES) expect(existsSync(join(root, 'dist', 'workflow-bundles', `${name}.js`))).toBe(true);
  // The bundle holds the compiled workflows with the arrival-order interceptor compiled in.
  const bundle = (name: string) => readFileSync(join(root, 'dist', 'workflow-bundles', `${name}.js`), 'utf8');
  const monitor = bundle('monitor');
  expect(monitor).toContain('retailerMonitorWorkflow');
  expect(monitor).toContain('arrival-order');
  expect(monitor).not.toContain('workflow-trace-interceptors');
  // With tracing on (OTEL_EXPORTER_OTLP_ENDPOINT) the worker takes the bundle with tracing's interceptors.
  expect(bundle('monitor-tracing')).toContain('workflow-trace-interceptors');
  // The demo's ingestion workers: the reporting interceptor compiled in.
  expect(bundle('demo')).toContain('reporting/workflow-interceptor');
});

it('node dist/src/start.js migrates, runs the worker from the prebuilt bundle, processes reports; the CLI runs from dist', async () => {
  const w = run(
    ['dist/src/start.js'],
    plainEnv({
      TEMPORAL_ADDRESS: env.address,
      TEMPORAL_NAMESPACE: env.namespace ?? 'default',
      DATABASE_URL: tdb.url,
      MONITOR_TASK_QUEUE: taskQueue,
      MONITOR_WORKFLOW_ID: MONITOR_ID,
      STATUS_PAGE_PORT: '0',
      WORKER_MAX_CACHED_WORKFLOWS: '50',
    }),
  );
  worker = w;
  const pageUrl = await until('the worker and its status page to be up', async () => {
    if (w.proc.exitCode !== null) throw new Error(`node dist/src/start.js exited early (${w.proc.exitCode}):\n${w.output()}`);
    return /status page: (http:\S+)/.exec(w.output())?.[1];
  }, 60_000);
  const out = w.output();
  expect(out).toContain(`workflow code: prebuilt bundle ${join(root, 'dist', 'workflow-bundles', 'monitor.js')}`);
  expect(out).toContain('workflow cache 50, task slots: 40 workflow, 100 activity, 100 local activity');
  expect(out).not.toContain('Workflow bundle created'); // the SDK's line when it runs webpack
  // Plain node: the process's command line is `node dist/src/start.js`, with no loader.
  const cmdline = readFileSync(`/proc/${w.proc.pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
  expect(cmdline.slice(1)).toEqual(['dist/src/start.js']);

  const target = { taskQueue, workflowId: MONITOR_ID };
  expect(await reportIngestionRun(env.client, failure(1), target)).toMatchObject({ outcome: 'accepted' });
  expect(await reportIngestionRun(env.client, failure(2), target)).toMatchObject({ outcome: 'accepted', health: 'unhealthy', opened: [{ rule: 'consecutive_failures' }] });
  const rows = await until('both runs in ingestion_runs', async () => {
    const r = await tdb.db.selectFrom('ingestion_runs').select('run_id').where('retailer', '=', 'distmart').execute();
    return r.length === 2 ? r : undefined;
  });
  expect(rows.map((r) => r.run_id).sort()).toEqual(['distmart-1', 'distmart-2']);

  // The status page's assets are read from dist/.
  for (const path of ['/', '/assets/app.js', '/assets/app.css']) {
    const res = await fetch(new URL(path, pageUrl));
    expect(res.status).toBe(200);
  }

  // The CLI's bin (package.json "bin") runs the compiled CLI.
  // `status` finds the monitors through visibility, which trails a moment behind.
  await until('`node src/cli/bin.js status --json` to list distmart', async () => {
    const cli = run(['src/cli/bin.js', 'status', '--json'], plainEnv({ TEMPORAL_ADDRESS: env.address, MONITOR_WORKFLOW_ID: MONITOR_ID }));
    if ((await cli.exited) !== 0) throw new Error(`the CLI failed:\n${cli.output()}`);
    const status = JSON.parse(cli.output());
    return status.retailers.some((r: { retailer: string }) => r.retailer === 'distmart');
  }, 20_000, 500);

  w.proc.kill('SIGTERM');
  expect(await w.exited).toBe(0);
  passed = true;
}, 120_000);
