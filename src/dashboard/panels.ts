/**
 * The dashboard's panels, defined once. `grafana.ts` turns them into Grafana dashboard JSON and the
 * built-in status page runs the very same SQL (expanded by `macros.ts`) and draws the same panels, so the
 * two views cannot drift. SQL is written for Grafana's Postgres datasource: `$__timeFilter`,
 * `$__timeGroupAlias(col, $__interval)` and the `$retailer` multi-value variable. No SQL comments: newer
 * Grafana versions strip them before expanding macros, older ones do not (see macros.ts).
 */
import { DEFAULT_THRESHOLDS, HOUR_MS } from '../rules/thresholds';

export type PanelKind = 'stat' | 'table' | 'timeseries' | 'status-history';
export type QueryFormat = 'table' | 'time_series';

/** Grafana named colours; the status page maps them to the same CSS colours Grafana uses. */
export type NamedColor = 'green' | 'red' | 'orange' | 'yellow' | 'blue' | 'text';

export interface GridPos {
  x: number;
  y: number;
  w: number;
  h: number;
}

/** Absolute threshold step; the first step's `value` is null (the base colour), as in Grafana. */
export interface ThresholdStep {
  value: number | null;
  color: NamedColor;
}

export interface ValueMappingDef {
  value: string;
  text: string;
  color: NamedColor;
}

/** One column of a table panel, in display order. */
export interface FieldDef {
  name: string;
  label: string;
  unit?: string;
  decimals?: number;
  thresholds?: ThresholdStep[];
  mappings?: ValueMappingDef[];
  /** How a null reads, e.g. "never" for a retailer without a successful run. */
  noValue?: string;
}

export interface PanelDef {
  id: number;
  /** Stable slug: DOM ids on the status page, test names. */
  key: string;
  title: string;
  description: string;
  kind: PanelKind;
  format: QueryFormat;
  sql: string;
  /** Grafana unit id for the panel's values ('none', 'h', 's'). */
  unit?: string;
  decimals?: number;
  thresholds?: ThresholdStep[];
  mappings?: ValueMappingDef[];
  /** What a stat shows when its query returns null (Grafana's `noValue`). */
  noValue?: string;
  /**
   * Grafana's "Max data points" for the panel: the interval is range / maxDataPoints (rounded, at least the
   * datasource's 1 min). Unset: the panel's width decides, as in Grafana (the status page uses 1,000).
   */
  maxDataPoints?: number;
  /** Table columns; for time series the value column is named here too (time and metric are implied). */
  fields?: FieldDef[];
  gridPos: GridPos;
}

export interface VariableDef {
  name: string;
  label: string;
  sql: string;
  multi: boolean;
  includeAll: boolean;
}

export interface AnnotationDef {
  name: string;
  sql: string;
  iconColor: NamedColor;
}

/** The stale rule's default window; the age column and stat are coloured against it. */
export const STALE_HOURS = DEFAULT_THRESHOLDS.staleAfterMs / HOUR_MS;

/**
 * Stale as the monitor decides it: past the per-retailer `stale_deadline` it persisted, falling back to
 * the default window from the last success (or first sighting). Computed with now() so the dashboard still
 * turns red when the monitor itself has stopped writing.
 */
export const IS_STALE = `coalesce(stale_deadline, coalesce(last_success_at, first_seen_at) + interval '${STALE_HOURS} hours') < now()`;

/** A retailer the monitor knows (expected, or seen once) but that has never reported a run. */
const NEVER_RAN = 'last_run_at IS NULL';

/** What a stat or table says while no retailer has reported a run yet. */
export const WAITING_TEXT = 'waiting for first run';

/**
 * The state a person needs, from the persisted health plus what only now() can tell: an open incident
 * (unhealthy, or silenced) wins; then stale by the clock (the monitor may have stopped writing); then a
 * retailer that never ran; else healthy.
 */
const DISPLAY_HEALTH = `CASE WHEN health IN ('unhealthy', 'silenced') THEN health WHEN ${IS_STALE} THEN 'stale' WHEN ${NEVER_RAN} THEN 'waiting' ELSE 'healthy' END`;

const AGE_THRESHOLDS: ThresholdStep[] = [
  { value: null, color: 'green' },
  { value: STALE_HOURS, color: 'red' },
];

