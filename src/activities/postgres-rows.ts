/**
 * How the monitor's records become Postgres rows (and back), and the last line of defence before they get
 * there: every string is cleaned (NUL stripped, lone surrogates replaced) and every time checked, so the only
 * rows Postgres can still refuse are ones with out-of-range values, which persistBatch quarantines.
 */
import type { Selectable } from 'kysely';
import type { Database, RetailerSettingsJson } from '../db/schema';
import type { RetailerStatus, RunSummary } from '../rules/types';
import type { AlertRecord, OperatorAction, RetailerSettings } from './types';

/** A value that can never become a row (NaN time …): quarantined without asking Postgres. */
export class UnwritableValueError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UnwritableValueError';
  }
}

const NUL = /\u0000/g;
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/** Postgres text and jsonb refuse NUL (22021 / 22P05) and unpaired surrogates cannot be encoded as UTF-8. */
export function cleanString(s: string): string {
  return s.replace(NUL, '').replace(LONE_SURROGATE, '\uFFFD');
}

/** A deep copy of `value` with every string (and object key) cleaned; other values as they are. */
export function cleanDeep<T>(value: T): T {
  const walk = (v: unknown): unknown => {
    if (typeof v === 'string') return cleanString(v);
    if (Array.isArray(v)) return v.map(walk);
    // fromEntries defines own properties, so a key such as `__proto__` stays data.
    if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [cleanString(k), walk(x)]));
    return v;
  };
  return walk(value) as T;
}

export function iso(ms: number): string {
  const d = new Date(ms);
  if (!Number.isFinite(ms) || Number.isNaN(d.getTime())) throw new UnwritableValueError(`invalid time ${String(ms)}`);
  return d.toISOString();
}
const isoOrNull = (ms: number | undefined) => (ms === undefined || ms === null ? null : iso(ms));

export function runRow(r: RunSummary) {
  return {
    run_id: r.runId,
    retailer: r.retailer,
    schedule: r.schedule ?? null,
    status: r.status,
    started_at: iso(r.startedAt),
    finished_at: iso(r.finishedAt),
    duration_ms: Math.max(0, r.finishedAt - r.startedAt),
    sku_count: r.skuCount ?? null,
    promo_count: r.promoCount ?? null,
    last_scrape_at: isoOrNull(r.lastScrapeAt),
    error: r.error ?? null,
    workflow_id: r.workflowId ?? null,
    workflow_run_id: r.workflowRunId ?? null,
    out_of_order: r.outOfOrder ?? false,
    sku_drop: r.skuDrop ?? false,
    in_maintenance: r.inMaintenance ?? false,
    promo_drop: r.promoDrop ?? false,
    long_run: r.longRun ?? false,
    received_at: iso(r.receivedAt),
  };
}

export function statusRow(s: RetailerStatus, now: number) {
  const silence = [...s.silences].sort((a, b) => b.until - a.until)[0];
  return {
    retailer: s.retailer,
    health: s.health,
    first_seen_at: iso(s.firstSeenAt),
    last_run_id: s.lastRun?.runId ?? null,
    last_run_status: s.lastRun?.status ?? null,
    last_run_at: isoOrNull(s.lastRun?.finishedAt),
    last_success_at: isoOrNull(s.lastSuccessAt),
    consecutive_failures: s.consecutiveFailures,
    last_sku_count: s.lastRun?.skuCount ?? null,
    last_promo_count: s.lastRun?.promoCount ?? null,
    trailing_avg_sku: s.trailingAverage ?? null,
    stale_deadline: iso(s.staleDeadline),
    open_incidents: s.openIncidents.length,
    open_rules: s.openIncidents.map((i) => i.rule).sort().join(','),
    acknowledged_rules: s.openIncidents.filter((i) => i.acknowledged).map((i) => i.rule).sort().join(','),
    silenced_until: silence ? iso(silence.until) : null,
    silence_reason: silence?.reason ?? null,
    updated_at: iso(now),
  };
}

/** JSON text for a jsonb column; a non-finite number would silently become null, so it is refused instead. */
function jsonText(value: unknown, what: string): string {
  return JSON.stringify(value, (_k, v: unknown) => {
    if (typeof v === 'number' && !Number.isFinite(v)) throw new UnwritableValueError(`${what} holds ${String(v)}`);
    return v;
  });
}

export function alertRow({ event, delivery }: AlertRecord) {
  return {
    event_id: event.eventId,
    incident_id: event.incidentId,
    retailer: event.retailer,
    rule: event.rule,
    kind: event.kind,
    occurred_at: iso(event.at),
    opened_at: iso(event.openedAt),
    summary: event.summary,
    figures: jsonText(event.figures, 'figures'),
    run_id: event.runId ?? null,
    workflow_id: event.workflowId ?? null,
    workflow_run_id: event.workflowRunId ?? null,
    silenced: event.silenced ?? false,
    delivered: delivery.some((d) => d.status === 'delivered'),
    delivery: jsonText(delivery, 'delivery'),
    diagnosis: event.diagnosis ?? null,
  };
}

export function actionRow(a: OperatorAction) {
  return {
    action_id: a.actionId,
    at: iso(a.at),
    action: a.action,
    retailer: a.retailer ?? null,
    rule: a.rule ?? null,
    incident_id: a.incidentId ?? null,
    by: a.by,
    reason: a.reason ?? null,
    until: isoOrNull(a.until),
    outcome: a.outcome ?? null,
  };
}

/**
 * The row a settings write inserts when the retailer has no status row yet (a placeholder the retailer's
 * next status write completes); when it has one, only `settings` is updated.
 */
export function settingsRow(s: RetailerSettings, now: number) {
  const json: RetailerSettingsJson = {
    silences: s.silences,
    ...(s.overrides ? { overrides: { ...s.overrides } } : {}),
    ...(s.maintenance?.length ? { maintenance: s.maintenance } : {}),
  };
  return {
    retailer: s.retailer,
    health: 'healthy',
    first_seen_at: iso(now),
    consecutive_failures: 0,
    open_incidents: 0,
    open_rules: '',
    updated_at: iso(now),
    settings: jsonText(json, 'settings'),
  };
}

type RunRow = Selectable<Database['ingestion_runs']>;

/** The inverse of runRow, for reprocessing from the store. */
export function runFromRow(r: RunRow): RunSummary {
  const ms = (d: Date | null) => (d === null ? undefined : d.getTime());
  return {
    runId: r.run_id,
    retailer: r.retailer,
    status: r.status,
    startedAt: r.started_at.getTime(),
    finishedAt: r.finished_at.getTime(),
    receivedAt: r.received_at.getTime(),
    skuCount: r.sku_count ?? undefined,
    promoCount: r.promo_count ?? undefined,
    lastScrapeAt: ms(r.last_scrape_at),
    error: r.error ?? undefined,
    schedule: r.schedule ?? undefined,
    workflowId: r.workflow_id ?? undefined,
    workflowRunId: r.workflow_run_id ?? undefined,
  };
}
