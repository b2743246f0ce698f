/**
 * Turns an AlertEvent into what a human (Slack, email) or a machine (generic webhook) receives.
 * Pure on purpose: no Node or Temporal imports, so every channel renders the same words and the tests need
 * no servers. Secrets never pass through here: the context holds only public UI/dashboard URLs.
 */
import type { MonitorConfig } from '../config';
import type { AlertEvent, AlertFigures, RuleId } from '../rules/types';
import { humanDuration } from '../rules/retailer-monitor';
import { graceText } from '../rules/missed-run';
import { HOUR_MS } from '../rules/thresholds';
import { remediationFor } from './remediation';

export interface FormatContext {
  /** Temporal Web UI base, without trailing slash (e.g. http://localhost:8233). */
  temporalUiUrl: string;
  namespace: string;
  dashboardUrl?: string;
  /** Prefix of the operator CLI, e.g. `npx ingestion-monitor`. */
  cliCommand: string;
  /** The fleet workflow's id. */
  monitorWorkflowId: string;
  /** Retailer monitors are `<prefix><retailer>`; the alert links to the retailer's own monitor. */
  retailerWorkflowIdPrefix: string;
  /** INGESTION_SCHEDULE_ID_TEMPLATE (`{retailer}` replaced): the alert links to a list of the retailer's ingestion runs. */
  ingestionScheduleIdTemplate?: string;
}

export interface Figure {
  label: string;
  value: string;
}

export interface Link {
  label: string;
  url: string;
}

export interface AlertCommands {
  replay: string;
  /** Absent for a resolve or an acknowledgement: there is nothing left to acknowledge. */
  ack?: string;
  /** Silence this rule of this retailer for a while (absent for a resolve). */
  silence?: string;
}

export function formatContextFrom(c: MonitorConfig): FormatContext {
  return {
    temporalUiUrl: c.temporalUiUrl,
    namespace: c.namespace,
    dashboardUrl: c.dashboardUrl,
    cliCommand: c.cliCommand,
    monitorWorkflowId: c.workflowId,
    retailerWorkflowIdPrefix: c.retailerWorkflowIdPrefix,
    ingestionScheduleIdTemplate: c.ingestion.scheduleIdTemplate,
  };
}

export const RULE_LABELS: Record<RuleId, string> = {
  consecutive_failures: 'Consecutive ingestion failures',
  stale: 'Stale data',
  sku_drop: 'SKU count drop',
  promo_drop: 'Promo count drop',
  run_duration: 'Run duration far above usual',
  missed_run: 'Missed scheduled run',
};

export const KIND_PREFIX: Record<AlertEvent['kind'], string> = {
  fire: '🔴 FIRING',
  renotify: '🔁 STILL FIRING',
  resolve: '✅ RESOLVED',
  acknowledge: '👀 ACKNOWLEDGED',
};

export const iso = (ms: number): string => new Date(ms).toISOString();

/**
 * Shortens to at most `max` UTF-16 units (≥ the character count Slack checks), never splitting a
 * surrogate pair or an HTML/mrkdwn entity, so the result stays valid where it is pasted.
 */
