import {
  alertCommands,
  alertFigures,
  alertLinks,
  alertTitle,
  clip,
  remediationSteps,
  SLACK_LIMITS,
  toEmail,
  toSlackMessage,
  toWebhookPayload,
  type FormatContext,
} from '../src/alerts/format';
import { GENERIC_STEPS, REMEDIATION, remediationFor } from '../src/alerts/remediation';
import { oneLine, toConsoleJsonObject, toConsoleLine, toConsoleText } from '../src/alerts/console-format';
import { groupHeadline, groupTitle, toGroupedEmail, toGroupedSlackMessage, toGroupedWebhookPayload } from '../src/alerts/grouped-format';
import type { AlertEvent } from '../src/rules/types';

const T0 = Date.UTC(2025, 0, 15, 8, 0, 0);
const HOUR = 3_600_000;

const ctx: FormatContext = {
  temporalUiUrl: 'http://localhost:8233',
  namespace: 'default',
  dashboardUrl: 'http://grafana.local/d/ingestion',
  cliCommand: 'npx ingestion-monitor',
  monitorWorkflowId: 'ingestion-monitor',
  retailerWorkflowIdPrefix: 'ingestion-monitor/',
};

function event(over: Partial<AlertEvent> = {}): AlertEvent {
  return {
    eventId: 'checkers/consecutive_failures/1/fire/1',
    incidentId: 'checkers/consecutive_failures/1',
    kind: 'fire',
    retailer: 'checkers',
    rule: 'consecutive_failures',
    at: T0,
    openedAt: T0,
    summary: 'checkers: 2 consecutive failed runs (last error: blocked)',
    figures: { failureStreak: 2, lastError: 'HTTP 403 from retailer', lastSuccessAt: T0 - 5 * HOUR },
    runId: 'run-42',
    workflowId: 'ingest-checkers',
    workflowRunId: 'a1b2-c3',
    schedule: 'hourly',
    ...over,
  };
}

const stale = () =>
  event({
    rule: 'stale',
    incidentId: 'pnp/stale/2',
    retailer: 'pnp',
    summary: 'pnp: no successful run for 5 h (threshold 4 h)',
    figures: { hoursSinceSuccess: 5, staleAfterHours: 4, lastSuccessAt: T0 - 5 * HOUR, failureStreak: 0 },
  });

const skuDrop = () =>
  event({
    rule: 'sku_drop',
    incidentId: 'woolworths/sku_drop/3',
    retailer: 'woolworths',
    summary: 'woolworths: SKU count 600 is 40% below the trailing average of 1000',
    figures: { skuCount: 600, trailingAverage: 1000, dropPct: 40, skuDropPct: 30 },
  });

const value = (e: AlertEvent, label: string) => alertFigures(e).find((f) => f.label === label)?.value;

describe('alertTitle', () => {
  it('names the kind, the rule and the retailer', () => {
    expect(alertTitle(event())).toBe('🔴 FIRING: Consecutive ingestion failures — checkers');
    expect(alertTitle(event({ kind: 'renotify' }))).toMatch(/^🔁 STILL FIRING: .*checkers$/);
    expect(alertTitle(skuDrop())).toContain('SKU count drop');
    expect(alertTitle({ ...stale(), kind: 'resolve' })).toBe('✅ RESOLVED: Stale data — pnp');
  });
});

describe('alertFigures', () => {
  it('shows the failure streak and last error for consecutive_failures', () => {
    expect(value(event(), 'Failure streak')).toBe('2 consecutive failed runs');
    expect(value(event(), 'Last error')).toBe('HTTP 403 from retailer');
    expect(value(event(), 'Last success')).toBe(new Date(T0 - 5 * HOUR).toISOString());
  });

  it('shows hours since success with the threshold for stale, and hides a zero streak', () => {
    expect(value(stale(), 'Since last success')).toBe('5 h (threshold 4 h)');
    expect(value(stale(), 'Failure streak')).toBeUndefined();
    expect(value({ ...stale(), figures: { hoursSinceSuccess: 6, staleAfterHours: 4 } }, 'Last success')).toBe('never');
  });

  it('shows the SKU count against the trailing average and the drop percentage', () => {
    expect(value(skuDrop(), 'SKU count')).toBe('600 vs trailing average 1000');
    expect(value(skuDrop(), 'Drop')).toBe('40% (threshold 30%)');
  });

  it('gives times as ISO strings', () => {
    expect(value(event(), 'Opened')).toBe('2025-01-15T08:00:00.000Z');
  });
});

