/**
 * The alert activities against real servers on loopback: an http.Server standing in for Slack and a generic
 * webhook, and smtp-server standing in for the mail relay. No client library is mocked, so the tests cover
 * what axios and nodemailer really do with statuses, timeouts, SMTP replies and errors.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';
import { ApplicationFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { loadConfig, type MonitorConfig } from '../src/config';
import { createEmailActivities } from '../src/activities/email';
import { createSlackActivities } from '../src/activities/slack';
import { createWebhookActivities } from '../src/activities/webhook';
import type { DeliveryOutcome } from '../src/activities/types';
import type { AlertEvent } from '../src/rules/types';
import { capturingLogger, thrown } from './helpers/activity-outcomes';

const SECRET = 'SECRETxyz';
const SLACK_PATH = `/services/T000/B000/${SECRET}`;
const HOOK_PATH = `/hooks/${SECRET}`;
const SMTP_PASS = 'p4ss-SECRETsmtp';

type Mode = 'ok' | '429' | '500' | '503-retry-after' | '400' | '404' | 'hang';

interface Received {
  path: string;
  headers: http.IncomingHttpHeaders;
  body: unknown;
}

/** Answers per the current mode; records every request so tests can inspect what Slack would see. */
class FakeHookServer {
  mode: Mode = 'ok';
  retryAfter = '7';
  readonly received: Received[] = [];
  private server = http.createServer((req, res) => {
    let raw = '';
    req.setEncoding('utf8');
    req.on('data', (c: string) => (raw += c));
    req.on('end', () => {
      this.received.push({ path: req.url ?? '', headers: req.headers, body: JSON.parse(raw) });
      const text = (status: number, body: string, headers: http.OutgoingHttpHeaders = {}) => {
        res.writeHead(status, { 'content-type': 'text/plain', ...headers });
        res.end(body);
      };
      switch (this.mode) {
        case 'ok':
          return text(200, 'ok');
        case '429':
          return text(429, 'rate_limited', { 'retry-after': this.retryAfter });
        case '500':
          return text(500, 'internal_error');
        case '503-retry-after':
          return text(503, 'maintenance', { 'retry-after': '3' });
        case '400':
          return text(400, 'invalid_payload');
        case '404':
          // A server that echoes the URL must not get it into our outcome either.
          return text(404, `no_service for ${req.url}`);
        case 'hang':
          return; // never answer: the client's timeout must fire
      }
    });
  });

  async start(): Promise<number> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return (this.server.address() as AddressInfo).port;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

type SmtpMode = 'ok' | '550' | '451';

interface Mail {
  from?: string;
  to: string[];
  raw: string;
  user?: string;
}

function startSmtp(state: { mode: SmtpMode; mails: Mail[] }): Promise<{ server: SMTPServer; port: number }> {
  const server = new SMTPServer({
    secure: false,
    disabledCommands: ['STARTTLS'],
    authOptional: true,
    // Plain-text AUTH on loopback only, so the credentials in the URL are really exercised.
    allowInsecureAuth: true,
    logger: false,
    onAuth(auth, _session, cb) {
      if (auth.username === 'user' && auth.password === SMTP_PASS) cb(null, { user: auth.username });
      else cb(new Error('Invalid username or password'));
    },
    onData(stream, session, cb) {
      let raw = '';
      stream.setEncoding('utf8');
      stream.on('data', (c: string) => (raw += c));
      stream.on('end', () => {
        if (state.mode === '550') return cb(Object.assign(new Error('Mailbox unavailable'), { responseCode: 550 }));
        if (state.mode === '451') return cb(Object.assign(new Error('Try again later'), { responseCode: 451 }));
        state.mails.push({
          from: session.envelope.mailFrom ? session.envelope.mailFrom.address : undefined,
          to: session.envelope.rcptTo.map((r) => r.address),
          raw,
          user: session.user as string | undefined,
        });
        cb();
      });
    },
  });
  return new Promise((resolve, reject) => {
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => resolve({ server, port: (server.server.address() as AddressInfo).port }));
  });
}

