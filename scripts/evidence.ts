/**
 * `npm run evidence` — reproducible QA evidence for the story (docs/qa/):
 * a dev server with its Web UI, real Postgres, the real monitor worker, the demo ingestion stack, and a
 * loopback HTTP server standing in for Slack. Scenario: a day of healthy history (which each retailer's
 * monitor rebuilds from Postgres when it starts), then live scheduled
 * runs; one retailer's worker is stopped (stale alert), one fails twice (consecutive-failures alert), one
 * drops SKUs (SKU-drop alert); then everything recovers (three resolves). Every notification received is
 * logged, and headless Chromium screenshots the status page and the Temporal Web UI (a retailer monitor's
 * details, the fleet's `incidents` query, and the list of unhealthy retailers by search attribute).
 *
 * Postgres: EVIDENCE_DATABASE_URL (an admin URL; a fresh `im_evidence` database is created) or the local
 * default. Takes about three minutes.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client as PgClient } from 'pg';
import { chromium } from 'playwright-core';
import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime } from '@temporalio/worker';
import { loadConfig } from '../src/config';
import { createDb, migrateToLatest } from '../src/db/database';
import { setKnob } from '../src/demo/knobs';
import { DEMO_RETAILERS } from '../src/demo/retailers';
import { startDemo } from '../src/demo/stack';
import { commandRetailer, fleetHandle, retailerHandle } from '../src/client';
import { DEFAULTS, fleetIncidentsQuery, retailerQuery, retailerWorkflowId, SEARCH_ATTRIBUTES, setExpectedRetailersUpdate, setThresholdsUpdate } from '../src/shared/messages';
import { runRow } from '../src/activities/postgres';
import { startLocalTemporal } from '../src/stack/temporal-server';
import { startStatusPage } from '../src/status-page/server';
import { createMonitorWorker, ensureFleet } from '../src/worker';
import { type Captured, startCaptureServer } from '../test/helpers/capture-server';
import { until } from '../test/helpers/wait';

const QA = join(__dirname, '..', 'docs', 'qa');
const HOUR = 3_600_000;
const log = (line: string) => console.log(`[${new Date().toISOString().slice(11, 19)}] ${line}`);

async function freshDatabase(adminUrl: string): Promise<string> {
  const c = new PgClient({ connectionString: adminUrl });
  await c.connect();
  await c.query('DROP DATABASE IF EXISTS im_evidence WITH (FORCE)');
  await c.query('CREATE DATABASE im_evidence');
  await c.end();
  const u = new URL(adminUrl);
  u.pathname = '/im_evidence';
  return u.toString();
}

/**
 * A day of history so the trends have something to show: rows written straight into `ingestion_runs`
 * (as if recorded before); each retailer's monitor, started fresh, rebuilds from them — the same path as
 * the first deploy of the per-retailer version. (Sending a day of old reports live would, correctly, raise
 * and clear a stale alert per hour-long gap.)
 */
async function seedHistory(db: ReturnType<typeof createDb>): Promise<void> {
  const now = Date.now();
  const rows = [];
  for (let h = 24; h >= 1; h--) {
    for (const [retailer, base] of DEMO_RETAILERS) {
      const finished = now - h * HOUR + 50 * 60_000; // the newest ends ten minutes ago
      const failed = retailer === 'pick-n-pay' && (h === 17 || h === 9);
      const wobble = 1 + Math.sin(h / 3 + retailer.length) * 0.02;
      rows.push(
        runRow({
          runId: `history-${retailer}-${h}`,
          retailer,
          schedule: `ingest-${retailer}`,
          status: failed ? 'failure' : 'success',
          startedAt: finished - (180 + retailer.length * 10) * 1000,
          finishedAt: finished,
          receivedAt: finished,
          ...(failed ? { error: 'HTTP 429 Too Many Requests' } : { skuCount: Math.round(base.skus * wobble), promoCount: Math.round(base.promos * wobble) }),
        }),
      );
    }
  }
  await db.insertInto('ingestion_runs').values(rows).execute();
}

function alertLogMarkdown(received: Captured[]): string {
  const rows = received.map((r) => {
    const text: string = r.body?.text ?? '';
    return `| ${new Date(r.at).toISOString().slice(11, 19)} | ${text.replace(/\|/g, '\\|').replace(/\n/g, ' ')} |`;
  });
  return [
    '# Alert log of one `npm run evidence` run',
    '',
    `Generated ${new Date().toISOString()}. Every Slack message the loopback Slack stand-in received, in order`,
    '(the Block Kit bodies are in `alert-log.jsonl`).',
    '',
    '| received (UTC) | message (Slack `text` fallback) |',
    '|---|---|',
    ...rows,
    '',
  ].join('\n');
}

