/**
 * Pure formatting for the CLI: duration parsing ('2h' → ms), ages ('3.2 h ago'), and the tables.
 * No I/O and the clock is passed in, so every function here is unit-tested directly.
 * Query results carry ISO-8601 times (src/rules/types.ts `IsoTimes`); ages are computed from them here.
 */
import Table from 'cli-table3';
import { flapSettings } from '../rules/flapping';
import type { MaintenanceWindow } from '../rules/maintenance';
import { DEFAULT_MISSED_RUN_GRACE_MS } from '../rules/missed-run';
import type { Thresholds } from '../rules/thresholds';
import { baselineSettings, type BaselineSettings } from '../rules/baseline-settings';
import type { AlertEvent, BaselineView, Health, Incident, IsoTimes, MonitorCounters, Rejection, RetailerStatus, RunSummary, Silence } from '../rules/types';
import { UNIT_MS } from '../shared/duration';
import type { FleetIncident, RetailerView } from '../shared/messages';
import type { HealthTotals } from './running-monitors';

/** The query shapes the CLI prints (times as ISO strings). */
export type IncidentView = IsoTimes<Incident>;
export type RunView = IsoTimes<RunSummary>;
export type SilenceView = IsoTimes<Silence>;
export type AlertView = IsoTimes<AlertEvent>;
export type FleetIncidentView = IsoTimes<FleetIncident>;
/** One row of `status`: a retailer's view without its run list, baseline and counters. */
export type RetailerRow = IsoTimes<RetailerStatus>;

/**
 * What `status` prints: the fleet's settings, the running retailer monitors it asked (all of them when they
 * fit within --limit, else those not healthy) and the totals by health that visibility counted.
 */
export interface FleetStatus {
  /** The fleet workflow's id. */
  fleet: string;
  defaults: Thresholds;
  expectedRetailers: string[];
  /** The monitors asked, by retailer. */
  retailers: RetailerRow[];
  /** Summed over the retailers shown. */
  counters: MonitorCounters;
  /** The newest rejections across the retailers shown, oldest first. */
  recentRejections: IsoTimes<Rejection>[];
  /** Expected retailers with no running monitor (the fleet starts them; a gap here is worth a look). */
  notRunning: string[];
  /** Monitors that did not answer their query (a poisoned or stuck monitor never hides the others). */
  unreadable: { retailer: string; error: string }[];
  /** Not every running monitor is in `retailers` / `unreadable` (the fleet is larger than --limit). */
  truncated: boolean;
  /** How many retailer monitors are running in all (a visibility count), when the server answered it. */
  running?: number;
  /** The running monitors by health (visibility counts), where the `RetailerHealth` search attribute is registered. */
  health?: HealthTotals;
  /** Healthy monitors counted but neither listed nor asked: the fleet is larger than --limit (0 otherwise). */
  healthyNotListed: number;
}

/** Epoch ms of an ISO time from a query result (undefined stays undefined). */
export const msOf = (iso: string | undefined): number | undefined => (iso === undefined ? undefined : Date.parse(iso));

export { parseDuration } from '../shared/duration';

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

const HEALTH_COLOUR: Record<Health, Colour> = { healthy: 'green', unhealthy: 'red', silenced: 'yellow' };
export const formatHealth = (h: Health, colour: boolean) => paint(h, HEALTH_COLOUR[h] ?? 'yellow', colour);

function table(head: string[], colour: boolean): Table.Table {
  // cli-table3 colours headers red by default; we want plain output unless we were asked for colour.
  // compact: a rule under the header only, so a status table fits a terminal instead of doubling its height.
  return new Table({ head, style: { compact: true, head: colour ? ['bold'] : [], border: colour ? ['grey'] : [] } });
}

const age = (iso: string | undefined, now: number, none = '—') => (iso === undefined ? none : formatAge(Date.parse(iso), now));

const runCell = (run: RunView | undefined, now: number, colour: boolean) =>
  run ? `${paint(run.status, run.status === 'success' ? 'green' : 'red', colour)} · ${age(run.finishedAt, now)}` : '—';

const incidentRules = (incidents: IncidentView[]) =>
  incidents.length ? incidents.map((i) => (i.acknowledged ? `${i.rule} (acked)` : i.rule)).join(', ') : '—';

/** Cut to `max` characters for a table cell (never splits a surrogate pair). */
function cut(text: string, max: number): string {
  const chars = [...text];
  return chars.length > max ? `${chars.slice(0, max - 1).join('')}…` : text;
}

