/**
 * The Prometheus dashboard's panels, defined once (PromQL over what the worker's `/metrics` exports; see
 * src/observability/). Retailer gauges are read from Postgres by every worker, so they are aggregated with
 * `max by (retailer)`; alert counters are per worker process, so they are summed.
 */
import { ALERT_METRIC_NAMES } from '../observability/alert-metrics';
import { RETAILER_METRIC_NAMES } from '../observability/retailer-metrics';
import type { GridPos, NamedColor, ThresholdStep, ValueMappingDef } from './panels';

export interface PromTarget {
  expr: string;
  legend: string;
  /** Instant query (stat panels): the value now, not a series. */
  instant?: boolean;
}

export interface PromPanelDef {
  id: number;
  title: string;
  description: string;
  kind: 'stat' | 'timeseries' | 'status-history';
  targets: PromTarget[];
  unit?: string;
  decimals?: number;
  thresholds?: ThresholdStep[];
  mappings?: ValueMappingDef[];
  gridPos: GridPos;
}

const R = RETAILER_METRIC_NAMES;
const A = ALERT_METRIC_NAMES;
const sel = '{retailer=~"$retailer"}';
const perRetailer = (metric: string) => `max by (retailer) (${metric}${sel})`;

/** Metrics of the Temporal SDK's Runtime exporter the dashboard uses (test/metrics.test.ts finds them in a real scrape). */
export const SDK_DASHBOARD_METRICS = {
  slotsAvailable: 'temporal_worker_task_slots_available',
  workflowTaskLatency: 'temporal_workflow_task_execution_latency',
  activityLatency: 'temporal_activity_execution_latency',
  scheduleToStart: 'temporal_activity_schedule_to_start_latency',
} as const;
const S = SDK_DASHBOARD_METRICS;

const red = (v: number | null): ThresholdStep => ({ value: v, color: 'red' });
const green = (v: number | null): ThresholdStep => ({ value: v, color: 'green' });
const step = (value: number | null, color: NamedColor): ThresholdStep => ({ value, color });

export const PROM_VARIABLE = {
  name: 'retailer',
  label: 'Retailer',
  query: `label_values(${R.healthy}, retailer)`,
} as const;

/** A half-width time series of one per-retailer gauge. */
function retailerSeries(id: number, title: string, description: string, metric: string, format: Pick<PromPanelDef, 'unit' | 'decimals'>, at: { x: number; y: number }): PromPanelDef {
  return { id, title, description, kind: 'timeseries', targets: [{ expr: perRetailer(metric), legend: '{{retailer}}' }], ...format, gridPos: { ...at, w: 12, h: 8 } };
}

