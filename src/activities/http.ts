/**
 * POST a JSON alert and classify the answer the way Temporal needs it:
 *   2xx                  → delivered outcome
 *   429                  → retryable ApplicationFailure with nextRetryDelay from Retry-After
 *   408 / 5xx / network  → retryable ApplicationFailure (the activity retry policy backs off)
 *   other 3xx / 4xx      → failed outcome, returned not thrown: retrying a bad payload or a revoked
 *                          webhook only delays the record of the failure.
 * The webhook URL is the credential (Slack's /services/T…/B…/<secret>), so no message, detail, error or log
 * built here contains it; axios errors carry `config.url`, so they are never rethrown or used as `cause`.
 */
import axios, { type AxiosResponse } from 'axios';
import { ApplicationFailure, Context } from '@temporalio/activity';
import type { Channel, DeliveryOutcome } from './types';

/** Error type names, for a workflow retry policy or for logs. */
export const errorTypes = (prefix: string) => ({ rateLimited: `${prefix}RateLimited`, unavailable: `${prefix}Unavailable` });

const DEFAULT_RETRY_AFTER_MS = 1_000;
/** A huge or bogus Retry-After must not park an alert for days; the activity's schedule-to-close bounds it too. */
const MAX_RETRY_AFTER_MS = 15 * 60_000;
const BODY_EXCERPT = 200;

/** The current activity context, or undefined when called directly (scripts, unit tests). */
export function currentContext(): Context | undefined {
  try {
    return Context.current();
  } catch {
    return undefined;
  }
}

/**
 * Heartbeat interval while a request is in flight: well under a second, so a workflow can give the alert
 * activities a heartbeatTimeout of a few seconds and a dead worker's alert is retried that soon (the SDK
 * throttles what actually reaches the server).
 */
export const HEARTBEAT_EVERY_MS = 500;

/** Runs `work`, heartbeating every HEARTBEAT_EVERY_MS while it is in flight (only inside an activity). */
export async function heartbeating<T>(work: () => Promise<T>): Promise<T> {
  const ctx = currentContext();
  if (!ctx) return work();
  ctx.heartbeat();
  const timer = setInterval(() => ctx.heartbeat(), HEARTBEAT_EVERY_MS);
  try {
    return await work();
  } finally {
    clearInterval(timer);
  }
}

export function currentAttempt(): number {
  return currentContext()?.info.attempt ?? 1;
}

/** Retry-After is either delta-seconds or an HTTP date (RFC 9110 §10.2.3). */
export function parseRetryAfter(header: unknown, now = Date.now()): number {
  if (typeof header !== 'string' || !header.trim()) return DEFAULT_RETRY_AFTER_MS;
  const v = header.trim();
  let ms: number;
  if (/^\d+(\.\d+)?$/.test(v)) ms = Number(v) * 1000;
  else {
    const at = Date.parse(v);
    if (Number.isNaN(at)) return DEFAULT_RETRY_AFTER_MS;
    ms = at - now;
  }
  return Math.min(Math.max(ms, 0) || DEFAULT_RETRY_AFTER_MS, MAX_RETRY_AFTER_MS);
}

/** The forms in which a server might echo the URL back (full, path with query, path), longest first. */
function secretForms(url: string): string[] {
  try {
    const u = new URL(url);
    return [url, u.href, `${u.pathname}${u.search}`, u.pathname, u.password].filter((s) => s.length > 1);
  } catch {
    return [url];
  }
}

/** A short, single-line excerpt of a response body, with the URL (and other secrets) scrubbed in case the server echoes them. */
function excerpt(body: unknown, url: string, secrets: string[] = []): string {
  let s = typeof body === 'string' ? body : body === undefined || body === null ? '' : JSON.stringify(body);
  for (const secret of [...secrets.filter((x) => x.length >= 3), ...secretForms(url)]) s = s.split(secret).join('[redacted]');
  return s.replace(/\s+/g, ' ').trim().slice(0, BODY_EXCERPT);
}