/** '10,000 running: 9,990 healthy · 7 unhealthy · 3 silenced' (and those with no health recorded yet). */
export function formatHealthTotals(running: number, h: HealthTotals): string {
  const parts = [`${formatCount(h.healthy)} healthy`, `${formatCount(h.unhealthy)} unhealthy`, `${formatCount(h.silenced)} silenced`];
  if (h.unknown) parts.push(`${formatCount(h.unknown)} with no health recorded yet`);
  return `${formatCount(running)} running: ${parts.join(' · ')}`;
}

export function renderStatus(s: FleetStatus, now: number, colour: boolean): string {
  const lines: string[] = [];
  const shown = s.retailers.length + s.unreadable.length;
  if (s.truncated && s.running !== undefined && s.health) lines.push(formatHealthTotals(s.running, s.health));
  if (s.retailers.length === 0) {
    // A fleet larger than --limit with every monitor healthy lists none: the totals above say so.
    if (!s.healthyNotListed) lines.push('no retailers yet: no retailer monitor is running (a monitor starts with its retailer\'s first report, or via `expect`)');
  } else {
    const t = table(['retailer', 'health', 'last run', 'last success', 'streak', 'avg SKUs', 'open incidents'], colour);
    for (const r of s.retailers) {
      t.push([
        r.retailer,
        formatHealth(r.health, colour),
        runCell(r.lastRun, now, colour),
        age(r.lastSuccessAt, now, 'never'),
        String(r.consecutiveFailures),
        formatCount(r.trailingAverage),
        incidentRules(r.openIncidents),
      ]);
    }
    lines.push(t.toString());
  }
  const c = s.counters;
  // Repeats are normal (the reconciler re-sends every failed run it finds; the monitor keeps the first by
  // runId), so they are not put beside the rejections as if something were wrong.
  const counted = `${c.accepted} accepted · ${c.rejected} rejected · ${c.outOfOrder} out of order · ${c.duplicates} repeats ignored (already recorded)`;
  if (!s.truncated) lines.push(`reports: ${counted}`);
  else if (s.retailers.length) lines.push(`reports, the ${s.retailers.length} monitors listed: ${counted}`);
  const last = s.recentRejections[s.recentRejections.length - 1];
  if (last) lines.push(paint(`last rejection (${age(last.at, now)}${last.retailer ? `, ${last.retailer}` : ''}): ${last.reason}`, 'yellow', colour));
  if (s.notRunning.length) lines.push(paint(`expected but no monitor running: ${s.notRunning.join(', ')}`, 'yellow', colour));
  for (const u of s.unreadable) lines.push(paint(`${u.retailer}: monitor did not answer (${u.error})`, 'red', colour));
  if (s.truncated && s.health && s.running !== undefined) {
    const notHealthy = s.running - s.health.healthy;
    if (s.healthyNotListed) lines.push(`${formatCount(s.healthyNotListed)} healthy monitors are counted, not listed (more than --limit are running); \`retailer <r>\` shows one`);
    if (shown < notHealthy) lines.push(paint(`only ${formatCount(shown)} of ${formatCount(notHealthy)} monitors not healthy are shown, unhealthy first (--limit)`, 'yellow', colour));
  } else if (s.truncated) {
    const of = s.running !== undefined ? ` of ${s.running}` : '';
    lines.push(paint(`only ${shown}${of} running monitors are shown, those not healthy first (--limit)`, 'yellow', colour));
  }
  return lines.join('\n');
}

export function formatThresholds(t: Thresholds): string {
  return [
    `failure streak ${t.failureStreak}`,
    `stale after ${formatDuration(t.staleAfterMs)}`,
    `SKU drop ${t.skuDropPct}% vs last ${t.skuWindow} runs (min ${t.skuMinSamples})`,
    `re-notify ${t.renotifyEveryMs ? `every ${formatDuration(t.renotifyEveryMs)}` : 'off'}`,
    formatBaselineSettings(baselineSettings(t)),
    ...(t.flapCount !== undefined || t.flapWindowMs !== undefined || t.flapQuietMs !== undefined ? [formatFlap(t)] : []),
    missedRunText(t.missedRunGraceMs ?? DEFAULT_MISSED_RUN_GRACE_MS),
  ].join(' · ');
}