describe('alertLinks', () => {
  it('links the failing run history, the monitor and the dashboard', () => {
    expect(alertLinks(event(), ctx)).toEqual([
      { label: 'Ingestion run (Temporal UI)', url: 'http://localhost:8233/namespaces/default/workflows/ingest-checkers/a1b2-c3/history' },
      { label: 'Retailer monitor', url: 'http://localhost:8233/namespaces/default/workflows/ingestion-monitor%2Fcheckers' },
      { label: 'Ingestion runs (Temporal UI)', url: 'http://localhost:8233/namespaces/default/workflows?query=TemporalScheduledById%20%3D%20%22hourly%22' },
      { label: 'Dashboard', url: 'http://grafana.local/d/ingestion' },
    ]);
  });

  it("lists the retailer's ingestion runs by its Schedule id (INGESTION_SCHEDULE_ID_TEMPLATE) when the event names none", () => {
    const links = alertLinks({ ...stale(), schedule: undefined }, { ...ctx, ingestionScheduleIdTemplate: 'ingest-{retailer}' });
    expect(links.find((l) => l.label === 'Ingestion runs (Temporal UI)')?.url).toBe(
      'http://localhost:8233/namespaces/default/workflows?query=TemporalScheduledById%20%3D%20%22ingest-pnp%22',
    );
  });

  it('encodes workflow ids and omits the run segment when there is no run id', () => {
    const links = alertLinks(event({ workflowId: 'ingest/checkers 1', workflowRunId: undefined }), { ...ctx, dashboardUrl: undefined });
    expect(links[0].url).toBe('http://localhost:8233/namespaces/default/workflows/ingest%2Fcheckers%201');
    expect(links.map((l) => l.label)).toEqual(['Ingestion run (Temporal UI)', 'Retailer monitor', 'Ingestion runs (Temporal UI)']);
  });

  it('has no run link when the event has no workflow id', () => {
    expect(alertLinks({ ...stale(), workflowId: undefined }, ctx).map((l) => l.label)).toEqual(['Retailer monitor', 'Ingestion runs (Temporal UI)', 'Dashboard']);
  });
});

describe('remediation and commands', () => {
  it('gives rule-specific steps', () => {
    expect(remediationSteps(event()).join(' ')).toMatch(/worker logs.*scraper block/s);
    expect(remediationSteps(stale()).join(' ')).toMatch(/worker is running.*schedule is not paused/s);
    expect(remediationSteps(skuDrop()).join(' ')).toMatch(/retailer site.*layout change.*partial scrape/s);
  });

  it('prints replay, ack and silence commands, quoting odd names, and no ack for a resolve', () => {
    expect(alertCommands(event(), ctx)).toEqual({
      replay: 'npx ingestion-monitor replay checkers',
      ack: 'npx ingestion-monitor ack checkers/consecutive_failures/1',
      silence: "npx ingestion-monitor silence checkers --rule consecutive_failures --for 2h --reason 'working on checkers/consecutive_failures/1'",
    });
    expect(alertCommands(event({ retailer: "pick n' pay" }), ctx).replay).toBe(`npx ingestion-monitor replay 'pick n'\\'' pay'`);
    expect(alertCommands(event({ kind: 'resolve' }), ctx)).toEqual({ replay: 'npx ingestion-monitor replay checkers' });
    expect(alertCommands(event({ kind: 'acknowledge' }), ctx).ack).toBeUndefined();
  });

  it('has steps for every rule id, a generic fallback for rules it does not know, and none to do after a resolve', () => {
    for (const rule of ['promo_drop', 'run_duration', 'missed_run']) {
      expect(REMEDIATION.get(rule)?.length).toBeGreaterThanOrEqual(3);
      expect(remediationFor(rule, 'fire')).not.toEqual(GENERIC_STEPS);
    }
    expect(remediationFor('run_duration', 'fire').join(' ')).toMatch(/slow.*activity/s);
    expect(remediationFor('missed_run', 'renotify').join(' ')).toMatch(/Schedule.*paused/s);
    expect(remediationFor('promo_drop', 'fire').join(' ')).toMatch(/promotion/);
    expect(remediationFor('some_future_rule', 'fire')).toEqual(GENERIC_STEPS);
    expect(remediationFor('constructor', 'fire')).toEqual(GENERIC_STEPS);
    expect(remediationFor('stale', 'resolve').join(' ')).toMatch(/No action needed/);
    expect(remediationFor('stale', 'acknowledge').join(' ')).toMatch(/Someone is on it/);
  });
});

type Block = { type: string; text?: { type: string; text: string }; fields?: { type: string; text: string }[]; elements?: { type: string; text: string }[] };

