/**
 * Slack bot mode (SLACK_BOT_TOKEN + SLACK_CHANNEL): an incident's fire is posted with chat.postMessage, and
 * its re-notify / acknowledge / resolve rewrite that message (chat.update) and reply in its thread. The
 * message of each incident is remembered in Postgres (slack-messages.ts), so a retried activity updates
 * rather than posting again.
 *
 * Slack's Web API answers HTTP 200 with `{ ok: false, error }` for most errors:
 *   HTTP 429 (`ratelimited`) → retryable, nextRetryDelay from Retry-After
 *   HTTP 5xx, internal_error, fatal_error, service_unavailable, request_timeout → retryable
 *   anything else (channel_not_found, invalid_auth, not_in_channel, missing_scope …) → a failed outcome with
 *   the reason, returned not thrown: retrying cannot fix a wrong channel or a revoked token.
 * The token travels only in the Authorization header; it is scrubbed from anything reported.
 */
import { ApplicationFailure } from '@temporalio/activity';
import type { MonitorConfig } from '../config';
import { formatContextFrom, toSlackMessage } from '../alerts/format';
import { toGroupedSlackMessage } from '../alerts/grouped-format';
import { toGroupedThreadReply, toSlackThreadReply } from '../alerts/slack-thread';
import type { AlertEvent } from '../rules/types';
import { currentAttempt, errorTypes, failedOutcome, postJson, throwIfRetryable } from './http';
import type { SlackMessageRef, SlackMessageStore } from './slack-messages';
import type { DeliveryOutcome } from './types';

const LABEL = 'Slack';

/** Slack error codes worth another attempt (https://api.slack.com/methods/chat.postMessage#errors). */
const RETRYABLE = new Set(['ratelimited', 'rate_limited', 'internal_error', 'fatal_error', 'service_unavailable', 'request_timeout']);

/** What a person should do about the common permanent errors. */
const ADVICE = new Map<string, string>([
  ['channel_not_found', 'SLACK_CHANNEL does not exist or the app cannot see it: use the channel id (C…) and invite the app to the channel'],
  ['not_in_channel', 'the app is not in SLACK_CHANNEL: /invite the app there'],
  ['is_archived', 'SLACK_CHANNEL is archived'],
  ['invalid_auth', 'SLACK_BOT_TOKEN is not valid: check it (xoxb-…) or reinstall the app'],
  ['not_authed', 'no SLACK_BOT_TOKEN was sent'],
  ['token_revoked', 'SLACK_BOT_TOKEN was revoked: reinstall the app and update the token'],
  ['token_expired', 'SLACK_BOT_TOKEN expired: reinstall the app and update the token'],
  ['account_inactive', 'the app or its workspace was deactivated'],
  ['missing_scope', 'the token lacks the chat:write scope: add it and reinstall the app'],
]);

/** A permanent Slack API error: turned into a failed delivery outcome by the delivery below. */
export class SlackApiError extends Error {
  override readonly name = 'SlackApiError';
  constructor(
    readonly method: string,
    readonly code: string,
  ) {
    super(`Slack ${method}: ${code}${ADVICE.has(code) ? ` (${ADVICE.get(code)})` : ''}`);
  }
}

interface SlackOk {
  ok: true;
  channel?: string;
  ts?: string;
}

export interface SlackBotSettings {
  token: string;
  channel: string;
  apiUrl: string;
  timeoutMs: number;
}

/** One Web API call; returns the `ok: true` answer or throws (retryable ApplicationFailure, or SlackApiError). */
export async function slackCall(s: SlackBotSettings, method: string, body: Record<string, unknown>): Promise<SlackOk> {
  const o = {
    channel: 'slack' as const,
    label: LABEL,
    url: `${s.apiUrl}/${method}`,
    body,
    timeoutMs: s.timeoutMs,
    headers: { Authorization: `Bearer ${s.token}`, 'Content-Type': 'application/json; charset=utf-8' },
    secrets: [s.token],
  };
  const answer = await postJson(o);
  const detail = `${method} HTTP ${answer.status}${answer.excerpt ? ` ${answer.excerpt}` : ''}`;
  throwIfRetryable(o, answer, detail);
  let parsed: { ok?: unknown; error?: unknown; channel?: unknown; ts?: unknown } | undefined;
  try {
    parsed = JSON.parse(answer.text) as typeof parsed;
  } catch {
    parsed = undefined;
  }
  if (!parsed || typeof parsed !== 'object') throw new SlackApiError(method, `unexpected answer (${detail})`);
  if (parsed.ok === true) {
    return { ok: true, ...(typeof parsed.channel === 'string' ? { channel: parsed.channel } : {}), ...(typeof parsed.ts === 'string' ? { ts: parsed.ts } : {}) };
  }
  const code = typeof parsed.error === 'string' ? parsed.error.replace(/[^\w.-]/g, '').slice(0, 80) : 'unknown_error';
  if (RETRYABLE.has(code)) {
    throw ApplicationFailure.create({ type: errorTypes(LABEL).unavailable, message: `Slack ${method}: ${code}; will retry`, nonRetryable: false });
  }
  throw new SlackApiError(method, code);
}

