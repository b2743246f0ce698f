/**
 * The built-in status page: the dashboard's panels, from the same SQL, for people without Grafana.
 * Plain node:http — a handful of GET routes do not need a framework. Unauthenticated, so it binds to
 * 127.0.0.1 unless told otherwise; every value reaches the page as JSON and is inserted as text.
 *
 *   /                    the page (static HTML; app.js fetches the data with the page's own parameters)
 *   /api/panels          panel definitions + rows; ?from=&to= (now, now-30m, epoch ms or ISO) &retailer=a&retailer=b;
 *                        an unknown or malformed parameter is a 400 with the reason (see query.ts)
 *   /badge/<r>.svg|json  per-retailer badge: up / late / down / waiting (see badge.ts)
 *   /healthz             200 when Postgres answers, 503 otherwise
 *   /assets/*            page script and styles, and Chart.js from node_modules
 *
 * Every request's Host header is checked first (DNS rebinding, see host-check.ts): 421 when it is not ours.
 */
import { existsSync, readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { dirname, join } from 'node:path';
import { type Kysely, sql } from 'kysely';
import type { Database } from '../db/schema';
import { badgeJson, badgeSvg, loadBadgeState } from './badge';
import { hostCheck } from './host-check';
import { loadPanelData } from './panel-data';
import { BadRequestError, parsePanelParams, RETAILER_SLUG } from './query';

export interface StatusPageOptions {
  db: Kysely<Database>;
  port: number;
  host?: string;
  refreshSeconds?: number;
  /**
   * Extra Host header names the page answers to (e.g. `status.example.com` behind a reverse proxy, or
   * `name:port` for one port only). localhost, 127.0.0.1, [::1] and the bound address are always accepted.
   */
  allowedHosts?: readonly string[];
}

export interface StatusPage {
  url: string;
  close(): Promise<void>;
}

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

function send(res: ServerResponse, status: number, type: string, body: Buffer | string, extra: Record<string, string> = {}) {
  res.writeHead(status, { 'Content-Type': type, 'Content-Length': Buffer.byteLength(body), ...SECURITY_HEADERS, ...extra });
  res.end(res.req.method === 'HEAD' ? undefined : body);
}

const sendJson = (res: ServerResponse, status: number, value: unknown, cache = 'no-store') =>
  send(res, status, 'application/json; charset=utf-8', JSON.stringify(value), { 'Cache-Control': cache });

const sendText = (res: ServerResponse, status: number, text: string, extra: Record<string, string> = {}) =>
  send(res, status, 'text/plain; charset=utf-8', `${text}\n`, { 'Cache-Control': 'no-store', ...extra });

/** Badges are embedded in READMEs and wikis; a short cache keeps them close to live. */
const BADGE_CACHE = 'max-age=30';
const BADGE_PATH = /^\/badge\/([^/]*)\.(svg|json)$/;

export async function startStatusPage(opts: StatusPageOptions): Promise<StatusPage> {
  const host = opts.host ?? '127.0.0.1';
  const refreshSeconds = opts.refreshSeconds ?? 30;
  const assets = loadAssets(refreshSeconds);

  // Set once listening (port 0 picks a free port).
  let hosts = hostCheck(host, opts.port, opts.allowedHosts);

  async function badge(res: ServerResponse, rawSlug: string, kind: string): Promise<void> {
    let slug: string;
    try {
      slug = decodeURIComponent(rawSlug);
    } catch {
      slug = rawSlug;
    }
    if (!RETAILER_SLUG.test(slug)) {
      sendText(res, 400, 'invalid retailer: a badge path is /badge/<retailer>.svg or .json with a lower-case slug (a-z, 0-9, - and _)');
      return;
    }
    const state = await loadBadgeState(opts.db, slug);
    if (state === undefined) {
      sendText(res, 404, `unknown retailer: ${slug} (no monitor has reported it; the retailer list is at /api/panels)`);
      return;
    }
    if (kind === 'json') sendJson(res, 200, badgeJson(slug, state), BADGE_CACHE);
    else send(res, 200, 'image/svg+xml; charset=utf-8', badgeSvg(slug, state), { 'Cache-Control': BADGE_CACHE });
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (!hosts.allows(req.headers.host)) {
      sendText(res, 421, `this status page does not answer to host ${JSON.stringify(req.headers.host ?? '')}; if that is its name, add it to allowedHosts`);
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      sendText(res, 405, 'method not allowed', { Allow: 'GET, HEAD' });
      return;
    }
    const url = new URL(req.url ?? '/', 'http://status-page.invalid');
    if (url.pathname === '/api/panels') {
      const q = parsePanelParams(url.searchParams);
      const data = await loadPanelData(opts.db, { range: { from: q.from, to: q.to }, retailers: q.retailers });
      sendJson(res, 200, { ...data, refreshSeconds });
      return;
    }
    const badgePath = BADGE_PATH.exec(url.pathname);
    if (badgePath) {
      await badge(res, badgePath[1], badgePath[2]);
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
    else sendText(res, 404, 'not found');
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      if (res.headersSent) return void res.destroy();
      if (err instanceof BadRequestError) sendJson(res, 400, { error: err.message });
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
  hosts = hostCheck(host, port, opts.allowedHosts);
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
