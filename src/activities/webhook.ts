/** Generic JSON webhook delivery (PagerDuty/Opsgenie bridges, n8n, custom receivers). Same contract as Slack. */
import { createHash } from 'node:crypto';
import type { MonitorConfig } from '../config';
import { formatContextFrom, toWebhookPayload } from '../alerts/format';
import { toGroupedWebhookPayload } from '../alerts/grouped-format';
import type { AlertEvent } from '../rules/types';
import { postAlert } from './http';
import type { AlertActivities, DeliveryOutcome } from './types';

/**
 * The idempotency key of a grouped message: a hash of its sorted event ids, so a retried (or, after a worker
 * crash, repeated) send carries the same key and a receiver can drop the duplicate.
 */
export function groupIdempotencyKey(events: AlertEvent[]): string {
  const ids = events.map((e) => e.eventId).sort();
  return `group-${createHash('sha256').update(ids.join('\n')).digest('hex').slice(0, 32)}`;
}

/** Webhook delivery of one event or of a group; the activities below and grouped.ts share it. */
export function createWebhookDelivery(config: MonitorConfig) {
  const ctx = formatContextFrom(config);
  const url = config.alerts.webhookUrl;
  const post = (body: unknown, key: string): Promise<DeliveryOutcome> =>
    url
      ? postAlert({
          channel: 'webhook',
          label: 'Webhook',
          url,
          body,
          timeoutMs: config.alerts.httpTimeoutMs,
          // A retry after a lost response may deliver twice; receivers can deduplicate on this (also in the body).
          headers: { 'Idempotency-Key': key },
        })
      : Promise.resolve({ channel: 'webhook', status: 'not_configured' });
  return {
    async one(event: AlertEvent): Promise<DeliveryOutcome> {
      if (!url) return { channel: 'webhook', status: 'not_configured' };
      if (event.silenced) return { channel: 'webhook', status: 'silenced' };
      return post(toWebhookPayload(event, ctx), event.eventId);
    },
    /** `events` already filtered of silenced ones and non-empty. */
    async group(events: AlertEvent[]): Promise<DeliveryOutcome> {
      const key = groupIdempotencyKey(events);
      return post(toGroupedWebhookPayload(events, ctx, key), key);
    },
  };
}

export function createWebhookActivities(config: MonitorConfig): Pick<AlertActivities, 'sendWebhookAlert'> {
  const webhook = createWebhookDelivery(config);
  return { sendWebhookAlert: (event: AlertEvent) => webhook.one(event) };
}
