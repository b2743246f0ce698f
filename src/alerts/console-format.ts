/**
 * One alert as one line for a terminal (the console channel): readable text, or one JSON object with stable
 * field names for a log pipeline (`LOG_FORMAT=json`). Pure, like format.ts. Retailer-supplied text (summary,
 * last error, diagnosis) can hold anything the report schema let through, so it is folded onto the one line:
 * no newline, carriage return, escape sequence or bidi override can start a forged line or repaint the terminal.
 *
 *   08:46:36 🔴 FIRING        consecutive_failures  pick-n-pay: 2 consecutive failed runs (last error: HTTP 503) — replay: npx ingestion-monitor replay pick-n-pay · ack: npx ingestion-monitor ack pick-n-pay/consecutive_failures/1
 */
import type { AlertEvent } from '../rules/types';
import { humanDuration } from '../rules/retailer-monitor';
import { alertCommands, clip, iso, KIND_PREFIX, remediationSteps, type FormatContext } from './format';

export type ConsoleFormat = 'text' | 'json';

/** Longest free text kept on a line (a scraper's error can be pages long). */
export const CONSOLE_TEXT_MAX = 500;

/** C0/C1 controls (newline, CR, ESC …), Unicode line/paragraph separators and bidi embedding/override/isolate marks. */
const UNSAFE = /[\p{Cc}\p{Zl}\p{Zp}\u200E\u200F\u202A-\u202E\u2066-\u2069]+/gu;

/** `s` folded onto one line (unsafe runs become one space) and clipped. */
export function oneLine(s: string, max = CONSOLE_TEXT_MAX): string {
  return clip(s.replace(UNSAFE, ' ').trim(), max);
}

/** Padded by code points (each kind's emoji is one wide character), so the rule column lines up in a terminal. */
const width = (s: string) => [...s].length;
const KIND_WIDTH = Math.max(...Object.values(KIND_PREFIX).map(width));
const RULE_WIDTH = 'consecutive_failures'.length;
const pad = (s: string, n: number) => s + ' '.repeat(Math.max(0, n - width(s)));

/** The worker's local wall-clock time, HH:MM:SS, like a terminal log. */
const clock = (ms: number): string => new Date(ms).toTimeString().slice(0, 8);

/** The parts shared by both formats, already made one-line safe. */
function parts(event: AlertEvent, ctx: FormatContext) {
  const commands = alertCommands(event, ctx);
  return {
    summary: oneLine(event.summary),
    diagnosis: event.diagnosis ? oneLine(event.diagnosis) : undefined,
    replay: oneLine(commands.replay),
    ack: commands.ack ? oneLine(commands.ack) : undefined,
    silence: commands.silence ? oneLine(commands.silence) : undefined,
    remediation: remediationSteps(event).map((s) => oneLine(s)),
    openFor: event.kind === 'resolve' ? humanDuration(Math.max(0, event.at - event.openedAt)) : undefined,
  };
}

/** The readable line (no trailing newline). */
export function toConsoleText(event: AlertEvent, ctx: FormatContext): string {
  const p = parts(event, ctx);
  const tail: string[] = [];
  if (p.diagnosis) tail.push(`likely cause: ${p.diagnosis}`);
  if (p.openFor) tail.push(`open ${p.openFor}`);
  else {
    tail.push(`next: ${p.remediation[0] ?? ''}`);
    tail.push([`replay: ${p.replay}`, ...(p.ack ? [`ack: ${p.ack}`] : []), ...(p.silence ? [`silence: ${p.silence}`] : [])].join(' · '));
  }
  return `${clock(event.at)} ${pad(KIND_PREFIX[event.kind], KIND_WIDTH)}  ${pad(event.rule, RULE_WIDTH)}  ${p.summary} — ${tail.join(' — ')}`;
}

/** The JSON line's fields (documented in docs: keep the names stable). */
export interface ConsoleAlertJson {
  time: string;
  level: 'warn' | 'info';
  type: 'alert';
  msg: string;
  kind: AlertEvent['kind'];
  rule: AlertEvent['rule'];
  retailer: string;
  incidentId: string;
  eventId: string;
  openedAt: string;
  summary: string;
  diagnosis?: string;
  replay: string;
  ack?: string;
  silence?: string;
  /** What to do, step by step (the same text as Slack and email). */
  remediation: string[];
}

const JSON_MSG: Record<AlertEvent['kind'], string> = { fire: 'alert fired', renotify: 'alert still firing', resolve: 'alert resolved', acknowledge: 'alert acknowledged' };

export function toConsoleJsonObject(event: AlertEvent, ctx: FormatContext): ConsoleAlertJson {
  const p = parts(event, ctx);
  return {
    time: iso(event.at),
    level: event.kind === 'resolve' || event.kind === 'acknowledge' ? 'info' : 'warn',
    type: 'alert',
    msg: JSON_MSG[event.kind],
    kind: event.kind,
    rule: event.rule,
    retailer: oneLine(event.retailer),
    incidentId: oneLine(event.incidentId),
    eventId: oneLine(event.eventId),
    openedAt: iso(event.openedAt),
    summary: p.summary,
    ...(p.diagnosis ? { diagnosis: p.diagnosis } : {}),
    replay: p.replay,
    ...(p.ack ? { ack: p.ack } : {}),
    ...(p.silence ? { silence: p.silence } : {}),
    remediation: p.remediation,
  };
}

/** One line in the chosen format, without the trailing newline. */
export function toConsoleLine(event: AlertEvent, ctx: FormatContext, format: ConsoleFormat): string {
  return format === 'json' ? JSON.stringify(toConsoleJsonObject(event, ctx)) : toConsoleText(event, ctx);
}