/** Decodes RFC 2047 encoded words (nodemailer encodes the emoji subject). */
function decodeHeader(raw: string, name: string): string {
  const unfolded = raw.split(/\r?\n\r?\n/)[0].replace(/\r?\n[ \t]+/g, ' ');
  const line = unfolded.split(/\r?\n/).find((l) => l.toLowerCase().startsWith(`${name.toLowerCase()}:`)) ?? '';
  return line
    .slice(name.length + 1)
    .trim()
    .replace(/\?=\s+=\?/g, '?==?')
    .replace(/=\?utf-8\?([qb])\?([^?]*)\?=/gi, (_m, enc: string, text: string) =>
      enc.toUpperCase() === 'B'
        ? Buffer.from(text, 'base64').toString('utf8')
        : Buffer.from(text.replace(/_/g, ' ').replace(/=([0-9A-F]{2})/gi, (_x, h: string) => String.fromCharCode(parseInt(h, 16))), 'latin1').toString('utf8'),
    );
}

const T0 = Date.UTC(2025, 0, 15, 8, 0, 0);
const event = (over: Partial<AlertEvent> = {}): AlertEvent => ({
  eventId: 'checkers/consecutive_failures/1/fire/1',
  incidentId: 'checkers/consecutive_failures/1',
  kind: 'fire',
  retailer: 'checkers',
  rule: 'consecutive_failures',
  at: T0,
  openedAt: T0,
  summary: 'checkers: 2 consecutive failed runs (last error: HTTP 403)',
  figures: { failureStreak: 2, lastError: 'HTTP 403', lastSuccessAt: T0 - 3_600_000 },
  runId: 'run-42',
  workflowId: 'ingest-checkers',
  workflowRunId: 'abc-123',
  ...over,
});

function config(alerts: Partial<MonitorConfig['alerts']> = {}): MonitorConfig {
  const base = loadConfig({});
  return { ...base, databaseUrl: 'postgres://unused', alerts: { ...base.alerts, httpTimeoutMs: 2_000, ...alerts } };
}

/** Everything a failure could carry to history, logs or the UI. */
function everywhere(x: unknown): string {
  if (x instanceof Error) {
    const f = x as ApplicationFailure;
    return [f.message, f.stack, String(f.cause ?? ''), JSON.stringify(f.details ?? []), f.type].join('\n');
  }
  return JSON.stringify(x);
}

