/**
 * An AlertEvent as a PagerDuty Events API v2 event (https://developer.pagerduty.com/docs/events-api-v2/trigger-events/):
 * fire and re-notify are `trigger`, acknowledge and resolve what they say, all with `dedup_key` = incident id,
 * so PagerDuty keeps one incident per monitor incident. Pure; the routing key is added by the activity.
 */
import type { AlertEvent } from '../rules/types';
import { alertCommands, alertFigures, alertLinks, alertTitle, clip, iso, remediationSteps, RULE_LABELS, workflowUrl, type FormatContext } from './format';

export type PagerDutyAction = 'trigger' | 'acknowledge' | 'resolve';
export type PagerDutySeverity = 'critical' | 'error' | 'warning' | 'info';

const ACTION: Record<AlertEvent['kind'], PagerDutyAction> = { fire: 'trigger', renotify: 'trigger', acknowledge: 'acknowledge', resolve: 'resolve' };

/** Severity per rule id (a Map, with a fallback, so a rule added later still maps). */
export const PAGERDUTY_SEVERITY = new Map<string, PagerDutySeverity>([
  ['consecutive_failures', 'error'],
  ['stale', 'error'],
  ['missed_run', 'error'],
  ['sku_drop', 'warning'],
  ['promo_drop', 'warning'],
  ['run_duration', 'warning'],
]);

/** PagerDuty's limits: summary 1024 characters, dedup_key 255. */
export const PAGERDUTY_LIMITS = { summary: 1024, dedupKey: 255 } as const;

export interface PagerDutyEvent {
  event_action: PagerDutyAction;
  dedup_key: string;
  payload?: {
    summary: string;
    source: string;
    severity: PagerDutySeverity;
    timestamp: string;
    component: string;
    group: string;
    class: string;
    custom_details: Record<string, unknown>;
  };
  links?: Array<{ href: string; text: string }>;
  client: string;
  client_url: string;
}

export function toPagerDutyEvent(event: AlertEvent, ctx: FormatContext): PagerDutyEvent {
  const action = ACTION[event.kind];
  const base = {
    event_action: action,
    dedup_key: clip(event.incidentId, PAGERDUTY_LIMITS.dedupKey),
    client: 'ingestion-monitor',
    client_url: workflowUrl(ctx, `${ctx.retailerWorkflowIdPrefix}${event.retailer}`),
  };
  if (action !== 'trigger') return base;
  return {
    ...base,
    payload: {
      summary: clip(`${alertTitle(event)}: ${event.summary}`.replace(/\s+/g, ' '), PAGERDUTY_LIMITS.summary),
      source: `ingestion-monitor/${event.retailer}`,
      severity: PAGERDUTY_SEVERITY.get(event.rule) ?? 'warning',
      timestamp: iso(event.at),
      component: event.retailer,
      group: event.rule,
      class: RULE_LABELS[event.rule] ?? event.rule,
      custom_details: {
        incident: event.incidentId,
        event: event.eventId,
        retailer: event.retailer,
        rule: event.rule,
        summary: event.summary,
        // Label/value pairs as entries, so a label can never become a special key.
        figures: Object.fromEntries(alertFigures(event).map((f) => [f.label, f.value])),
        remediation: remediationSteps(event),
        commands: alertCommands(event, ctx),
        ...(event.diagnosis ? { likely_cause: event.diagnosis } : {}),
      },
    },
    links: alertLinks(event, ctx).map((l) => ({ href: l.url, text: l.label })),
  };
}
