/**
 * Prometheus `/metrics` of a real monitor worker (createMonitorWorker with the alert metrics interceptor) on
 * the real dev server and real Postgres, alerts going to a loopback webhook: the scrape is parsed as a
 * Prometheus server would and must show per-retailer values from Postgres, alert counters and latency
 * counts by channel, and the Temporal SDK's own metrics (the Runtime's Prometheus exporter, appended).
 * The Runtime is installed once, here, before anything else creates it.
 */
import { createDb } from '../src/db/database';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { DefaultLogger, makeTelemetryFilterString, Runtime, type Worker } from '@temporalio/worker';
import { reportIngestionRun } from '../src/client';
import { ALERT_METRIC_NAMES } from '../src/observability/alert-metrics';
import { startMetricsServer, type MetricsServer } from '../src/observability/metrics-server';
import { createMonitorMetrics, type MonitorMetrics } from '../src/observability/monitor-metrics';
import { RETAILER_METRIC_NAMES } from '../src/observability/retailer-metrics';
import { metricNamesIn, PROM_PANELS } from '../src/dashboard/prometheus-panels';
import { ConfigError, loadConfig } from '../src/config';
import { observabilitySettings } from '../src/observability/settings';

/** The settings from an environment, checked the way every process checks it at start. */
const parseObservabilitySettings = (env: NodeJS.ProcessEnv) => observabilitySettings(loadConfig(env));
import { reserveLoopbackPort, runtimeTelemetryOptions, SDK_METRIC_PREFIX } from '../src/observability/sdk-metrics';
import { createMonitorWorker, ensureFleet } from '../src/worker';
import { type CaptureServer, startCaptureServer } from './helpers/capture-server';
import { parseExposition, valueOf, type Sample } from './helpers/exposition';
import { testConfig } from './helpers/monitor';
import { createTestDatabase, type TestDatabase } from './helpers/postgres';
import { createDevServerEnv } from './helpers/temporal';
import { until } from './helpers/wait';

let env: TestWorkflowEnvironment;
let tdb: TestDatabase;
let hook: CaptureServer;
let metrics: MonitorMetrics;
let server: MetricsServer;
let worker: Worker;
let running: Promise<void>;
const taskQueue = `monitor-metrics-${Date.now()}`;
const workflowId = `ingestion-monitor-metrics-${Date.now()}`;
const prefix = `metrics-${Date.now()}/`;

async function scrapeText(url: string): Promise<string> {
  const res = await fetch(url);
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
  return res.text();
}
const scrape = async (): Promise<Sample[]> => parseExposition(await scrapeText(server.url));

beforeAll(async () => {
  const sdkMetricsPort = await reserveLoopbackPort();
  Runtime.install({
    logger: new DefaultLogger('WARN'),
    telemetryOptions: runtimeTelemetryOptions(
      { sdkMetricsPort },
      { logging: { forward: {}, filter: makeTelemetryFilterString({ core: 'WARN', other: 'ERROR' }) } },
    ),
  });
  [env, tdb, hook] = await Promise.all([createDevServerEnv(), createTestDatabase('im_metrics'), startCaptureServer()]);
  // crux's alerts are refused (a permanent 4xx): the failed counter and the failed latency bucket.
  hook.respond = (req) => (JSON.stringify(req.body).includes('crux') ? { status: 400, body: 'invalid_payload' } : { status: 200, body: 'ok' });
  const config = { ...testConfig({ taskQueue, databaseUrl: tdb.url, webhookUrl: `${hook.url}/hook` }), workflowId, retailerWorkflowIdPrefix: prefix };
  metrics = createMonitorMetrics(tdb.db);
  worker = await createMonitorWorker({ connection: env.nativeConnection, namespace: env.namespace, config, db: tdb.db, client: env.client, observability: { alertMetrics: metrics.alerts } });
  running = worker.run();
  server = await startMetricsServer({ registry: metrics.registry, port: 0, sdkMetricsPort });
  await ensureFleet(env.client, config, { groupWindowMs: 500, retailerWorkflowIdPrefix: prefix });
});

afterAll(async () => {
  if (worker?.getState() === 'RUNNING') worker.shutdown();
  await running;
  await Promise.all([server?.close(), env?.teardown(), tdb?.drop(), hook?.close()]);
});

