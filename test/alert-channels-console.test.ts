/**
 * The console alert channel and the delivery column, end to end: a real dev server, real Postgres, the real
 * monitor worker (its console output captured through the activity's sink, not by patching process.stdout),
 * and the alert-events panel SQL the status page and Grafana run.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { MockActivityEnvironment, type TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { createActivities } from '../src/activities';
import { createConsoleActivities } from '../src/activities/console';
import { createGroupedAlertActivities } from '../src/activities/grouped';
import { reportIngestionRun } from '../src/client';
import { configuredChannels, loadConfig, type MonitorConfig } from '../src/config';
import type { AlertEvent } from '../src/rules/types';
import type { DeliveryOutcome } from '../src/shared/messages';
import { loadPanelData } from '../src/status-page/panel-data';
import { ensureFleet } from '../src/worker';
import { workflowBundle } from './helpers/monitor';
import { createTestDatabase, deliveryRecorded, type TestDatabase } from './helpers/postgres';
import { createDevServerEnv } from './helpers/temporal';
import { until } from './helpers/wait';

const LINE = /^\d\d:\d\d:\d\d (🔴 FIRING|🔁 STILL FIRING|✅ RESOLVED) +(consecutive_failures|stale|sku_drop) +\S+: .+ — .+$/u;

function config(alerts: Partial<MonitorConfig['alerts']> = {}, over: Partial<MonitorConfig> = {}): MonitorConfig {
  const base = loadConfig({});
  return { ...base, ...over, alerts: { ...base.alerts, ...alerts } };
}

const event = (over: Partial<AlertEvent> = {}): AlertEvent => ({
  eventId: 'spar/stale/1/fire/1',
  incidentId: 'spar/stale/1',
  kind: 'fire',
  retailer: 'spar',
  rule: 'stale',
  at: Date.now(),
  openedAt: Date.now(),
  summary: 'spar: no successful run for 5 h (threshold 4 h)',
  figures: { hoursSinceSuccess: 5, staleAfterHours: 4 },
  ...over,
});

/** A sink that keeps what the console channel writes. */
function capture() {
  let text = '';
  return {
    write: (chunk: string) => void (text += chunk),
    lines: () => text.split('\n').filter((l) => l !== ''),
    get text() {
      return text;
    },
  };
}

describe('configuration', () => {
  it('ALERT_CONSOLE and LOG_FORMAT: off and text by default, a clear error for anything unknown', () => {
    expect(loadConfig({}).alerts).toMatchObject({ console: false, consoleFormat: 'text' });
    expect(loadConfig({ ALERT_CONSOLE: 'true', LOG_FORMAT: 'json' }).alerts).toMatchObject({ console: true, consoleFormat: 'json' });
    expect(loadConfig({ ALERT_CONSOLE: '0' }).alerts.console).toBe(false);
    expect(configuredChannels(loadConfig({ ALERT_CONSOLE: '1' }))).toEqual(['console']);
    expect(() => loadConfig({ ALERT_CONSOLE: 'yes please' })).toThrow('ALERT_CONSOLE: expected true or false (also 1/0, yes/no, on/off), got "yes please"');
    expect(() => loadConfig({ LOG_FORMAT: 'xml' })).toThrow('LOG_FORMAT: expected text or json, got "xml"');
  });
});

describe('console activities', () => {
  const env = new MockActivityEnvironment();

  it('prints one line per alert and reports it delivered', async () => {
    const out = capture();
    const res: DeliveryOutcome = await env.run(createConsoleActivities(config({ console: true }), out).sendConsoleAlert, event());
    expect(res).toEqual({ channel: 'console', status: 'delivered', attempts: 1 });
    expect(out.lines()).toHaveLength(1);
    expect(out.lines()[0]).toMatch(LINE);
  });

  it('prints nothing when off or silenced', async () => {
    const out = capture();
    expect(await createConsoleActivities(config(), out).sendConsoleAlert(event())).toEqual({ channel: 'console', status: 'not_configured' });
    expect(await createConsoleActivities(config({ console: true }), out).sendConsoleAlert(event({ silenced: true }))).toEqual({ channel: 'console', status: 'silenced' });
    expect(out.text).toBe('');
  });

  it('prints a group as one line per retailer, in JSON too', async () => {
    const out = capture();
    const events = ['a', 'b', 'c'].map((r) => event({ retailer: r, eventId: `${r}/stale/1/fire/1`, incidentId: `${r}/stale/1`, summary: `${r}: no successful run for 5 h` }));
    const grouped = createGroupedAlertActivities(config({ console: true, consoleFormat: 'json' }), out);
    expect(await env.run(grouped.sendGroupedAlert, { channel: 'console' as const, events })).toMatchObject({ channel: 'console', status: 'delivered' });
    expect(out.lines().map((l) => JSON.parse(l).retailer)).toEqual(['a', 'b', 'c']);
    expect(await createGroupedAlertActivities(config(), out).sendGroupedAlert({ channel: 'console', events })).toEqual({ channel: 'console', status: 'not_configured' });
    expect(out.lines()).toHaveLength(3);
  });
});

