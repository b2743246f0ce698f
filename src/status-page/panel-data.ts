/**
 * Runs the dashboard's panel SQL for the status page: the same text Grafana runs, expanded by the same
 * macros module, for a time range and a retailer selection. Values are normalised to JSON-friendly shapes
 * the page can draw (Grafana does the equivalent when it builds data frames).
 */
import { type Kysely, sql } from 'kysely';
import type { Database } from '../db/schema';
import { ALL_VALUE, expandGrafanaSql, grafanaIntervalMs, type TimeRange, type VariableState } from '../dashboard/macros';
import { ALERT_ANNOTATION, PANELS, RETAILER_VARIABLE, STALE_HOURS, type PanelDef } from '../dashboard/panels';

export type Cell = string | number | boolean | null;
export type Row = Record<string, Cell>;

export interface PanelData extends PanelDef {
  /** This panel's `$__interval` in ms: its own `maxDataPoints` when it has one, else the page's. */
  intervalMs: number;
  executedSql: string;
  rows: Row[];
  error?: string;
}

export interface StatusPageData {
  generatedAt: string;
  range: { from: number; to: number };
  intervalMs: number;
  staleHours: number;
  retailer: { options: string[]; selected: string[] | 'all' };
  panels: PanelData[];
  annotations: Row[];
}

export interface PanelQuery {
  range: TimeRange;
  /** Selected retailers; undefined or empty selects All, as Grafana's default does. */
  retailers?: string[];
  /** Grafana sizes $__interval by panel width; the page uses one fixed budget of points per chart. */
  maxDataPoints?: number;
}

async function runRaw(db: Kysely<Database>, text: string): Promise<Row[]> {
  const result = await sql.raw<Record<string, unknown>>(text).execute(db);
  return result.rows.map(normaliseRow);
}

function normaliseRow(row: Record<string, unknown>): Row {
  const out: Row = {};
  for (const [k, v] of Object.entries(row)) {
    if (v instanceof Date) out[k] = v.toISOString();
    else if (typeof v === 'bigint') out[k] = Number(v);
    else if (v === null || typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') out[k] = v;
    else out[k] = JSON.stringify(v);
  }
  return out;
}

/**
 * Grafana turns a time-series `time` column into epoch milliseconds; `$__timeGroupAlias` yields epoch
 * seconds (numeric, which node-postgres returns as a string), `$__time` yields a timestamp.
 */
function timeToMs(v: Cell): number | null {
  if (v === null || typeof v === 'boolean') return null;
  if (typeof v === 'string' && !/^-?\d+(\.\d+)?$/.test(v)) return Date.parse(v);
  const n = Number(v);
  return Math.abs(n) < 1e11 ? n * 1000 : n;
}

export async function loadRetailerOptions(db: Kysely<Database>): Promise<string[]> {
  const rows = await runRaw(db, RETAILER_VARIABLE.sql);
  return rows.map((r) => String(Object.values(r)[0]));
}

export async function loadPanelData(db: Kysely<Database>, q: PanelQuery): Promise<StatusPageData> {
  const options = await loadRetailerOptions(db);
  const selected = q.retailers?.length ? q.retailers : undefined;
  const variable: VariableState = {
    name: RETAILER_VARIABLE.name,
    multi: RETAILER_VARIABLE.multi,
    includeAll: RETAILER_VARIABLE.includeAll,
    options,
    current: selected ?? [ALL_VALUE],
  };
  const intervalMs = grafanaIntervalMs(q.range, q.maxDataPoints ?? 1000);
  // An empty selection would expand to `IN ()`, a syntax error in Grafana too; no retailer means no rows.
  const nothingSelected = (selected ?? options).length === 0;
  const now = new Date();
  const run = async (text: string, timeSeries: boolean, panelIntervalMs = intervalMs) => {
    const executedSql = expandGrafanaSql(text, { range: q.range, intervalMs: panelIntervalMs, variables: [variable], now });
    if (nothingSelected && text.includes('$retailer')) return { executedSql, rows: [] as Row[] };
    const rows = await runRaw(db, executedSql);
    if (timeSeries) for (const r of rows) r.time = timeToMs(r.time);
    return { executedSql, rows };
  };

  const panels = await Promise.all(
    PANELS.map(async (p): Promise<PanelData> => {
      const panelIntervalMs = p.maxDataPoints === undefined ? intervalMs : grafanaIntervalMs(q.range, p.maxDataPoints);
      try {
        return { ...p, intervalMs: panelIntervalMs, ...(await run(p.sql, p.format === 'time_series', panelIntervalMs)) };
      } catch (err) {
        return { ...p, intervalMs: panelIntervalMs, executedSql: '', rows: [], error: err instanceof Error ? err.message : String(err) };
      }
    }),
  );
  const annotations = (await run(ALERT_ANNOTATION.sql, false)).rows;
  return {
    generatedAt: now.toISOString(),
    range: { from: q.range.from.getTime(), to: q.range.to.getTime() },
    intervalMs,
    staleHours: STALE_HOURS,
    retailer: { options, selected: selected ?? 'all' },
    panels,
    annotations,
  };
}
