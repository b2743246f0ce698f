/**
 * PagerDuty Events API v2 delivery (PAGERDUTY_ROUTING_KEY): trigger / acknowledge / resolve with
 * dedup_key = incident id, so retries and re-notifications land on the same PagerDuty incident.
 *   202            → delivered
 *   429            → retryable, nextRetryDelay from Retry-After (PagerDuty throttles per routing key)
 *   5xx / network  → retryable, the activity retry policy backs off
 *   400 and others → failed outcome with PagerDuty's reason ("invalid event"), not retried
 * The routing key is in the body only; it is scrubbed from anything reported.
 */
import type { MonitorConfig } from '../config';
import { formatContextFrom } from '../alerts/format';
import { toPagerDutyEvent } from '../alerts/pagerduty-format';
import type { AlertEvent } from '../rules/types';
import { currentAttempt, postAlert } from './http';
import type { AlertActivities, DeliveryOutcome } from './types';

/** Events of a group sent at once (a fleet-wide outage is many incidents; each needs its own dedup_key). */
const GROUP_CONCURRENCY = 8;

export function createPagerDutyDelivery(config: MonitorConfig) {
  const pd = config.alerts.pagerDuty;
  const ctx = formatContextFrom(config);
  const send = (event: AlertEvent): Promise<DeliveryOutcome> =>
    postAlert({
      channel: 'pagerduty',
      label: 'PagerDuty',
      url: pd!.eventsUrl,
      body: { routing_key: pd!.routingKey, ...toPagerDutyEvent(event, ctx) },
      timeoutMs: config.alerts.httpTimeoutMs,
      secrets: [pd!.routingKey],
    });
  return {
    async one(event: AlertEvent): Promise<DeliveryOutcome> {
      if (!pd) return { channel: 'pagerduty', status: 'not_configured' };
      if (event.silenced) return { channel: 'pagerduty', status: 'silenced' };
      return send(event);
    },
    /**
     * One event per incident (PagerDuty has no grouped event); a retry re-sends all of them, which PagerDuty
     * deduplicates by dedup_key. `events` already filtered of silenced ones and non-empty.
     */
    async group(events: AlertEvent[]): Promise<DeliveryOutcome> {
      if (!pd) return { channel: 'pagerduty', status: 'not_configured' };
      const outcomes: DeliveryOutcome[] = [];
      for (let i = 0; i < events.length; i += GROUP_CONCURRENCY) outcomes.push(...(await Promise.all(events.slice(i, i + GROUP_CONCURRENCY).map(send))));
      const failed = outcomes.filter((o) => o.status !== 'delivered');
      if (failed.length === 0) return { channel: 'pagerduty', status: 'delivered', attempts: currentAttempt(), detail: `${events.length} events` };
      return { channel: 'pagerduty', status: 'failed', attempts: currentAttempt(), detail: `${failed.length} of ${events.length} refused: ${failed[0]!.detail ?? ''}`.slice(0, 300) };
    },
  };
}

export function createPagerDutyActivities(config: MonitorConfig): Pick<AlertActivities, 'sendPagerDutyAlert'> {
  const pd = createPagerDutyDelivery(config);
  return { sendPagerDutyAlert: (event: AlertEvent) => pd.one(event) };
}
