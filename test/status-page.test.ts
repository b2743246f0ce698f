/**
 * The built-in status page in a real browser (Debian's chromium via playwright-core) against real
 * Postgres with seeded data: the status table shows the seeded figures, the charts render, unhealthy and
 * stale retailers are visibly red, retailers that never ran wait for their first run, the "why" is in the
 * retailer table, URL parameters are honoured (an invalid one is an error on the page), the time axis has
 * regular ticks, colours are stable per retailer; badges and the Host-header check over HTTP.
 * Screenshots go to test/.tmp/, or to docs/qa/ (the committed QA evidence) with STATUS_PAGE_QA=1.
 */
import { mkdirSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { startStatusPage, type StatusPage } from '../src/status-page/server';
import { StatusPageConfigError } from '../src/status-page/host-check';
import {
  ALL_RETAILERS,
  NEVER_RAN_DIAGNOSIS,
  NEVER_RAN_STALE_RETAILER,
  SEEDED_RETAILERS,
  STALE_DIAGNOSIS,
  WAITING_RETAILER,
  XSS_SUMMARY,
  seedDashboardData,
  type SeededData,
} from './helpers/dashboard-seed';
import { createTestDatabase, type TestDatabase } from './helpers/postgres';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'];
const SHOTS = process.env.STATUS_PAGE_QA === '1' ? join(__dirname, '..', 'docs', 'qa') : join(__dirname, '.tmp');
const SCREENSHOT = join(SHOTS, 'status-page-seeded.png');
const RED = 'rgb(224, 47, 68)';
const GREEN = 'rgb(86, 166, 75)';
const BLUE = 'rgb(50, 116, 217)';

let tdb: TestDatabase;
let seeded: SeededData;
let site: StatusPage;
let browser: Browser;
let page: Page;

const cell = (retailer: string, field: string) => page.locator(`#panel-retailer-status tr[data-retailer="${retailer}"] td[data-field="${field}"]`);
const background = (selector: string) => page.locator(selector).first().evaluate((el) => getComputedStyle(el).backgroundColor);

beforeAll(async () => {
  tdb = await createTestDatabase('im_status_page');
  seeded = await seedDashboardData(tdb.db);
  site = await startStatusPage({ db: tdb.db, port: 0, host: '127.0.0.1', refreshSeconds: 2 });
  browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  page = await browser.newPage({ viewport: { width: 1366, height: 768 } });
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(site.url);
  await page.waitForSelector('body[data-loaded]');
  expect(errors).toEqual([]);
});

afterAll(async () => {
  await browser?.close();
  await site?.close();
  await tdb?.drop();
});

describe('status page in Chromium', () => {
  it('lists every seeded retailer with its latest figures', async () => {
    const rows = await page.locator('#panel-retailer-status tbody tr').evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-retailer')));
    expect(rows).toEqual(['pick-n-pay', 'shoprite', 'woolworths', 'spar', 'makro', 'checkers']);
    for (const r of SEEDED_RETAILERS) {
      const { sku, promo, streak } = seeded.latest[r];
      expect(await cell(r, 'sku_count').textContent()).toBe(sku === null ? '—' : sku.toLocaleString('en-US'));
      expect(await cell(r, 'promo_count').textContent()).toBe(promo === null ? '—' : promo.toLocaleString('en-US'));
      expect(await cell(r, 'failure_streak').textContent()).toBe(String(streak));
    }
    expect(await cell('pick-n-pay', 'last_run_status').textContent()).toBe('failure');
    expect(await cell('spar', 'open_rules').textContent()).toBe('sku_drop');
  });

  it('shows unhealthy and stale retailers in red, healthy ones in green', async () => {
    expect(await cell('pick-n-pay', 'health').textContent()).toBe('unhealthy');
    expect(await background('#panel-retailer-status tr[data-retailer="pick-n-pay"] td[data-field="health"]')).toBe(RED);
    // woolworths' persisted health still says healthy (the monitor stopped writing) but its age is past 4 h.
    expect(await cell('woolworths', 'health').textContent()).toBe('stale');
    expect(await background('#panel-retailer-status tr[data-retailer="woolworths"] td[data-field="health"]')).toBe(RED);
    expect(Number.parseFloat((await cell('woolworths', 'hours_since_success').textContent()) ?? '')).toBeGreaterThan(4);
    expect(await background('#panel-retailer-status tr[data-retailer="woolworths"] td[data-field="hours_since_success"]')).toBe(RED);
    expect(await background('#panel-retailer-status tr[data-retailer="checkers"] td[data-field="hours_since_success"]')).toBe(GREEN);
    expect(await page.locator('#panel-retailers-unhealthy .panel-body').textContent()).toBe('3');
    expect(await background('#panel-retailers-unhealthy .panel-body')).toBe(RED);
    expect(await page.locator('#panel-retailers-healthy .panel-body').textContent()).toBe('1');
    expect(await page.locator('#panel-failure-history .history-row[data-retailer="pick-n-pay"] span[data-state="failure"]').count()).toBe(2);
  });

  it('draws the trend charts with Chart.js, one line per retailer', async () => {
    for (const key of ['sku-trend', 'promo-trend', 'duration-trend']) {
      const info = await page.locator(`#panel-${key} canvas`).evaluate((canvas: HTMLCanvasElement) => {
        const chart = (window as unknown as { Chart: { getChart(c: HTMLCanvasElement): { data: { datasets: unknown[] } } | undefined } }).Chart.getChart(canvas);
        const box = canvas.getBoundingClientRect();
        return { width: box.width, height: box.height, datasets: chart?.data.datasets.length ?? 0 };
      });
      expect(info.width).toBeGreaterThan(100);
      expect(info.height).toBeGreaterThan(100);
      expect(info.datasets).toBe(SEEDED_RETAILERS.length);
    }
  });

  it('shows data as text, never as markup', async () => {
    await expect(page.locator('#panel-alert-events td[data-field="summary"]', { hasText: 'SKU count fell' }).textContent()).resolves.toBe(XSS_SUMMARY);
    expect(await page.locator('#panel-alert-events img, #panel-alert-events script').count()).toBe(0);
    expect(await page.evaluate(() => (window as unknown as { __xss?: number }).__xss)).toBeUndefined();
  });

  it('shows the stale diagnosis stored with an alert event, and a dash where there is none', async () => {
    const stale = page.locator('#panel-alert-events tr', { hasText: 'no successful run for 4.2 h' });
    expect(await stale.locator('td[data-field="diagnosis"]').textContent()).toBe(STALE_DIAGNOSIS);
    const failures = page.locator('#panel-alert-events tr', { hasText: '2 consecutive failed runs' });
    expect(await failures.locator('td[data-field="diagnosis"]').textContent()).toBe('—');
  });

  it('fits a 1366-pixel laptop screen without sideways scrolling', async () => {
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(1366);
    mkdirSync(join(SCREENSHOT, '..'), { recursive: true });
    await page.screenshot({ path: SCREENSHOT, fullPage: true });
  });

  it('refreshes itself and picks up new data', async () => {
    const before = await page.getAttribute('body', 'data-loaded');
    await tdb.db.updateTable('retailer_status').set({ last_sku_count: 12_345 }).where('retailer', '=', 'checkers').execute();
    await page.waitForFunction((prev) => document.body.getAttribute('data-loaded') !== prev, before, { timeout: 10_000 });
    expect(await cell('checkers', 'sku_count').textContent()).toBe('12,345');
  });

  it('filters by retailer from the picker', async () => {
    await page.click('#retailer-picker summary');
    const before = await page.getAttribute('body', 'data-loaded');
    await page.check('#retailer-options input[value="spar"]');
    await page.waitForFunction((prev) => document.body.getAttribute('data-loaded') !== prev, before);
    const rows = await page.locator('#panel-retailer-status tbody tr').evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-retailer')));
    expect(rows).toEqual(['spar']);
    expect(new URL(page.url()).searchParams.getAll('retailer')).toEqual(['spar']);
  });
});

interface AxisInfo {
  min: number;
  max: number;
  ticks: Array<{ value: number; label: string }>;
  colors: Record<string, string>;
}

/** The x axis and the series colours Chart.js drew for one chart panel. */
function axisOf(tab: Page, key: string): Promise<AxisInfo> {
  return tab.locator(`#panel-${key} canvas`).evaluate((canvas: HTMLCanvasElement) => {
    type Chart = {
      scales: { x: { min: number; max: number; ticks: Array<{ value: number; label: string }> } };
      data: { datasets: Array<{ label: string; borderColor: string }> };
    };
    const chart = (window as unknown as { Chart: { getChart(c: HTMLCanvasElement): Chart } }).Chart.getChart(canvas);
    const x = chart.scales.x;
    return {
      min: x.min,
      max: x.max,
      ticks: x.ticks.map((t) => ({ value: t.value, label: String(t.label) })),
      colors: Object.fromEntries(chart.data.datasets.map((d) => [d.label, d.borderColor])),
    };
  });
}

describe('status page URL parameters, time axis and colours (Chromium)', () => {
  const tabs: Page[] = [];
  /** A fresh tab on `query`, once it has loaded data or shown an error. */
  async function open(query: string): Promise<Page> {
    const tab = await browser.newPage({ viewport: { width: 1366, height: 768 } });
    tabs.push(tab);
    await tab.goto(new URL(query, site.url).toString());
    await tab.waitForSelector('body[data-loaded], body[data-error]');
    return tab;
  }
  afterAll(async () => {
    for (const t of tabs) await t.close();
  });

  it('honours ?from=now-30m: the selector says 30 minutes and the axis spans 30 minutes with regular ticks on round minutes', async () => {
    const tab = await open('?from=now-30m&to=now');
    expect(await tab.locator('#range').inputValue()).toBe('now-30m');
    expect(await tab.locator('#error').isHidden()).toBe(true);
    const axis = await axisOf(tab, 'sku-trend');
    expect(axis.max - axis.min).toBe(30 * 60_000);
    const steps = new Set(axis.ticks.slice(1).map((t, i) => t.value - axis.ticks[i].value));
    expect(steps.size).toBe(1);
    const [step] = [...steps];
    expect([60_000, 2 * 60_000, 5 * 60_000, 10 * 60_000]).toContain(step);
    for (const t of axis.ticks) {
      expect(t.label).toMatch(/^\d\d:\d\d$|^[A-Z][a-z]{2} \d{1,2}$/);
      expect(t.value % 60_000).toBe(0); // on whole minutes
    }
    expect(new URL(tab.url()).searchParams.get('from')).toBe('now-30m');
    await tab.screenshot({ path: join(SHOTS, 'status-page-30m.png'), fullPage: true });
  });

  it.each([
    ['now-1h', 'Last 1 hour'],
    ['now-6h', 'Last 6 hours'],
    ['now-24h', 'Last 24 hours'],
    ['now-7d', 'Last 7 days'],
    ['now-30d', 'Last 30 days'],
  ])('offers %s in the selector, with regular round ticks', async (from, text) => {
    const tab = await open(`?from=${from}`);
    expect(await tab.locator('#range option:checked').textContent()).toBe(text);
    const axis = await axisOf(tab, 'duration-trend');
    expect(axis.ticks.length).toBeGreaterThanOrEqual(2);
    const steps = axis.ticks.slice(1).map((t, i) => t.value - axis.ticks[i].value);
    const step = Math.min(...steps);
    // Regular: every gap is the step (a day may be an hour longer or shorter across a DST change).
    for (const gap of steps) expect(Math.abs(gap - step)).toBeLessThanOrEqual(step >= 86_400_000 ? 3_600_000 : 0);
    // Round: hour ticks on the hour of the local clock; day ticks at local midnight, labelled with the date.
    const local = await tab.evaluate((vs) => vs.map((v) => { const d = new Date(v); return [d.getHours(), d.getMinutes()]; }), axis.ticks.map((t) => t.value));
    for (const [h, m] of local) {
      if (step >= 3_600_000) expect(m).toBe(0);
      if (step >= 86_400_000) expect(h).toBe(0);
    }
    if (step >= 86_400_000) for (const t of axis.ticks) expect(t.label).toMatch(/^[A-Z][a-z]{2} \d{1,2}$/);
  });

  it('shows an invalid parameter as an error on the page instead of a default range', async () => {
    const tab = await open('?from=yesterday');
    const error = tab.locator('#error');
    expect(await error.isVisible()).toBe(true);
    expect(await error.textContent()).toContain('Invalid URL parameter: invalid from: "yesterday"');
    expect(await tab.getAttribute('body', 'data-loaded')).toBeNull();
    expect(await tab.locator('#panel-retailer-status').count()).toBe(0);
    expect(new URL(tab.url()).searchParams.get('from')).toBe('yesterday'); // the URL is left as typed
    await tab.screenshot({ path: join(SHOTS, 'status-page-invalid-param.png') });
    // Picking a range from the selector recovers.
    await tab.selectOption('#range', 'now-1h');
    await tab.waitForSelector('body[data-loaded]');
    expect(await error.isHidden()).toBe(true);
    expect(new URL(tab.url()).searchParams.get('from')).toBe('now-1h');
  });

  it('refuses an unknown parameter on the page too', async () => {
    const tab = await open('?form=now-1h');
    expect(await tab.locator('#error').textContent()).toContain('unknown parameter "form"');
  });

  it('keeps a range that is not a preset, and the retailer selection, from the URL', async () => {
    const tab = await open('?from=now-2h&to=now-1h&retailer=checkers');
    expect(await tab.locator('#range option:checked').textContent()).toBe('now-2h to now-1h');
    const axis = await axisOf(tab, 'sku-trend');
    expect(axis.max - axis.min).toBe(3_600_000);
    const rows = await tab.locator('#panel-retailer-status tbody tr').evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-retailer')));
    expect(rows).toEqual(['checkers']);
    expect(await tab.locator('#retailer-summary').textContent()).toBe('checkers');
  });

  it('gives each retailer the same colour on every chart, whichever retailers are shown', async () => {
    const all = await open('?from=now-24h');
    const colors = (await axisOf(all, 'sku-trend')).colors;
    expect(Object.keys(colors).sort()).toEqual([...SEEDED_RETAILERS]);
    expect(new Set(Object.values(colors)).size).toBe(SEEDED_RETAILERS.length);
    expect((await axisOf(all, 'duration-trend')).colors).toEqual(colors);
    // Fewer retailers selected (as before another one was added): the remaining ones keep their colours.
    const two = await open('?from=now-24h&retailer=spar&retailer=woolworths');
    expect((await axisOf(two, 'sku-trend')).colors).toEqual({ spar: colors.spar, woolworths: colors.woolworths });
  });

  it('draws a retailer whose slug is an Object.prototype name (constructor) like any other', async () => {
    const at = new Date(Date.now() - 5 * 60_000).toISOString();
    await tdb.db
      .insertInto('ingestion_runs')
      .values({
        run_id: 'constructor-poison-0', retailer: 'constructor', schedule: null, status: 'success', started_at: at, finished_at: at,
        duration_ms: 1000, sku_count: 4321, promo_count: 12, last_scrape_at: at, error: null, workflow_id: 'scrape-constructor',
        workflow_run_id: 'wf-constructor-poison-0', out_of_order: false, sku_drop: false, received_at: at,
      })
      .execute();
    try {
      const tab = await open('?from=now-1h&retailer=constructor&retailer=spar');
      expect(await tab.getAttribute('body', 'data-error')).toBeNull();
      for (const key of ['sku-trend', 'duration-trend']) expect(Object.keys((await axisOf(tab, key)).colors).sort()).toEqual(['constructor', 'spar']);
    } finally {
      await tdb.db.deleteFrom('ingestion_runs').where('run_id', '=', 'constructor-poison-0').execute();
    }
  });

  it('says "waiting for first run" for a retailer that never ran, and shows why others are red', async () => {
    const tab = await open('?from=now-24h');
    const health = tab.locator(`#panel-retailer-status tr[data-retailer="${WAITING_RETAILER}"] td[data-field="health"]`);
    expect(await health.textContent()).toBe('waiting for first run');
    expect(await health.evaluate((el) => getComputedStyle(el).backgroundColor)).toBe(BLUE);
    const field = (r: string, f: string) => tab.locator(`#panel-retailer-status tr[data-retailer="${r}"] td[data-field="${f}"]`).textContent();
    expect(await field(WAITING_RETAILER, 'hours_since_success')).toBe('never');
    expect(await field(WAITING_RETAILER, 'last_run_at')).toBe('never');
    expect(await field('pick-n-pay', 'last_error')).toBe('HTTP 503 from retailer site');
    expect(await field(NEVER_RAN_STALE_RETAILER, 'diagnosis')).toBe(NEVER_RAN_DIAGNOSIS);
    expect(await field(NEVER_RAN_STALE_RETAILER, 'health')).toBe('unhealthy');
    // The "why" is in the table, above the fold of a 768-pixel screen.
    const box = await tab.locator(`#panel-retailer-status tr[data-retailer="${NEVER_RAN_STALE_RETAILER}"] td[data-field="diagnosis"]`).boundingBox();
    expect(box!.y + box!.height).toBeLessThanOrEqual(768);
    await tab.screenshot({ path: join(SHOTS, 'status-page-why.png') });

    // A fresh install: only retailers that never ran.
    const fresh = await open(`?from=now-30m&retailer=${WAITING_RETAILER}`);
    expect(await fresh.locator('#panel-oldest-success-age .panel-body').textContent()).toBe('waiting for first run');
    expect(await fresh.locator('#panel-retailers-healthy .panel-body').textContent()).toBe('0');
    expect(await fresh.locator('#panel-retailers-unhealthy .panel-body').textContent()).toBe('0');
    await fresh.screenshot({ path: join(SHOTS, 'status-page-fresh-install.png') });
  });
});

/** GET with a chosen Host header (fetch would set its own). */
function rawGet(port: number, host: string, path = '/'): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, headers: { Host: host } }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('status page HTTP API', () => {
  const get = (path: string, init?: RequestInit) => fetch(new URL(path, site.url), init);

  it('serves panel definitions with rows from the panel SQL', async () => {
    const res = await get('api/panels?retailer=checkers&from=now-6h&to=now');
    expect(res.status).toBe(200);
    const body = (await res.json()) as { panels: Array<{ key: string; sql: string; rows: Array<Record<string, unknown>> }>; retailer: unknown; intervalMs: number };
    expect(body.retailer).toEqual({ options: ALL_RETAILERS, selected: ['checkers'] });
    expect(body.intervalMs).toBe(60_000);
    const table = body.panels.find((p) => p.key === 'retailer-status')!;
    expect(table.sql).toContain('retailer IN ($retailer)');
    expect(table.rows.map((r) => r.retailer)).toEqual(['checkers']);
    const runs = body.panels.find((p) => p.key === 'runs-in-range')!;
    expect(runs.rows).toEqual([{ runs: 3 }]); // every two hours over six hours
    const sku = body.panels.find((p) => p.key === 'sku-trend')!;
    expect(sku.rows.every((r) => typeof r.time === 'number' && r.metric === 'checkers')).toBe(true);
  });

  it('refuses malformed input instead of building SQL from it, saying why', async () => {
    const refused = async (query: string) => {
      const res = await get(`api/panels?${query}`);
      expect(res.status).toBe(400);
      return ((await res.json()) as { error: string }).error;
    };
    expect(await refused("retailer=o'brien")).toBe('invalid retailer: "o\'brien" (a lower-case slug: a-z, 0-9, - and _)');
    expect(await refused('from=yesterday')).toBe(
      'invalid from: "yesterday" (use now, now-<number><s|m|h|d|w> (e.g. now-30m), epoch milliseconds or an ISO 8601 timestamp)',
    );
    expect(await refused('from=now-30x')).toContain('invalid from: "now-30x"');
    expect(await refused('from=')).toContain('invalid from: ""');
    expect(await refused('to=March%207')).toContain('invalid to: "March 7"');
    expect(await refused('from=now-1h&from=now-2h')).toBe('from given more than once');
    expect(await refused('range=now-1h')).toBe('unknown parameter "range" (allowed: from, to, retailer)');
    expect(await refused('from=now&to=now-1h')).toBe('from must be before to');
    expect(await refused('from=now-401d')).toBe('time range is limited to 400 days');
    for (const ok of ['from=now-30m', 'from=now-1h&to=now', `from=${Date.now() - 3_600_000}`, 'from=2026-01-01T00:00:00Z&to=2026-01-02']) {
      expect({ ok, status: (await get(`api/panels?${ok}`)).status }).toEqual({ ok, status: 200 });
    }
    expect((await get('api/panels', { method: 'POST' })).status).toBe(405);
    expect((await get('nope')).status).toBe(404);
  });

  it('serves a badge per retailer: up, late, down or waiting, as SVG and as a shields.io endpoint', async () => {
    const expected: Array<[string, string, string]> = [
      ['checkers', 'up', 'brightgreen'],
      ['woolworths', 'late', 'orange'], // past its stale deadline by the clock
      [NEVER_RAN_STALE_RETAILER, 'late', 'orange'], // stale rule open
      ['pick-n-pay', 'down', 'red'], // failure streak open
      ['spar', 'down', 'red'], // SKU drop open (silenced: still down)
      [WAITING_RETAILER, 'waiting', 'lightgrey'],
    ];
    for (const [retailer, message, color] of expected) {
      const json = await get(`badge/${retailer}.json`);
      expect(json.status).toBe(200);
      expect(json.headers.get('cache-control')).toBe('max-age=30');
      expect(await json.json()).toEqual({ schemaVersion: 1, label: retailer, message, color });
      const svg = await get(`badge/${retailer}.svg`);
      expect(svg.status).toBe(200);
      expect(svg.headers.get('content-type')).toBe('image/svg+xml; charset=utf-8');
      expect(svg.headers.get('cache-control')).toBe('max-age=30');
      const text = await svg.text();
      expect(text).toMatch(/^<svg xmlns="http:\/\/www.w3.org\/2000\/svg" width="\d+" height="20"/);
      expect(text).toContain(`<title>${retailer}: ${message}</title>`);
      expect(text).toContain(`>${retailer}</text>`);
      expect(text).toContain(`>${message}</text>`);
    }
  });

  it('draws a badge Chromium can display', async () => {
    const tab = await browser.newPage();
    try {
      await tab.goto(new URL('badge/pick-n-pay.svg', site.url).toString());
      const box = await tab.locator('svg').boundingBox();
      expect(box!.height).toBe(20);
      expect(box!.width).toBeGreaterThan(80);
      await tab.locator('svg').screenshot({ path: join(SHOTS, 'status-page-badge-down.png') });
    } finally {
      await tab.close();
    }
  });

  it('answers an unknown or malformed badge retailer clearly', async () => {
    const unknown = await get('badge/nosuch.svg');
    expect(unknown.status).toBe(404);
    expect(await unknown.text()).toBe('unknown retailer: nosuch (no monitor has reported it; the retailer list is at /api/panels)\n');
    const bad = await get('badge/Not%20A%20Slug.json');
    expect(bad.status).toBe(400);
    expect(await bad.text()).toContain('invalid retailer');
    expect((await get('badge/checkers.png')).status).toBe(404);
  });

  it('refuses requests for another Host name (DNS rebinding) with 421', async () => {
    const port = Number(new URL(site.url).port);
    expect(await rawGet(port, 'evil.example')).toEqual({
      status: 421,
      body: 'this status page does not answer to host "evil.example"; if that is its name, add it to allowedHosts\n',
    });
    expect((await rawGet(port, `evil.example:${port}`)).status).toBe(421);
    expect((await rawGet(port, `127.0.0.1:${port + 1}`)).status).toBe(421);
    for (const host of [`127.0.0.1:${port}`, `localhost:${port}`, 'localhost', `LOCALHOST:${port}`]) {
      expect({ host, status: (await rawGet(port, host, '/api/panels')).status }).toEqual({ host, status: 200 });
    }
  });

  it('answers to the names in allowedHosts, and refuses a malformed entry at start', async () => {
    const proxied = await startStatusPage({ db: tdb.db, port: 0, allowedHosts: ['status.example.com', 'other.example:8443'] });
    try {
      const port = Number(new URL(proxied.url).port);
      expect((await rawGet(port, 'status.example.com')).status).toBe(200);
      expect((await rawGet(port, 'status.example.com:443')).status).toBe(200);
      expect((await rawGet(port, 'other.example:8443')).status).toBe(200);
      expect((await rawGet(port, 'other.example')).status).toBe(421);
      expect((await rawGet(port, 'evil.example')).status).toBe(421);
    } finally {
      await proxied.close();
    }
    await expect(startStatusPage({ db: tdb.db, port: 0, allowedHosts: ['http://status.example.com/'] })).rejects.toThrow(StatusPageConfigError);
  });

  it('reports health and sends a strict content security policy', async () => {
    const health = await get('healthz');
    expect(health.status).toBe(200);
    expect(await health.json()).toEqual({ status: 'ok' });
    const html = await get('');
    expect(html.headers.get('content-security-policy')).toContain("script-src 'self'");
    expect(await html.text()).toContain('data-refresh-seconds="2"');
    const chart = await get('assets/chart.umd.js');
    expect(chart.status).toBe(200);
    expect(await chart.text()).toContain('Chart');
  });
});