const HEALTH_MAPPINGS: ValueMappingDef[] = [
  { value: 'healthy', text: 'healthy', color: 'green' },
  { value: 'unhealthy', text: 'unhealthy', color: 'red' },
  { value: 'silenced', text: 'silenced', color: 'orange' },
  { value: 'stale', text: 'stale', color: 'red' },
  { value: 'waiting', text: WAITING_TEXT, color: 'blue' },
];

const RUN_STATUS_MAPPINGS: ValueMappingDef[] = [
  { value: 'success', text: 'success', color: 'green' },
  { value: 'failure', text: 'failure', color: 'red' },
];

/** Failure-history cells: 1 when any run in the bucket failed. */
const FAILED_MAPPINGS: ValueMappingDef[] = [
  { value: '0', text: 'success', color: 'green' },
  { value: '1', text: 'failure', color: 'red' },
];

const ALERT_KIND_MAPPINGS: ValueMappingDef[] = [
  { value: 'fire', text: 'fire', color: 'red' },
  { value: 'renotify', text: 'renotify', color: 'orange' },
  { value: 'acknowledge', text: 'acknowledge', color: 'blue' },
  { value: 'resolve', text: 'resolve', color: 'green' },
];

/**
 * alert_events.delivery (one outcome per channel) as one readable cell: "slack: delivered; email: failed (SMTP
 * 550 mailbox unavailable)". Channels that are not configured are left out; when none took the alert it reads
 * "not configured", and a silenced alert reads "silenced". An alert recorded as it fired, before the fleet has
 * delivered it (an empty list: a grouped follow-up waits for its window), reads "pending". A failure's detail is
 * clipped to keep the table narrow.
 */
const DELIVERY_SQL = `CASE WHEN silenced THEN 'silenced'
  WHEN jsonb_typeof(delivery) = 'array' AND jsonb_array_length(delivery) = 0 THEN 'pending'
  ELSE coalesce((
    SELECT string_agg(
      (d->>'channel') || ': ' || (d->>'status')
        || CASE WHEN d->>'status' = 'delivered' AND jsonb_typeof(d->'attempts') = 'number' AND (d->>'attempts')::numeric > 1 THEN ' after ' || (d->>'attempts') || ' attempts' ELSE '' END
        || coalesce(' (' || left(d->>'detail', 120) || ')', ''),
      '; ' ORDER BY n)
    FROM jsonb_array_elements(CASE WHEN jsonb_typeof(delivery) = 'array' THEN delivery ELSE '[]'::jsonb END) WITH ORDINALITY AS o(d, n)
    WHERE d->>'status' <> 'not_configured'
  ), 'not configured') END`;

const DELIVERY_MAPPINGS: ValueMappingDef[] = [
  { value: 'not configured', text: 'not configured', color: 'orange' },
  { value: 'silenced', text: 'silenced', color: 'text' },
  { value: 'pending', text: 'pending', color: 'blue' },
];

export const RETAILER_VARIABLE: VariableDef = {
  name: 'retailer',
  label: 'Retailer',
  sql: 'SELECT DISTINCT retailer FROM retailer_status ORDER BY retailer',
  multi: true,
  includeAll: true,
};

export const VARIABLES: VariableDef[] = [RETAILER_VARIABLE];

export const ALERT_ANNOTATION: AnnotationDef = {
  name: 'Alert events',
  iconColor: 'red',
  sql: `SELECT occurred_at AS "time",
  retailer || ' ' || rule || ' ' || kind || ': ' || summary AS text,
  retailer || ',' || rule || ',' || kind AS tags
FROM alert_events
WHERE $__timeFilter(occurred_at) AND retailer IN ($retailer)
ORDER BY occurred_at`,
};

/** The most points a trend series asks for: at the default 24 h range that is Grafana's 1 h interval. */
export const TREND_MAX_DATA_POINTS = 24;

const HOUR_INTERVAL_MS = 3_600_000;

/**
 * A per-retailer time series of one aggregated column, in Grafana's long format (time, metric, value).
 * Three branches, all in the SQL, two of them cut by constant conditions on `$__interval_ms`, so Grafana needs
 * nothing special:
 * - an interval of exactly one hour (the default 24 h range at `TREND_MAX_DATA_POINTS`): the hourly rollup
 *   (migration 009) is already one row per retailer and hour, so its rows are read as they are — no GROUP BY
 *   and no numeric `$__timeGroup` bucket per row, the time being the hour's epoch seconds as float8;
 * - a larger whole number of hours (7 d, 30 d …): the rollup's hours grouped into the interval;
 * - anything shorter: the runs, grouped into the interval.
 * The rollup branches take the whole hour the range starts in, as the runs branch labels its first bucket
 * with that hour. Time is float8 epoch seconds in every branch (the other branches' numeric
 * `$__timeGroupAlias` is cast by the UNION), which Grafana and the status page read as before.
 * `hourly` is the value of one rollup row, `rollup` the same over several rows; both divide in float8 (sums
 * of whole counts are exact there), so the two rollup branches give identical points at a 1 h interval.
 */
