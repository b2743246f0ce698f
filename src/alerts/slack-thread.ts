/**
 * Slack bot mode's thread replies: the incident's message is rewritten in place (toSlackMessage) and each
 * re-notify / acknowledge / resolve also leaves a short reply in its thread, so the channel shows the current
 * state and the thread its history. Pure, like format.ts; within Slack's limits (one section, one context).
 */
import type { AlertEvent } from '../rules/types';
import { alertCommands, clip, commandList, iso, KIND_PREFIX, mrkdwn, SLACK_LIMITS } from './format';
import type { FormatContext } from './format';
import { groupRetailers, namesWithin } from './grouped-format';

export type SlackText = Record<string, unknown> & {
  text: string;
  blocks: Array<Record<string, unknown>>;
};

/** "✅ RESOLVED at 2026-11-27T10:00:00.000Z — checkers: run … succeeded", with the commands that still apply. */
export function toSlackThreadReply(event: AlertEvent, ctx: FormatContext): SlackText {
  const line = `*${KIND_PREFIX[event.kind]}* at ${iso(event.at)} — ${mrkdwn(event.summary)}`;
  const commands = commandList(alertCommands(event, ctx)).map((c) => `\`${mrkdwn(c)}\``);
  return {
    text: clip(mrkdwn(`${KIND_PREFIX[event.kind]}: ${event.summary}`), SLACK_LIMITS.sectionText),
    blocks: [
      { type: 'section', text: { type: 'mrkdwn', text: clip(line, SLACK_LIMITS.sectionText) } },
      { type: 'context', elements: [{ type: 'mrkdwn', text: clip(commands.join('  •  '), SLACK_LIMITS.sectionText) }] },
    ],
  };
}

/** One reply in a grouped message's thread for several of its incidents (same kind): names them all, within limits. */
export function toGroupedThreadReply(events: AlertEvent[]): SlackText {
  const first = events[0];
  const prefix = first ? `${KIND_PREFIX[first.kind]}: ` : '';
  const text = namesWithin(mrkdwn(prefix), groupRetailers(events).map(mrkdwn), SLACK_LIMITS.sectionText);
  return { text, blocks: [{ type: 'section', text: { type: 'mrkdwn', text } }] };
}
