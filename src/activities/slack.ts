/** Slack incoming-webhook delivery. Classification and secret hygiene live in http.ts. */
import type { MonitorConfig } from '../config';
import { formatContextFrom, toSlackMessage } from '../alerts/format';
import type { AlertEvent } from '../rules/types';
import { postAlert } from './http';
import type { AlertActivities, DeliveryOutcome } from './types';

export function createSlackActivities(config: MonitorConfig): Pick<AlertActivities, 'sendSlackAlert'> {
  const ctx = formatContextFrom(config);
  return {
    async sendSlackAlert(event: AlertEvent): Promise<DeliveryOutcome> {
      const url = config.alerts.slackWebhookUrl;
      if (!url) return { channel: 'slack', status: 'not_configured' };
      // The workflow records silenced events; checking here too means a caller can never leak one out.
      if (event.silenced) return { channel: 'slack', status: 'silenced' };
      return postAlert({ channel: 'slack', label: 'Slack', url, body: toSlackMessage(event, ctx), timeoutMs: config.alerts.httpTimeoutMs });
    },
  };
}
