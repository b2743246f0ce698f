/**
 * What the observability part needs, from the checked configuration (src/config-env.ts validates the
 * variables with the rest of the environment):
 *
 * - METRICS_PORT: serve Prometheus `/metrics` on this port (off when unset). 0 picks a free port.
 * - METRICS_HOST: the address it binds (default 127.0.0.1, loopback only).
 * - OTEL_EXPORTER_OTLP_ENDPOINT: export traces over OTLP/HTTP to this collector (off when unset), e.g.
 *   `http://localhost:4318`; spans go to `<endpoint>/v1/traces` (or OTEL_EXPORTER_OTLP_TRACES_ENDPOINT).
 * - OTEL_SERVICE_NAME: the `service.name` of the spans (default `ingestion-monitor`).
 */
import type { MonitorConfig } from '../config';

export const DEFAULT_METRICS_HOST = '127.0.0.1';
export const DEFAULT_SERVICE_NAME = 'ingestion-monitor';

export interface MetricsSettings {
  port: number;
  host: string;
}

export interface TracingSettings {
  /** OTLP/HTTP traces URL (`<OTEL_EXPORTER_OTLP_ENDPOINT>/v1/traces`, or OTEL_EXPORTER_OTLP_TRACES_ENDPOINT). */
  tracesUrl: string;
  serviceName: string;
}

export interface ObservabilitySettings {
  metrics?: MetricsSettings;
  tracing?: TracingSettings;
}

/**
 * Metrics and tracing settings from the checked config: metrics on when METRICS_PORT is set (loopback by
 * default), tracing on when an OTLP endpoint is. The OTLP convention: the signal-specific
 * OTEL_EXPORTER_OTLP_TRACES_ENDPOINT is used as is; the general endpoint gets `/v1/traces` appended.
 */
export function observabilitySettings(config: Pick<MonitorConfig, 'metrics' | 'otel'>): ObservabilitySettings {
  const settings: ObservabilitySettings = {};
  const port = config.metrics?.port;
  if (port !== undefined) settings.metrics = { port, host: config.metrics?.host ?? DEFAULT_METRICS_HOST };
  const { endpoint, tracesEndpoint, serviceName } = config.otel ?? { serviceName: DEFAULT_SERVICE_NAME };
  const tracesUrl = tracesEndpoint ?? (endpoint === undefined ? undefined : `${endpoint.replace(/\/+$/, '')}/v1/traces`);
  if (tracesUrl !== undefined) settings.tracing = { tracesUrl, serviceName };
  return settings;
}