describe('toSlackMessage', () => {
  it('is Block Kit shaped with retailer, rule, figures, remediation, links and commands', () => {
    const msg = toSlackMessage(event(), ctx) as { text: string; blocks: Block[] };
    expect(msg.text).toContain('checkers');
    expect(msg.blocks.map((b) => b.type)).toEqual(['header', 'section', 'section', 'context']);
    expect(msg.blocks[0].text).toEqual({ type: 'plain_text', text: alertTitle(event()), emoji: true });
    expect(msg.blocks[1].fields!.map((f) => f.text)).toContain('*Failure streak*\n2 consecutive failed runs');
    expect(msg.blocks[2].text!.text).toContain('worker logs');
    const context = msg.blocks[3].elements!.map((e) => e.text).join(' ');
    expect(context).toContain('<http://localhost:8233/namespaces/default/workflows/ingest-checkers/a1b2-c3/history|Ingestion run (Temporal UI)>');
    expect(context).toContain('`npx ingestion-monitor replay checkers`');
    expect(context).toContain('`npx ingestion-monitor ack checkers/consecutive_failures/1`');
  });

  it('respects Block Kit limits for huge inputs', () => {
    const huge = event({
      retailer: 'r'.repeat(400),
      summary: 'x'.repeat(10_000),
      figures: { failureStreak: 9, lastError: 'e'.repeat(5_000), lastSuccessAt: T0, hoursSinceSuccess: 9, staleAfterHours: 4, skuCount: 1, trailingAverage: 2, dropPct: 50, skuDropPct: 30 },
    });
    const msg = toSlackMessage(huge, ctx) as { text: string; blocks: Block[] };
    const [header, section, remediation, context] = msg.blocks;
    expect(header.text!.text.length).toBeLessThanOrEqual(SLACK_LIMITS.headerText);
    expect(section.text!.text.length).toBeLessThanOrEqual(SLACK_LIMITS.sectionText);
    expect(section.fields!.length).toBeLessThanOrEqual(SLACK_LIMITS.fields);
    for (const f of section.fields!) expect(f.text.length).toBeLessThanOrEqual(SLACK_LIMITS.fieldText);
    expect(remediation.text!.text.length).toBeLessThanOrEqual(SLACK_LIMITS.sectionText);
    expect(context.elements!.length).toBeLessThanOrEqual(SLACK_LIMITS.contextElements);
    expect(msg.text.length).toBeLessThanOrEqual(SLACK_LIMITS.sectionText);
  });

  it('escapes mrkdwn control characters from untrusted text', () => {
    const msg = toSlackMessage(event({ summary: 'boom <!channel> & <http://evil|click>' }), ctx) as { blocks: Block[] };
    expect(msg.blocks[1].text!.text).toBe('boom &lt;!channel&gt; &amp; &lt;http://evil|click&gt;');
  });

  it('escapes the top-level text too, so <!channel> in an error never pages the channel', () => {
    const msg = toSlackMessage(event({ summary: 'checkers: failed (last error: <!channel> & <!here>)' }), ctx) as { text: string };
    expect(msg.text).not.toMatch(/<!channel>|<!here>/);
    expect(msg.text).toContain('&lt;!channel&gt; &amp; &lt;!here&gt;');
  });
});

describe('toWebhookPayload', () => {
  it('is versioned JSON with the event, title, figures, links, remediation and commands', () => {
    const p = toWebhookPayload(skuDrop(), ctx);
    expect(p).toMatchObject({
      type: 'ingestion-monitor.alert',
      version: 1,
      eventId: 'checkers/consecutive_failures/1/fire/1',
      incidentId: 'woolworths/sku_drop/3',
      kind: 'fire',
      retailer: 'woolworths',
      rule: 'sku_drop',
      at: '2025-01-15T08:00:00.000Z',
      figures: { skuCount: 600, trailingAverage: 1000, dropPct: 40, skuDropPct: 30 },
      title: alertTitle(skuDrop()),
      commands: { replay: 'npx ingestion-monitor replay woolworths', ack: 'npx ingestion-monitor ack woolworths/sku_drop/3' },
    });
    expect(p.figureLines).toContainEqual({ label: 'Drop', value: '40% (threshold 30%)' });
    expect(p.links.length).toBeGreaterThan(0);
    expect(p.remediation.length).toBeGreaterThan(0);
    expect(JSON.parse(JSON.stringify(p))).toEqual(p);
  });

  it('turns lastSuccessAt into an ISO string', () => {
    expect(toWebhookPayload(stale(), ctx).figures.lastSuccessAt).toBe(new Date(T0 - 5 * HOUR).toISOString());
  });
});

