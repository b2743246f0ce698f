/**
 * Loopback servers that speak the Slack Web API's and PagerDuty Events API v2's shapes and errors, for the
 * bot-mode and PagerDuty channel tests:
 * - Slack: POST /api/chat.postMessage and /api/chat.update with `Authorization: Bearer`, answering
 *   `{ ok: true, channel, ts }` or HTTP 200 `{ ok: false, error }` (invalid_auth, channel_not_found,
 *   message_not_found, invalid_blocks, msg_too_long), or HTTP 429 `ratelimited` with Retry-After. It enforces
 *   Block Kit's limits (50 blocks, 3,000 characters per text), as Slack refuses such messages.
 * - PagerDuty: POST /v2/enqueue answering 202 `{ status, message, dedup_key }`, 400 `invalid event` for a
 *   wrong routing key or a trigger without summary/source/severity, or 429 when told to.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface SlackCall {
  method: string;
  at: number;
  auth?: string;
  body: any;
  /** What the server answered. */
  status: number;
  error?: string;
}

export interface SlackPost {
  channel: string;
  ts: string;
  text: string;
  blocks: any[];
  thread_ts?: string;
  /** Every version after chat.update, oldest first. */
  versions: Array<{ text: string; blocks: any[] }>;
}

async function listen(server: http.Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

function readJson(req: http.IncomingMessage): Promise<any> {
  return new Promise((resolve) => {
    let raw = '';
    req.setEncoding('utf8');
    req.on('data', (c: string) => (raw += c));
    req.on('end', () => {
      try {
        resolve(JSON.parse(raw));
      } catch {
        resolve(raw);
      }
    });
  });
}

/** Texts longer than Slack allows, blocks beyond 50: what Slack would refuse with invalid_blocks / msg_too_long. */
export function slackLimitProblems(message: { text?: unknown; blocks?: unknown }): string[] {
  const problems: string[] = [];
  if (typeof message.text === 'string' && message.text.length > 3000) problems.push(`text of ${message.text.length} characters`);
  const blocks = Array.isArray(message.blocks) ? message.blocks : [];
  if (blocks.length > 50) problems.push(`${blocks.length} blocks`);
  const texts: string[] = [];
  const walk = (v: unknown) => {
    if (Array.isArray(v)) v.forEach(walk);
    else if (v && typeof v === 'object') {
      for (const [k, x] of Object.entries(v)) {
        if (k === 'text' && typeof x === 'string') texts.push(x);
        else walk(x);
      }
    }
  };
  walk(blocks);
  for (const t of texts) if (t.length > 3000) problems.push(`a block text of ${t.length} characters`);
  return problems;
}

export class FakeSlackApi {
  readonly calls: SlackCall[] = [];
  /** Root messages and replies by ts. */
  readonly messages = new Map<string, SlackPost>();
  /** The next n calls (of the given method, or any) answer 429 ratelimited. */
  rateLimit: { method?: string; times: number; retryAfter: string } = { times: 0, retryAfter: '1' };
  private seq = 0;
  url = '';

  constructor(
    readonly token: string,
    /** Channel names/ids the bot can post in, and the id Slack answers with. */
    readonly channels: Map<string, string>,
  ) {}

  private server = http.createServer(async (req, res) => {
    const body = await readJson(req);
    const method = (req.url ?? '').replace(/^\/api\//, '');
    const call: SlackCall = { method, at: Date.now(), auth: req.headers.authorization, body, status: 200 };
    this.calls.push(call);
    const answer = (status: number, json: Record<string, unknown>, headers: http.OutgoingHttpHeaders = {}) => {
      call.status = status;
      if (json.ok === false) call.error = String(json.error);
      res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', ...headers });
      res.end(JSON.stringify(json));
    };
    if (this.rateLimit.times > 0 && (!this.rateLimit.method || this.rateLimit.method === method)) {
      this.rateLimit.times--;
      return answer(429, { ok: false, error: 'ratelimited' }, { 'retry-after': this.rateLimit.retryAfter });
    }
    if (req.headers.authorization !== `Bearer ${this.token}`) return answer(200, { ok: false, error: 'invalid_auth' });
    const problems = slackLimitProblems(body);
    if (problems.length) return answer(200, { ok: false, error: problems.some((p) => p.startsWith('text')) ? 'msg_too_long' : 'invalid_blocks', detail: problems.join(', ') });
    if (method === 'chat.postMessage') {
      const channel = this.channels.get(body.channel);
      if (!channel) return answer(200, { ok: false, error: 'channel_not_found' });
      if (body.thread_ts && !this.messages.has(body.thread_ts)) return answer(200, { ok: false, error: 'thread_not_found' });
      const ts = `1700000000.${String(++this.seq).padStart(6, '0')}`;
      this.messages.set(ts, { channel, ts, text: body.text, blocks: body.blocks ?? [], thread_ts: body.thread_ts, versions: [] });
      return answer(200, { ok: true, channel, ts, message: { text: body.text, ts } });
    }
    if (method === 'chat.update') {
      const m = this.messages.get(body.ts);
      if (!m || m.channel !== body.channel) return answer(200, { ok: false, error: 'message_not_found' });
      m.versions.push({ text: body.text, blocks: body.blocks ?? [] });
      return answer(200, { ok: true, channel: m.channel, ts: m.ts, text: body.text });
    }
    return answer(200, { ok: false, error: 'unknown_method' });
  });

  async start(): Promise<string> {
    this.url = `${await listen(this.server)}/api`;
    return this.url;
  }

  /** Top-level messages (not thread replies). */
  roots(): SlackPost[] {
    return [...this.messages.values()].filter((m) => !m.thread_ts);
  }

  replies(ts: string): SlackPost[] {
    return [...this.messages.values()].filter((m) => m.thread_ts === ts);
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

export interface PagerDutyCall {
  at: number;
  body: any;
  status: number;
}

export class FakePagerDuty {
  readonly calls: PagerDutyCall[] = [];
  /** The next n requests answer 429 (PagerDuty's throttle), then 500 for `failures` more. */
  throttle = 0;
  failures = 0;
  url = '';

  constructor(readonly routingKey: string) {}

  private server = http.createServer(async (req, res) => {
    const body = await readJson(req);
    const call: PagerDutyCall = { at: Date.now(), body, status: 202 };
    this.calls.push(call);
    const answer = (status: number, json?: Record<string, unknown>) => {
      call.status = status;
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(json ? JSON.stringify(json) : '');
    };
    if (this.throttle > 0) {
      this.throttle--;
      return answer(429, { status: 'throttle event', message: 'Requests for this service are arriving too quickly.' });
    }
    if (this.failures > 0) {
      this.failures--;
      return answer(500);
    }
    const errors: string[] = [];
    if (body?.routing_key !== this.routingKey) errors.push('Invalid routing key');
    if (!['trigger', 'acknowledge', 'resolve'].includes(body?.event_action)) errors.push("'event_action' is invalid");
    if (!body?.dedup_key && body?.event_action !== 'trigger') errors.push("'dedup_key' is required");
    if (body?.event_action === 'trigger') {
      const p = body.payload ?? {};
      if (!p.summary || !p.source || !['critical', 'error', 'warning', 'info'].includes(p.severity)) errors.push("'payload' is invalid or missing");
      if (typeof p.summary === 'string' && p.summary.length > 1024) errors.push("'payload.summary' is too long");
    }
    if (errors.length) return answer(400, { status: 'invalid event', message: 'Event object is invalid', errors });
    return answer(202, { status: 'success', message: 'Event processed', dedup_key: body.dedup_key });
  });

  async start(): Promise<string> {
    this.url = `${await listen(this.server)}/v2/enqueue`;
    return this.url;
  }

  accepted(): PagerDutyCall[] {
    return this.calls.filter((c) => c.status === 202);
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
