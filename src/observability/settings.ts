/**
 * The environment variables of the observability part, parsed with a clear error for a bad value:
 *
 * - METRICS_PORT: serve Prometheus `/metrics` on this port (off when unset). 0 picks a free port.
 * - METRICS_HOST: the address it binds (default 127.0.0.1, loopback only).
 * - OTEL_EXPORTER_OTLP_ENDPOINT: export traces over OTLP/HTTP to this collector (off when unset), e.g.
 *   `http://localhost:4318`; spans go to `<endpoint>/v1/traces` (or OTEL_EXPORTER_OTLP_TRACES_ENDPOINT).
 * - OTEL_SERVICE_NAME: the `service.name` of the spans (default `ingestion-monitor`).
 *
 * Kept apart from src/config.ts until that module's validation is reworked; it can move there unchanged.
 */

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

/** A bad observability environment variable; the message names the variable and the value's problem. */
export class ObservabilitySettingsError extends Error {
  override readonly name = 'ObservabilitySettingsError';
  constructor(
    readonly variable: string,
    reason: string,
  ) {
    super(`${variable} ${reason}`);
  }
}

const blank = (v: string | undefined): string | undefined => (v?.trim() ? v.trim() : undefined);

/** @throws ObservabilitySettingsError unless `v` is a whole number 0–65535. */
export function parsePort(variable: string, v: string): number {
  if (!/^\d{1,5}$/.test(v) || Number(v) > 65535) throw new ObservabilitySettingsError(variable, `must be a TCP port (a whole number 0-65535), got "${v.slice(0, 40)}"`);
  return Number(v);
}

/** @throws ObservabilitySettingsError unless `v` is an http(s) URL; the message never repeats credentials. */
function parseUrl(variable: string, v: string): URL {
  let url: URL;
  try {
    url = new URL(v);
  } catch {
    throw new ObservabilitySettingsError(variable, 'must be an http:// or https:// URL such as http://localhost:4318');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new ObservabilitySettingsError(variable, `must be an http:// or https:// URL (OTLP/HTTP), got a ${url.protocol} URL`);
  }
  return url;
}

/**
 * Read METRICS_PORT, METRICS_HOST, OTEL_EXPORTER_OTLP_ENDPOINT (and _TRACES_ENDPOINT), OTEL_SERVICE_NAME.
 * @throws ObservabilitySettingsError for a value that is set but unusable.
 */
export function parseObservabilitySettings(env: NodeJS.ProcessEnv = process.env): ObservabilitySettings {
  const settings: ObservabilitySettings = {};
  const port = blank(env.METRICS_PORT);
  if (port !== undefined) settings.metrics = { port: parsePort('METRICS_PORT', port), host: blank(env.METRICS_HOST) ?? DEFAULT_METRICS_HOST };
  else if (blank(env.METRICS_HOST) !== undefined) throw new ObservabilitySettingsError('METRICS_HOST', 'is set but METRICS_PORT is not: set METRICS_PORT to serve /metrics');

  const endpoint = blank(env.OTEL_EXPORTER_OTLP_ENDPOINT);
  const tracesEndpoint = blank(env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT);
  if (endpoint !== undefined || tracesEndpoint !== undefined) {
    // The OTLP convention: the signal-specific variable is used as is; the general one gets /v1/traces appended.
    const tracesUrl = tracesEndpoint !== undefined
      ? parseUrl('OTEL_EXPORTER_OTLP_TRACES_ENDPOINT', tracesEndpoint).toString()
      : `${parseUrl('OTEL_EXPORTER_OTLP_ENDPOINT', endpoint!).toString().replace(/\/+$/, '')}/v1/traces`;
    const serviceName = blank(env.OTEL_SERVICE_NAME) ?? DEFAULT_SERVICE_NAME;
    if (serviceName.length > 200) throw new ObservabilitySettingsError('OTEL_SERVICE_NAME', 'must be at most 200 characters');
    settings.tracing = { tracesUrl, serviceName };
  }
  return settings;
}
