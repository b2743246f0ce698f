/**
 * Slack bot mode and PagerDuty, activity by activity, against loopback servers that speak the Slack Web API
 * and PagerDuty Events API v2 (test/helpers/slack-pagerduty-servers.ts) and the real Postgres store of each
 * incident's message. The end-to-end flow through the workflows is in alert-channels-inplace.test.ts.
 */
import { MockActivityEnvironment } from '@temporalio/testing';
import { formatContextFrom, toSlackMessage } from '../src/alerts/format';
import { toGroupedSlackMessage } from '../src/alerts/grouped-format';
import { toGroupedThreadReply, toSlackThreadReply } from '../src/alerts/slack-thread';
import { createGroupedAlertActivities } from '../src/activities/grouped';
import { createPagerDutyActivities } from '../src/activities/pagerduty';
import { createSlackActivities } from '../src/activities/slack';
import { createSlackMessageStore } from '../src/activities/slack-messages';
import { ConfigError, describeChannels, loadConfig, type MonitorConfig } from '../src/config';
import type { AlertEvent, AlertKind } from '../src/rules/types';
import { redact } from '../src/shared/redact';
import { capturingLogger, thrown } from './helpers/activity-outcomes';
import { createTestDatabase, type TestDatabase } from './helpers/postgres';
import { FakePagerDuty, FakeSlackApi, slackLimitProblems } from './helpers/slack-pagerduty-servers';

const TOKEN = 'xoxb-1111-2222-SECRETbottoken';
const ROUTING_KEY = 'R0UTINGKEYSECRET0123456789abcdef';
const CHANNEL_ID = 'C0ALERTS1';

const T0 = Date.UTC(2026, 10, 27, 8, 0, 0);
const event = (kind: AlertKind = 'fire', over: Partial<AlertEvent> = {}): AlertEvent => {
  const incidentId = over.incidentId ?? 'checkers/consecutive_failures/1';
  return {
    eventId: kind === 'resolve' ? `${incidentId}/resolve` : `${incidentId}/${kind}/1`,
    incidentId,
    kind,
    retailer: 'checkers',
    rule: 'consecutive_failures',
    at: T0,
    openedAt: T0,
    summary: 'checkers: 2 consecutive failed runs (last error: HTTP 403)',
    figures: { failureStreak: 2, lastError: 'HTTP 403' },
    ...over,
  };
};

describe('configuration', () => {
  it('bot mode needs both SLACK_BOT_TOKEN and SLACK_CHANNEL; neither secret is ever quoted', () => {
    const c = loadConfig({ SLACK_BOT_TOKEN: TOKEN, SLACK_CHANNEL: CHANNEL_ID, PAGERDUTY_ROUTING_KEY: ROUTING_KEY });
    expect(c.alerts.slackBot).toEqual({ token: TOKEN, channel: CHANNEL_ID, apiUrl: 'https://slack.com/api' });
    expect(c.alerts.pagerDuty).toEqual({ routingKey: ROUTING_KEY, eventsUrl: 'https://events.pagerduty.com/v2/enqueue' });
    const problems = (env: NodeJS.ProcessEnv) => {
      try {
        loadConfig(env);
        return '';
      } catch (e) {
        expect(e).toBeInstanceOf(ConfigError);
        return (e as Error).message;
      }
    };
    expect(problems({ SLACK_BOT_TOKEN: TOKEN })).toContain('SLACK_CHANNEL: expected the channel to post in, because SLACK_BOT_TOKEN is set');
    expect(problems({ SLACK_CHANNEL: CHANNEL_ID })).toContain('SLACK_BOT_TOKEN: expected the bot token');
    const bad = problems({ SLACK_BOT_TOKEN: 'not a token SECRETbottoken', SLACK_CHANNEL: 'x', PAGERDUTY_ROUTING_KEY: 'short SECRET' });
    expect(bad).toContain('SLACK_BOT_TOKEN: expected a Slack bot token (xoxb-…) (value not shown: it holds a secret)');
    expect(bad).toContain('PAGERDUTY_ROUTING_KEY');
    expect(bad).not.toContain('SECRET');
    expect(describeChannels(loadConfig({ SLACK_BOT_TOKEN: TOKEN, SLACK_CHANNEL: CHANNEL_ID, SLACK_WEBHOOK_URL: 'https://hooks.slack.com/services/T/B/x', PAGERDUTY_ROUTING_KEY: ROUTING_KEY }))).toBe(
      'slack (bot, updated in place), pagerduty',
    );
    expect(redact(`token ${TOKEN} key ${ROUTING_KEY}`, { SLACK_BOT_TOKEN: TOKEN, PAGERDUTY_ROUTING_KEY: ROUTING_KEY })).toBe('token *** key ***');
  });
});

