/** Slack incoming-webhook delivery. Classification, heartbeats and secret hygiene live in http.ts. */
import type { MonitorConfig } from '../config';
import { formatContextFrom, toSlackMessage } from '../alerts/format';
import { toGroupedSlackMessage } from '../alerts/grouped-format';
import type { AlertEvent } from '../rules/types';
import { postAlert } from './http';
import type { AlertActivities, DeliveryOutcome } from './types';

/** Slack delivery of one event or of a group; the activities below and grouped.ts share it. */
export function createSlackDelivery(config: MonitorConfig) {
  const ctx = formatContextFrom(config);
  const url = config.alerts.slackWebhookUrl;
  const post = (body: unknown): Promise<DeliveryOutcome> =>
    url
      ? postAlert({ channel: 'slack', label: 'Slack', url, body, timeoutMs: config.alerts.httpTimeoutMs })
      : Promise.resolve({ channel: 'slack', status: 'not_configured' });
  return {
    async one(event: AlertEvent): Promise<DeliveryOutcome> {
      if (!url) return { channel: 'slack', status: 'not_configured' };
      // The workflow records silenced events; checking here too means a caller can never leak one out.
      if (event.silenced) return { channel: 'slack', status: 'silenced' };
      return post(toSlackMessage(event, ctx));
    },
    /** `events` already filtered of silenced ones and non-empty. */
    async group(events: AlertEvent[]): Promise<DeliveryOutcome> {
      return post(toGroupedSlackMessage(events, ctx));
    },
  };
}

export function createSlackActivities(config: MonitorConfig): Pick<AlertActivities, 'sendSlackAlert'> {
  const slack = createSlackDelivery(config);
  return { sendSlackAlert: (event: AlertEvent) => slack.one(event) };
}
