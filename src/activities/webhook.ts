/** Generic JSON webhook delivery (PagerDuty/Opsgenie bridges, n8n, custom receivers). Same contract as Slack. */
import type { MonitorConfig } from '../config';
import { formatContextFrom, toWebhookPayload } from '../alerts/format';
import type { AlertEvent } from '../rules/types';
import { postAlert } from './http';
import type { AlertActivities, DeliveryOutcome } from './types';

export function createWebhookActivities(config: MonitorConfig): Pick<AlertActivities, 'sendWebhookAlert'> {
  const ctx = formatContextFrom(config);
  return {
    async sendWebhookAlert(event: AlertEvent): Promise<DeliveryOutcome> {
      const url = config.alerts.webhookUrl;
      if (!url) return { channel: 'webhook', status: 'not_configured' };
      if (event.silenced) return { channel: 'webhook', status: 'silenced' };
      return postAlert({
        channel: 'webhook',
        label: 'Webhook',
        url,
        body: toWebhookPayload(event, ctx),
        timeoutMs: config.alerts.httpTimeoutMs,
        // A retry after a lost response may deliver twice; receivers can deduplicate on this (also in the body).
        headers: { 'Idempotency-Key': event.eventId },
      });
    },
  };
}