describe('Slack message limits (webhook and bot modes)', () => {
  const ctx = formatContextFrom(loadConfig({}));
  const many = (n: number, kind: AlertKind, summary: string) =>
    Array.from({ length: n }, (_, i) => {
      const retailer = `retailer-with-a-long-name-${String(i).padStart(4, '0')}`;
      return event(kind, { retailer, incidentId: `${retailer}/stale/1`, rule: 'stale', summary: `${retailer}: ${summary}` });
    });

  it.each(['fire', 'renotify', 'acknowledge', 'resolve'] as const)('a group of 1,000 %s alerts is one message within 50 blocks and 3,000 characters per text', (kind) => {
    for (const summary of ['no successful run for 5 h', `<!channel> ${'x'.repeat(2_000)}`]) {
      const events = many(1_000, kind, summary);
      const msg = toGroupedSlackMessage(events, ctx);
      expect(slackLimitProblems(msg)).toEqual([]);
      // Summarised, not truncated silently: the names that do not fit are counted.
      expect(JSON.stringify(msg)).toMatch(/… and \d+ more/);
      expect(JSON.stringify(msg)).not.toContain('<!channel>');
      expect(slackLimitProblems(toGroupedThreadReply(events))).toEqual([]);
    }
  });

  it('a single alert with huge untrusted text stays within the limits, its thread reply too', () => {
    const huge = event('renotify', { summary: 'y'.repeat(50_000), figures: { lastError: 'z'.repeat(50_000) }, diagnosis: 'd'.repeat(10_000), retailer: 'r'.repeat(500) });
    expect(slackLimitProblems(toSlackMessage(huge, ctx))).toEqual([]);
    expect(slackLimitProblems(toSlackThreadReply(huge, ctx))).toEqual([]);
  });
});