describe('toEmail', () => {
  it('puts retailer and rule in the subject and everything in text and html', () => {
    const m = toEmail(stale(), ctx);
    expect(m.subject).toContain('pnp');
    expect(m.subject).toContain('Stale data');
    expect(m.text).toContain('Since last success: 5 h (threshold 4 h)');
    expect(m.text).toContain('npx ingestion-monitor replay pnp');
    expect(m.html).toContain('<a href="http://grafana.local/d/ingestion">Dashboard</a>');
  });

  it('escapes HTML from untrusted text and keeps the subject on one line', () => {
    const m = toEmail(event({ retailer: 'evil\r\nBcc: x@y', summary: '<script>alert("x")</script> & co' }), ctx);
    expect(m.html).toContain('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; co');
    expect(m.html).not.toContain('<script>');
    expect(m.subject).not.toMatch(/[\r\n]/);
  });
});

describe('grouped alerts', () => {
  const staleAt = (i: number, summary?: string): AlertEvent => {
    const retailer = `shop-${String(i).padStart(3, '0')}`;
    return { ...stale(), eventId: `${retailer}/stale/1/fire/1`, incidentId: `${retailer}/stale/1`, retailer, summary: summary ?? `${retailer}: no successful run for 5 h` };
  };
  const many = (n: number, summary?: string) => Array.from({ length: n }, (_, i) => staleAt(n - i, summary)); // reverse order in

  it('titles the group by kind, count and rule', () => {
    expect(groupHeadline(many(14))).toBe('+14 retailers stale');
    expect(groupTitle(many(14))).toBe('🔴 FIRING: +14 retailers stale (Stale data)');
    expect(groupHeadline(many(3).map((e) => ({ ...e, kind: 'resolve' as const })))).toBe('+3 retailers no longer stale');
    expect(groupHeadline([{ ...skuDrop(), kind: 'renotify' }])).toBe('+1 retailer still with a SKU count drop');
  });

  it('Slack: lists every retailer with its summary, sorted, within block limits', () => {
    const msg = toGroupedSlackMessage(many(30), ctx) as { text: string; blocks: Block[] };
    const sections = msg.blocks.filter((b) => b.type === 'section' && !b.text!.text.startsWith('*Remediation*'));
    expect(sections).toHaveLength(1);
    const text = sections[0]!.text!.text;
    expect(text.length).toBeLessThanOrEqual(SLACK_LIMITS.sectionText);
    expect(text.split('\n')[0]).toBe('• *shop-001* — shop-001: no successful run for 5 h');
    for (let i = 1; i <= 30; i++) expect(msg.text).toContain(`shop-${String(i).padStart(3, '0')}`);
  });

  it('Slack: when summaries do not fit, names every retailer comma-separated, escaped, in blocks of allowed size', () => {
    const msg = toGroupedSlackMessage(many(300, `long summary <!channel> ${'x'.repeat(150)}`), ctx) as { text: string; blocks: Block[] };
    expect(msg.blocks.length).toBeLessThanOrEqual(SLACK_LIMITS.blocks);
    const sections = msg.blocks.filter((b) => b.type === 'section' && !b.text!.text.startsWith('*Remediation*')).map((b) => b.text!.text);
    for (const s of sections) expect(s.length).toBeLessThanOrEqual(SLACK_LIMITS.sectionText);
    const named = sections.join(', ').split(', ');
    expect(named).toEqual(Array.from({ length: 300 }, (_, i) => `shop-${String(i + 1).padStart(3, '0')}`));
    expect(JSON.stringify(msg)).not.toContain('<!channel>');
    expect(msg.blocks[0]!.text!.text.length).toBeLessThanOrEqual(SLACK_LIMITS.headerText);
  });

  it('webhook: one payload with every event and the group id', () => {
    const p = toGroupedWebhookPayload(many(5), ctx, 'group-abc');
    expect(p).toMatchObject({ type: 'ingestion-monitor.alert-group', version: 1, groupId: 'group-abc', rule: 'stale', kind: 'fire', count: 5 });
    expect(p.retailers).toEqual(['shop-001', 'shop-002', 'shop-003', 'shop-004', 'shop-005']);
    expect(p.alerts.map((a) => a.retailer)).toEqual(p.retailers);
    expect(p.eventIds).toHaveLength(5);
  });

  it('email: every retailer in text and html, subject on one line, HTML escaped', () => {
    const m = toGroupedEmail([...many(3), { ...staleAt(4), retailer: 'evil\r\n<b>' }], ctx);
    expect(m.subject).toBe('[ingestion-monitor] 🔴 FIRING: +4 retailers stale (Stale data)');
    for (const r of ['shop-001', 'shop-002', 'shop-003']) {
      expect(m.text).toContain(`- ${r}: ${r}: no successful run for 5 h`);
      expect(m.html).toContain(`<th align="left">${r}</th>`);
    }
    expect(m.html).toContain('evil\r\n&lt;b&gt;');
    expect(m.text).toContain('npx ingestion-monitor incidents');
  });
});

