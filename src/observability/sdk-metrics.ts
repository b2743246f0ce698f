/**
 * The Temporal SDK's own worker metrics (names prefixed `temporal_`: task slots, poll and task latencies,
 * sticky cache, activity and workflow task counts …) come from the Runtime's Prometheus exporter. It listens
 * on an internal loopback port; `/metrics` fetches that text and appends it, so one scrape gets both.
 */
import { createServer } from 'node:net';
import type { TelemetryOptions } from '@temporalio/worker';

export const SDK_METRIC_PREFIX = 'temporal_';

/** A free TCP port on 127.0.0.1 (the OS picks it; there is a small window before the exporter binds it). */
export function reserveLoopbackPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port assigned'))));
    });
  });
}

/**
 * The `telemetryOptions` for the one `Runtime.install` of the process. With `sdkMetricsPort`, the SDK's
 * Prometheus exporter listens on 127.0.0.1:<port> (counters with `_total`, durations in seconds, like
 * prom-client's); without it, no metrics exporter. `base` (e.g. logging options) is kept.
 */
export function runtimeTelemetryOptions(opts: { sdkMetricsPort?: number }, base: TelemetryOptions = {}): TelemetryOptions {
  if (opts.sdkMetricsPort === undefined) return base;
  return {
    ...base,
    metrics: {
      metricPrefix: SDK_METRIC_PREFIX,
      prometheus: { bindAddress: `127.0.0.1:${opts.sdkMetricsPort}`, countersTotalSuffix: true, useSecondsForDurations: true, unitSuffix: false },
    },
  };
}

/** The SDK exporter's exposition text, or undefined if it does not answer within `timeoutMs`. */
export async function fetchSdkMetrics(port: number, timeoutMs = 2000): Promise<string | undefined> {
  try {
    const res = await fetch(`http://127.0.0.1:${port}/metrics`, { signal: AbortSignal.timeout(timeoutMs) });
    return res.ok ? await res.text() : undefined;
  } catch {
    return undefined;
  }
}