export const PROM_PANELS: PromPanelDef[] = [
  {
    id: 1,
    title: 'Unhealthy retailers',
    description: 'Retailers whose health is not "healthy" (unhealthy or silenced), as the monitor last wrote it to Postgres.',
    kind: 'stat',
    targets: [{ expr: `count(${perRetailer(R.healthy)} == 0) or vector(0)`, legend: 'unhealthy', instant: true }],
    thresholds: [green(null), red(1)],
    gridPos: { x: 0, y: 0, w: 6, h: 4 },
  },
  {
    id: 2,
    title: 'Postgres readable',
    description: 'Whether every worker could read retailer_status at its last scrape (0: the retailer panels are empty, not healthy).',
    kind: 'stat',
    targets: [{ expr: `min(${R.postgresUp})`, legend: 'postgres up', instant: true }],
    mappings: [
      { value: '1', text: 'yes', color: 'green' },
      { value: '0', text: 'no', color: 'red' },
    ],
    gridPos: { x: 6, y: 0, w: 6, h: 4 },
  },
  {
    id: 3,
    title: 'Alerts delivered',
    description: 'Alert messages delivered over the dashboard time range, all channels and workers.',
    kind: 'stat',
    targets: [{ expr: `sum(increase(${A.delivered}[$__range])) or vector(0)`, legend: 'delivered', instant: true }],
    decimals: 0,
    thresholds: [step(null, 'blue')],
    gridPos: { x: 12, y: 0, w: 6, h: 4 },
  },
  {
    id: 4,
    title: 'Alert delivery failures',
    description: 'Failed alert delivery attempts over the time range (refused, or errors Temporal retried).',
    kind: 'stat',
    targets: [{ expr: `sum(increase(${A.failed}[$__range])) or vector(0)`, legend: 'failed', instant: true }],
    decimals: 0,
    thresholds: [green(null), step(1, 'orange')],
    gridPos: { x: 18, y: 0, w: 6, h: 4 },
  },
  {
    id: 5,
    title: 'Health by retailer',
    description: '1 healthy, 0 unhealthy or silenced.',
    kind: 'status-history',
    targets: [{ expr: perRetailer(R.healthy), legend: '{{retailer}}' }],
    mappings: [
      { value: '1', text: 'healthy', color: 'green' },
      { value: '0', text: 'unhealthy', color: 'red' },
    ],
    gridPos: { x: 0, y: 4, w: 24, h: 7 },
  },
  retailerSeries(6, 'Failure streak', 'Consecutive failed runs per retailer (0 after a success).', R.failureStreak, { decimals: 0 }, { x: 0, y: 11 }),
  retailerSeries(7, 'Time since last success', 'Per retailer; absent for a retailer that never succeeded.', R.sinceSuccess, { unit: 's' }, { x: 12, y: 11 }),
  retailerSeries(8, 'Last SKU count', "The SKU count of each retailer's last run (a gap while the last run failed).", R.skuCount, { decimals: 0 }, { x: 0, y: 19 }),
  retailerSeries(9, 'Last promo count', "The promo count of each retailer's last run (a gap while the last run failed).", R.promoCount, { decimals: 0 }, { x: 12, y: 19 }),
  {
    id: 10,
    title: 'Alerts by channel',
    description: 'Alerts fired, delivered and failed per channel (per second, all workers).',
    kind: 'timeseries',
    targets: [
      { expr: `sum by (channel) (rate(${A.fired}[$__rate_interval]))`, legend: 'fired {{channel}}' },
      { expr: `sum by (channel) (rate(${A.delivered}[$__rate_interval]))`, legend: 'delivered {{channel}}' },
      { expr: `sum by (channel) (rate(${A.failed}[$__rate_interval]))`, legend: 'failed {{channel}}' },
    ],
    unit: 'ops',
    gridPos: { x: 0, y: 27, w: 12, h: 8 },
  },
  {
    id: 11,
    title: 'Alert delivery latency (p95)',
    description: '95th percentile of one delivery attempt, per channel and outcome.',
    kind: 'timeseries',
    targets: [{ expr: `histogram_quantile(0.95, sum by (le, channel, outcome) (rate(${A.duration}_bucket[$__rate_interval])))`, legend: '{{channel}} {{outcome}}' }],
    unit: 's',
    gridPos: { x: 12, y: 27, w: 12, h: 8 },
  },
  {
    id: 12,
    title: 'Worker task slots available',
    description: 'Temporal SDK: free workflow / activity task slots of the monitor workers.',
    kind: 'timeseries',
    targets: [{ expr: `sum by (worker_type) (${S.slotsAvailable})`, legend: '{{worker_type}}' }],
    decimals: 0,
    gridPos: { x: 0, y: 35, w: 8, h: 8 },
  },
  {
    id: 13,
    title: 'Workflow task latency (p95)',
    description: 'Temporal SDK: time to execute a workflow task (the monitors\' own code).',
    kind: 'timeseries',
    targets: [{ expr: `histogram_quantile(0.95, sum by (le) (rate(${S.workflowTaskLatency}_bucket[$__rate_interval])))`, legend: 'p95' }],
    unit: 's',
    gridPos: { x: 8, y: 35, w: 8, h: 8 },
  },
  {
    id: 14,
    title: 'Activity latency (p95)',
    description: 'Temporal SDK: activity execution and schedule-to-start latency (a growing schedule-to-start means too few workers).',
    kind: 'timeseries',
    targets: [
      { expr: `histogram_quantile(0.95, sum by (le) (rate(${S.activityLatency}_bucket[$__rate_interval])))`, legend: 'execution p95' },
      { expr: `histogram_quantile(0.95, sum by (le) (rate(${S.scheduleToStart}_bucket[$__rate_interval])))`, legend: 'schedule-to-start p95' },
    ],
    unit: 's',
    gridPos: { x: 16, y: 35, w: 8, h: 8 },
  },
];

/** The metric names a PromQL expression reads (identifiers followed by a selector, range or `)`), minus functions and keywords. */
export function metricNamesIn(expr: string): string[] {
  const keywords = new Set(['by', 'without', 'or', 'and', 'unless', 'on', 'ignoring', 'group_left', 'group_right', 'bool', 'offset']);
  // Aggregations may be followed by `by (…)` rather than by their parenthesis.
  const aggregations = new Set(['sum', 'min', 'max', 'avg', 'count', 'group', 'stddev', 'stdvar', 'topk', 'bottomk', 'quantile', 'count_values']);
  const names = new Set<string>();
  const stripped = expr.replace(/\{[^}]*\}/g, '{}').replace(/"[^"]*"/g, '""').replace(/\[[^\]]*\]/g, '[]');
  for (const m of stripped.matchAll(/[a-zA-Z_:][a-zA-Z0-9_:]*/g)) {
    const after = stripped.slice(m.index! + m[0].length).trimStart();
    if (after.startsWith('(')) continue; // a function or an aggregation
    if (keywords.has(m[0]) || aggregations.has(m[0])) continue;
    const before = stripped.slice(0, m.index!).trimEnd();
    if (/\b(by|without|on|ignoring)\s*\($/.test(before) || /\b(by|without|on|ignoring)\s*\([^)]*$/.test(before)) continue; // grouping labels
    if (/^\d/.test(m[0])) continue;
    names.add(m[0]);
  }
  return [...names];
}