function trendSql(t: { raw: string; rollup: string; hourly: string; name: string; rawWhere?: string; rollupWhere?: string }): string {
  const hours = `hour > $__timeFrom()::timestamptz - interval '1 hour' AND hour <= $__timeTo()
  AND retailer IN ($retailer)${t.rollupWhere ?? ''}`;
  return `SELECT date_part('epoch', hour) AS "time",
  retailer AS metric,
  ${t.hourly} AS ${t.name}
FROM ingestion_runs_hourly
WHERE $__interval_ms = ${HOUR_INTERVAL_MS} AND ${hours}
UNION ALL
SELECT $__timeGroupAlias(hour, $__interval),
  retailer AS metric,
  (${t.rollup})::float8 AS ${t.name}
FROM ingestion_runs_hourly
WHERE $__interval_ms % ${HOUR_INTERVAL_MS} = 0 AND $__interval_ms <> ${HOUR_INTERVAL_MS} AND ${hours}
GROUP BY 1, 2
UNION ALL
SELECT $__timeGroupAlias(finished_at, $__interval),
  retailer AS metric,
  (${t.raw})::float8 AS ${t.name}
FROM ingestion_runs
WHERE $__interval_ms % ${HOUR_INTERVAL_MS} <> 0 AND $__timeFilter(finished_at) AND retailer IN ($retailer)${t.rawWhere ?? ''}
GROUP BY 1, 2
ORDER BY 1, 2`;
}

const STAT_H = 4;
const TABLE_Y = STAT_H;
const TABLE_H = 8;
const TREND_Y = TABLE_Y + TABLE_H;
const TREND_H = 8;
const HISTORY_Y = TREND_Y + TREND_H;
const ALERTS_Y = HISTORY_Y + TREND_H;