describe('Slack and webhook activities against a loopback HTTP server', () => {
  const hook = new FakeHookServer();
  let base = '';
  let slackUrl = '';
  let webhookUrl = '';
  const logs: string[] = [];
  const leakCheck: unknown[] = [];

  beforeAll(async () => {
    base = `http://127.0.0.1:${await hook.start()}`;
    slackUrl = `${base}${SLACK_PATH}`;
    webhookUrl = `${base}${HOOK_PATH}`;
  });
  afterAll(async () => {
    await hook.stop();
    // Every outcome, error and log line produced in this block: none may carry the URL or its token.
    const all = [...leakCheck.map(everywhere), ...logs].join('\n');
    expect(all).not.toContain(SECRET);
    expect(all).not.toContain('/services/T000');
  });
  beforeEach(() => {
    hook.mode = 'ok';
    hook.received.length = 0;
  });

  const slack = (timeoutMs = 2_000) => createSlackActivities(config({ slackWebhookUrl: slackUrl, httpTimeoutMs: timeoutMs })).sendSlackAlert;
  const record = async <T>(p: Promise<T>): Promise<T> => {
    try {
      const v = await p;
      leakCheck.push(v);
      return v;
    } catch (e) {
      leakCheck.push(e);
      throw e;
    }
  };

  it('delivers a Block Kit message with retailer, rule and figures', async () => {
    const out = await record(slack()(event()));
    expect(out).toEqual({ channel: 'slack', status: 'delivered', attempts: 1 });
    expect(hook.received).toHaveLength(1);
    const { path, headers, body } = hook.received[0];
    expect(path).toBe(SLACK_PATH);
    expect(headers['content-type']).toMatch(/application\/json/);
    const msg = body as { text: string; blocks: { type: string; text?: { text: string }; fields?: { type: string; text: string }[] }[] };
    expect(typeof msg.text).toBe('string');
    expect(msg.blocks[0]).toMatchObject({ type: 'header', text: { type: 'plain_text' } });
    expect(msg.blocks[0].text!.text).toContain('checkers');
    expect(msg.blocks[0].text!.text).toContain('Consecutive ingestion failures');
    expect(msg.blocks[1].fields!.every((f) => f.type === 'mrkdwn')).toBe(true);
    expect(msg.blocks[1].fields!.map((f) => f.text).join('\n')).toContain('2 consecutive failed runs');
  });

  it('reports the Temporal attempt number when run in an activity context', async () => {
    const env = new MockActivityEnvironment({ attempt: 3 }, { logger: capturingLogger(logs) });
    const out = await record(env.run(slack(), event()));
    expect(out).toEqual({ channel: 'slack', status: 'delivered', attempts: 3 });
  });

  it('429 throws a retryable SlackRateLimited with nextRetryDelay from Retry-After', async () => {
    hook.mode = '429';
    hook.retryAfter = '7';
    const err = await thrown(record(slack()(event())));
    expect(err.type).toBe('SlackRateLimited');
    expect(err.nonRetryable).toBe(false);
    expect(err.nextRetryDelay).toBe(7_000);
  });

  it('429 without a usable Retry-After waits 1 s', async () => {
    hook.mode = '429';
    hook.retryAfter = 'soon';
    const err = await thrown(record(slack()(event())));
    expect(err.nextRetryDelay).toBe(1_000);
  });

  it('5xx throws a retryable SlackUnavailable', async () => {
    hook.mode = '500';
    const err = await thrown(record(slack()(event())));
    expect(err.type).toBe('SlackUnavailable');
    expect(err.nonRetryable).toBe(false);
    expect(err.message).toContain('HTTP 500');
  });

  it('a 503 with Retry-After passes the delay on', async () => {
    hook.mode = '503-retry-after';
    const err = await thrown(record(slack()(event())));
    expect(err.type).toBe('SlackUnavailable');
    expect(err.nextRetryDelay).toBe(3_000);
  });

  it('400 invalid_payload is a permanent failed outcome, not a throw', async () => {
    hook.mode = '400';
    const env = new MockActivityEnvironment({}, { logger: capturingLogger(logs) });
    const out = await record(env.run(slack(), event()));
    expect(out).toMatchObject({ channel: 'slack', status: 'failed', detail: 'HTTP 400 invalid_payload' });
    expect(logs.join('\n')).toContain('invalid_payload');
  });

  it('404 no_service is failed, and an echoed URL is scrubbed from the detail', async () => {
    hook.mode = '404';
    const out = await record(slack()(event()));
    expect(out.status).toBe('failed');
    expect(out.detail).toMatch(/^HTTP 404 no_service/);
    expect(out.detail).not.toContain(SECRET);
  });

  it('a server that never answers times out as a retryable failure', async () => {
    hook.mode = 'hang';
    const started = Date.now();
    const err = await thrown(record(slack(300)(event())));
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(err.type).toBe('SlackUnavailable');
    expect(err.nonRetryable).toBe(false);
    expect(err.message).toContain('300 ms');
  });

  it('a refused connection is retryable', async () => {
    const closed = new FakeHookServer();
    const port = await closed.start();
    await closed.stop();
    const send = createSlackActivities(config({ slackWebhookUrl: `http://127.0.0.1:${port}${SLACK_PATH}` })).sendSlackAlert;
    const err = await thrown(record(send(event())));
    expect(err.type).toBe('SlackUnavailable');
    expect(err.message).toContain('ECONNREFUSED');
  });

  it('not configured and silenced send nothing', async () => {
    expect(await createSlackActivities(config()).sendSlackAlert(event())).toEqual({ channel: 'slack', status: 'not_configured' });
    expect(await slack()(event({ silenced: true }))).toEqual({ channel: 'slack', status: 'silenced' });
    expect(await createWebhookActivities(config()).sendWebhookAlert(event())).toEqual({ channel: 'webhook', status: 'not_configured' });
    expect(hook.received).toHaveLength(0);
  });

  describe('generic webhook', () => {
    const send = () => createWebhookActivities(config({ webhookUrl })).sendWebhookAlert;

    it('delivers the versioned JSON payload with an idempotency key', async () => {
      const out = await record(send()(event({ rule: 'sku_drop', figures: { skuCount: 600, trailingAverage: 1000, dropPct: 40, skuDropPct: 30 } })));
      expect(out).toEqual({ channel: 'webhook', status: 'delivered', attempts: 1 });
      const { path, headers, body } = hook.received[0];
      expect(path).toBe(HOOK_PATH);
      expect(headers['idempotency-key']).toBe('checkers/consecutive_failures/1/fire/1');
      expect(body).toMatchObject({
        type: 'ingestion-monitor.alert',
        version: 1,
        retailer: 'checkers',
        rule: 'sku_drop',
        figures: { skuCount: 600, dropPct: 40 },
        commands: { replay: 'npx ingestion-monitor replay checkers' },
      });
    });

    it('classifies like Slack: 429 retry-after, 5xx retryable, 4xx failed, silenced skipped', async () => {
      hook.mode = '429';
      hook.retryAfter = '2';
      const limited = await thrown(record(send()(event())));
      expect([limited.type, limited.nextRetryDelay]).toEqual(['WebhookRateLimited', 2_000]);
      hook.mode = '500';
      expect((await thrown(record(send()(event())))).type).toBe('WebhookUnavailable');
      hook.mode = '400';
      expect(await record(send()(event()))).toMatchObject({ channel: 'webhook', status: 'failed', detail: 'HTTP 400 invalid_payload' });
      hook.received.length = 0;
      expect(await send()(event({ silenced: true }))).toEqual({ channel: 'webhook', status: 'silenced' });
      expect(hook.received).toHaveLength(0);
    });
  });
});

