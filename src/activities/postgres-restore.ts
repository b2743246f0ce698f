/**
 * restoreRetailer: what Postgres knows of a retailer, for a retailer monitor started fresh (first deploy of
 * the per-retailer version, or after a termination). Open incidents keep their ids, their opening time and
 * whether they were announced, so nothing is announced twice; sequence numbers continue where they stopped.
 */
import { type Kysely, sql } from 'kysely';
import type { Database, RetailerSettingsJson } from '../db/schema';
import { BASELINE_RULE_METRIC } from '../rules/baseline-rules';
import { REBUILD_WINDOW, type StoredBaselineRun } from '../rules/baseline-samples';
import { isValidTimeZone } from '../rules/baselines';
import { isStoredWindow } from '../rules/maintenance';
import type { ThresholdOverrides } from '../rules/thresholds';
import type { AlertFigures, Incident, RuleId, RunSummary, Silence } from '../rules/types';
import { runFromRow } from './postgres-rows';
import type { RestoredRetailer } from './types';

export interface RestoreRequest {
  retailer: string;
  keepRuns: number;
  keepRunIds: number;
  skuWindow: number;
  /** The fleet default timezone the monitor has (the retailer's own override, in Postgres, wins): weekdays of the baseline window. */
  timeZone?: string;
}

const ms = (d: Date | null | undefined) => (d ? d.getTime() : undefined);
/** Postgres `numeric`/`bigint` aggregates arrive as strings; null means "none". */
const num = (v: unknown) => (v === null || v === undefined ? 0 : Number(v));
const bounded = (n: number) => Math.max(0, Math.min(Math.floor(Number.isFinite(n) ? n : 0), 10_000));

export async function restoreRetailer(db: Kysely<Database>, req: RestoreRequest): Promise<RestoredRetailer | undefined> {
  const { retailer } = req;

  const status = await db
    .selectFrom('retailer_status')
    .select(['first_seen_at', 'last_success_at', 'consecutive_failures', 'settings'])
    .where('retailer', '=', retailer)
    .executeTakeFirst();

  const totals = await db
    .selectFrom('ingestion_runs')
    .select((eb) => [
      eb.fn.countAll<string>().as('runs'),
      sql<string>`count(*) filter (where status = 'failure')`.as('failures'),
      sql<string>`count(*) filter (where out_of_order)`.as('out_of_order'),
      eb.fn.min('received_at').as('first_received'),
    ])
    .where('retailer', '=', retailer)
    .executeTakeFirstOrThrow();

  // Every event of the retailer's incidents that have no resolve event (oldest first).
  const openEvents = await db
    .selectFrom('alert_events')
    .selectAll()
    .where('retailer', '=', retailer)
    .where('incident_id', 'in', (eb) =>
      eb
        .selectFrom('alert_events')
        .select('incident_id')
        .where('retailer', '=', retailer)
        .groupBy('incident_id')
        .having(sql<boolean>`bool_and(kind <> 'resolve')`),
    )
    .orderBy('occurred_at')
    .orderBy('id')
    .execute();

  const { incident_seq } = await db
    .selectFrom('alert_events')
    .select(sql<string | null>`max((substring(incident_id from '/([0-9]+)$'))::numeric)`.as('incident_seq'))
    .where('retailer', '=', retailer)
    .executeTakeFirstOrThrow();

  const eventCount = await db
    .selectFrom('alert_events')
    .select((eb) => eb.fn.countAll<string>().as('n'))
    .where('retailer', '=', retailer)
    .executeTakeFirstOrThrow();

  if (!status && num(totals.runs) === 0 && num(eventCount.n) === 0) return undefined;

  const actionPrefix = `${retailer}/action/`;
  const { action_seq } = await db
    .selectFrom('operator_actions')
    .select(sql<string | null>`max(substr(action_id, ${actionPrefix.length + 1})::numeric)`.as('action_seq'))
    .where('retailer', '=', retailer)
    .where(sql<boolean>`left(action_id, ${actionPrefix.length}) = ${actionPrefix}`)
    .where(sql<boolean>`substr(action_id, ${actionPrefix.length + 1}) ~ '^[0-9]{1,15}$'`)
    .executeTakeFirstOrThrow();

  const recentRows = await db
    .selectFrom('ingestion_runs')
    .selectAll()
    .where('retailer', '=', retailer)
    .where('out_of_order', '=', false)
    .orderBy('finished_at', 'desc')
    .orderBy('received_at', 'desc')
    .limit(bounded(req.keepRuns))
    .execute();
  const recentRuns: RunSummary[] = recentRows.reverse().map((r) => ({ ...runFromRow(r), ...(r.sku_drop ? { skuDrop: true } : {}) }));

  const recentIds = await db
    .selectFrom('ingestion_runs')
    .select('run_id')
    .where('retailer', '=', retailer)
    .orderBy('received_at', 'desc')
    .limit(bounded(req.keepRunIds))
    .execute();

  const baseline = await db
    .selectFrom('ingestion_runs')
    .select('sku_count')
    .where('retailer', '=', retailer)
    .where('status', '=', 'success')
    .where('sku_drop', '=', false)
    .where('in_maintenance', '=', false)
    .where('out_of_order', '=', false)
    .where('sku_count', 'is not', null)
    .orderBy('finished_at', 'desc')
    .limit(bounded(req.skuWindow))
    .execute();

  const lastSuccess = await db
    .selectFrom('ingestion_runs')
    .select(['run_id', 'finished_at'])
    .where('retailer', '=', retailer)
    .where('status', '=', 'success')
    .where('out_of_order', '=', false)
    .orderBy('finished_at', 'desc')
    .limit(1)
    .executeTakeFirst();

  const openIncidents = await incidentsFrom(db, openEvents);
  const settings = (status?.settings ?? undefined) as RetailerSettingsJson | undefined;
  const zone = [settings?.overrides?.timezone, req.timeZone].find((z): z is string => typeof z === 'string' && isValidTimeZone(z)) ?? 'UTC';
  const baselineRuns = lastSuccess ? await baselineWindow(db, retailer, lastSuccess.finished_at, zone) : [];

  return {
    firstSeenAt: ms(status?.first_seen_at) ?? ms(totals.first_received as Date | null),
    lastSuccessAt: ms(status?.last_success_at) ?? ms(lastSuccess?.finished_at),
    lastSuccessRunId: lastSuccess?.run_id,
    consecutiveFailures: status ? status.consecutive_failures : trailingFailures(recentRuns),
    recentRuns,
    skuBaseline: baseline.map((b) => b.sku_count as number).reverse(),
    recentRunIds: recentIds.map((r) => r.run_id).reverse(),
    openIncidents,
    incidentSeq: num(incident_seq),
    actionSeq: num(action_seq),
    ...(settings?.overrides ? { overrides: settings.overrides as ThresholdOverrides } : {}),
    silences: Array.isArray(settings?.silences) ? (settings.silences as Silence[]) : [],
    ...(Array.isArray(settings?.maintenance) ? { maintenance: settings.maintenance.filter(isStoredWindow) } : {}),
    totals: { runs: num(totals.runs), failures: num(totals.failures), outOfOrder: num(totals.out_of_order) },
    ...(baselineRuns.length ? { baselineRuns } : {}),
  };
}

