/**
 * Everything the worker process needs for metrics and tracing, from the environment, in the order the
 * SDK requires:
 *
 *   const obs = await prepareObservability(config);                         // before Runtime.install
 *   Runtime.install({ ..., telemetryOptions: obs.telemetryOptions(base) });  // the one install
 *   new Client({ connection, namespace, interceptors: obs.clientInterceptors });
 *   createMonitorWorker({ ..., observability: obs.worker(db) });
 *   const metrics = await obs.serveMetrics(db);   // /metrics when METRICS_PORT is set
 *   ...
 *   await obs.shutdown();                          // after the worker stopped: closes /metrics, flushes spans
 */
import type { ClientInterceptors } from '@temporalio/client';
import type { TelemetryOptions } from '@temporalio/worker';
import type { Kysely } from 'kysely';
import type { Database } from '../db/schema';
import type { AlertMetrics } from './alert-metrics';
import { startMetricsServer, type MetricsServer } from './metrics-server';
import { createMonitorMetrics, type MonitorMetrics } from './monitor-metrics';
import { reserveLoopbackPort, runtimeTelemetryOptions } from './sdk-metrics';
import type { MonitorConfig } from '../config';
import { observabilitySettings, type ObservabilitySettings } from './settings';
import { tracingFromSettings, type Tracing } from './tracing';

/** What createMonitorWorker takes: both optional; without them the worker is exactly as before. */
export interface WorkerObservability {
  alertMetrics?: AlertMetrics;
  tracing?: Tracing;
}

export interface Observability {
  readonly settings: ObservabilitySettings;
  /** The Runtime's Prometheus exporter port (127.0.0.1), when METRICS_PORT is set. */
  readonly sdkMetricsPort?: number;
  readonly tracing?: Tracing;
  /** Undefined when tracing is off (a Client takes `interceptors: undefined`). */
  readonly clientInterceptors?: ClientInterceptors;
  /** `telemetryOptions` for Runtime.install, `base` (logging …) kept. */
  telemetryOptions(base?: TelemetryOptions): TelemetryOptions;
  /** For createMonitorWorker; the metrics registry (with the retailer gauges on `db`) is made on first call. */
  worker(db: Kysely<Database>): WorkerObservability;
  /** Start `/metrics` if METRICS_PORT is set. @throws if the port cannot be bound. */
  serveMetrics(db: Kysely<Database>): Promise<MetricsServer | undefined>;
  /** Close `/metrics` and flush and stop tracing; safe to call twice. */
  shutdown(): Promise<void>;
}

/**
 * From the checked config (METRICS_PORT / METRICS_HOST / OTEL_*): reserve a loopback port for the SDK's
 * metrics exporter and set up tracing. Call before Runtime.install.
 */
export async function prepareObservability(config: Pick<MonitorConfig, 'metrics' | 'otel'>): Promise<Observability> {
  const settings = observabilitySettings(config);
  const sdkMetricsPort = settings.metrics ? await reserveLoopbackPort() : undefined;
  const tracing = tracingFromSettings(settings.tracing);
  let metrics: MonitorMetrics | undefined;
  let server: MetricsServer | undefined;
  const metricsFor = (db: Kysely<Database>) => (settings.metrics ? (metrics ??= createMonitorMetrics(db)) : undefined);
  return {
    settings,
    sdkMetricsPort,
    tracing,
    clientInterceptors: tracing?.clientInterceptors,
    telemetryOptions: (base) => runtimeTelemetryOptions({ sdkMetricsPort }, base),
    worker: (db) => ({ alertMetrics: metricsFor(db)?.alerts, tracing }),
    async serveMetrics(db) {
      const m = metricsFor(db);
      if (!m || !settings.metrics) return undefined;
      server ??= await startMetricsServer({ registry: m.registry, port: settings.metrics.port, host: settings.metrics.host, sdkMetricsPort });
      return server;
    },
    async shutdown() {
      const s = server;
      server = undefined;
      await s?.close();
      await tracing?.shutdown();
    },
  };
}