const report = (retailer: string, runId: string, status: 'success' | 'failure', minutesAgo: number) => {
  const now = Date.now();
  return reportIngestionRun(
    env.client,
    {
      runId,
      retailer,
      status,
      startedAt: new Date(now - (minutesAgo + 2) * 60_000).toISOString(),
      finishedAt: new Date(now - minutesAgo * 60_000).toISOString(),
      ...(status === 'success' ? { skuCount: retailer === 'acme' ? 1200 : 800, promoCount: retailer === 'acme' ? 34 : 12 } : { error: 'Navigation timeout' }),
    },
    { workflowId, taskQueue, retailerWorkflowIdPrefix: prefix },
  );
};

it('exports per-retailer values from Postgres, alert counters by channel and the SDK worker metrics in one scrape', async () => {
  await report('acme', 'acme-1', 'success', 10);
  await report('bolt', 'bolt-1', 'success', 30);
  await report('bolt', 'bolt-2', 'failure', 20);
  await report('bolt', 'bolt-3', 'failure', 10);
  await report('crux', 'crux-1', 'failure', 20);
  await report('crux', 'crux-2', 'failure', 10);

  await hook.waitFor((r) => r.some((c) => JSON.stringify(c.body).includes('bolt')), 60_000);
  const samples = await until(
    'the scrape to show both alerts and the failure streaks',
    async () => {
      const s = await scrape();
      const done =
        valueOf(s, ALERT_METRIC_NAMES.delivered, { channel: 'webhook' }) === 1 &&
        valueOf(s, ALERT_METRIC_NAMES.failed, { channel: 'webhook' }) === 1 &&
        valueOf(s, RETAILER_METRIC_NAMES.failureStreak, { retailer: 'bolt' }) === 2 &&
        valueOf(s, RETAILER_METRIC_NAMES.failureStreak, { retailer: 'crux' }) === 2;
      return done && s;
    },
    60_000,
    250,
  );

  // Per retailer, from retailer_status.
  expect(valueOf(samples, RETAILER_METRIC_NAMES.postgresUp)).toBe(1);
  expect(valueOf(samples, RETAILER_METRIC_NAMES.healthy, { retailer: 'acme' })).toBe(1);
  expect(valueOf(samples, RETAILER_METRIC_NAMES.healthy, { retailer: 'bolt' })).toBe(0);
  expect(valueOf(samples, RETAILER_METRIC_NAMES.health, { retailer: 'bolt', health: 'unhealthy' })).toBe(1);
  expect(valueOf(samples, RETAILER_METRIC_NAMES.health, { retailer: 'bolt', health: 'healthy' })).toBe(0);
  expect(valueOf(samples, RETAILER_METRIC_NAMES.failureStreak, { retailer: 'acme' })).toBe(0);
  expect(valueOf(samples, RETAILER_METRIC_NAMES.skuCount, { retailer: 'acme' })).toBe(1200);
  expect(valueOf(samples, RETAILER_METRIC_NAMES.promoCount, { retailer: 'acme' })).toBe(34);
  expect(valueOf(samples, RETAILER_METRIC_NAMES.openIncidents, { retailer: 'bolt' })).toBe(1);
  // acme's last success finished 10 minutes before the report; bolt's 30 (the clocks are Postgres's and ours).
  const acmeAge = valueOf(samples, RETAILER_METRIC_NAMES.sinceSuccess, { retailer: 'acme' })!;
  const boltAge = valueOf(samples, RETAILER_METRIC_NAMES.sinceSuccess, { retailer: 'bolt' })!;
  expect(acmeAge).toBeGreaterThanOrEqual(10 * 60 - 5);
  expect(boltAge).toBeGreaterThan(acmeAge);
  // crux never succeeded: no age rather than a made-up one.
  expect(valueOf(samples, RETAILER_METRIC_NAMES.sinceSuccess, { retailer: 'crux' })).toBeUndefined();
  expect(valueOf(samples, RETAILER_METRIC_NAMES.failureStreak, { retailer: 'crux' })).toBe(2);

  // Alerts: two fired on the webhook, one delivered, one refused; each attempt timed.
  expect(valueOf(samples, ALERT_METRIC_NAMES.fired, { channel: 'webhook' })).toBe(2);
  expect(valueOf(samples, `${ALERT_METRIC_NAMES.duration}_count`, { channel: 'webhook', outcome: 'delivered' })).toBe(1);
  expect(valueOf(samples, `${ALERT_METRIC_NAMES.duration}_count`, { channel: 'webhook', outcome: 'failed' })).toBe(1);
  expect(valueOf(samples, `${ALERT_METRIC_NAMES.duration}_bucket`, { channel: 'webhook', outcome: 'delivered', le: '+Inf' })).toBe(1);
  expect(valueOf(samples, `${ALERT_METRIC_NAMES.duration}_sum`, { channel: 'webhook', outcome: 'delivered' })).toBeGreaterThan(0);
  // Channels that are not configured are never called by the fleet, so they have no series.
  expect(samples.filter((s) => s.name.startsWith('ingestion_monitor_alert') && s.labels.channel && s.labels.channel !== 'webhook')).toEqual([]);

  // The SDK's own metrics, from the Runtime's exporter, in the same scrape.
  const sdk = new Set(samples.filter((s) => s.name.startsWith(SDK_METRIC_PREFIX)).map((s) => s.name));
  expect([...sdk]).toEqual(
    expect.arrayContaining(['temporal_workflow_task_execution_latency_count', 'temporal_activity_execution_latency_count', 'temporal_worker_task_slots_available', 'temporal_request_total']),
  );
  const slots = samples.filter((x) => x.name === 'temporal_worker_task_slots_available');
  expect(slots.map((x) => x.labels)).toEqual(expect.arrayContaining([expect.objectContaining({ task_queue: taskQueue, worker_type: expect.any(String) })]));

  // Every metric the generated Prometheus dashboard reads is in this real scrape.
  const scraped = new Set(samples.map((x) => x.name));
  const read = new Set(PROM_PANELS.flatMap((p) => p.targets.flatMap((t) => metricNamesIn(t.expr))));
  expect([...read].filter((m) => !scraped.has(m))).toEqual([]);
});