const BASELINE_RULES = [...BASELINE_RULE_METRIC.keys()];

/**
 * The successful, in-order runs the robust baselines were learned from, and the 6 weeks before that judged
 * them (REBUILD_WINDOW): those that finished within 12 weeks of the newest, the newest 114 per weekday in
 * the retailer's timezone (so at most 798 rows, read through `ingestion_runs_retailer_finished_idx`), each with what keeps it out of a baseline: the flags the monitor
 * wrote (sku_drop, promo_drop, long_run, in_maintenance), the baseline-rule incidents it fired (for rows
 * written before migration 012 had the promo/duration flags) and when such an incident was acknowledged.
 */
async function baselineWindow(db: Kysely<Database>, retailer: string, newest: Date, zone: string): Promise<StoredBaselineRun[]> {
  const from = new Date(newest.getTime() - REBUILD_WINDOW.maxAgeMs);
  const read = (tz: string) =>
    db
      .selectFrom((eb) =>
        eb
          .selectFrom('ingestion_runs')
          .select(['run_id', 'started_at', 'finished_at', 'received_at', 'sku_count', 'promo_count', 'sku_drop', 'promo_drop', 'long_run', 'in_maintenance'])
          .select(sql<string>`row_number() over (partition by extract(dow from finished_at at time zone ${tz}) order by finished_at desc, received_at desc)`.as('nth'))
          .where('retailer', '=', retailer)
          .where('status', '=', 'success')
          .where('out_of_order', '=', false)
          .where('finished_at', '>', from)
          .where('finished_at', '<=', newest)
          .as('w'),
      )
      .selectAll()
      .where('nth', '<=', sql<string>`${REBUILD_WINDOW.perWeekday}`)
      .orderBy('finished_at')
      .orderBy('received_at')
      .execute();
  // A zone Intl knows but this Postgres does not (older tzdata): UTC weekdays only choose which rows come
  // back; the monitor buckets them by its own timezone.
  const rows = await read(zone).catch((err: { code?: string }) => {
    if (err?.code === '22023') return read('UTC');
    throw err;
  });
  if (rows.length === 0) return [];

  const fired = await db
    .selectFrom('alert_events')
    .select(['run_id', 'rule'])
    .distinct()
    .where('retailer', '=', retailer)
    .where('kind', '=', 'fire')
    .where('rule', 'in', BASELINE_RULES)
    .where('run_id', 'is not', null)
    .where('occurred_at', '>', from)
    .execute();
  const acked = await db
    .selectFrom('operator_actions as a')
    .innerJoin('alert_events as e', 'e.incident_id', 'a.incident_id')
    .select(['e.run_id', (eb) => eb.fn.min('a.at').as('at')])
    .where('a.retailer', '=', retailer)
    .where('a.action', '=', 'acknowledge')
    .where('a.at', '>', from)
    .where('e.kind', '=', 'fire')
    .where('e.rule', 'in', BASELINE_RULES)
    .where('e.run_id', 'is not', null)
    .groupBy('e.run_id')
    .execute();
  const firedRules = new Map<string, Set<string>>();
  for (const f of fired) {
    const set = firedRules.get(f.run_id!) ?? new Set<string>();
    set.add(f.rule);
    firedRules.set(f.run_id!, set);
  }
  const ackedAt = new Map(acked.map((a) => [a.run_id!, (a.at as Date).getTime()]));

  return rows.map((r) => {
    const rules = firedRules.get(r.run_id);
    const ack = ackedAt.get(r.run_id);
    return {
      runId: r.run_id,
      startedAt: r.started_at.getTime(),
      finishedAt: r.finished_at.getTime(),
      receivedAt: r.received_at.getTime(),
      ...(r.sku_count !== null ? { sku: r.sku_count } : {}),
      ...(r.promo_count !== null ? { promo: r.promo_count } : {}),
      ...(r.sku_drop || rules?.has('sku_drop') ? { skuDrop: true as const } : {}),
      ...(r.promo_drop || rules?.has('promo_drop') ? { promoDrop: true as const } : {}),
      ...(r.long_run || rules?.has('run_duration') ? { longRun: true as const } : {}),
      ...(r.in_maintenance ? { inMaintenance: true as const } : {}),
      ...(ack !== undefined ? { acknowledgedAt: ack } : {}),
    };
  });
}