async function run(): Promise<void> {
  Runtime.install({ logger: new DefaultLogger('ERROR'), shutdownSignals: [] });
  mkdirSync(QA, { recursive: true });
  const dataDir = mkdtempSync(join(tmpdir(), 'im-evidence-'));
  const cleanup: Array<() => Promise<unknown>> = [];
  try {
    const temporal = await startLocalTemporal({ dataDir, port: 17233, uiPort: 18233 });
    cleanup.push(temporal.stop);
    log(`dev server ${temporal.address}, Web UI ${temporal.uiUrl}`);
    const slack = await startCaptureServer();
    cleanup.push(slack.close);

    const databaseUrl = await freshDatabase(process.env.EVIDENCE_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test');
    const config = loadConfig({
      TEMPORAL_UI_URL: temporal.uiUrl,
      DATABASE_URL: databaseUrl,
      SLACK_WEBHOOK_URL: `${slack.url}/services/T0EVIDENCE/B0EVIDENCE/not-a-real-secret`,
      INGESTION_WORKFLOW_TYPE: 'ingestRetailer',
    });
    const db = createDb(databaseUrl);
    cleanup.push(() => db.destroy());
    await migrateToLatest(db);
    const page = await startStatusPage({ db, port: 18080, refreshSeconds: 5 });
    cleanup.push(page.close);
    config.dashboardUrl = page.url;

    const nativeConnection = await NativeConnection.connect({ address: temporal.address });
    cleanup.push(() => nativeConnection.close());
    const clientConnection = await Connection.connect({ address: temporal.address });
    cleanup.push(() => clientConnection.close());
    const client = new Client({ connection: clientConnection });
    const worker = await createMonitorWorker({ connection: nativeConnection, namespace: 'default', config, db, client });
    const workerDone = worker.run();
    cleanup.push(async () => {
      worker.shutdown();
      await workerDone;
    });
    const monitor = { workflowId: config.workflowId, taskQueue: config.taskQueue };

    log('seeding a day of history (4 retailers × 24 runs); the retailer monitors rebuild from it when they start');
    await seedHistory(db);
    const retailers = [...DEMO_RETAILERS.keys()];
    await ensureFleet(client, config);
    const fleet = fleetHandle(client, config);
    await fleet.executeUpdate(setExpectedRetailersUpdate, { args: [{ add: retailers, by: 'evidence' }] });
    const views = () => Promise.all(retailers.map((r) => retailerHandle(client, r).query(retailerQuery)));
    const openIncidents = () => fleet.query(fleetIncidentsQuery);
    // Live demo: scheduled runs every 5 s.
    const knobs = join(dataDir, 'demo-knobs.json');
    const demo = await startDemo({ client, connection: nativeConnection, namespace: 'default', knobsFile: knobs, monitor, everySeconds: 5, log });
    cleanup.push(demo.stop);
    await until('live runs from every retailer', async () => {
      const all = await views().catch(() => []);
      return all.length === 4 && all.every((r) => r.lastRun && !r.lastRun.runId.startsWith('history-'));
    }, 60_000, 500);
    log('healthy: every retailer reported a live scheduled run');

    log('breaking: woolworths worker stopped (stale after 1 minute), pick-n-pay failing, spar dropping SKUs');
    await commandRetailer(client, 'woolworths', setThresholdsUpdate, [{ retailer: 'woolworths', thresholds: { staleAfterMs: 60_000 } }], monitor);
    setKnob(knobs, 'woolworths', 'stop');
    setKnob(knobs, 'pick-n-pay', 'fail');
    setKnob(knobs, 'spar', 'drop');
    const incidents = await until('three incidents', async () => {
      const open = await openIncidents();
      return open.length >= 3 && open;
    }, 180_000, 500);
    for (const i of incidents) log(`incident ${i.incidentId}: ${i.summary}`);
    await slack.waitFor((r) => r.filter((m) => m.body?.text?.includes('FIRING')).length >= 3, 60_000);

    const browser = await chromium.launch({
      executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
    });
    cleanup.push(() => browser.close());
    const tab = await browser.newPage({ viewport: { width: 1366, height: 900 } });
    await tab.goto(`${page.url}?from=now-30m`); // the scenario lasts minutes: the 30-minute range shows it
    await tab.waitForSelector('body[data-loaded]', { timeout: 30_000 });
    await new Promise((r) => setTimeout(r, 6_000)); // one auto-refresh, so the table shows the latest rows
    await tab.screenshot({ path: join(QA, 'status-page-incidents.png'), fullPage: true });
    log('screenshot: status-page-incidents.png');

    const ui = `${temporal.uiUrl}/namespaces/default/workflows`;
    // A retailer monitor's current details (setCurrentDetails) are on its workflow page's User Metadata tab.
    await tab.goto(`${ui}/${encodeURIComponent(retailerWorkflowId('pick-n-pay'))}`);
    await tab.getByText('User Metadata').first().click({ timeout: 20_000 }).catch(() => log('no User Metadata tab found'));
    await new Promise((r) => setTimeout(r, 3_000));
    await tab.screenshot({ path: join(QA, 'temporal-ui-monitor.png'), fullPage: true });
    log('screenshot: temporal-ui-monitor.png');
    // The fleet's Queries tab: pick the `incidents` query (open incidents across retailers) and run it.
    await tab.goto(`${ui}/${encodeURIComponent(config.workflowId)}`);
    await tab.getByText('Queries').first().click({ timeout: 20_000 });
    await new Promise((r) => setTimeout(r, 2_000));
    try {
      await tab.getByTestId('query-select-button').click({ timeout: 5_000 });
      await tab.locator('#query-select-select li[role="option"]', { hasText: 'incidents' }).first().click({ timeout: 5_000 });
      await tab.getByRole('button', { name: 'Run Query' }).click({ timeout: 5_000 });
    } catch (err) {
      log(`could not drive the Queries tab: ${(err as Error).message.split('\n')[0]}`);
      if (process.env.EVIDENCE_DEBUG) writeFileSync('/tmp/query-tab.html', await tab.content());
    }
    await new Promise((r) => setTimeout(r, 3_000));
    await tab.screenshot({ path: join(QA, 'temporal-ui-query.png'), fullPage: true });
    log('screenshot: temporal-ui-query.png');
    // The fleet by health: the list filter the runbook gives for "unhealthy retailers".
    const unhealthy = `WorkflowType = '${DEFAULTS.retailerWorkflowType}' AND ExecutionStatus = 'Running' AND ${SEARCH_ATTRIBUTES.health} = 'unhealthy'`;
    await tab.goto(`${ui}?query=${encodeURIComponent(unhealthy)}`);
    await new Promise((r) => setTimeout(r, 3_000));
    await tab.screenshot({ path: join(QA, 'temporal-ui-unhealthy.png'), fullPage: true });
    log('screenshot: temporal-ui-unhealthy.png');

    log('recovering: all knobs back to normal');
    for (const r of ['woolworths', 'pick-n-pay', 'spar']) setKnob(knobs, r, 'ok');
    await until('every incident resolved', async () => (await openIncidents()).length === 0, 180_000, 500);
    await slack.waitFor((r) => r.filter((m) => m.body?.text?.includes('RESOLVED')).length >= 3, 60_000);
    await tab.goto(`${page.url}?from=now-30m`); // the scenario lasts minutes: the 30-minute range shows it
    await tab.waitForSelector('body[data-loaded]', { timeout: 30_000 });
    await new Promise((r) => setTimeout(r, 6_000));
    await tab.screenshot({ path: join(QA, 'status-page.png'), fullPage: true });
    log('screenshot: status-page.png (recovered)');

    writeFileSync(join(QA, 'alert-log.jsonl'), slack.received.map((r) => JSON.stringify({ at: new Date(r.at).toISOString(), body: r.body })).join('\n') + '\n');
    writeFileSync(join(QA, 'alert-log.md'), alertLogMarkdown(slack.received));
    log(`alert log: ${slack.received.length} notifications → docs/qa/alert-log.md`);
    for (const r of slack.received) console.log(`  ${r.body?.text}`);
  } finally {
    for (const fn of cleanup.reverse()) await fn().catch((err) => console.error('cleanup:', err));
    rmSync(dataDir, { recursive: true, force: true });
  }
}

run().catch((err) => {
  console.error(err);
  process.exit(1);
});