export const PANELS: PanelDef[] = [
  {
    id: 1,
    key: 'retailers-healthy',
    title: 'Retailers healthy',
    description: `Retailers with no open incident and a successful run within their stale window (default ${STALE_HOURS} h). Retailers that never ran are not counted.`,
    kind: 'stat',
    format: 'table',
    unit: 'none',
    thresholds: [{ value: null, color: 'green' }],
    sql: `SELECT count(*)::int AS healthy
FROM retailer_status
WHERE retailer IN ($retailer) AND health = 'healthy' AND NOT (${IS_STALE}) AND NOT (${NEVER_RAN})`,
    gridPos: { x: 0, y: 0, w: 5, h: STAT_H },
  },
  {
    id: 2,
    key: 'retailers-unhealthy',
    title: 'Retailers unhealthy',
    description: 'Retailers with an open, unsilenced incident, or stale even if the monitor has not said so yet.',
    kind: 'stat',
    format: 'table',
    unit: 'none',
    thresholds: [
      { value: null, color: 'green' },
      { value: 1, color: 'red' },
    ],
    sql: `SELECT count(*)::int AS unhealthy
FROM retailer_status
WHERE retailer IN ($retailer) AND health <> 'silenced' AND (health = 'unhealthy' OR ${IS_STALE})`,
    gridPos: { x: 5, y: 0, w: 5, h: STAT_H },
  },
  {
    id: 3,
    key: 'runs-in-range',
    title: 'Runs in range',
    description: 'Ingestion runs that finished in the selected time range.',
    kind: 'stat',
    format: 'table',
    unit: 'none',
    thresholds: [{ value: null, color: 'blue' }],
    sql: `SELECT count(*)::int AS runs
FROM ingestion_runs
WHERE $__timeFilter(finished_at) AND retailer IN ($retailer)`,
    gridPos: { x: 10, y: 0, w: 5, h: STAT_H },
  },
  {
    id: 4,
    key: 'failures-in-range',
    title: 'Failures in range',
    description: 'Failed ingestion runs that finished in the selected time range.',
    kind: 'stat',
    format: 'table',
    unit: 'none',
    thresholds: [
      { value: null, color: 'green' },
      { value: 1, color: 'red' },
    ],
    sql: `SELECT count(*)::int AS failures
FROM ingestion_runs
WHERE $__timeFilter(finished_at) AND retailer IN ($retailer) AND status = 'failure'`,
    gridPos: { x: 15, y: 0, w: 4, h: STAT_H },
  },
  {
    id: 5,
    key: 'oldest-success-age',
    title: 'Oldest success age',
    description: `Hours since the least recently successful retailer last succeeded (since first seen if it never succeeded). A retailer that never ran counts only once it is stale. Red from ${STALE_HOURS} h.`,
    kind: 'stat',
    format: 'table',
    unit: 'h',
    decimals: 1,
    thresholds: AGE_THRESHOLDS,
    noValue: WAITING_TEXT,
    sql: `SELECT round((max(extract(epoch from now() - coalesce(last_success_at, first_seen_at))) / 3600)::numeric, 1)::float8 AS hours
FROM retailer_status
WHERE retailer IN ($retailer) AND (NOT (${NEVER_RAN}) OR ${IS_STALE})`,
    gridPos: { x: 19, y: 0, w: 5, h: STAT_H },
  },
  {
    id: 6,
    key: 'retailer-status',
    title: 'Retailer status',
    description: `Latest state per retailer. Health: an open incident (unhealthy, or silenced), stale when past its stale deadline (default ${STALE_HOURS} h) even if the monitor has not said so, "waiting for first run" when it never reported. Last error: why the latest run failed. Diagnosis: why a stale retailer might be stale (from its open stale alert). Problems sort first.`,
    kind: 'table',
    format: 'table',
    fields: [
      { name: 'retailer', label: 'Retailer' },
      { name: 'health', label: 'Health', mappings: HEALTH_MAPPINGS },
      { name: 'last_run_at', label: 'Latest run', unit: 'dateTimeAsIso', noValue: 'never' },
      { name: 'last_run_status', label: 'Last status', mappings: RUN_STATUS_MAPPINGS },
      { name: 'hours_since_success', label: 'Since success', unit: 'h', decimals: 1, thresholds: AGE_THRESHOLDS, noValue: 'never' },
      { name: 'sku_count', label: 'SKUs', unit: 'none' },
      { name: 'promo_count', label: 'Promos', unit: 'none' },
      { name: 'failure_streak', label: 'Failure streak', unit: 'none' },
      { name: 'open_incidents', label: 'Open incidents', unit: 'none' },
      { name: 'open_rules', label: 'Open rules' },
      { name: 'last_error', label: 'Last error' },
      { name: 'diagnosis', label: 'Diagnosis' },
    ],
    sql: `SELECT retailer, health, last_run_at, last_run_status, hours_since_success, sku_count, promo_count,
  failure_streak, open_incidents, open_rules, last_error, diagnosis
FROM (
  SELECT s.retailer,
    ${DISPLAY_HEALTH} AS health,
    s.last_run_at,
    s.last_run_status,
    round((extract(epoch from now() - s.last_success_at) / 3600)::numeric, 1)::float8 AS hours_since_success,
    s.last_sku_count AS sku_count,
    s.last_promo_count AS promo_count,
    s.consecutive_failures AS failure_streak,
    s.open_incidents,
    s.open_rules,
    CASE WHEN s.last_run_status = 'failure' THEN r.error END AS last_error,
    d.diagnosis
  FROM retailer_status s
  LEFT JOIN ingestion_runs r ON r.run_id = s.last_run_id
  LEFT JOIN LATERAL (
    SELECT a.kind, a.diagnosis FROM alert_events a
    WHERE a.retailer = s.retailer AND a.rule = 'stale'
    ORDER BY a.occurred_at DESC, a.id DESC
    LIMIT 1
  ) d ON d.kind <> 'resolve'
  WHERE s.retailer IN ($retailer)
) t
ORDER BY CASE health WHEN 'unhealthy' THEN 0 WHEN 'stale' THEN 1 WHEN 'silenced' THEN 2 WHEN 'waiting' THEN 3 ELSE 4 END, retailer`,
    gridPos: { x: 0, y: TABLE_Y, w: 24, h: TABLE_H },
  },
  {
    id: 7,
    key: 'sku-trend',
    title: 'SKU count trend',
    description: 'SKU count of successful runs per retailer (average per interval).',
    kind: 'timeseries',
    format: 'time_series',
    unit: 'none',
    fields: [{ name: 'sku_count', label: 'SKUs' }],
    maxDataPoints: TREND_MAX_DATA_POINTS,
    sql: trendSql({
      name: 'sku_count',
      raw: 'avg(sku_count)',
      rawWhere: ` AND status = 'success' AND sku_count IS NOT NULL`,
      rollup: 'sum(sku_sum)::float8 / sum(sku_runs)',
      hourly: 'sku_sum::float8 / sku_runs',
      rollupWhere: ' AND sku_runs > 0',
    }),
    gridPos: { x: 0, y: TREND_Y, w: 12, h: TREND_H },
  },
  {
    id: 8,
    key: 'promo-trend',
    title: 'Promo count trend',
    description: 'Promotion count of successful runs per retailer (average per interval).',
    kind: 'timeseries',
    format: 'time_series',
    unit: 'none',
    fields: [{ name: 'promo_count', label: 'Promos' }],
    maxDataPoints: TREND_MAX_DATA_POINTS,
    sql: trendSql({
      name: 'promo_count',
      raw: 'avg(promo_count)',
      rawWhere: ` AND status = 'success' AND promo_count IS NOT NULL`,
      rollup: 'sum(promo_sum)::float8 / sum(promo_runs)',
      hourly: 'promo_sum::float8 / promo_runs',
      rollupWhere: ' AND promo_runs > 0',
    }),
    gridPos: { x: 12, y: TREND_Y, w: 12, h: TREND_H },
  },
  {
    id: 9,
    key: 'duration-trend',
    title: 'Run duration',
    description: 'Run duration per retailer, successful and failed runs (average per interval).',
    kind: 'timeseries',
    format: 'time_series',
    unit: 's',
    fields: [{ name: 'duration_s', label: 'Duration' }],
    maxDataPoints: TREND_MAX_DATA_POINTS,
    sql: trendSql({
      name: 'duration_s',
      raw: 'avg(duration_ms) / 1000',
      rollup: 'sum(duration_sum)::float8 / sum(duration_runs) / 1000',
      hourly: 'duration_sum::float8 / duration_runs / 1000',
      rollupWhere: ' AND duration_runs > 0',
    }),
    gridPos: { x: 0, y: HISTORY_Y, w: 12, h: TREND_H },
  },
  {
    id: 10,
    key: 'failure-history',
    title: 'Failure history',
    description: 'Per retailer and interval: red when any run failed, green when all succeeded; empty when no run finished.',
    kind: 'status-history',
    format: 'time_series',
    mappings: FAILED_MAPPINGS,
    fields: [{ name: 'failed', label: 'Failed' }],
    maxDataPoints: TREND_MAX_DATA_POINTS,
    sql: trendSql({
      name: 'failed',
      raw: `max(CASE WHEN status = 'failure' THEN 1 ELSE 0 END)`,
      rollup: 'max(CASE WHEN failures > 0 THEN 1 ELSE 0 END)',
      hourly: '(CASE WHEN failures > 0 THEN 1 ELSE 0 END)::float8',
    }),
    gridPos: { x: 12, y: HISTORY_Y, w: 12, h: TREND_H },
  },
  {
    id: 11,
    key: 'alert-events',
    title: 'Alert events',
    description:
      'Alerts fired, re-notified and resolved in the time range, newest first (also shown as annotations). Diagnosis: why a stale retailer might be stale (paused schedule, no worker polling, overlap skips …), when known. Delivery: how each configured channel took the alert, with the reason of a failure (HTTP status, SMTP reply, error); "not configured" when no alert channel is set, "silenced" when a silence covered it.',
    kind: 'table',
    format: 'table',
    fields: [
      { name: 'time', label: 'Time', unit: 'dateTimeAsIso' },
      { name: 'retailer', label: 'Retailer' },
      { name: 'rule', label: 'Rule' },
      { name: 'kind', label: 'Kind', mappings: ALERT_KIND_MAPPINGS },
      { name: 'summary', label: 'Summary' },
      { name: 'diagnosis', label: 'Diagnosis' },
      { name: 'delivery', label: 'Delivery', mappings: DELIVERY_MAPPINGS },
    ],
    sql: `SELECT occurred_at AS "time", retailer, rule, kind, summary, diagnosis,
  ${DELIVERY_SQL} AS delivery
FROM alert_events
WHERE $__timeFilter(occurred_at) AND retailer IN ($retailer)
ORDER BY occurred_at DESC
LIMIT 200`,
    gridPos: { x: 0, y: ALERTS_Y, w: 24, h: 8 },
  },
];