/** The baseline rules' settings, e.g. 'SKU rule drop-pct · promo_drop off · run_duration on (+100%, +5m, 3 MADs) · timezone UTC'. */
export function formatBaselineSettings(b: BaselineSettings): string {
  return [
    `SKU rule ${b.skuRule}${b.skuRule === 'drop-pct-and-robust' ? ` (${b.robustMads} MADs)` : ''}`,
    `promo_drop ${b.promoDrop ? `on (−${b.promoDropPct}%, ${b.robustMads} MADs)` : 'off'}`,
    `run_duration ${b.runDuration ? `on (+${b.durationRisePct}%, +${formatDuration(b.durationMinRiseMs)}, ${b.robustMads} MADs)` : 'off'}`,
    `timezone ${b.timezone}`,
  ].join(' · ');
}

/** Flap control as set (defaults filled in), e.g. 'flapping at 3 fires in 1h, closes after 30m quiet'. */
function formatFlap(t: Thresholds): string {
  const f = flapSettings(t);
  return f.flapCount ? `flapping at ${f.flapCount} fires in ${formatDuration(f.flapWindowMs)}, closes after ${formatDuration(f.flapQuietMs)} quiet` : 'flap control off';
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
  if (t.timezone !== undefined) parts.push(`timezone ${t.timezone}`);
  if (t.skuRule !== undefined) parts.push(`SKU rule ${t.skuRule}`);
  if (t.robustMads !== undefined) parts.push(`robust ${t.robustMads} MADs`);
  if (t.promoDrop !== undefined) parts.push(`promo_drop ${t.promoDrop ? 'on' : 'off'}`);
  if (t.promoDropPct !== undefined) parts.push(`promo drop ${t.promoDropPct}%`);
  if (t.runDuration !== undefined) parts.push(`run_duration ${t.runDuration ? 'on' : 'off'}`);
  if (t.durationRisePct !== undefined) parts.push(`duration rise ${t.durationRisePct}%`);
  if (t.durationMinRiseMs !== undefined) parts.push(`duration min rise ${formatDuration(t.durationMinRiseMs)}`);
  if (t.flapCount !== undefined) parts.push(t.flapCount ? `flapping at ${t.flapCount} fires` : 'flap control off');
  if (t.flapWindowMs !== undefined) parts.push(`flap window ${formatDuration(t.flapWindowMs)}`);
  if (t.flapQuietMs !== undefined) parts.push(`flap quiet ${formatDuration(t.flapQuietMs)}`);
  if (t.missedRunGraceMs !== undefined) parts.push(missedRunText(t.missedRunGraceMs));
  return parts.join(' · ');
}

/** One line per maintenance window, the active ones marked. */
export function formatWindows(windows: Array<IsoTimes<MaintenanceWindow>>, active: string[]): string[] {
  return windows.map((w) => `${active.includes(w.id) ? '[ACTIVE] ' : ''}${w.id}: ${w.spec}${w.retailer ? '' : ' (fleet-wide)'} — ${w.reason} (by ${w.by})`);
}

const missedRunText = (graceMs: number) => (graceMs ? `missed run grace ${formatDuration(graceMs)}` : 'missed run off');

/** The missed-run rule's line: the Schedule's next expected run, paused, or not found. */
function missedRunRow(m: NonNullable<RetailerView['missedRun']>, now: number): string {
  const schedule = `schedule ${m.scheduleId ?? '—'}${m.spec ? `, ${m.spec}` : ''}`;
  if (m.paused) return `paused (${schedule})`;
  if (m.notFound) return `no such Schedule (${schedule})`;
  if (!m.expectedRunAt) return `— (${schedule})`;
  const missed = m.missedRuns ? `; ${m.missedRuns} missed` : '';
  return `${m.expectedRunAt} (${age(m.expectedRunAt, now)}; ${schedule}${missed})`;
}

export const formatSilence = (s: SilenceView, now: number): string =>
  `${s.rule === '*' ? 'all rules' : s.rule} until ${s.until} (${age(s.until, now)}) by ${s.by}: ${s.reason}`;

export function renderIncidents(incidents: IncidentView[], now: number, colour: boolean): string {
  if (incidents.length === 0) return 'no open incidents';
  const t = table(['id', 'retailer', 'rule', 'opened', 'notifications', 'acknowledged by'], colour);
  for (const i of incidents) {
    const ack = i.acknowledged ? `${i.acknowledged.by} (${age(i.acknowledged.at, now)})` : paint('—', 'red', colour);
    const sent = i.announced === false ? 'silenced' : String(i.notifyCount);
    t.push([i.id, i.retailer, i.rule, age(i.openedAt, now), sent, ack]);
  }
  return t.toString();
}

