/**
 * The built-in status page in a real browser (Debian's chromium via playwright-core) against real
 * Postgres with seeded data: the status table shows the seeded figures, the charts render, unhealthy and
 * stale retailers are visibly red, data is escaped, the page refreshes itself. Leaves a screenshot in
 * test/.tmp/status-page.png to look at (the committed QA evidence comes from `npm run evidence`).
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { startStatusPage, type StatusPage } from '../src/status-page/server';
import { ALL_RETAILERS, SEEDED_RETAILERS, STALE_DIAGNOSIS, XSS_SUMMARY, seedDashboardData, type SeededData } from './helpers/dashboard-seed';
import { createTestDatabase, type TestDatabase } from './helpers/postgres';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'];
const SCREENSHOT = join(__dirname, '.tmp', 'status-page.png');
const RED = 'rgb(224, 47, 68)';
const GREEN = 'rgb(86, 166, 75)';

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

  it('refuses malformed input instead of building SQL from it', async () => {
    expect((await get("api/panels?retailer=o'brien")).status).toBe(400);
    expect((await get('api/panels?from=yesterday')).status).toBe(400);
    expect((await get('api/panels?from=now&to=now-1h')).status).toBe(400);
    expect((await get('api/panels', { method: 'POST' })).status).toBe(405);
    expect((await get('nope')).status).toBe(404);
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
