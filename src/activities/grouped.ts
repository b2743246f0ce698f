/**
 * sendGroupedAlert: one message per channel naming several retailers that fire (or resolve) the same rule
 * within the fleet's group window, so a fleet-wide outage is a couple of POSTs, not one per retailer (and
 * never Slack's rate limit). Same outcome/throw contract and heartbeats as the single-alert activities.
 * The console channel prints a group as one line per event (each line names one retailer and incident).
 */
import { configuredChannels, type MonitorConfig } from '../config';
import type { AlertEvent } from '../rules/types';
import { createConsoleDelivery, type ConsoleSink } from './console';
import { createEmailDelivery } from './email';
import { createPagerDutyDelivery } from './pagerduty';
import { createSlackDelivery } from './slack';
import type { SlackMessageStore } from './slack-messages';
import type { AlertActivities, Channel, DeliveryOutcome } from './types';
import { createWebhookDelivery } from './webhook';

/** `consoleOut`: where the console channel prints (default process.stdout); `slackStore`: Slack bot mode's messages. */
export function createGroupedAlertActivities(config: MonitorConfig, consoleOut?: ConsoleSink, slackStore?: SlackMessageStore): Pick<AlertActivities, 'sendGroupedAlert'> {
  const deliveries = new Map<Channel, { group(events: AlertEvent[]): Promise<DeliveryOutcome> }>([
    ['slack', createSlackDelivery(config, slackStore)],
    ['pagerduty', createPagerDutyDelivery(config)],
    ['webhook', createWebhookDelivery(config)],
    ['email', createEmailDelivery(config)],
    ['console', createConsoleDelivery(config, consoleOut)],
  ]);
  const on = new Set<Channel>(configuredChannels(config));

  return {
    async sendGroupedAlert({ channel, events }: { channel: Channel; events: AlertEvent[] }): Promise<DeliveryOutcome> {
      const delivery = deliveries.get(channel);
      if (!delivery || !on.has(channel)) return { channel, status: 'not_configured' };
      // Silenced events are never meant to come here; filtering again means none can leak out.
      const loud = events.filter((e) => !e.silenced);
      if (loud.length === 0) return { channel, status: 'silenced' };
      return delivery.group(loud);
    },
  };
}
