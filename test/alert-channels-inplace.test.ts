/**
 * Slack updated in place and PagerDuty, end to end: a real dev server, real Postgres, the real monitor worker,
 * and loopback servers speaking the Slack Web API and PagerDuty Events API v2. A retailer fails twice (fire),
 * an operator acknowledges, a run succeeds (resolve): Slack shows one message rewritten in place with a thread
 * reply per step, PagerDuty gets trigger → acknowledge → resolve on one dedup_key, and neither secret appears
 * in any workflow history or log line.
 */
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { DefaultLogger, Runtime, Worker } from '@temporalio/worker';
import { createActivities } from '../src/activities';
import { commandRetailer, reportIngestionRun } from '../src/client';
import { loadConfig, type MonitorConfig } from '../src/config';
import { acknowledgeUpdate, type DeliveryOutcome } from '../src/shared/messages';
import { ensureFleet } from '../src/worker';
import { workflowBundle } from './helpers/monitor';
import { createTestDatabase, deliveryRecorded, type TestDatabase } from './helpers/postgres';
import { FakePagerDuty, FakeSlackApi } from './helpers/slack-pagerduty-servers';
import { createDevServerEnv } from './helpers/temporal';
import { until } from './helpers/wait';

const TOKEN = 'xoxb-9999-8888-SECRETe2etoken';
const ROUTING_KEY = 'R0UTINGKEYSECRETe2e0123456789abc';
const CHANNEL_ID = 'C0ALERTS2';

// Every log line of the worker and the SDK (workflow and activity loggers included), to look for the secrets.
const logLines: string[] = [];
Runtime.install({ logger: new DefaultLogger('DEBUG', (e) => void logLines.push(`${e.level} ${e.message} ${JSON.stringify(e.meta ?? {})}`)) });

/** A history as text, payloads decoded (they are JSON in base64/bytes). */
function historyText(h: unknown): string {
  const walk = (v: unknown): unknown => {
    if (v instanceof Uint8Array) return Buffer.from(v).toString('utf8');
    if (Array.isArray(v)) return v.map(walk);
    if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, walk(x)]));
    return v;
  };
  return JSON.stringify(walk(h));
}