export function clip(s: string, max: number): string {
  if (s.length <= max) return s;
  let out = s.slice(0, max - 1);
  if (/[\uD800-\uDBFF]$/.test(out)) out = out.slice(0, -1);
  out = out.replace(/&[#a-z0-9]*$/i, '');
  return `${out}…`;
}

export function alertTitle(event: AlertEvent): string {
  return `${KIND_PREFIX[event.kind]}: ${RULE_LABELS[event.rule]} — ${event.retailer}`;
}

const KIND_AT_LABEL: Record<AlertEvent['kind'], string> = { fire: 'Fired', renotify: 'Reminder at', resolve: 'Resolved', acknowledge: 'Acknowledged' };

export function alertFigures(event: AlertEvent): Figure[] {
  const f: AlertFigures = event.figures;
  const out: Figure[] = [];
  // The figure that caused the alert comes first; the rest is context.
  if (event.diagnosis) out.push({ label: 'Likely cause', value: clip(event.diagnosis, 500) });
  if (f.failureStreak !== undefined && (event.rule === 'consecutive_failures' || f.failureStreak > 0)) {
    out.push({ label: 'Failure streak', value: `${f.failureStreak} consecutive failed run${f.failureStreak === 1 ? '' : 's'}` });
  }
  if (f.hoursSinceSuccess !== undefined) {
    const threshold = f.staleAfterHours !== undefined ? ` (threshold ${humanDuration(f.staleAfterHours * HOUR_MS)})` : '';
    out.push({ label: 'Since last success', value: `${humanDuration(f.hoursSinceSuccess * HOUR_MS)}${threshold}` });
  }
  if (f.lastSuccessAt !== undefined) out.push({ label: 'Last success', value: iso(f.lastSuccessAt) });
  else if (event.rule === 'consecutive_failures' || event.rule === 'stale') out.push({ label: 'Last success', value: 'never' });
  if (f.skuCount !== undefined) {
    const avg = f.trailingAverage !== undefined ? ` vs trailing average ${f.trailingAverage}` : '';
    out.push({ label: 'SKU count', value: `${f.skuCount}${avg}` });
  }
  if (f.dropPct !== undefined) {
    const threshold = f.skuDropPct !== undefined ? ` (threshold ${f.skuDropPct}%)` : '';
    out.push({ label: 'Drop', value: `${f.dropPct}%${threshold}` });
  }
  out.push(...robustFigureRows(f));
  if (f.runStartedAt !== undefined) out.push({ label: 'Still running since', value: iso(f.runStartedAt) });
  if (f.expectedRunAt !== undefined) {
    const grace = f.missedRunGraceMs !== undefined ? ` (grace ${graceText(f.missedRunGraceMs)})` : '';
    out.push({ label: 'Expected run', value: `${iso(f.expectedRunAt)}${grace}` });
    if (f.missedRuns !== undefined && f.missedRuns > 1) out.push({ label: 'Runs missed', value: String(f.missedRuns) });
  }
  if (f.lastError) out.push({ label: 'Last error', value: clip(f.lastError, 500) });
  out.push({ label: 'Opened', value: iso(event.openedAt) });
  if (event.kind !== 'fire') out.push({ label: KIND_AT_LABEL[event.kind], value: iso(event.at) });
  if (event.schedule) out.push({ label: 'Schedule', value: event.schedule });
  if (event.runId) out.push({ label: 'Run', value: event.runId });
  out.push({ label: 'Incident', value: event.incidentId });
  return out;
}

/** The robust-baseline figures (promo count, duration, typical value, MADs), when the alert has them. */
function robustFigureRows(f: AlertFigures): Figure[] {
  const out: Figure[] = [];
  if (f.promoCount !== undefined) out.push({ label: 'Promo count', value: String(f.promoCount) });
  if (f.durationMs !== undefined) out.push({ label: 'Run duration', value: humanDuration(f.durationMs) });
  if (f.typical !== undefined) {
    const typical = f.durationMs !== undefined ? humanDuration(f.typical) : String(f.typical);
    out.push({ label: 'Typical', value: `${typical}${f.typicalBasis ? ` (${f.typicalBasis})` : ''}` });
  }
  if (f.mads !== undefined) {
    const pct = f.deviationPct !== undefined ? `${f.deviationPct > 0 ? '+' : ''}${f.deviationPct}%, ` : '';
    out.push({ label: 'Robust score', value: `${pct}${f.mads} MADs${f.madThreshold !== undefined ? ` (threshold ${f.madThreshold})` : ''}` });
  }
  return out;
}

export function workflowUrl(ctx: FormatContext, workflowId: string, runId?: string): string {
  const base = `${ctx.temporalUiUrl.replace(/\/+$/, '')}/namespaces/${encodeURIComponent(ctx.namespace)}/workflows/${encodeURIComponent(workflowId)}`;
  // Without a run id the UI redirects to the latest run, which also follows the monitor across continue-as-new.
  return runId ? `${base}/${encodeURIComponent(runId)}/history` : base;
}

/** The Web UI's workflow list filtered by a visibility query. */
export function visibilityUrl(ctx: FormatContext, query: string): string {
  return `${ctx.temporalUiUrl.replace(/\/+$/, '')}/namespaces/${encodeURIComponent(ctx.namespace)}/workflows?query=${encodeURIComponent(query)}`;
}

export function alertLinks(event: AlertEvent, ctx: FormatContext): Link[] {
  const links: Link[] = [];
  if (event.workflowId) links.push({ label: 'Ingestion run (Temporal UI)', url: workflowUrl(ctx, event.workflowId, event.workflowRunId) });
  links.push({ label: 'Retailer monitor', url: workflowUrl(ctx, `${ctx.retailerWorkflowIdPrefix}${event.retailer}`) });
  const schedule = event.schedule ?? ctx.ingestionScheduleIdTemplate?.split('{retailer}').join(event.retailer);
  if (schedule) links.push({ label: 'Ingestion runs (Temporal UI)', url: visibilityUrl(ctx, `TemporalScheduledById = "${schedule.replace(/["\\]/g, '')}"`) });
  if (ctx.dashboardUrl) links.push({ label: 'Dashboard', url: ctx.dashboardUrl });
  return links;
}

export function remediationSteps(event: AlertEvent): string[] {
  return remediationFor(event.rule, event.kind);
}

/** Quoted only when needed, so the common case stays readable and the odd one stays paste-safe. */
function shellArg(s: string): string {
  return /^[\w.@:/=+-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

export function alertCommands(event: AlertEvent, ctx: FormatContext): AlertCommands {
  const cmds: AlertCommands = { replay: `${ctx.cliCommand} replay ${shellArg(event.retailer)}` };
  if (event.kind === 'fire' || event.kind === 'renotify') cmds.ack = `${ctx.cliCommand} ack ${shellArg(event.incidentId)}`;
  if (event.kind !== 'resolve') {
    cmds.silence = `${ctx.cliCommand} silence ${shellArg(event.retailer)} --rule ${shellArg(event.rule)} --for 2h --reason ${shellArg(`working on ${event.incidentId}`)}`;
  }
  return cmds;
}

export const commandList = (c: AlertCommands): string[] => [c.replay, ...(c.ack ? [c.ack] : []), ...(c.silence ? [c.silence] : [])];

/** The heading over the remediation steps. */
export const stepsHeading = (event: AlertEvent): string => (event.kind === 'resolve' ? 'Follow-up' : event.kind === 'acknowledge' ? 'Status' : 'Remediation');

// ---------------------------------------------------------------------------------------------- Slack

/** Slack mrkdwn needs only these three escaped; everything else is literal. */
export function mrkdwn(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** Characters that would end a `<url|label>` link early. */
export const slackUrl = (u: string): string => u.replace(/[<>| ]/g, (c) => encodeURIComponent(c));

/** Block Kit limits (https://api.slack.com/reference/block-kit/blocks). */
export const SLACK_LIMITS = { headerText: 150, sectionText: 3000, fields: 10, fieldText: 2000, contextElements: 10, blocks: 50, messageText: 40_000 } as const;

export function toSlackMessage(event: AlertEvent, ctx: FormatContext): Record<string, unknown> {
  const title = alertTitle(event);
  const figures = alertFigures(event).slice(0, SLACK_LIMITS.fields);
  const links = alertLinks(event, ctx).map((l) => `<${slackUrl(l.url)}|${mrkdwn(l.label)}>`);
  const commands = commandList(alertCommands(event, ctx)).map((c) => `\`${mrkdwn(c)}\``);
  const steps = remediationSteps(event).map((s, i) => `${i + 1}. ${mrkdwn(s)}`);
  return {
    // Shown in notifications and by clients that cannot render blocks. Slack parses it as mrkdwn too, so it is
    // escaped like the blocks: `<!channel>` in an error text must not page the whole channel.
    text: clip(mrkdwn(`${title}: ${event.summary}`), SLACK_LIMITS.sectionText),
    blocks: [
      { type: 'header', text: { type: 'plain_text', text: clip(title, SLACK_LIMITS.headerText), emoji: true } },
      {
        type: 'section',
        text: { type: 'mrkdwn', text: clip(mrkdwn(event.summary), SLACK_LIMITS.sectionText) },
        fields: figures.map((f) => ({ type: 'mrkdwn', text: clip(`*${mrkdwn(f.label)}*\n${mrkdwn(f.value)}`, SLACK_LIMITS.fieldText) })),
      },
      { type: 'section', text: { type: 'mrkdwn', text: clip(`*${stepsHeading(event)}*\n${steps.join('\n')}`, SLACK_LIMITS.sectionText) } },
      {
        type: 'context',
        elements: [
          { type: 'mrkdwn', text: clip(links.join('  •  '), SLACK_LIMITS.sectionText) },
          { type: 'mrkdwn', text: clip(commands.join('  •  '), SLACK_LIMITS.sectionText) },
        ],
      },
    ],
  };
}

// -------------------------------------------------------------------------------------------- Webhook

export interface WebhookPayload {
  type: 'ingestion-monitor.alert';
  version: 1;
  eventId: string;
  incidentId: string;
  kind: AlertEvent['kind'];
  retailer: string;
  rule: RuleId;
  ruleLabel: string;
  at: string;
  openedAt: string;
  summary: string;
  /** The raw numbers (times as ISO strings) for machines ... */
  figures: Omit<AlertFigures, 'lastSuccessAt'> & { lastSuccessAt?: string };
  /** ... and the same as the label/value lines humans see in Slack and email. */
  figureLines: Figure[];
  runId?: string;
  workflowId?: string;
  workflowRunId?: string;
  schedule?: string;
  diagnosis?: string;
  title: string;
  links: Link[];
  remediation: string[];
  commands: AlertCommands;
}

export function toWebhookPayload(event: AlertEvent, ctx: FormatContext): WebhookPayload {
  const { lastSuccessAt, ...rest } = event.figures;
  return {
    type: 'ingestion-monitor.alert',
    version: 1,
    eventId: event.eventId,
    incidentId: event.incidentId,
    kind: event.kind,
    retailer: event.retailer,
    rule: event.rule,
    ruleLabel: RULE_LABELS[event.rule],
    at: iso(event.at),
    openedAt: iso(event.openedAt),
    summary: event.summary,
    figures: { ...rest, ...(lastSuccessAt !== undefined ? { lastSuccessAt: iso(lastSuccessAt) } : {}) },
    figureLines: alertFigures(event),
    runId: event.runId,
    workflowId: event.workflowId,
    workflowRunId: event.workflowRunId,
    schedule: event.schedule,
    diagnosis: event.diagnosis,
    title: alertTitle(event),
    links: alertLinks(event, ctx),
    remediation: remediationSteps(event),
    commands: alertCommands(event, ctx),
  };
}

// ---------------------------------------------------------------------------------------------- Email

export interface EmailContent {
  subject: string;
  text: string;
  html: string;
}

export function escapeHtml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
}

export function toEmail(event: AlertEvent, ctx: FormatContext): EmailContent {
  const title = alertTitle(event);
  const figures = alertFigures(event);
  const links = alertLinks(event, ctx);
  const steps = remediationSteps(event);
  const commands = commandList(alertCommands(event, ctx));
  const text = [
    title,
    '',
    event.summary,
    '',
    ...figures.map((f) => `${f.label}: ${f.value}`),
    '',
    `${stepsHeading(event)}:`,
    ...steps.map((s, i) => `  ${i + 1}. ${s}`),
    '',
    'Commands:',
    ...commands.map((c) => `  ${c}`),
    '',
    'Links:',
    ...links.map((l) => `  ${l.label}: ${l.url}`),
  ].join('\n');
  const h = escapeHtml;
  const html = [
    `<h2>${h(title)}</h2>`,
    `<p>${h(event.summary)}</p>`,
    '<table>',
    ...figures.map((f) => `<tr><th align="left">${h(f.label)}</th><td>${h(f.value)}</td></tr>`),
    '</table>',
    `<h3>${stepsHeading(event)}</h3>`,
    `<ol>${steps.map((s) => `<li>${h(s)}</li>`).join('')}</ol>`,
    '<h3>Commands</h3>',
    ...commands.map((c) => `<pre>${h(c)}</pre>`),
    `<p>${links.map((l) => `<a href="${h(l.url)}">${h(l.label)}</a>`).join(' · ')}</p>`,
  ].join('\n');
  // Subject lines are single-line: a retailer name with a newline must not inject headers or break threading.
  return { subject: clip(`[ingestion-monitor] ${title}`.replace(/[\r\n]+/g, ' '), 200), text, html };
}
