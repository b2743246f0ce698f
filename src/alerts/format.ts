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
  /** Absent for a resolve: there is nothing left to acknowledge. */
  ack?: string;
}

export function formatContextFrom(c: MonitorConfig): FormatContext {
  return {
    temporalUiUrl: c.temporalUiUrl,
    namespace: c.namespace,
    dashboardUrl: c.dashboardUrl,
    cliCommand: c.cliCommand,
    monitorWorkflowId: c.workflowId,
    retailerWorkflowIdPrefix: c.retailerWorkflowIdPrefix,
  };
}

export const RULE_LABELS: Record<RuleId, string> = {
  consecutive_failures: 'Consecutive ingestion failures',
  stale: 'Stale data',
  sku_drop: 'SKU count drop',
  missed_run: 'Missed scheduled run',
};

export const KIND_PREFIX: Record<AlertEvent['kind'], string> = {
  fire: '🔴 FIRING',
  renotify: '🔁 STILL FIRING',
  resolve: '✅ RESOLVED',
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
  else if (event.rule !== 'sku_drop') out.push({ label: 'Last success', value: 'never' });
  if (f.skuCount !== undefined) {
    const avg = f.trailingAverage !== undefined ? ` vs trailing average ${f.trailingAverage}` : '';
    out.push({ label: 'SKU count', value: `${f.skuCount}${avg}` });
  }
  if (f.dropPct !== undefined) {
    const threshold = f.skuDropPct !== undefined ? ` (threshold ${f.skuDropPct}%)` : '';
    out.push({ label: 'Drop', value: `${f.dropPct}%${threshold}` });
  }
  if (f.expectedRunAt !== undefined) {
    const grace = f.missedRunGraceMs !== undefined ? ` (grace ${graceText(f.missedRunGraceMs)})` : '';
    out.push({ label: 'Expected run', value: `${iso(f.expectedRunAt)}${grace}` });
    if (f.missedRuns !== undefined && f.missedRuns > 1) out.push({ label: 'Runs missed', value: String(f.missedRuns) });
  }
  if (f.lastError) out.push({ label: 'Last error', value: clip(f.lastError, 500) });
  out.push({ label: 'Opened', value: iso(event.openedAt) });
  if (event.kind !== 'fire') out.push({ label: event.kind === 'resolve' ? 'Resolved' : 'Reminder at', value: iso(event.at) });
  if (event.schedule) out.push({ label: 'Schedule', value: event.schedule });
  if (event.runId) out.push({ label: 'Run', value: event.runId });
  out.push({ label: 'Incident', value: event.incidentId });
  return out;
}

export function workflowUrl(ctx: FormatContext, workflowId: string, runId?: string): string {
  const base = `${ctx.temporalUiUrl.replace(/\/+$/, '')}/namespaces/${encodeURIComponent(ctx.namespace)}/workflows/${encodeURIComponent(workflowId)}`;
  // Without a run id the UI redirects to the latest run, which also follows the monitor across continue-as-new.
  return runId ? `${base}/${encodeURIComponent(runId)}/history` : base;
}

export function alertLinks(event: AlertEvent, ctx: FormatContext): Link[] {
  const links: Link[] = [];
  if (event.workflowId) links.push({ label: 'Ingestion run (Temporal UI)', url: workflowUrl(ctx, event.workflowId, event.workflowRunId) });
  links.push({ label: 'Retailer monitor', url: workflowUrl(ctx, `${ctx.retailerWorkflowIdPrefix}${event.retailer}`) });
  if (ctx.dashboardUrl) links.push({ label: 'Dashboard', url: ctx.dashboardUrl });
  return links;
}

const STEPS: Record<RuleId, string[]> = {
  consecutive_failures: [
    'Open the failing run in the Temporal Web UI and read the failed activity and its error.',
    'Check the ingestion worker logs around the failure time.',
    'Look for a known scraper block (captcha, 403/429 from the retailer, expired cookies or proxy).',
    'Once fixed, start a replay run with the command below and watch it complete.',
  ],
  stale: [
    'Check the ingestion worker is running and polling its task queue (Temporal UI → Workers).',
    'Check the ingestion schedule is not paused (`temporal schedule describe`).',
    'Look for runs stuck in Running state that never report completion.',
    'Start a run with the replay command below and confirm it reports success.',
  ],
  sku_drop: [
    'Compare the SKU count with the retailer site: did the catalogue really shrink?',
    'Check for a site layout change that makes selectors miss products.',
    'Check for a partial scrape (pagination stopped early, timeouts, category pages failing).',
    'After fixing the scraper, replay the retailer; acknowledge if the drop is genuine.',
  ],
  missed_run: [
    'Read the likely cause: the Schedule skipped the run (overlap policy), took no action, or started a run that never reported.',
    'Check the ingestion worker is running and polling its task queue (Temporal UI → Workers), and the run it started (if any).',
    'Check the Schedule (`temporal schedule describe --schedule-id <id>`): spec, timezone, paused state, recent actions.',
    'Start a run with the replay command below; its report resolves this alert.',
  ],
};

export function remediationSteps(event: AlertEvent): string[] {
  if (event.kind === 'resolve') return ['No action needed: the condition has cleared. Note the cause in the incident log if it was not obvious.'];
  return [...STEPS[event.rule]];
}

/** Quoted only when needed, so the common case stays readable and the odd one stays paste-safe. */
function shellArg(s: string): string {
  return /^[\w.@:/=+-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

export function alertCommands(event: AlertEvent, ctx: FormatContext): AlertCommands {
  const cmds: AlertCommands = { replay: `${ctx.cliCommand} replay ${shellArg(event.retailer)}` };
  if (event.kind !== 'resolve') cmds.ack = `${ctx.cliCommand} ack ${shellArg(event.incidentId)}`;
  return cmds;
}

const commandList = (c: AlertCommands): string[] => [c.replay, ...(c.ack ? [c.ack] : [])];

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
      { type: 'section', text: { type: 'mrkdwn', text: clip(`*${event.kind === 'resolve' ? 'Follow-up' : 'Remediation'}*\n${steps.join('\n')}`, SLACK_LIMITS.sectionText) } },
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
    event.kind === 'resolve' ? 'Follow-up:' : 'Remediation:',
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
    `<h3>${event.kind === 'resolve' ? 'Follow-up' : 'Remediation'}</h3>`,
    `<ol>${steps.map((s) => `<li>${h(s)}</li>`).join('')}</ol>`,
    '<h3>Commands</h3>',
    ...commands.map((c) => `<pre>${h(c)}</pre>`),
    `<p>${links.map((l) => `<a href="${h(l.url)}">${h(l.label)}</a>`).join(' · ')}</p>`,
  ].join('\n');
  // Subject lines are single-line: a retailer name with a newline must not inject headers or break threading.
  return { subject: clip(`[ingestion-monitor] ${title}`.replace(/[\r\n]+/g, ' '), 200), text, html };
}