type Message = { text?: unknown; blocks?: unknown } & Record<string, unknown>;

/** Slack bot delivery of one event or of a group; slack.ts picks it when the bot is configured. */
export function createSlackBotDelivery(config: MonitorConfig, bot: NonNullable<MonitorConfig['alerts']['slackBot']>, store: SlackMessageStore) {
  const ctx = formatContextFrom(config);
  const s: SlackBotSettings = { ...bot, timeoutMs: config.alerts.httpTimeoutMs };
  const delivered = (detail: string): DeliveryOutcome => ({ channel: 'slack', status: 'delivered', attempts: currentAttempt(), detail });

  /** Post a new message; its channel id and ts are what later calls use. */
  const post = async (message: Message, threadTs?: string): Promise<{ channel: string; ts: string }> => {
    const res = await slackCall(s, 'chat.postMessage', { channel: s.channel, ...message, ...(threadTs ? { thread_ts: threadTs } : {}), unfurl_links: false, unfurl_media: false });
    if (!res.ts || !res.channel) throw new SlackApiError('chat.postMessage', 'answer without channel or ts');
    return { channel: res.channel, ts: res.ts };
  };

  /** A new message for `events` (one, or a group), remembered for each of their incidents. */
  const postRoot = async (events: AlertEvent[], message: Message): Promise<void> => {
    const at = await post(message);
    await store.put(events.map((e) => ({ incidentId: e.incidentId, ...at, grouped: events.length > 1, lastEventId: e.eventId })));
  };

  /** Rewrite the incident's own message for `event` and reply in its thread (a deleted message is posted anew). */
  const updateInPlace = async (event: AlertEvent, ref: SlackMessageRef): Promise<string> => {
    try {
      await slackCall(s, 'chat.update', { channel: ref.channel, ts: ref.ts, ...toSlackMessage(event, ctx) });
    } catch (err) {
      if (!(err instanceof SlackApiError) || (err.code !== 'message_not_found' && err.code !== 'cant_update_message')) throw err;
      await postRoot([event], toSlackMessage(event, ctx));
      return 'its message was gone: posted anew';
    }
    await post(toSlackThreadReply(event, ctx), ref.ts);
    await store.applied([event]);
    return 'updated in place, replied in thread';
  };

  /** Apply `events` (same kind) to what Slack already shows; returns what was done. */
  const apply = async (events: AlertEvent[], groupMessage: () => Message): Promise<string> => {
    const refs = await store.get(events.map((e) => e.incidentId));
    const todo = events.filter((e) => refs.get(e.incidentId)?.lastEventId !== e.eventId);
    if (todo.length === 0) return 'already applied';
    const fresh = todo.filter((e) => !refs.has(e.incidentId));
    const own = todo.filter((e) => refs.get(e.incidentId)?.grouped === false);
    const inGroups = new Map<string, AlertEvent[]>();
    for (const e of todo) {
      const ref = refs.get(e.incidentId);
      if (ref?.grouped) inGroups.set(ref.ts, [...(inGroups.get(ref.ts) ?? []), e]);
    }
    const done: string[] = [];
    if (fresh.length) {
      await postRoot(fresh, fresh.length === 1 ? toSlackMessage(fresh[0]!, ctx) : groupMessage());
      done.push(fresh.length === 1 ? 'posted' : `posted one message naming ${fresh.length}`);
    }
    for (const e of own) done.push(await updateInPlace(e, refs.get(e.incidentId)!));
    for (const [ts, list] of inGroups) {
      await post(list.length === 1 ? toSlackThreadReply(list[0]!, ctx) : toGroupedThreadReply(list), ts);
      await store.applied(list);
      done.push('replied in the thread of a grouped message');
    }
    return [...new Set(done)].join('; ');
  };

  const outcome = async (work: () => Promise<string>): Promise<DeliveryOutcome> => {
    try {
      return delivered(await work());
    } catch (err) {
      if (err instanceof SlackApiError) return failedOutcome('slack', err.message);
      throw err;
    }
  };

  return {
    one: (event: AlertEvent) => outcome(() => apply([event], () => toSlackMessage(event, ctx))),
    group: (events: AlertEvent[]) => outcome(() => apply(events, () => toGroupedSlackMessage(events, ctx))),
  };
}
