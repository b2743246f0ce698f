/**
 * One message naming several retailers that fire (or resolve) the same rule within the fleet's group window:
 * "+14 retailers stale: …". Pure, like format.ts. Every retailer is always named: when the one-line summaries
 * do not fit Slack's block limits, the names go comma-separated instead.
 */
import type { AlertEvent, RuleId } from '../rules/types';
import {
  clip,
  escapeHtml,
  KIND_PREFIX,
  mrkdwn,
  remediationSteps,
  RULE_LABELS,
  stepsHeading,
  SLACK_LIMITS,
  slackUrl,
  toWebhookPayload,
  workflowUrl,
  type EmailContent,
  type FormatContext,
  type Link,
  type WebhookPayload,
} from './format';

const RULE_PHRASE: Record<RuleId, { open: string; resolved: string }> = {
  consecutive_failures: { open: 'failing repeatedly', resolved: 'recovered from repeated failures' },
  stale: { open: 'stale', resolved: 'no longer stale' },
  sku_drop: { open: 'with a SKU count drop', resolved: 'back to normal SKU counts' },
  promo_drop: { open: 'with a promo count drop', resolved: 'back to normal promo counts' },
  run_duration: { open: 'with runs far longer than usual', resolved: 'back to usual run durations' },
  missed_run: { open: 'missing a scheduled run', resolved: 'reporting scheduled runs again' },
};

/** Summaries quoted per retailer are cut to this many characters (one line each). */
const LINE_SUMMARY_MAX = 200;

/** Sorted by retailer, so every channel lists them in the same order. */
function sorted(events: AlertEvent[]): AlertEvent[] {
  return [...events].sort((a, b) => (a.retailer < b.retailer ? -1 : a.retailer > b.retailer ? 1 : a.eventId < b.eventId ? -1 : 1));
}

/** Each retailer once, in order. */
export function groupRetailers(events: AlertEvent[]): string[] {
  return [...new Set(sorted(events).map((e) => e.retailer))];
}

/** "+14 retailers stale", "+3 retailers no longer stale". The rule and kind are the first event's. */
export function groupHeadline(events: AlertEvent[]): string {
  const first = events[0];
  if (!first) return 'no retailers';
  const n = groupRetailers(events).length;
  const phrase = RULE_PHRASE[first.rule];
  const state =
    first.kind === 'resolve' ? phrase.resolved : first.kind === 'renotify' ? `still ${phrase.open}` : first.kind === 'acknowledge' ? `${phrase.open} (acknowledged)` : phrase.open;
  return `+${n} retailer${n === 1 ? '' : 's'} ${state}`;
}

export function groupTitle(events: AlertEvent[]): string {
  const first = events[0];
  return first ? `${KIND_PREFIX[first.kind]}: ${groupHeadline(events)} (${RULE_LABELS[first.rule]})` : groupHeadline(events);
}

const oneLine = (s: string, max: number) => clip(s.replace(/\s+/g, ' ').trim(), max);

export function groupLinks(ctx: FormatContext): Link[] {
  const links: Link[] = [{ label: 'Fleet monitor workflow', url: workflowUrl(ctx, ctx.monitorWorkflowId) }];
  if (ctx.dashboardUrl) links.push({ label: 'Dashboard', url: ctx.dashboardUrl });
  return links;
}

export const groupCommand = (ctx: FormatContext) => `${ctx.cliCommand} incidents`;

/** What to do about the group: the rule's steps (the per-retailer replay/ack/silence commands are in `incidents`). */
export const groupSteps = (events: AlertEvent[]): string[] => (events[0] ? remediationSteps(events[0]) : []);

/** Greedy packing of `items` joined by `sep` into chunks of at most `max` characters (an item alone is clipped). */
export function packText(items: string[], sep: string, max: number): string[] {
  const out: string[] = [];
  let cur = '';
  for (const raw of items) {
    const item = clip(raw, max);
    if (!cur) cur = item;
    else if (cur.length + sep.length + item.length <= max) cur += sep + item;
    else {
      out.push(cur);
      cur = item;
    }
  }
  if (cur) out.push(cur);
  return out;
}

// ---------------------------------------------------------------------------------------------- Slack

/**
 * Names comma-separated in sections of Slack's size; past `maxSections` (thousands of retailers) the last
 * section says how many are left out of the blocks (the message's top-level text still names them).
 */
function packNames(names: string[], maxSections: number): string[] {
  const sections = packText(names, ', ', SLACK_LIMITS.sectionText);
  if (sections.length <= maxSections) return sections;
  const kept = sections.slice(0, maxSections - 1);
  const shown = kept.reduce((n, s) => n + s.split(', ').length, 0); // slugs never hold ', '
  return [...kept, `… and ${names.length - shown} more`];
}

/** `prefix` and as many names as fit in `max` characters, then "… and N more". */
export function namesWithin(prefix: string, names: string[], max: number): string {
  let out = prefix;
  for (let i = 0; i < names.length; i++) {
    const item = `${i ? ', ' : ''}${names[i]}`;
    const rest = names.length - i - 1;
    // Room for this name and, if any are left, the longest possible tail.
    const tail = rest > 0 ? ` … and ${names.length} more`.length : 0;
    if (out.length + item.length + tail > max) return clip(`${out} … and ${names.length - i} more`, max);
    out += item;
  }
  return clip(out, max);
}