it('answers 200 with ingestion_monitor_postgres_up 0 and no retailer series when Postgres does not answer', async () => {
  const down = createDb('postgres://postgres@127.0.0.1:1/nowhere', 1);
  const m = createMonitorMetrics(down);
  const s = await startMetricsServer({ registry: m.registry, port: 0 });
  try {
    const samples = parseExposition(await scrapeText(s.url));
    expect(valueOf(samples, RETAILER_METRIC_NAMES.postgresUp)).toBe(0);
    expect(samples.filter((x) => x.name.startsWith('ingestion_monitor_retailer_'))).toEqual([]);
    expect((await fetch(s.url.replace('/metrics', '/'))).status).toBe(404);
  } finally {
    await s.close();
    await down.destroy();
  }
});

describe('METRICS_PORT / METRICS_HOST / OTEL_* settings', () => {
  it('is off when unset, loopback by default, and reads the OTLP endpoint', () => {
    expect(parseObservabilitySettings({})).toEqual({});
    expect(parseObservabilitySettings({ METRICS_PORT: '9464' })).toEqual({ metrics: { port: 9464, host: '127.0.0.1' } });
    expect(parseObservabilitySettings({ METRICS_PORT: '9464', METRICS_HOST: '0.0.0.0' }).metrics).toEqual({ port: 9464, host: '0.0.0.0' });
    expect(parseObservabilitySettings({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318/' }).tracing).toEqual({ tracesUrl: 'http://collector:4318/v1/traces', serviceName: 'ingestion-monitor' });
    expect(parseObservabilitySettings({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'https://otel.example/v1/traces', OTEL_SERVICE_NAME: 'im-eu' }).tracing).toEqual({
      tracesUrl: 'https://otel.example/v1/traces',
      serviceName: 'im-eu',
    });
  });

  it.each([
    [{ METRICS_PORT: 'abc' }, /METRICS_PORT: expected a port number.*"abc"/],
    [{ METRICS_PORT: '70000' }, /METRICS_PORT: expected a port number/],
    [{ METRICS_HOST: '0.0.0.0' }, /METRICS_HOST: expected METRICS_PORT too/],
    [{ OTEL_EXPORTER_OTLP_ENDPOINT: 'collector:4318' }, /OTEL_EXPORTER_OTLP_ENDPOINT: expected an http/],
    [{ OTEL_EXPORTER_OTLP_ENDPOINT: 'grpc://collector:4317' }, /OTLP\/HTTP/],
  ])('refuses %j with a clear error', (env, message) => {
    expect(() => parseObservabilitySettings(env)).toThrow(ConfigError);
    expect(() => parseObservabilitySettings(env)).toThrow(message);
  });

  it('never repeats credentials of a bad endpoint', () => {
    expect(() => parseObservabilitySettings({ OTEL_EXPORTER_OTLP_ENDPOINT: 'ftp://user:s3cret@collector' })).toThrow(/^(?!.*s3cret)/);
  });
});