export interface PostOptions {
  channel: Channel;
  /** Human name used in messages, e.g. 'Slack'; also the ApplicationFailure type prefix. */
  label: string;
  url: string;
  body: unknown;
  timeoutMs: number;
  headers?: Record<string, string>;
  /** More secrets to scrub from anything reported (a token in a header, a routing key in the body). */
  secrets?: string[];
}

export interface JsonAnswer {
  status: number;
  /** The raw response text. */
  text: string;
  headers: AxiosResponse['headers'];
  /** A short excerpt of the body with every secret scrubbed, safe for outcomes and logs. */
  excerpt: string;
}

/**
 * POST `o.body` as JSON and return the answer whatever its status; only a network problem or timeout throws
 * (a retryable `<label>Unavailable`, never carrying the URL). Heartbeats while in flight.
 */
export async function postJson(o: PostOptions): Promise<JsonAnswer> {
  const types = errorTypes(o.label);
  const ctx = currentContext();
  let res: AxiosResponse<string>;
  try {
    res = await heartbeating(() => axios.post<string>(o.url, o.body, {
      timeout: o.timeoutMs,
      headers: { 'Content-Type': 'application/json', 'User-Agent': 'ingestion-monitor', ...o.headers },
      // Keep the raw text: Slack answers errors as plain text (`invalid_payload`), and we only excerpt it.
      responseType: 'text',
      transformResponse: [(d: string) => d],
      // Classify every status ourselves instead of catching axios' URL-bearing error.
      validateStatus: () => true,
      // A redirecting webhook is a misconfiguration; following it would send the alert somewhere unvetted.
      maxRedirects: 0,
      // Activity cancellation (workflow cancelled, heartbeat timeout) aborts the request.
      signal: ctx?.cancellationSignal,
    }));
  } catch (err) {
    if (ctx?.cancellationSignal.aborted) throw ctx.cancellationSignal.reason ?? err;
    const code = (err as { code?: unknown }).code;
    const message =
      code === 'ECONNABORTED' || code === 'ETIMEDOUT'
        ? `${o.label} did not answer within ${o.timeoutMs} ms`
        : `${o.label} unreachable${typeof code === 'string' ? ` (${code})` : ''}`;
    throw ApplicationFailure.create({ type: types.unavailable, message, nonRetryable: false });
  }
  const text = typeof res.data === 'string' ? res.data : '';
  return { status: res.status, text, headers: res.headers, excerpt: excerpt(res.data, o.url, o.secrets) };
}

/** 429 → retryable with nextRetryDelay from Retry-After; 408 / 5xx → retryable; otherwise nothing. */
export function throwIfRetryable(o: Pick<PostOptions, 'label'>, answer: JsonAnswer, detail: string): void {
  const types = errorTypes(o.label);
  if (answer.status === 429) {
    const delay = parseRetryAfter(answer.headers['retry-after']);
    throw ApplicationFailure.create({
      type: types.rateLimited,
      message: `${o.label} rate limited (${detail}); retrying in ${delay} ms`,
      nonRetryable: false,
      nextRetryDelay: delay,
    });
  }
  if (answer.status === 408 || answer.status >= 500) {
    const retryAfter = answer.headers['retry-after'];
    throw ApplicationFailure.create({
      type: types.unavailable,
      message: `${o.label} unavailable (${detail})`,
      nonRetryable: false,
      // A 503 may say when to come back; otherwise leave the backoff to the retry policy.
      nextRetryDelay: retryAfter ? parseRetryAfter(retryAfter) : undefined,
    });
  }
}

/** A permanent failure as an outcome (returned, not thrown, so Temporal will not log it: say it here). */
export function failedOutcome(channel: Channel, detail: string): DeliveryOutcome {
  currentContext()?.log.warn('Alert delivery failed permanently', { channel, detail });
  return { channel, status: 'failed', attempts: currentAttempt(), detail };
}

export async function postAlert(o: PostOptions): Promise<DeliveryOutcome> {
  const answer = await postJson(o);
  const detail = `HTTP ${answer.status}${answer.excerpt ? ` ${answer.excerpt}` : ''}`;
  if (answer.status >= 200 && answer.status < 300) return { channel: o.channel, status: 'delivered', attempts: currentAttempt() };
  throwIfRetryable(o, answer, detail);
  return failedOutcome(o.channel, detail);
}