export function toGroupedSlackMessage(events: AlertEvent[], ctx: FormatContext): Record<string, unknown> {
  const list = sorted(events);
  const title = groupTitle(list);
  const names = groupRetailers(list);
  const lines = list.map((e) => `• *${mrkdwn(e.retailer)}* — ${mrkdwn(oneLine(e.summary, LINE_SUMMARY_MAX))}`).join('\n');
  // Header, remediation and context take three blocks; the rest may hold the list.
  const maxSections = SLACK_LIMITS.blocks - 3;
  const steps = groupSteps(list).map((s, i) => `${i + 1}. ${mrkdwn(s)}`);
  const sections = lines.length <= SLACK_LIMITS.sectionText ? [lines] : packNames(names.map(mrkdwn), maxSections);
  const links = groupLinks(ctx).map((l) => `<${slackUrl(l.url)}|${mrkdwn(l.label)}>`);
  return {
    // Every text field within 3,000 characters: past that the top-level text names as many as fit, then a count.
    text: namesWithin(mrkdwn(`${title}: `), names.map(mrkdwn), SLACK_LIMITS.sectionText),
    blocks: [
      { type: 'header', text: { type: 'plain_text', text: clip(title, SLACK_LIMITS.headerText), emoji: true } },
      ...sections.map((text) => ({ type: 'section', text: { type: 'mrkdwn', text } })),
      { type: 'section', text: { type: 'mrkdwn', text: clip(`*${stepsHeading(list[0]!)}*\n${steps.join('\n')}`, SLACK_LIMITS.sectionText) } },
      {
        type: 'context',
        elements: [
          { type: 'mrkdwn', text: clip(links.join('  •  '), SLACK_LIMITS.sectionText) },
          { type: 'mrkdwn', text: clip(`\`${mrkdwn(groupCommand(ctx))}\``, SLACK_LIMITS.sectionText) },
        ],
      },
    ],
  };
}

// -------------------------------------------------------------------------------------------- Webhook

export interface GroupedWebhookPayload {
  type: 'ingestion-monitor.alert-group';
  version: 1;
  /** Derived from the sorted event ids; also sent as the Idempotency-Key header. */
  groupId: string;
  kind: AlertEvent['kind'];
  rule: RuleId;
  ruleLabel: string;
  title: string;
  headline: string;
  count: number;
  retailers: string[];
  eventIds: string[];
  /** Each event as the single-alert webhook would have sent it. */
  alerts: WebhookPayload[];
  links: Link[];
}

export function toGroupedWebhookPayload(events: AlertEvent[], ctx: FormatContext, groupId: string): GroupedWebhookPayload {
  const list = sorted(events);
  const first = list[0];
  if (!first) throw new Error('a grouped alert needs at least one event');
  return {
    type: 'ingestion-monitor.alert-group',
    version: 1,
    groupId,
    kind: first.kind,
    rule: first.rule,
    ruleLabel: RULE_LABELS[first.rule],
    title: groupTitle(list),
    headline: groupHeadline(list),
    count: groupRetailers(list).length,
    retailers: groupRetailers(list),
    eventIds: list.map((e) => e.eventId),
    alerts: list.map((e) => toWebhookPayload(e, ctx)),
    links: groupLinks(ctx),
  };
}

// ---------------------------------------------------------------------------------------------- Email

export function toGroupedEmail(events: AlertEvent[], ctx: FormatContext): EmailContent {
  const list = sorted(events);
  const title = groupTitle(list);
  const links = groupLinks(ctx);
  const text = [
    title,
    '',
    ...list.map((e) => `- ${e.retailer}: ${oneLine(e.summary, LINE_SUMMARY_MAX)}`),
    '',
    `${stepsHeading(list[0]!)}:`,
    ...groupSteps(list).map((s, i) => `  ${i + 1}. ${s}`),
    '',
    'Commands:',
    `  ${groupCommand(ctx)}`,
    '',
    'Links:',
    ...links.map((l) => `  ${l.label}: ${l.url}`),
  ].join('\n');
  const h = escapeHtml;
  const html = [
    `<h2>${h(title)}</h2>`,
    '<table>',
    ...list.map((e) => `<tr><th align="left">${h(e.retailer)}</th><td>${h(oneLine(e.summary, LINE_SUMMARY_MAX))}</td></tr>`),
    '</table>',
    `<h3>${stepsHeading(list[0]!)}</h3>`,
    `<ol>${groupSteps(list).map((s) => `<li>${h(s)}</li>`).join('')}</ol>`,
    '<h3>Commands</h3>',
    `<pre>${h(groupCommand(ctx))}</pre>`,
    `<p>${links.map((l) => `<a href="${h(l.url)}">${h(l.label)}</a>`).join(' · ')}</p>`,
  ].join('\n');
  return { subject: clip(`[ingestion-monitor] ${title}`.replace(/[\r\n]+/g, ' '), 200), text, html };
}