describe('console line', () => {
  const clock = (ms: number) => new Date(ms).toTimeString().slice(0, 8);

  it('is one line: local time, kind, rule, summary and the commands to paste', () => {
    expect(toConsoleText(event(), ctx)).toBe(
      `${clock(T0)} 🔴 FIRING        consecutive_failures  checkers: 2 consecutive failed runs (last error: blocked) — next: Open the failing run in the Temporal Web UI and read the failed activity and its error. — replay: npx ingestion-monitor replay checkers · ack: npx ingestion-monitor ack checkers/consecutive_failures/1 · silence: npx ingestion-monitor silence checkers --rule consecutive_failures --for 2h --reason 'working on checkers/consecutive_failures/1'`,
    );
  });

  it('says how long a resolved incident was open, and gives a stale diagnosis as the likely cause', () => {
    const resolved = toConsoleText(event({ kind: 'resolve', eventId: 'x/resolve', at: T0 + 90 * 60_000, summary: 'checkers: successful run again' }), ctx);
    expect(resolved).toBe(`${clock(T0 + 90 * 60_000)} ✅ RESOLVED      consecutive_failures  checkers: successful run again — open 1.5 h`);
    const renotify = toConsoleText({ ...stale(), kind: 'renotify', diagnosis: 'schedule ingest-pnp is paused' }, ctx);
    expect(renotify).toContain('🔁 STILL FIRING  stale                 pnp: no successful run for 5 h (threshold 4 h) — likely cause: schedule ingest-pnp is paused — next: Check the ingestion worker is running');
  });

  it('cannot be made to print a second (forged) line or repaint the terminal by retailer-supplied text', () => {
    const evil = event({
      summary: 'checkers: 2 failed\n12:00:00 ✅ RESOLVED  everything fine\r\u001b[2K\u2028\u202Eevil',
      diagnosis: 'line1\nline2\u0085',
    });
    for (const format of ['text', 'json'] as const) {
      const line = toConsoleLine(evil, ctx, format);
      expect(line).not.toMatch(/[\n\r\u001b\u0085\u2028\u2029\u202E]/);
    }
    expect(toConsoleText(evil, ctx)).toContain('checkers: 2 failed 12:00:00 ✅ RESOLVED  everything fine [2K evil');
    expect(oneLine('x'.repeat(2000)).length).toBeLessThanOrEqual(500);
  });

  it('JSON: one object per line with stable field names', () => {
    const line = toConsoleLine({ ...stale(), diagnosis: 'no worker polling ingest' }, ctx, 'json');
    expect(JSON.parse(line)).toEqual({
      time: new Date(T0).toISOString(),
      level: 'warn',
      type: 'alert',
      msg: 'alert fired',
      kind: 'fire',
      rule: 'stale',
      retailer: 'pnp',
      incidentId: 'pnp/stale/2',
      eventId: 'checkers/consecutive_failures/1/fire/1',
      openedAt: new Date(T0).toISOString(),
      summary: 'pnp: no successful run for 5 h (threshold 4 h)',
      diagnosis: 'no worker polling ingest',
      replay: 'npx ingestion-monitor replay pnp',
      ack: 'npx ingestion-monitor ack pnp/stale/2',
      silence: "npx ingestion-monitor silence pnp --rule stale --for 2h --reason 'working on pnp/stale/2'",
      remediation: remediationFor('stale', 'fire'),
    });
    expect(toConsoleJsonObject(event({ kind: 'resolve' }), ctx)).toMatchObject({ level: 'info', msg: 'alert resolved' });
    expect(toConsoleJsonObject(event({ kind: 'resolve' }), ctx)).not.toHaveProperty('ack');
  });
});

describe('clip', () => {
  it('never splits a surrogate pair or an entity', () => {
    expect(clip('ab🔴cd', 4)).toBe('ab…');
    expect(clip('a &amp; b', 5)).toBe('a …');
    expect(clip('short', 10)).toBe('short');
  });
});
