/**
 * Pure formatting for the CLI: duration parsing ('2h' → ms), ages ('3.2 h ago'), and the tables.
 * No I/O and the clock is passed in, so every function here is unit-tested directly.
 */
import Table from 'cli-table3';
import type { Thresholds } from '../rules/thresholds';
import type { Incident, MonitorStatus, RetailerDetail, RetailerStatus, RunSummary, Silence } from '../rules/types';

const UNIT_MS: Record<string, number> = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

/** '90s', '30m', '2h', '1.5h', '1d', '1h30m' → milliseconds; undefined if it is not a duration. */
export function parseDuration(text: string): number | undefined {
  const s = text.trim().toLowerCase();
  if (!/^(\d+(\.\d+)?[smhdw])+$/.test(s)) return undefined;
  let ms = 0;
  for (const [, n, unit] of s.matchAll(/(\d+(?:\.\d+)?)([smhdw])/g)) ms += Number(n) * UNIT_MS[unit!]!;
  return Math.round(ms);
}

/** Compact duration for thresholds and run lengths: '4h', '1h 30m', '45s', '2d 3h'. */
export function formatDuration(ms: number): string {
  if (ms < 1_000) return `${Math.round(ms)}ms`;
  const parts: string[] = [];
  let rest = Math.round(ms / 1_000) * 1_000;
  for (const unit of ['d', 'h', 'm', 's'] as const) {
    const n = Math.floor(rest / UNIT_MS[unit]!);
    if (n > 0) parts.push(`${n}${unit}`);
    rest -= n * UNIT_MS[unit]!;
  }
  return parts.slice(0, 2).join(' ');
}

/** How long ago (or until) a moment is, at the precision an on-call engineer reads: '3.2 h ago', 'in 40 min'. */
export function formatAge(at: number, now: number): string {
  const diff = now - at;
  const abs = Math.abs(diff);
  if (abs < 10_000) return 'just now';
  const amount =
    abs < 60_000 ? `${Math.round(abs / 1_000)} s` : abs < 3_600_000 ? `${Math.round(abs / 60_000)} min` : abs < 172_800_000 ? `${(abs / 3_600_000).toFixed(1)} h` : `${(abs / 86_400_000).toFixed(1)} d`;
  return diff >= 0 ? `${amount} ago` : `in ${amount}`;
}

export const formatCount = (n: number | undefined): string => (n === undefined ? '—' : Math.round(n).toLocaleString('en-US'));

// ---- colour: only when stdout is a terminal (the caller decides), so pipes and files stay plain ----------

const ANSI = { red: 31, green: 32, yellow: 33, dim: 2, bold: 1 } as const;
export type Colour = keyof typeof ANSI;
export const paint = (text: string, colour: Colour, on: boolean): string => (on ? `\x1b[${ANSI[colour]}m${text}\x1b[0m` : text);

const HEALTH_COLOUR: Record<RetailerStatus['health'], Colour> = { healthy: 'green', unhealthy: 'red', silenced: 'yellow' };
export const formatHealth = (h: RetailerStatus['health'], colour: boolean) => paint(h, HEALTH_COLOUR[h], colour);

function table(head: string[], colour: boolean): Table.Table {
  // cli-table3 colours headers red by default; we want plain output unless we were asked for colour.
  // compact: a rule under the header only, so a status table fits a terminal instead of doubling its height.
  return new Table({ head, style: { compact: true, head: colour ? ['bold'] : [], border: colour ? ['grey'] : [] } });
}

const runCell = (run: RunSummary | undefined, now: number, colour: boolean) =>
  run ? `${paint(run.status, run.status === 'success' ? 'green' : 'red', colour)} · ${formatAge(run.finishedAt, now)}` : '—';

const incidentRules = (incidents: Incident[]) =>
  incidents.length ? incidents.map((i) => (i.acknowledged ? `${i.rule} (acked)` : i.rule)).join(', ') : '—';

export function renderStatus(s: MonitorStatus, now: number, colour: boolean): string {
  const lines: string[] = [];
  if (s.retailers.length === 0) {
    lines.push('no retailers yet: nothing has reported to the monitor');
  } else {
    const t = table(['retailer', 'health', 'last run', 'last success', 'streak', 'avg SKUs', 'open incidents'], colour);
    for (const r of s.retailers) {
      t.push([
        r.retailer,
        formatHealth(r.health, colour),
        runCell(r.lastRun, now, colour),
        r.lastSuccessAt === undefined ? 'never' : formatAge(r.lastSuccessAt, now),
        String(r.consecutiveFailures),
        formatCount(r.trailingAverage),
        incidentRules(r.openIncidents),
      ]);
    }
    lines.push(t.toString());
  }
  const c = s.counters;
  lines.push(`reports: ${c.accepted} accepted · ${c.rejected} rejected · ${c.duplicates} duplicates · ${c.outOfOrder} out of order`);
  const last = s.recentRejections[s.recentRejections.length - 1];
  if (last) lines.push(paint(`last rejection (${formatAge(last.at, now)}): ${last.reason}`, 'yellow', colour));
  return lines.join('\n');
}