describe('Slack bot mode and PagerDuty on a dev server with Postgres', () => {
  let env: TestWorkflowEnvironment;
  let tdb: TestDatabase;
  const slack = new FakeSlackApi(TOKEN, new Map([[CHANNEL_ID, CHANNEL_ID]]));
  const pd = new FakePagerDuty(ROUTING_KEY);
  const workflowIds: string[] = [];

  beforeAll(async () => {
    [env, tdb] = await Promise.all([createDevServerEnv(), createTestDatabase('im_inplace'), slack.start(), pd.start()]);
  });
  afterAll(async () => {
    await Promise.all([env?.teardown(), tdb?.drop(), slack.stop(), pd.stop()]);
  });

  function config(name: string, alerts: Partial<MonitorConfig['alerts']> = {}): MonitorConfig {
    const base = loadConfig({});
    return {
      ...base,
      taskQueue: `inplace-${name}`,
      workflowId: `fleet-${name}`,
      retailerWorkflowIdPrefix: `${name}/`,
      databaseUrl: tdb.url,
      alerts: {
        ...base.alerts,
        httpTimeoutMs: 5_000,
        console: true,
        slackBot: { token: TOKEN, channel: CHANNEL_ID, apiUrl: slack.url },
        pagerDuty: { routingKey: ROUTING_KEY, eventsUrl: pd.url },
        ...alerts,
      },
    };
  }

  /** Run the monitor worker of `cfg` while `fn` drives a retailer; reports go through reportIngestionRun. */
  async function withWorker<T>(cfg: MonitorConfig, fn: (report: (status: 'success' | 'failure') => Promise<string | undefined>) => Promise<T>): Promise<T> {
    const worker = await Worker.create({
      connection: env.nativeConnection,
      namespace: env.namespace ?? 'default',
      taskQueue: cfg.taskQueue,
      workflowBundle: await workflowBundle(),
      activities: createActivities(cfg, tdb.db, env.client, { consoleOut: { write: () => true } }),
    });
    const target = { workflowId: cfg.workflowId, taskQueue: cfg.taskQueue, retailerWorkflowIdPrefix: cfg.retailerWorkflowIdPrefix };
    const retailer = `${cfg.retailerWorkflowIdPrefix.slice(0, -1)}-mart`;
    workflowIds.push(cfg.workflowId, `${cfg.retailerWorkflowIdPrefix}${retailer}`);
    return worker.runUntil(async () => {
      await ensureFleet(env.client, cfg, { retailerWorkflowIdPrefix: cfg.retailerWorkflowIdPrefix });
      const now = Date.now();
      let i = 0;
      const report = async (status: 'success' | 'failure') => {
        i++;
        const verdict = await reportIngestionRun(
          env.client,
          {
            runId: `${retailer}-${i}`,
            retailer,
            status,
            startedAt: new Date(now - (20 - i) * 60_000).toISOString(),
            finishedAt: new Date(now - (19 - i) * 60_000).toISOString(),
            ...(status === 'success' ? { skuCount: 100 } : { error: 'HTTP 503' }),
          },
          target,
        );
        return verdict.opened[0]?.id;
      };
      return fn(report);
    });
  }

  const rowsOf = (incidentId: string, n: number) =>
    until(
      `${n} alert_events rows of ${incidentId}`,
      async () => {
        const rows = await tdb.db.selectFrom('alert_events').selectAll().where('incident_id', '=', incidentId).orderBy('occurred_at').execute();
        return rows.length === n && rows.every(deliveryRecorded) && rows;
      },
      60_000,
    );
  const outcome = (delivery: unknown, channel: string) => (delivery as DeliveryOutcome[]).find((d) => d.channel === channel);

  it('fire → acknowledge → resolve: one Slack message updated in place with thread replies (ratelimited honoured), one PagerDuty dedup_key', async () => {
    const cfg = config('happy');
    const incidentId = await withWorker(cfg, async (report) => {
      await report('failure');
      const id = (await report('failure'))!;
      expect(id).toMatch(/^happy-mart\/consecutive_failures\/\d+$/);
      await until('the fire posted and triggered', async () => slack.roots().some((m) => m.text.includes('happy-mart')) && pd.accepted().some((c) => c.body.dedup_key === id), 90_000);

      // Slack says "ratelimited" to the first chat.update: the activity waits Retry-After (2 s) and tries again.
      slack.rateLimit = { method: 'chat.update', times: 1, retryAfter: '2' };
      const ack = await commandRetailer(env.client, 'happy-mart', acknowledgeUpdate, [{ incidentId: id, by: 'alice', note: 'looking' }], {
        workflowId: cfg.workflowId,
        retailerWorkflowIdPrefix: cfg.retailerWorkflowIdPrefix,
      });
      expect(ack.message).toBe(`acknowledged ${id}`);
      await until('the acknowledgement in Slack and PagerDuty', async () => {
        const root = slack.roots().find((m) => m.text.includes('happy-mart'));
        return root && root.versions.length === 1 && slack.replies(root.ts).length === 1 && pd.accepted().some((c) => c.body.dedup_key === id && c.body.event_action === 'acknowledge');
      }, 90_000);

      await report('success');
      await until('the resolve in Slack and PagerDuty', async () => {
        const root = slack.roots().find((m) => m.text.includes('happy-mart'));
        return root && root.versions.length === 2 && slack.replies(root.ts).length === 2 && pd.accepted().some((c) => c.body.dedup_key === id && c.body.event_action === 'resolve');
      }, 90_000);
      // The fleet records each delivery after sending it: wait for the rows while its worker still runs.
      await rowsOf(id, 3);
      return id;
    });

    const roots = slack.roots().filter((m) => m.text.includes('happy-mart'));
    expect(roots).toHaveLength(1);
    const root = roots[0]!;
    expect(root.text).toMatch(/^🔴 FIRING: Consecutive ingestion failures — happy-mart/);
    expect(root.versions.map((v) => v.text.split(':')[0])).toEqual(['👀 ACKNOWLEDGED', '✅ RESOLVED']);
    expect(slack.replies(root.ts).map((r) => r.text.split(':')[0])).toEqual(['👀 ACKNOWLEDGED', '✅ RESOLVED']);
    expect(slack.replies(root.ts)[0]!.text).toContain('acknowledged by alice (looking)');
    // Every update and reply went to the message the fire posted.
    const mine = slack.calls.filter((c) => c.method === 'chat.update' && c.status === 200);
    expect(mine.every((c) => c.body.ts === root.ts && c.body.channel === CHANNEL_ID)).toBe(true);
    const limited = slack.calls.find((c) => c.status === 429)!;
    const retried = slack.calls.find((c) => c.method === 'chat.update' && c.status === 200 && c.at > limited.at)!;
    expect(retried.at - limited.at).toBeGreaterThanOrEqual(1_900);

    expect(pd.accepted().filter((c) => c.body.dedup_key === incidentId).map((c) => c.body.event_action)).toEqual(['trigger', 'acknowledge', 'resolve']);

    const rows = await rowsOf(incidentId, 3);
    expect(rows.map((r) => r.kind)).toEqual(['fire', 'acknowledge', 'resolve']);
    for (const r of rows) {
      expect(outcome(r.delivery, 'slack')).toMatchObject({ status: 'delivered' });
      expect(outcome(r.delivery, 'pagerduty')).toMatchObject({ status: 'delivered', attempts: 1 });
      expect(outcome(r.delivery, 'webhook')).toEqual({ channel: 'webhook', status: 'not_configured' });
    }
    expect(outcome(rows[1]!.delivery, 'slack')).toMatchObject({ attempts: 2, detail: 'updated in place, replied in thread' });
  }, 300_000); // generous: the shared 2-core machine runs several dev servers at once

  it('channel_not_found, invalid_auth and a refused PagerDuty event are recorded with the reason, not retried, and the rest keeps flowing', async () => {
    for (const [name, alerts, reason] of [
      ['nochan', { slackBot: { token: TOKEN, channel: 'C0MISSING', apiUrl: slack.url } }, 'channel_not_found'],
      ['noauth', { slackBot: { token: 'xoxb-0000-SECRETwrong', channel: CHANNEL_ID, apiUrl: slack.url }, pagerDuty: { routingKey: 'WRONGKEYSECRET0123456789abcdefgh', eventsUrl: pd.url } }, 'invalid_auth'],
    ] as const) {
      const cfg = config(name, alerts);
      const before = slack.calls.length;
      const incidentId = await withWorker(cfg, async (report) => {
        await report('failure');
        const id = (await report('failure'))!;
        await rowsOf(id, 1);
        await report('success');
        await rowsOf(id, 2);
        return id;
      });
      const rows = await rowsOf(incidentId, 2);
      for (const r of rows) {
        expect(outcome(r.delivery, 'slack')).toMatchObject({ status: 'failed', attempts: 1, detail: expect.stringContaining(reason) });
        expect(outcome(r.delivery, 'console')).toMatchObject({ status: 'delivered' });
      }
      // One request per event: a wrong channel or token is not retried.
      expect(slack.calls.length - before).toBe(2);
      if (name === 'noauth') {
        for (const r of rows) expect(outcome(r.delivery, 'pagerduty')).toMatchObject({ status: 'failed', attempts: 1, detail: expect.stringContaining('HTTP 400') });
      } else {
        expect(pd.accepted().filter((c) => c.body.dedup_key === incidentId).map((c) => c.body.event_action)).toEqual(['trigger', 'resolve']);
      }
    }
  }, 300_000);

  it('no Slack token or PagerDuty routing key in any workflow history, alert row or log line', async () => {
    expect(workflowIds.length).toBeGreaterThanOrEqual(6);
    const texts: string[] = [];
    for (const id of workflowIds) texts.push(historyText(await env.client.workflow.getHandle(id).fetchHistory()));
    const all = texts.join('\n');
    expect(all).toContain('happy-mart'); // the histories were really read
    const rows = await tdb.db.selectFrom('alert_events').selectAll().execute();
    const logs = logLines.join('\n');
    expect(logs).toContain('channel_not_found'); // the logs were really captured
    for (const text of [all, JSON.stringify(rows), logs]) {
      expect(text).not.toContain('SECRET');
      expect(text).not.toContain(TOKEN);
      expect(text).not.toContain(ROUTING_KEY);
    }
  });
});