export function renderAlerts(alerts: AlertView[], now: number, colour: boolean): string {
  if (alerts.length === 0) return 'no recent alerts';
  const t = table(['when', 'incident', 'kind', 'summary', 'diagnosis'], colour);
  for (const a of [...alerts].reverse()) {
    const kind = a.silenced ? `${a.kind} (silenced)` : a.kind;
    t.push([age(a.at, now), a.incidentId, paint(kind, a.kind === 'resolve' ? 'green' : a.kind === 'acknowledge' ? 'yellow' : 'red', colour), cut(a.summary, 60), a.diagnosis ? cut(a.diagnosis, 50) : '—']);
  }
  return t.toString();
}

const METRIC_LABEL = new Map([
  ['sku', 'SKUs'],
  ['promo', 'promos'],
  ['durationMs', 'duration'],
]);

/** 'SKUs 4,950 (median of 5 Tuesdays, 1 of 40 samples kept out) · promos — (2 samples) · …'. */
export function formatBaselines(views: BaselineView[]): string {
  if (views.length === 0) return '—';
  return views
    .map((v) => {
      const typical = v.typical === undefined ? '—' : v.metric === 'durationMs' ? formatDuration(v.typical) : formatCount(v.typical);
      const out = v.excluded ? `, ${v.excluded} of ${v.samples} samples kept out` : `, ${v.samples} samples`;
      return `${METRIC_LABEL.get(v.metric)} ${typical} (${v.basis ?? 'too few samples'}${out})`;
    })
    .join(' · ');
}

function runNote(r: RunView): string {
  const notes = [r.error, r.outOfOrder && 'out of order', r.skuDrop && 'SKU drop', r.promoDrop && 'promo drop', r.longRun && 'long run', r.inMaintenance && 'in maintenance'].filter((n): n is string => !!n);
  return cut(notes.join('; '), 60);
}

export function renderRetailer(d: RetailerView, now: number, colour: boolean): string {
  const row = (label: string, value: string) => `  ${label.padEnd(15)}${value}`;
  const lines = [
    `${paint(d.retailer, 'bold', colour)}  ${formatHealth(d.health, colour)}`,
    row('last run', d.lastRun ? `${runCell(d.lastRun, now, colour)} (run ${d.lastRun.runId})` : '—'),
    row('last success', age(d.lastSuccessAt, now, 'never')),
    row('failure streak', String(d.consecutiveFailures)),
    row('avg SKUs', `${formatCount(d.trailingAverage)} (baseline of ${d.skuBaseline.length} runs)`),
    row('stale at', `${d.staleDeadline} (${age(d.staleDeadline, now)})`),
    ...(d.missedRun ? [row('next run', missedRunRow(d.missedRun, now))] : []),
    row('thresholds', formatThresholds(d.thresholds)),
    row('baselines', formatBaselines(d.baselines ?? [])),
    row('silences', d.silences.length ? d.silences.map((s) => formatSilence(s, now)).join('\n' + ' '.repeat(17)) : '—'),
    ...(d.maintenance?.length ? [row('maintenance', formatWindows(d.maintenance, d.activeMaintenance ?? []).join('\n' + ' '.repeat(17)))] : []),
    row('runs', `${d.totals.runs} total, ${d.totals.failures} failed, ${d.totals.outOfOrder} out of order`),
  ];
  if (d.openIncidents.length) lines.push('', 'open incidents:', renderIncidents(d.openIncidents, now, colour));
  if (d.recentRuns.length) {
    const t = table(['run id', 'status', 'finished', 'took', 'SKUs', 'promos', 'note'], colour);
    for (const r of d.recentRuns) {
      const took = Date.parse(r.finishedAt) - Date.parse(r.startedAt);
      t.push([r.runId, paint(r.status, r.status === 'success' ? 'green' : 'red', colour), age(r.finishedAt, now), took > 0 ? formatDuration(took) : '—', formatCount(r.skuCount), formatCount(r.promoCount), runNote(r)]);
    }
    lines.push('', 'recent runs:', t.toString());
  }
  return lines.join('\n');
}
