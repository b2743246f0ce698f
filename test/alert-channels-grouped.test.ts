/**
 * Grouped alerts and crash-safe delivery against real loopback servers: 30 retailers going stale at once are
 * one POST per channel naming all 30; the webhook's group carries an Idempotency-Key from its event ids; the
 * alert activities heartbeat while their request is in flight; the per-attempt timeout is parsed strictly.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { MockActivityEnvironment } from '@temporalio/testing';
import { createGroupedAlertActivities } from '../src/activities/grouped';
import { HEARTBEAT_EVERY_MS } from '../src/activities/http';
import { createSlackActivities } from '../src/activities/slack';
import { groupIdempotencyKey } from '../src/activities/webhook';
import { ALERT_HTTP_TIMEOUT_MAX_MS, loadConfig, type MonitorConfig } from '../src/config';
import type { AlertEvent } from '../src/rules/types';
import { startCaptureServer, type CaptureServer } from './helpers/capture-server';
import { until } from './helpers/wait';

const T0 = Date.UTC(2026, 10, 27, 8, 0, 0);
const stale = (i: number, over: Partial<AlertEvent> = {}): AlertEvent => {
  const retailer = `retailer-${String(i).padStart(2, '0')}`;
  return {
    eventId: `${retailer}/stale/1/fire/1`,
    incidentId: `${retailer}/stale/1`,
    kind: 'fire',
    retailer,
    rule: 'stale',
    at: T0,
    openedAt: T0,
    summary: `${retailer}: no successful run for 5 h (threshold 4 h)`,
    figures: { hoursSinceSuccess: 5, staleAfterHours: 4 },
    ...over,
  };
};
const thirty = () => Array.from({ length: 30 }, (_, i) => stale(i + 1));

function config(alerts: Partial<MonitorConfig['alerts']>): MonitorConfig {
  const base = loadConfig({});
  return { ...base, alerts: { ...base.alerts, httpTimeoutMs: 2_000, ...alerts } };
}

describe('sendGroupedAlert against a loopback capture server', () => {
  let cap: CaptureServer;
  beforeAll(async () => {
    cap = await startCaptureServer();
  });
  afterAll(() => cap.close());
  beforeEach(() => {
    cap.received.length = 0;
  });

  it('30 stale retailers are one Slack POST naming all 30', async () => {
    const { sendGroupedAlert } = createGroupedAlertActivities(config({ slackWebhookUrl: `${cap.url}/slack` }));
    const out = await sendGroupedAlert({ channel: 'slack', events: thirty() });
    expect(out).toMatchObject({ channel: 'slack', status: 'delivered' });
    expect(cap.received).toHaveLength(1);
    const body = cap.received[0]!.body as { text: string; blocks: Array<{ type: string; text?: { text: string } }> };
    expect(body.text).toMatch(/^🔴 FIRING: \+30 retailers stale/);
    const blockText = body.blocks.map((b) => b.text?.text ?? '').join('\n');
    for (const e of thirty()) {
      expect(body.text).toContain(e.retailer);
      expect(blockText).toContain(e.retailer);
    }
  });

  it('the webhook group is one POST with an Idempotency-Key derived from the sorted event ids', async () => {
    const { sendGroupedAlert } = createGroupedAlertActivities(config({ webhookUrl: `${cap.url}/hook` }));
    const events = thirty();
    await expect(sendGroupedAlert({ channel: 'webhook', events })).resolves.toMatchObject({ status: 'delivered' });
    await sendGroupedAlert({ channel: 'webhook', events: [...events].reverse() });
    expect(cap.received).toHaveLength(2);
    const [a, b] = cap.received;
    expect(a!.headers['idempotency-key']).toMatch(/^group-[0-9a-f]{32}$/);
    expect(b!.headers['idempotency-key']).toBe(a!.headers['idempotency-key']); // same events, same key
    expect(a!.headers['idempotency-key']).not.toBe(groupIdempotencyKey(events.slice(1)));
    expect(a!.body).toMatchObject({ type: 'ingestion-monitor.alert-group', rule: 'stale', kind: 'fire', count: 30, groupId: a!.headers['idempotency-key'] });
    expect((a!.body as { retailers: string[] }).retailers).toEqual(events.map((e) => e.retailer));
  });

  it('filters silenced events, and sends nothing when all are silenced or the channel is off', async () => {
    const { sendGroupedAlert } = createGroupedAlertActivities(config({ slackWebhookUrl: `${cap.url}/slack` }));
    await sendGroupedAlert({ channel: 'slack', events: [stale(1), stale(2, { silenced: true }), stale(3)] });
    expect(cap.received).toHaveLength(1);
    expect((cap.received[0]!.body as { text: string }).text).not.toContain('retailer-02');
    expect(await sendGroupedAlert({ channel: 'slack', events: [stale(4, { silenced: true })] })).toEqual({ channel: 'slack', status: 'silenced' });
    expect(await sendGroupedAlert({ channel: 'webhook', events: thirty() })).toEqual({ channel: 'webhook', status: 'not_configured' });
    expect(await sendGroupedAlert({ channel: 'email', events: thirty() })).toEqual({ channel: 'email', status: 'not_configured' });
    expect(cap.received).toHaveLength(1);
  });
});

describe('heartbeats while an alert is in flight', () => {
  /** Holds every request until `release` is called, so the activity stays in flight for as long as the test wants. */
  let held: http.ServerResponse[] = [];
  const server = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => held.push(res));
  });
  let url = '';
  beforeAll(async () => {
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/slack`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it('sendSlackAlert heartbeats at least every second until the answer comes', async () => {
    held = [];
    const beats: number[] = [];
    const env = new MockActivityEnvironment();
    env.on('heartbeat', () => beats.push(Date.now()));
    const sending = env.run(createSlackActivities(config({ slackWebhookUrl: url, httpTimeoutMs: 10_000 })).sendSlackAlert, stale(1));
    // Wait (on the condition, not a sleep) until the request is held and several heartbeats have gone out.
    await until('three heartbeats while the request is held', async () => held.length === 1 && beats.length >= 3, 10_000, 20);
    held[0]!.writeHead(200).end('ok');
    await expect(sending).resolves.toMatchObject({ status: 'delivered' });
    const gaps = beats.slice(1).map((t, i) => t - beats[i]!);
    expect(Math.max(...gaps)).toBeLessThanOrEqual(1_000);
    expect(HEARTBEAT_EVERY_MS).toBeLessThanOrEqual(1_000);
  });
});

describe('ALERT_HTTP_TIMEOUT_MS', () => {
  it('is parsed strictly and clamped to 10 s', () => {
    expect(loadConfig({}).alerts.httpTimeoutMs).toBe(ALERT_HTTP_TIMEOUT_MAX_MS);
    expect(loadConfig({ ALERT_HTTP_TIMEOUT_MS: '2500' }).alerts.httpTimeoutMs).toBe(2500);
    expect(loadConfig({ ALERT_HTTP_TIMEOUT_MS: '60000' }).alerts.httpTimeoutMs).toBe(10_000);
    expect(() => loadConfig({ ALERT_HTTP_TIMEOUT_MS: '5s' })).toThrow(/ALERT_HTTP_TIMEOUT_MS: expected a positive whole number of milliseconds.*"5s"/);
    expect(() => loadConfig({ ALERT_HTTP_TIMEOUT_MS: '0' })).toThrow(/ALERT_HTTP_TIMEOUT_MS/);
  });
});
