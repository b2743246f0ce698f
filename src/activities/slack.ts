/**
 * Slack delivery. Bot mode (SLACK_BOT_TOKEN + SLACK_CHANNEL, slack-bot.ts) posts once per incident and updates
 * that message in place; it wins when SLACK_WEBHOOK_URL is set too. Otherwise the incoming webhook posts one
 * message per alert. Classification, heartbeats and secret hygiene live in http.ts.
 */
import type { MonitorConfig } from '../config';
import { formatContextFrom, toSlackMessage } from '../alerts/format';
import { toGroupedSlackMessage } from '../alerts/grouped-format';
import type { AlertEvent } from '../rules/types';
import { postAlert } from './http';
import { createSlackBotDelivery } from './slack-bot';
import type { SlackMessageStore } from './slack-messages';
import type { AlertActivities, DeliveryOutcome } from './types';

/**
 * Slack delivery of one event or of a group; the activities below and grouped.ts share it. `store` keeps each
 * incident's message for bot mode (Postgres in the worker).
 */
export function createSlackDelivery(config: MonitorConfig, store?: SlackMessageStore) {
  const ctx = formatContextFrom(config);
  const url = config.alerts.slackWebhookUrl;
  const bot = config.alerts.slackBot;
  const botDelivery = bot && store ? createSlackBotDelivery(config, bot, store) : undefined;
  const post = (body: unknown): Promise<DeliveryOutcome> =>
    url
      ? postAlert({ channel: 'slack', label: 'Slack', url, body, timeoutMs: config.alerts.httpTimeoutMs })
      : Promise.resolve({ channel: 'slack', status: 'not_configured' });
  const noStore: DeliveryOutcome = { channel: 'slack', status: 'failed', detail: 'Slack bot mode needs the monitor database (slack_messages)' };
  return {
    async one(event: AlertEvent): Promise<DeliveryOutcome> {
      if (!url && !bot) return { channel: 'slack', status: 'not_configured' };
      // The workflow records silenced events; checking here too means a caller can never leak one out.
      if (event.silenced) return { channel: 'slack', status: 'silenced' };
      if (bot) return botDelivery ? botDelivery.one(event) : noStore;
      return post(toSlackMessage(event, ctx));
    },
    /** `events` already filtered of silenced ones and non-empty. */
    async group(events: AlertEvent[]): Promise<DeliveryOutcome> {
      if (bot) return botDelivery ? botDelivery.group(events) : noStore;
      return post(toGroupedSlackMessage(events, ctx));
    },
  };
}

export function createSlackActivities(config: MonitorConfig, store?: SlackMessageStore): Pick<AlertActivities, 'sendSlackAlert'> {
  const slack = createSlackDelivery(config, store);
  return { sendSlackAlert: (event: AlertEvent) => slack.one(event) };
}