describe('Slack bot mode against a loopback Slack Web API', () => {
  let tdb: TestDatabase;
  const slack = new FakeSlackApi(TOKEN, new Map([[CHANNEL_ID, CHANNEL_ID], ['#alerts', CHANNEL_ID]]));
  const pd = new FakePagerDuty(ROUTING_KEY);
  const hook = new FakeSlackApi('unused', new Map()); // stands in for an incoming webhook: must get nothing in bot mode
  const logs: string[] = [];
  const seen: unknown[] = [];

  beforeAll(async () => {
    [tdb] = await Promise.all([createTestDatabase('im_slackbot'), slack.start(), pd.start(), hook.start()]);
  });
  afterAll(async () => {
    await Promise.all([slack.stop(), pd.stop(), hook.stop(), tdb?.drop()]);
    // Neither secret in any outcome, error or log line of this block.
    const all = [...seen.map((x) => (x instanceof Error ? `${x.message}\n${x.stack}` : JSON.stringify(x))), ...logs].join('\n');
    expect(all).not.toContain('SECRET');
  });

  function config(alerts: Partial<MonitorConfig['alerts']> = {}): MonitorConfig {
    const base = loadConfig({});
    return {
      ...base,
      alerts: {
        ...base.alerts,
        httpTimeoutMs: 2_000,
        slackBot: { token: TOKEN, channel: CHANNEL_ID, apiUrl: slack.url },
        slackWebhookUrl: `${hook.url}/services/T0/B0/x`,
        ...alerts,
      },
    };
  }
  const env = (attempt = 1) => new MockActivityEnvironment({ attempt }, { logger: capturingLogger(logs) });
  const keep = async <T>(p: Promise<T>): Promise<T> => {
    try {
      const v = await p;
      seen.push(v);
      return v;
    } catch (e) {
      seen.push(e);
      throw e;
    }
  };
  const send = (cfg: MonitorConfig, e: AlertEvent, attempt = 1) => keep(env(attempt).run(createSlackActivities(cfg, createSlackMessageStore(tdb.db)).sendSlackAlert, e));

  it('posts the fire once, then updates that message and replies in its thread for re-notify, acknowledge and resolve', async () => {
    const cfg = config();
    const id = 'inplace/consecutive_failures/1';
    const at = (kind: AlertKind) => event(kind, { incidentId: id, retailer: 'inplace' });
    expect(await send(cfg, at('fire'))).toEqual({ channel: 'slack', status: 'delivered', attempts: 1, detail: 'posted' });
    // A retried activity (lost answer, worker crash after the row was written) does not post again.
    expect(await send(cfg, at('fire'), 2)).toMatchObject({ status: 'delivered', detail: 'already applied' });
    for (const kind of ['renotify', 'acknowledge', 'resolve'] as const) {
      expect(await send(cfg, at(kind))).toMatchObject({ status: 'delivered', detail: 'updated in place, replied in thread' });
      expect(await send(cfg, at(kind), 2)).toMatchObject({ status: 'delivered', detail: 'already applied' });
    }
    const roots = slack.roots().filter((m) => m.text.includes('inplace'));
    expect(roots).toHaveLength(1);
    const root = roots[0]!;
    expect(root.text).toContain('🔴 FIRING');
    expect(root.versions.map((v) => v.text.split(':')[0])).toEqual(['🔁 STILL FIRING', '👀 ACKNOWLEDGED', '✅ RESOLVED']);
    expect(slack.replies(root.ts).map((r) => r.text.split(':')[0])).toEqual(['🔁 STILL FIRING', '👀 ACKNOWLEDGED', '✅ RESOLVED']);
    expect(slack.calls.every((c) => c.auth === `Bearer ${TOKEN}`)).toBe(true);
    expect(hook.calls).toHaveLength(0); // bot mode wins over the incoming webhook
    const row = await tdb.db.selectFrom('slack_messages').selectAll().where('incident_id', '=', id).executeTakeFirstOrThrow();
    expect(row).toMatchObject({ channel: CHANNEL_ID, ts: root.ts, grouped: false, last_event_id: `${id}/resolve` });
  });

  it('ratelimited: HTTP 429 throws a retryable SlackRateLimited with Retry-After as the next delay, then goes through', async () => {
    const cfg = config();
    const id = 'limited/stale/1';
    slack.rateLimit = { method: 'chat.postMessage', times: 1, retryAfter: '3' };
    const err = await thrown(send(cfg, event('fire', { incidentId: id, retailer: 'limited' })));
    expect(err.type).toBe('SlackRateLimited');
    expect(err.nonRetryable).toBe(false);
    expect(err.nextRetryDelay).toBe(3_000);
    expect(await send(cfg, event('fire', { incidentId: id, retailer: 'limited' }), 2)).toMatchObject({ status: 'delivered', attempts: 2, detail: 'posted' });
    expect(slack.roots().filter((m) => m.text.includes('limited'))).toHaveLength(1);
  });

  it('channel_not_found and invalid_auth are failed outcomes with the reason, after one request each (never retried)', async () => {
    const before = slack.calls.length;
    const missing = await send(config({ slackBot: { token: TOKEN, channel: 'C0MISSING', apiUrl: slack.url } }), event('fire', { incidentId: 'nochan/stale/1' }));
    expect(missing).toEqual({
      channel: 'slack',
      status: 'failed',
      attempts: 1,
      detail: 'Slack chat.postMessage: channel_not_found (SLACK_CHANNEL does not exist or the app cannot see it: use the channel id (C…) and invite the app to the channel)',
    });
    const badAuth = await send(config({ slackBot: { token: 'xoxb-wrong-SECRETtoo', channel: CHANNEL_ID, apiUrl: slack.url } }), event('fire', { incidentId: 'noauth/stale/1' }));
    expect(badAuth).toMatchObject({ status: 'failed', detail: expect.stringContaining('invalid_auth (SLACK_BOT_TOKEN is not valid') });
    expect(slack.calls.length - before).toBe(2);
    expect(logs.join('\n')).toContain('channel_not_found');
  });

  it('a message deleted in Slack is posted anew and remembered', async () => {
    const cfg = config();
    const id = 'deleted/sku_drop/1';
    await send(cfg, event('fire', { incidentId: id, retailer: 'deleted', rule: 'sku_drop' }));
    const first = slack.roots().find((m) => m.text.includes('deleted'))!;
    slack.messages.delete(first.ts);
    expect(await send(cfg, event('resolve', { incidentId: id, retailer: 'deleted', rule: 'sku_drop' }))).toMatchObject({ status: 'delivered', detail: 'its message was gone: posted anew' });
    const row = await tdb.db.selectFrom('slack_messages').selectAll().where('incident_id', '=', id).executeTakeFirstOrThrow();
    expect(row.ts).not.toBe(first.ts);
    expect(slack.messages.get(row.ts)!.text).toContain('✅ RESOLVED');
  });

  it('a group of 1,000 fires is one message; their resolves one reply in its thread, all within Slack limits', async () => {
    const grouped = createGroupedAlertActivities(config(), undefined, createSlackMessageStore(tdb.db));
    const events = (kind: AlertKind) =>
      Array.from({ length: 1_000 }, (_, i) => {
        const retailer = `bulk-${String(i).padStart(4, '0')}`;
        return event(kind, { retailer, incidentId: `${retailer}/stale/1`, rule: 'stale', summary: `${retailer}: no successful run for 5 h` });
      });
    const rootsBefore = slack.roots().length;
    expect(await keep(env().run(grouped.sendGroupedAlert, { channel: 'slack' as const, events: events('fire') }))).toMatchObject({ status: 'delivered', detail: 'posted one message naming 1000' });
    expect(slack.roots().length - rootsBefore).toBe(1);
    const root = slack.roots().at(-1)!;
    expect(await keep(env().run(grouped.sendGroupedAlert, { channel: 'slack' as const, events: events('resolve') }))).toMatchObject({
      status: 'delivered',
      detail: 'replied in the thread of a grouped message',
    });
    expect(slack.replies(root.ts)).toHaveLength(1);
    expect(slack.replies(root.ts)[0]!.text).toMatch(/^✅ RESOLVED: bulk-0000, bulk-0001, .* … and \d+ more$/);
    expect(slack.calls.filter((c) => c.error === 'invalid_blocks' || c.error === 'msg_too_long')).toEqual([]);
  });

  it('without a bot the incoming webhook is used as before', async () => {
    const cfg = config({ slackBot: undefined });
    const before = hook.calls.length;
    await keep(env().run(createSlackActivities(cfg).sendSlackAlert, event('fire', { incidentId: 'hooked/stale/1' })));
    expect(hook.calls.length - before).toBe(1);
    expect(hook.calls.at(-1)!.method).toBe('services/T0/B0/x');
  });

  describe('PagerDuty Events API v2', () => {
    const pdConfig = (routingKey = ROUTING_KEY) => config({ pagerDuty: { routingKey, eventsUrl: pd.url } });
    const sendPd = (e: AlertEvent, routingKey?: string, attempt = 1) => keep(env(attempt).run(createPagerDutyActivities(pdConfig(routingKey)).sendPagerDutyAlert, e));

    it('trigger, acknowledge and resolve with dedup_key = incident id; the trigger says what to do and links to the UI', async () => {
      const id = 'pd/missed_run/4';
      for (const kind of ['fire', 'renotify', 'acknowledge', 'resolve'] as const) {
        expect(await sendPd(event(kind, { incidentId: id, retailer: 'pd', rule: 'stale', schedule: 'ingest-pd' }))).toEqual({ channel: 'pagerduty', status: 'delivered', attempts: 1 });
      }
      const mine = pd.accepted().filter((c) => c.body.dedup_key === id);
      expect(mine.map((c) => c.body.event_action)).toEqual(['trigger', 'trigger', 'acknowledge', 'resolve']);
      const trigger = mine[0]!.body;
      expect(trigger.payload).toMatchObject({ source: 'ingestion-monitor/pd', severity: 'error', component: 'pd', group: 'stale' });
      expect(trigger.payload.custom_details.remediation[0]).toMatch(/ingestion worker is running/);
      expect(trigger.payload.custom_details.commands).toEqual({
        replay: 'npx ingestion-monitor replay pd',
        ack: `npx ingestion-monitor ack ${id}`,
        silence: `npx ingestion-monitor silence pd --rule stale --for 2h --reason 'working on ${id}'`,
      });
      expect(trigger.payload.custom_details.figures).toMatchObject({ Incident: id });
      expect(trigger.links.map((l: { text: string }) => l.text)).toEqual(['Retailer monitor', 'Ingestion runs (Temporal UI)']);
    });

    it('429 and 5xx are retryable; a 400 invalid event is a failed outcome with the reason, never the routing key', async () => {
      pd.throttle = 1;
      const limited = await thrown(sendPd(event('fire', { incidentId: 'pd/stale/9' })));
      expect(limited.type).toBe('PagerDutyRateLimited');
      expect(limited.nextRetryDelay).toBe(1_000);
      pd.failures = 1;
      expect((await thrown(sendPd(event('fire', { incidentId: 'pd/stale/9' })))).type).toBe('PagerDutyUnavailable');
      expect(await sendPd(event('fire', { incidentId: 'pd/stale/9' }), undefined, 3)).toMatchObject({ status: 'delivered', attempts: 3 });
      const refused = await sendPd(event('fire', { incidentId: 'pd/stale/10' }), 'WRONGKEYSECRET0123456789abcdefgh');
      expect(refused).toEqual({
        channel: 'pagerduty',
        status: 'failed',
        attempts: 1,
        detail: 'HTTP 400 {"status":"invalid event","message":"Event object is invalid","errors":["Invalid routing key"]}',
      });
    });

    it('a group sends one event per incident, each with its own dedup_key', async () => {
      const grouped = createGroupedAlertActivities(pdConfig());
      const events = Array.from({ length: 20 }, (_, i) => event('fire', { retailer: `g${i}`, incidentId: `g${i}/stale/1` }));
      expect(await keep(env().run(grouped.sendGroupedAlert, { channel: 'pagerduty' as const, events }))).toMatchObject({ status: 'delivered', detail: '20 events' });
      for (let i = 0; i < 20; i++) expect(pd.accepted().some((c) => c.body.dedup_key === `g${i}/stale/1`)).toBe(true);
    });
  });
});
