/**
 * sendGroupedAlert: one message per channel naming several retailers that fire (or resolve) the same rule
 * within the fleet's group window, so a fleet-wide outage is a couple of POSTs, not one per retailer (and
 * never Slack's rate limit). Same outcome/throw contract and heartbeats as the single-alert activities.
 */
import type { MonitorConfig } from '../config';
import type { AlertEvent } from '../rules/types';
import { createEmailDelivery } from './email';
import { createSlackDelivery } from './slack';
import type { AlertActivities, Channel, DeliveryOutcome } from './types';
import { createWebhookDelivery } from './webhook';

export function createGroupedAlertActivities(config: MonitorConfig): Pick<AlertActivities, 'sendGroupedAlert'> {
  const slack = createSlackDelivery(config);
  const webhook = createWebhookDelivery(config);
  const email = createEmailDelivery(config);
  const configured = (channel: Channel): boolean =>
    channel === 'slack' ? !!config.alerts.slackWebhookUrl : channel === 'webhook' ? !!config.alerts.webhookUrl : !!config.alerts.email;

  return {
    async sendGroupedAlert({ channel, events }: { channel: Channel; events: AlertEvent[] }): Promise<DeliveryOutcome> {
      if (!configured(channel)) return { channel, status: 'not_configured' };
      // Silenced events are never meant to come here; filtering again means none can leak out.
      const loud = events.filter((e) => !e.silenced);
      if (loud.length === 0) return { channel, status: 'silenced' };
      return channel === 'slack' ? slack.group(loud) : channel === 'webhook' ? webhook.group(loud) : email.group(loud);
    },
  };
}