describe('on a dev server with Postgres', () => {
  let env: TestWorkflowEnvironment;
  let tdb: TestDatabase;
  /** Stands in for a webhook that refuses our payload: a permanent failure with a reason. */
  let refusing: http.Server;
  let refusingUrl = '';

  beforeAll(async () => {
    refusing = http.createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        res.writeHead(400, { 'content-type': 'text/plain' });
        res.end('invalid_payload');
      });
    });
    await new Promise<void>((resolve) => refusing.listen(0, '127.0.0.1', resolve));
    refusingUrl = `http://127.0.0.1:${(refusing.address() as AddressInfo).port}/hook`;
    [env, tdb] = await Promise.all([createDevServerEnv(), createTestDatabase('im_console')]);
  });
  afterAll(async () => {
    refusing?.closeAllConnections();
    await new Promise<void>((resolve) => (refusing ? refusing.close(() => resolve()) : resolve()));
    await Promise.all([env?.teardown(), tdb?.drop()]);
  });

  /**
   * Runs a monitor worker (its own task queue, fleet and retailer ids) while a retailer fails twice and then
   * succeeds: fire, then resolve. Returns the console output and the retailer's alert rows.
   */
  async function failAndRecover(name: string, alerts: Partial<MonitorConfig['alerts']>) {
    const out = capture();
    const retailer = `${name}-mart`;
    const cfg = config(
      { ...alerts, httpTimeoutMs: 5_000 },
      { taskQueue: `console-${name}`, workflowId: `fleet-${name}`, retailerWorkflowIdPrefix: `${name}/`, databaseUrl: tdb.url },
    );
    const worker = await Worker.create({
      connection: env.nativeConnection,
      namespace: env.namespace ?? 'default',
      taskQueue: cfg.taskQueue,
      workflowBundle: await workflowBundle(),
      activities: createActivities(cfg, tdb.db, env.client, { consoleOut: out }),
    });
    const target = { workflowId: cfg.workflowId, taskQueue: cfg.taskQueue, retailerWorkflowIdPrefix: cfg.retailerWorkflowIdPrefix };
    const rows = await worker.runUntil(async () => {
      await ensureFleet(env.client, cfg, { retailerWorkflowIdPrefix: cfg.retailerWorkflowIdPrefix });
      const now = Date.now();
      let i = 0;
      const send = (status: 'success' | 'failure') =>
        reportIngestionRun(
          env.client,
          {
            runId: `${name}-${++i}`,
            retailer,
            status,
            startedAt: new Date(now - (10 - i) * 60_000).toISOString(),
            finishedAt: new Date(now - (9 - i) * 60_000).toISOString(),
            ...(status === 'success' ? { skuCount: 100 } : { error: 'HTTP 503\n12:00:00 ✅ RESOLVED forged line\u2028' }),
          },
          target,
        );
      await send('failure');
      await send('failure'); // consecutive failures fire
      await send('success'); // and resolve
      return until(
        'the fire and the resolve recorded with their delivery',
        async () => {
          const r = await tdb.db.selectFrom('alert_events').selectAll().where('retailer', '=', retailer).orderBy('occurred_at').execute();
          // Each row is written twice: by the monitor as it fires (delivery pending), then by the fleet.
          return r.length === 2 && r.every(deliveryRecorded) && r;
        },
        60_000,
      );
    });
    const panel = await alertPanelRows([retailer]);
    return { out, retailer, rows, panel };
  }

  async function alertPanelRows(retailers: string[]) {
    const data = await loadPanelData(tdb.db, { range: { from: new Date(Date.now() - 24 * 3_600_000), to: new Date(Date.now() + 60_000) }, retailers });
    const panel = data.panels.find((p) => p.key === 'alert-events')!;
    expect(panel.error).toBeUndefined();
    return panel.rows;
  }

  it('ALERT_CONSOLE: exactly one fire line and one resolve line, each one line however the error reads', async () => {
    const { out, retailer, rows, panel } = await failAndRecover('text', { console: true, webhookUrl: refusingUrl });
    expect(rows.map((r) => r.kind)).toEqual(['fire', 'resolve']);
    const lines = out.lines();
    expect(lines).toHaveLength(2);
    for (const l of lines) expect(l).toMatch(LINE);
    expect(lines[0]).toContain(`🔴 FIRING`);
    expect(lines[0]).toContain(`${retailer}: 2 consecutive failed runs (last error: HTTP 503 12:00:00 ✅ RESOLVED forged line )`);
    expect(lines[0]).toContain(`replay: npx ingestion-monitor replay ${retailer}`);
    expect(lines[1]).toMatch(new RegExp(`✅ RESOLVED +consecutive_failures +${retailer}: `));

    // Each row records every channel's outcome with its reason; the panel reads it as one cell.
    expect(rows[0]!.delivery).toEqual(
      expect.arrayContaining([
        { channel: 'console', status: 'delivered', attempts: 1 },
        { channel: 'webhook', status: 'failed', attempts: 1, detail: 'HTTP 400 invalid_payload' },
        { channel: 'slack', status: 'not_configured' },
      ]),
    );
    expect(panel.map((r) => [r.kind, r.delivery])).toEqual([
      ['resolve', 'webhook: failed (HTTP 400 invalid_payload); console: delivered'],
      ['fire', 'webhook: failed (HTTP 400 invalid_payload); console: delivered'],
    ]);
  });

  it('LOG_FORMAT=json: one JSON object per alert', async () => {
    const { out, retailer } = await failAndRecover('json', { console: true, consoleFormat: 'json' });
    const lines = out.lines().map((l) => JSON.parse(l));
    expect(lines).toHaveLength(2);
    expect(lines.map((l) => [l.type, l.kind, l.rule, l.retailer])).toEqual([
      ['alert', 'fire', 'consecutive_failures', retailer],
      ['alert', 'resolve', 'consecutive_failures', retailer],
    ]);
    expect(lines[0].summary).toContain('HTTP 503 12:00:00');
  });

  it('no channel configured: every row says not_configured and the panel says "not configured"', async () => {
    const { out, rows, panel } = await failAndRecover('none', {});
    expect(out.text).toBe('');
    for (const r of rows) {
      expect(r.delivered).toBe(false);
      const delivery = r.delivery as DeliveryOutcome[];
      expect(delivery.map((d) => d.channel).sort()).toEqual(['console', 'email', 'pagerduty', 'slack', 'webhook']);
      expect(delivery.every((d) => d.status === 'not_configured')).toBe(true);
    }
    expect(panel.map((r) => r.delivery)).toEqual(['not configured', 'not configured']);
  });

  it('the panel reads older and unusual delivery records too', async () => {
    const row = (id: string, delivery: unknown, silenced = false) => ({
      event_id: id,
      incident_id: `odd/stale/${id}`,
      retailer: 'odd',
      rule: 'stale',
      kind: 'fire' as const,
      occurred_at: new Date(Date.now() - Number(id) * 60_000).toISOString(),
      opened_at: new Date().toISOString(),
      summary: 'odd: stale',
      figures: '{}',
      silenced,
      delivered: false,
      delivery: JSON.stringify(delivery),
    });
    await tdb.db
      .insertInto('alert_events')
      .values([
        row('1', []),
        row('2', [{ channel: 'slack', status: 'silenced' }], true),
        row('3', [
          { channel: 'slack', status: 'delivered', attempts: 3 },
          { channel: 'email', status: 'failed', attempts: 1, detail: `SMTP 550 5.1.1 mailbox unavailable ${'x'.repeat(300)}` },
        ]),
        row('4', [{ channel: 'webhook', status: 'failed', detail: 'gave up retrying: Webhook unavailable (HTTP 503 maintenance)' }]),
        row('5', [{ channel: 'slack', status: 'delivered', attempts: 1, detail: 'in one message naming 3 retailers' }]),
      ])
      .execute();
    // Newest first: rows 1 … 5.
    const cells = (await alertPanelRows(['odd'])).map((r) => r.delivery as string);
    // An empty list is an alert its monitor recorded as it fired, not yet delivered by the fleet.
    expect(cells.slice(0, 2)).toEqual(['pending', 'silenced']);
    expect(cells[2]).toMatch(/^slack: delivered after 3 attempts; email: failed \(SMTP 550 5\.1\.1 mailbox unavailable x+\)$/);
    expect(cells[2]!.length).toBeLessThan(200);
    expect(cells[3]).toBe('webhook: failed (gave up retrying: Webhook unavailable (HTTP 503 maintenance))');
    expect(cells[4]).toBe('slack: delivered (in one message naming 3 retailers)');
  });
});
