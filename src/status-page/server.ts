/**
 * The built-in status page: the dashboard's panels, from the same SQL, for people without Grafana.
 * Plain node:http — a handful of GET routes do not need a framework. Unauthenticated, so it binds to
 * 127.0.0.1 unless told otherwise; every value reaches the page as JSON and is inserted as text.
 *
 *   /              the page (static HTML; app.js fetches the data)
 *   /api/panels    panel definitions + rows; ?from=&to= (epoch ms, ISO or now-24h) &retailer=a&retailer=b
 *   /healthz       200 when Postgres answers, 503 otherwise
 *   /assets/*      page script and styles, and Chart.js from node_modules
 */
import { existsSync, readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { dirname, join } from 'node:path';
import { type Kysely, sql } from 'kysely';
import type { Database } from '../db/schema';
import { loadPanelData } from './panel-data';

export interface StatusPageOptions {
  db: Kysely<Database>;
  port: number;
  host?: string;
  refreshSeconds?: number;
}

export interface StatusPage {
  url: string;
  close(): Promise<void>;
}

const DEFAULT_RANGE_MS = 24 * 3600_000;
const MAX_RANGE_MS = 400 * 24 * 3600_000;
/** Retailer slugs as the run-report schema allows them; anything else is refused before SQL is built. */
const RETAILER_SLUG = /^[a-z0-9][a-z0-9_-]{0,99}$/;

const SECURITY_HEADERS = {
  'Content-Security-Policy':
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
};

/** Assets sit next to this file in the source tree; a compiled dist/ build reads them from src/. */
function assetsDir(): string {
  const beside = join(__dirname, 'assets');
  return existsSync(beside) ? beside : join(__dirname, '..', '..', '..', 'src', 'status-page', 'assets');
}

function loadAssets(refreshSeconds: number): Record<string, { type: string; body: Buffer }> {
  const dir = assetsDir();
  // chart.js exports no subpath for its UMD bundle, so locate it beside the package's main entry.
  const chartJs = join(dirname(require.resolve('chart.js')), 'chart.umd.min.js');
  const html = readFileSync(join(dir, 'index.html'), 'utf8').replace('__REFRESH_SECONDS__', String(refreshSeconds));
  return {
    '/': { type: 'text/html; charset=utf-8', body: Buffer.from(html) },
    '/assets/app.js': { type: 'text/javascript; charset=utf-8', body: readFileSync(join(dir, 'app.js')) },
    '/assets/app.css': { type: 'text/css; charset=utf-8', body: readFileSync(join(dir, 'app.css')) },
    '/assets/chart.umd.js': { type: 'text/javascript; charset=utf-8', body: readFileSync(chartJs) },
  };
}

class BadRequest extends Error {}

/** `now`, `now-6h` (s, m, h, d, w), epoch milliseconds, or an ISO timestamp. */
export function parseTimeParam(value: string | null, fallback: number, now: number): number {
  if (value === null || value === '') return fallback;
  if (value === 'now') return now;
  const rel = /^now-(\d+)([smhdw])$/.exec(value);
  if (rel) {
    const unit = { s: 1000, m: 60_000, h: 3600_000, d: 86_400_000, w: 604_800_000 }[rel[2] as 's'];
    return now - Number(rel[1]) * unit;
  }
  const ms = /^\d+$/.test(value) ? Number(value) : Date.parse(value);
  if (!Number.isFinite(ms)) throw new BadRequest(`invalid time: ${value}`);
  return ms;
}

function parseQuery(url: URL): { from: Date; to: Date; retailers: string[] } {
  const now = Date.now();
  const to = parseTimeParam(url.searchParams.get('to'), now, now);
  const from = parseTimeParam(url.searchParams.get('from'), to - DEFAULT_RANGE_MS, now);
  if (from >= to) throw new BadRequest('from must be before to');
  if (to - from > MAX_RANGE_MS) throw new BadRequest('time range is limited to 400 days');
  const retailers = url.searchParams.getAll('retailer').filter((r) => r !== '' && r !== '$__all' && r !== 'all');
  for (const r of retailers) if (!RETAILER_SLUG.test(r)) throw new BadRequest('retailer must be a lower-case slug');
  return { from: new Date(from), to: new Date(to), retailers: [...new Set(retailers)] };
}

function send(res: ServerResponse, status: number, type: string, body: Buffer | string, extra: Record<string, string> = {}) {
  res.writeHead(status, { 'Content-Type': type, 'Content-Length': Buffer.byteLength(body), ...SECURITY_HEADERS, ...extra });
  res.end(res.req.method === 'HEAD' ? undefined : body);
}

const sendJson = (res: ServerResponse, status: number, value: unknown) =>
  send(res, status, 'application/json; charset=utf-8', JSON.stringify(value), { 'Cache-Control': 'no-store' });

export async function startStatusPage(opts: StatusPageOptions): Promise<StatusPage> {
  const host = opts.host ?? '127.0.0.1';
  const refreshSeconds = opts.refreshSeconds ?? 30;
  const assets = loadAssets(refreshSeconds);

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      send(res, 405, 'text/plain; charset=utf-8', 'method not allowed', { Allow: 'GET, HEAD' });
      return;
    }
    const url = new URL(req.url ?? '/', 'http://status-page.invalid');
    if (url.pathname === '/api/panels') {
      const q = parseQuery(url);
      const data = await loadPanelData(opts.db, { range: { from: q.from, to: q.to }, retailers: q.retailers });
      sendJson(res, 200, { ...data, refreshSeconds });
      return;
    }
    if (url.pathname === '/healthz') {
      try {
        await sql`select 1`.execute(opts.db);
        sendJson(res, 200, { status: 'ok' });
      } catch (err) {
        sendJson(res, 503, { status: 'error', error: err instanceof Error ? err.message : String(err) });
      }
      return;
    }
    const asset = assets[url.pathname];
    if (asset) send(res, 200, asset.type, asset.body, { 'Cache-Control': url.pathname === '/' ? 'no-store' : 'max-age=300' });
    else send(res, 404, 'text/plain; charset=utf-8', 'not found');
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      if (res.headersSent) return void res.destroy();
      if (err instanceof BadRequest) sendJson(res, 400, { error: err.message });
      else sendJson(res, 500, { error: err instanceof Error ? err.message : 'internal error' });
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const shownHost = host.includes(':') ? `[${host}]` : host;
  return {
    url: `http://${shownHost}:${port}/`,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        // Keep-alive connections (a browser tab) would otherwise hold close() open.
        server.closeAllConnections();
      }),
  };
}