/** Failures since the last success, newest backwards (used only when the status row is missing). */
function trailingFailures(runs: RunSummary[]): number {
  let n = 0;
  for (let i = runs.length - 1; i >= 0 && runs[i]!.status === 'failure'; i--) n++;
  return n;
}

type EventRow = {
  incident_id: string;
  retailer: string;
  rule: string;
  kind: 'fire' | 'renotify' | 'resolve' | 'acknowledge';
  occurred_at: Date;
  opened_at: Date;
  summary: string;
  figures: Record<string, unknown>;
  run_id: string | null;
  workflow_id: string | null;
  workflow_run_id: string | null;
  silenced: boolean;
};

/** Incidents from their events (oldest first), with the latest acknowledgement of each. */
async function incidentsFrom(db: Kysely<Database>, events: EventRow[]): Promise<Incident[]> {
  const byIncident = new Map<string, EventRow[]>();
  for (const e of events) {
    const list = byIncident.get(e.incident_id);
    if (list) list.push(e);
    else byIncident.set(e.incident_id, [e]);
  }
  if (byIncident.size === 0) return [];

  const acks = await db
    .selectFrom('operator_actions')
    .select(['incident_id', 'by', 'at', 'reason'])
    .where('action', '=', 'acknowledge')
    .where('incident_id', 'in', [...byIncident.keys()])
    .orderBy('at')
    .orderBy('id')
    .execute();
  const ackOf = new Map<string, Incident['acknowledged']>();
  for (const a of acks) {
    if (a.incident_id !== null) ackOf.set(a.incident_id, { by: a.by, at: a.at.getTime(), ...(a.reason !== null ? { note: a.reason } : {}) });
  }

  const out: Incident[] = [];
  for (const [id, list] of byIncident) {
    const fire = list.find((e) => e.kind === 'fire') ?? list[0]!;
    const latest = list[list.length - 1]!;
    const notices = list.filter((e) => e.kind === 'fire' || e.kind === 'renotify');
    const acknowledged = ackOf.get(id);
    out.push({
      id,
      retailer: fire.retailer,
      rule: fire.rule as RuleId,
      openedAt: fire.opened_at.getTime(),
      lastNotifiedAt: Math.max(...list.map((e) => e.occurred_at.getTime())),
      notifyCount: notices.length,
      summary: fire.summary,
      // The latest event carries the incident's current figures (re-notifications update them).
      figures: latest.figures as AlertFigures,
      ...(fire.run_id !== null ? { runId: fire.run_id } : {}),
      ...(fire.workflow_id !== null ? { workflowId: fire.workflow_id } : {}),
      ...(fire.workflow_run_id !== null ? { workflowRunId: fire.workflow_run_id } : {}),
      ...(acknowledged ? { acknowledged } : {}),
      announced: notices.some((e) => !e.silenced),
    });
  }
  return out.sort((a, b) => a.openedAt - b.openedAt);
}
