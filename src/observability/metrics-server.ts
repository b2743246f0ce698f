/**
 * The worker's Prometheus endpoint: `GET /metrics` answers prom-client's registry (per-retailer gauges read
 * from Postgres, alert counters) followed by the Temporal SDK's exporter text (`temporal_*`), when there is one.
 * Anything else is 404; only GET and HEAD.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';
import { fetchSdkMetrics } from './sdk-metrics';

export interface MetricsServer {
  /** `http://host:port/metrics` */
  url: string;
  port: number;
  close(): Promise<void>;
}

export interface MetricsServerOptions {
  registry: Registry;
  port: number;
  /** Default 127.0.0.1. */
  host?: string;
  /** The Runtime's Prometheus exporter port on 127.0.0.1, whose text is appended. */
  sdkMetricsPort?: number;
}

/** The exposition text of one scrape. */
export async function scrape(registry: Registry, sdkMetricsPort?: number): Promise<string> {
  const [own, sdk] = await Promise.all([registry.metrics(), sdkMetricsPort === undefined ? undefined : fetchSdkMetrics(sdkMetricsPort)]);
  if (!sdk) return own;
  return `${own.endsWith('\n') ? own : `${own}\n`}\n${sdk.endsWith('\n') ? sdk : `${sdk}\n`}`;
}

/** @throws if the port cannot be bound (in use, no permission), with the address in the message. */
export async function startMetricsServer({ registry, port, host = '127.0.0.1', sdkMetricsPort }: MetricsServerOptions): Promise<MetricsServer> {
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (path !== '/metrics') {
      res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end('not found: the metrics are at /metrics\n');
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain; charset=utf-8' }).end('method not allowed\n');
      return;
    }
    scrape(registry, sdkMetricsPort).then(
      (text) => {
        res.writeHead(200, { 'content-type': registry.contentType });
        res.end(req.method === 'HEAD' ? undefined : text);
      },
      (err: unknown) => {
        res.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' }).end(`metrics collection failed: ${err instanceof Error ? err.message : String(err)}\n`);
      },
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err) => reject(new Error(`cannot serve /metrics on ${host}:${port}: ${err.message}`, { cause: err })));
    server.listen(port, host, () => resolve());
  });
  const bound = (server.address() as AddressInfo).port;
  const shownHost = host.includes(':') ? `[${host}]` : host;
  return {
    url: `http://${shownHost}:${bound}/metrics`,
    port: bound,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