describe('email activity against a loopback SMTP server', () => {
  const state: { mode: SmtpMode; mails: Mail[] } = { mode: 'ok', mails: [] };
  let server: SMTPServer;
  let port = 0;
  const logs: string[] = [];
  const leakCheck: unknown[] = [];
  const emailConfig = (p = port) =>
    config({ email: { smtpUrl: `smtp://user:${SMTP_PASS}@127.0.0.1:${p}`, from: 'monitor@example.test', to: ['oncall@example.test', 'lead@example.test'] } });

  beforeAll(async () => {
    ({ server, port } = await startSmtp(state));
  });
  afterAll(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
    const all = [...leakCheck.map(everywhere), ...logs].join('\n');
    expect(all).not.toContain(SMTP_PASS);
  });
  beforeEach(() => {
    state.mode = 'ok';
    state.mails.length = 0;
  });

  it('delivers a mail whose subject names the retailer and the rule', async () => {
    const env = new MockActivityEnvironment({ attempt: 2 }, { logger: capturingLogger(logs) });
    const out = await env.run(createEmailActivities(emailConfig()).sendEmailAlert, event({ rule: 'stale', figures: { hoursSinceSuccess: 5, staleAfterHours: 4 } }));
    leakCheck.push(out);
    expect(out).toEqual({ channel: 'email', status: 'delivered', attempts: 2 });
    expect(state.mails).toHaveLength(1);
    const mail = state.mails[0];
    expect(mail.user).toBe('user');
    expect(mail.from).toBe('monitor@example.test');
    expect(mail.to).toEqual(['oncall@example.test', 'lead@example.test']);
    const subject = decodeHeader(mail.raw, 'Subject');
    expect(subject).toContain('checkers');
    expect(subject).toContain('Stale data');
    expect(decodeHeader(mail.raw, 'Message-ID')).toBe('<checkers/consecutive_failures/1/fire/1@ingestion-monitor>');
    expect(mail.raw).toContain('text/html');
  });

  it('a 550 reply is a permanent failed outcome', async () => {
    state.mode = '550';
    const env = new MockActivityEnvironment({}, { logger: capturingLogger(logs) });
    const out: DeliveryOutcome = await env.run(createEmailActivities(emailConfig()).sendEmailAlert, event());
    leakCheck.push(out);
    expect(out).toMatchObject({ channel: 'email', status: 'failed' });
    expect(out.detail).toMatch(/^SMTP 550/);
    expect(out.detail).toContain('Mailbox unavailable');
  });

  it('a 451 reply is retryable', async () => {
    state.mode = '451';
    const err = await thrown(createEmailActivities(emailConfig()).sendEmailAlert(event()));
    leakCheck.push(err);
    expect(err.type).toBe('SmtpUnavailable');
    expect(err.nonRetryable).toBe(false);
    expect(err.message).toContain('451');
  });

  it('an unreachable relay is retryable and the password stays out of the error', async () => {
    const probe = await startSmtp({ mode: 'ok', mails: [] });
    await new Promise<void>((resolve) => probe.server.close(() => resolve()));
    const err = await thrown(createEmailActivities(emailConfig(probe.port)).sendEmailAlert(event()));
    leakCheck.push(err);
    expect(err.type).toBe('SmtpUnavailable');
    expect(err.nonRetryable).toBe(false);
  });

  it('not configured and silenced send nothing', async () => {
    expect(await createEmailActivities(config()).sendEmailAlert(event())).toEqual({ channel: 'email', status: 'not_configured' });
    const out: DeliveryOutcome = await createEmailActivities(emailConfig()).sendEmailAlert(event({ silenced: true }));
    expect(out).toEqual({ channel: 'email', status: 'silenced' });
    expect(state.mails).toHaveLength(0);
  });
});