export function formatThresholds(t: Thresholds): string {
  return [
    `failure streak ${t.failureStreak}`,
    `stale after ${formatDuration(t.staleAfterMs)}`,
    `SKU drop ${t.skuDropPct}% vs last ${t.skuWindow} runs (min ${t.skuMinSamples})`,
    `re-notify ${t.renotifyEveryMs ? `every ${formatDuration(t.renotifyEveryMs)}` : 'off'}`,
  ].join(' · ');
}

/** Only the thresholds a `thresholds` command changed, e.g. 'failure streak 3 · re-notify off'. */
export function formatThresholdChanges(t: Partial<Thresholds>): string {
  const parts: string[] = [];
  if (t.failureStreak !== undefined) parts.push(`failure streak ${t.failureStreak}`);
  if (t.staleAfterMs !== undefined) parts.push(`stale after ${formatDuration(t.staleAfterMs)}`);
  if (t.skuDropPct !== undefined) parts.push(`SKU drop ${t.skuDropPct}%`);
  if (t.skuWindow !== undefined) parts.push(`SKU window ${t.skuWindow} runs`);
  if (t.skuMinSamples !== undefined) parts.push(`SKU min samples ${t.skuMinSamples}`);
  if (t.renotifyEveryMs !== undefined) parts.push(t.renotifyEveryMs ? `re-notify every ${formatDuration(t.renotifyEveryMs)}` : 're-notify off');
  return parts.join(' · ');
}

export const formatSilence = (s: Silence, now: number): string =>
  `${s.rule === '*' ? 'all rules' : s.rule} until ${new Date(s.until).toISOString()} (${formatAge(s.until, now)}) by ${s.by}: ${s.reason}`;

export function renderIncidents(incidents: Incident[], now: number, colour: boolean): string {
  if (incidents.length === 0) return 'no open incidents';
  const t = table(['id', 'retailer', 'rule', 'opened', 'notifications', 'acknowledged by'], colour);
  for (const i of incidents) {
    const ack = i.acknowledged ? `${i.acknowledged.by} (${formatAge(i.acknowledged.at, now)})` : paint('—', 'red', colour);
    t.push([i.id, i.retailer, i.rule, formatAge(i.openedAt, now), String(i.notifyCount), ack]);
  }
  return t.toString();
}

function runNote(r: RunSummary): string {
  const notes = [r.error, r.outOfOrder && 'out of order', r.skuDrop && 'SKU drop'].filter((n): n is string => !!n);
  const text = notes.join('; ');
  return text.length > 60 ? `${text.slice(0, 59)}…` : text;
}

export function renderRetailer(d: RetailerDetail, now: number, colour: boolean): string {
  const row = (label: string, value: string) => `  ${label.padEnd(15)}${value}`;
  const lines = [
    `${paint(d.retailer, 'bold', colour)}  ${formatHealth(d.health, colour)}`,
    row('last run', d.lastRun ? `${runCell(d.lastRun, now, colour)} (run ${d.lastRun.runId})` : '—'),
    row('last success', d.lastSuccessAt === undefined ? 'never' : formatAge(d.lastSuccessAt, now)),
    row('failure streak', String(d.consecutiveFailures)),
    row('avg SKUs', `${formatCount(d.trailingAverage)} (baseline of ${d.skuBaseline.length} runs)`),
    row('stale at', `${new Date(d.staleDeadline).toISOString()} (${formatAge(d.staleDeadline, now)})`),
    row('thresholds', formatThresholds(d.thresholds)),
    row('silences', d.silences.length ? d.silences.map((s) => formatSilence(s, now)).join('\n' + ' '.repeat(17)) : '—'),
    row('runs', `${d.totals.runs} total, ${d.totals.failures} failed, ${d.totals.outOfOrder} out of order`),
  ];
  if (d.openIncidents.length) lines.push('', 'open incidents:', renderIncidents(d.openIncidents, now, colour));
  if (d.recentRuns.length) {
    const t = table(['run id', 'status', 'finished', 'took', 'SKUs', 'promos', 'note'], colour);
    for (const r of d.recentRuns) {
      t.push([r.runId, paint(r.status, r.status === 'success' ? 'green' : 'red', colour), formatAge(r.finishedAt, now), r.finishedAt > r.startedAt ? formatDuration(r.finishedAt - r.startedAt) : '—', formatCount(r.skuCount), formatCount(r.promoCount), runNote(r)]);
    }
    lines.push('', 'recent runs:', t.toString());
  }
  return lines.join('\n');
}
