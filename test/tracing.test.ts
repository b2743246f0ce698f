/**
 * OpenTelemetry tracing end to end on the real dev server and real Postgres, spans caught in memory:
 * a failing retailer reported twice through reportIngestionRun, the alert delivered to a loopback webhook,
 * and report → retailer monitor → hand-over → fleet workflow → webhook delivery must be one trace, the
 * trace of the report that opened the incident (not of the one that started the monitor).
 */
import { Client } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { bundleWorkflowCode, Worker } from '@temporalio/worker';
import { InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { reportIngestionRun } from '../src/client';
import { createTracing, type Tracing } from '../src/observability/tracing';
import { createMonitorWorker, ensureFleet, workflowInterceptorModules } from '../src/worker';
import { type CaptureServer, startCaptureServer } from './helpers/capture-server';
import { testConfig } from './helpers/monitor';
import { createTestDatabase, type TestDatabase } from './helpers/postgres';
import { createDevServerEnv } from './helpers/temporal';
import { until } from './helpers/wait';

let env: TestWorkflowEnvironment;
let tdb: TestDatabase;
let hook: CaptureServer;
let tracing: Tracing;
let client: Client;
let worker: Worker;
let running: Promise<void>;
const exporter = new InMemorySpanExporter();
const taskQueue = `monitor-tracing-${Date.now()}`;
const workflowId = `ingestion-monitor-tracing-${Date.now()}`;
const prefix = `tracing-${Date.now()}/`;

beforeAll(async () => {
  [env, tdb, hook] = await Promise.all([createDevServerEnv(), createTestDatabase('im_tracing'), startCaptureServer()]);
  tracing = createTracing({ serviceName: 'ingestion-monitor-test', spanProcessor: new SimpleSpanProcessor(exporter) });
  client = new Client({ connection: env.client.connection, namespace: env.namespace, interceptors: tracing.clientInterceptors });
  const config = { ...testConfig({ taskQueue, databaseUrl: tdb.url, webhookUrl: `${hook.url}/hook` }), workflowId, retailerWorkflowIdPrefix: prefix };
  worker = await createMonitorWorker({ connection: env.nativeConnection, namespace: env.namespace, config, db: tdb.db, client, observability: { tracing } });
  running = worker.run();
  await ensureFleet(client, config, { groupWindowMs: 500, retailerWorkflowIdPrefix: prefix });
});

afterAll(async () => {
  if (worker?.getState() === 'RUNNING') worker.shutdown();
  await running;
  await tracing?.shutdown();
  await Promise.all([env?.teardown(), tdb?.drop(), hook?.close()]);
});

const report = (runId: string, minutesAgo: number) => {
  const now = Date.now();
  return reportIngestionRun(
    client,
    {
      runId,
      retailer: 'zeta',
      status: 'failure',
      startedAt: new Date(now - (minutesAgo + 2) * 60_000).toISOString(),
      finishedAt: new Date(now - minutesAgo * 60_000).toISOString(),
      error: 'Navigation timeout',
    },
    { workflowId, taskQueue, retailerWorkflowIdPrefix: prefix },
  );
};

const named = (spans: ReadableSpan[], name: string) => spans.filter((s) => s.name === name);

it('puts report → monitor → hand-over → fleet → alert delivery in the trace of the report that opened the incident', async () => {
  await report('zeta-1', 20);
  const second = await report('zeta-2', 10);
  expect(second.opened).toHaveLength(1);
  await hook.waitFor((r) => r.length >= 1, 60_000);

  const spans = await until(
    'the delivery span and the fleet signal span',
    async () => {
      const s = exporter.getFinishedSpans();
      // Workflow spans reach the exporter through a sink once they end: StartActivity ends with the activity.
      return named(s, 'RunActivity:sendWebhookAlert').length === 1 && named(s, 'StartActivity:sendWebhookAlert').length === 1 && s;
    },
    30_000,
  );

  // The client spans of the two reports: Update-with-Start, one trace each.
  const clientSpans = named(spans, 'UpdateWithStartWorkflow:reportIngestionRun');
  expect(clientSpans).toHaveLength(2);
  const [first, opening] = clientSpans.sort((a, b) => a.startTime[0] - b.startTime[0] || a.startTime[1] - b.startTime[1]);
  expect(first!.spanContext().traceId).not.toBe(opening!.spanContext().traceId);
  const trace = opening!.spanContext().traceId;

  // In the workflow: the update handler of the second report, under its client span.
  const handlers = named(spans, 'HandleUpdate:reportIngestionRun').filter((s) => s.spanContext().traceId === trace);
  expect(handlers).toHaveLength(1);
  expect(handlers[0]!.parentSpanId).toBe(opening!.spanContext().spanId);

  // The hand-over, the signal to the fleet, the fleet's signal handler and the delivery: same trace.
  const inTrace = (name: string) => named(spans, name).filter((s) => s.spanContext().traceId === trace);
  const handOver = inTrace('RunActivity:forwardAlerts');
  expect(handOver).toHaveLength(1);
  expect(inTrace('SignalWithStartWorkflow:fleetMonitorWorkflow')).toHaveLength(1);
  expect(inTrace('HandleSignal:alertEvents')).toHaveLength(1);
  const [delivery] = inTrace('RunActivity:sendWebhookAlert');
  expect(delivery).toBeDefined();
  expect(delivery!.attributes).toMatchObject({ temporalWorkflowId: workflowId });

  // Parent links are unbroken from the delivery back to the report's client span.
  const byId = new Map(spans.map((s) => [s.spanContext().spanId, s]));
  const chain: string[] = [];
  for (let s: ReadableSpan | undefined = delivery; s; s = s.parentSpanId ? byId.get(s.parentSpanId) : undefined) chain.push(s.name);
  expect(chain).toEqual([
    'RunActivity:sendWebhookAlert',
    'StartActivity:sendWebhookAlert',
    'HandleSignal:alertEvents',
    'SignalWithStartWorkflow:fleetMonitorWorkflow',
    'RunActivity:forwardAlerts',
    'StartActivity:forwardAlerts',
    'UpdateWithStartWorkflow:reportIngestionRun',
  ]);
  expect(spans.every((s) => s.resource.attributes['service.name'] === 'ingestion-monitor-test')).toBe(true);
});

const quietBundleLogger = { log() {}, trace() {}, debug() {}, info() {}, warn() {}, error() {} };

it('replays with tracing switched on or off, whichever way the history was recorded', async () => {
  const [traced, plain] = await Promise.all([
    bundleWorkflowCode({ workflowsPath: require.resolve('../src/workflows'), workflowInterceptorModules: [...workflowInterceptorModules, ...tracing.workflowModules], logger: quietBundleLogger }),
    bundleWorkflowCode({ workflowsPath: require.resolve('../src/workflows'), workflowInterceptorModules, logger: quietBundleLogger }),
  ]);
  // Recorded with tracing off (test/histories), replayed with it on: a worker restarted with tracing on.
  const dir = join(__dirname, 'histories');
  const files = readdirSync(dir).filter((f) => f.endsWith('.json'));
  expect(files.length).toBeGreaterThan(0);
  for (const file of files) {
    // Throws DeterminismViolationError if the commands differ.
    await Worker.runReplayHistory({ workflowBundle: traced, sinks: tracing.sinks }, JSON.parse(readFileSync(join(dir, file), 'utf8')), `traced-${file}`);
  }
  // Recorded with tracing on (the test above), replayed with it off and on.
  for (const id of [`${prefix}zeta`, workflowId]) {
    const history = await client.workflow.getHandle(id).fetchHistory();
    expect(history.events!.length).toBeGreaterThan(10);
    await Worker.runReplayHistory({ workflowBundle: plain }, history, `plain-${id}`);
    await Worker.runReplayHistory({ workflowBundle: traced, sinks: tracing.sinks }, history, `traced-${id}`);
  }
});
