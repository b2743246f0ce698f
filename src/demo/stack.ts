/**
 * The demo's ingestion side for `npm start`: one Temporal Schedule and one worker per demo retailer, the
 * workers reporting through the interceptor (no pings). A knob file lets a user break a retailer:
 * `fail` (runs fail), `drop` (SKU count halves), `stop` (its worker is shut down, so runs stop → stale).
 */
import { watchFile, unwatchFile } from 'node:fs';
import type { Client } from '@temporalio/client';
import { ScheduleOverlapPolicy } from '@temporalio/client';
import { bundleWorkflowCode, type NativeConnection, Worker, type WorkflowBundleOption } from '@temporalio/worker';
import type { MonitorTarget } from '../client';
import { createReportingActivities, reportingInterceptorModule } from '../reporting';
import { prebuiltWorkflowBundle } from '../prebuilt-bundles';
import { createDemoActivities } from './activities';
import { readKnobs } from './knobs';
import { DEMO_RETAILERS, demoTaskQueue } from './retailers';

export interface DemoOptions {
  client: Client;
  connection: NativeConnection;
  namespace: string;
  knobsFile: string;
  /** Where the monitors run (fleet workflow id, task queue); each run reports to its retailer's monitor. */
  monitor: MonitorTarget;
  /** How often each retailer's schedule runs. */
  everySeconds: number;
  log?: (line: string) => void;
}

export interface Demo {
  retailers: string[];
  stop(): Promise<void>;
}

export const DEMO_WORKFLOW_TYPE = 'ingestRetailer';

/** What the demo workers' bundle is made of (bundled at start from source; `npm run build` prebuilds it for dist/). */
export const demoWorkflowCode = { workflowsPath: require.resolve('./workflows'), workflowInterceptorModules: [reportingInterceptorModule] };

async function ensureSchedule(client: Client, retailer: string, everySeconds: number): Promise<void> {
  const scheduleId = `ingest-${retailer}`;
  const action = {
    type: 'startWorkflow' as const,
    workflowType: DEMO_WORKFLOW_TYPE,
    args: [{ retailer }],
    taskQueue: demoTaskQueue(retailer),
    workflowId: `ingest-${retailer}`,
    // A run whose worker is stopped must end, so the reconciler can report it and the next one can start.
    workflowExecutionTimeout: Math.max(everySeconds * 2, 60) * 1000,
  };
  try {
    await client.schedule.create({
      scheduleId,
      spec: { intervals: [{ every: `${everySeconds}s` }] },
      action,
      policies: { overlap: ScheduleOverlapPolicy.SKIP, catchupWindow: '1 minute' },
    });
  } catch (err) {
    if ((err as Error).name !== 'ScheduleAlreadyRunning') throw err;
  }
}

export async function startDemo(opts: DemoOptions): Promise<Demo> {
  const log = opts.log ?? ((l: string) => console.log(l));
  const retailers = [...DEMO_RETAILERS.keys()];
  // One bundle for every retailer's worker; the reporting interceptor is compiled in.
  const workflowBundle: WorkflowBundleOption =
    prebuiltWorkflowBundle('demo') ??
    (await bundleWorkflowCode({
      ...demoWorkflowCode,
      logger: { log() {}, trace() {}, debug() {}, info() {}, warn() {}, error: (m: string) => log(m) },
    }));
  const activities = {
    ...createDemoActivities(opts.knobsFile),
    ...createReportingActivities({ client: opts.client, monitor: opts.monitor, workflowTypes: [DEMO_WORKFLOW_TYPE] }),
  };
  const running = new Map<string, { worker: Worker; done: Promise<void> }>();

  const startWorker = async (retailer: string) => {
    if (running.has(retailer)) return;
    const worker = await Worker.create({
      connection: opts.connection,
      namespace: opts.namespace,
      taskQueue: demoTaskQueue(retailer),
      workflowBundle,
      activities,
    });
    running.set(retailer, { worker, done: worker.run() });
  };
  const stopWorker = async (retailer: string) => {
    const w = running.get(retailer);
    if (!w) return;
    running.delete(retailer);
    // Ctrl-C reaches the SDK's own signal handler too, which may already be draining this worker.
    if (w.worker.getState() === 'RUNNING') w.worker.shutdown();
    await w.done;
  };
  // Bring workers in line with the knobs: a retailer set to `stop` has no worker.
  let applying = Promise.resolve();
  const apply = () => {
    applying = applying.then(async () => {
      const knobs = readKnobs(opts.knobsFile);
      for (const r of retailers) {
        const wantRunning = knobs.get(r) !== 'stop';
        if (wantRunning && !running.has(r)) {
          await startWorker(r);
          log(`demo: ${r} worker started`);
        } else if (!wantRunning && running.has(r)) {
          await stopWorker(r);
          log(`demo: ${r} worker stopped (knob "stop")`);
        }
      }
    });
    return applying;
  };

  for (const r of retailers) await ensureSchedule(opts.client, r, opts.everySeconds);
  await apply();
  watchFile(opts.knobsFile, { interval: 500 }, () => void apply());

  return {
    retailers,
    async stop() {
      unwatchFile(opts.knobsFile);
      await applying;
      await Promise.all([...running.keys()].map(stopWorker));
    },
  };
}
