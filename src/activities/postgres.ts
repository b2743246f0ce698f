/**
 * Postgres activities: one batched, idempotent write per flush. Runs are keyed by runId (a retried
 * activity or a re-sent report never duplicates a row), status rows are upserted per retailer, alert
 * events are keyed by their deterministic eventId.
 */
import type { Kysely, Selectable } from 'kysely';
import type { Database } from '../db/schema';
import type { AlertRecord, OperatorAction, PersistBatch, PostgresActivities } from './types';
import type { RetailerStatus, RunSummary } from '../rules/types';

const iso = (ms: number) => new Date(ms).toISOString();
const isoOrNull = (ms: number | undefined) => (ms === undefined ? null : iso(ms));

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
    figures: JSON.stringify(event.figures),
    run_id: event.runId ?? null,
    workflow_id: event.workflowId ?? null,
    workflow_run_id: event.workflowRunId ?? null,
    silenced: event.silenced ?? false,
    delivered: delivery.some((d) => d.status === 'delivered'),
    delivery: JSON.stringify(delivery),
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

/** Rows per INSERT statement: 1000 × at most 18 columns stays far below Postgres's 65,535 parameters. */
export const INSERT_CHUNK = 1000;

function chunks<T>(rows: T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < rows.length; i += size) out.push(rows.slice(i, i + size));
  return out;
}

/** Upper bound on runs loaded for one reprocess, so a huge range can't blow up the workflow's payload. */
export const REPROCESS_MAX_RUNS = 2000;

export function createPostgresActivities(db: Kysely<Database>): PostgresActivities {
  return {
    async persistBatch(batch: PersistBatch) {
      const now = Date.now();
      await db.transaction().execute(async (tx) => {
        // Postgres allows 65,535 bind parameters per statement (16 per run row): insert in chunks.
        for (const chunk of chunks(batch.runs.map(runRow), INSERT_CHUNK)) {
          await tx
            .insertInto('ingestion_runs')
            .values(chunk)
            .onConflict((oc) => oc.column('run_id').doNothing())
            .execute();
        }
        for (const chunk of chunks(batch.statuses.map((s) => statusRow(s, now)), INSERT_CHUNK)) {
          await tx
            .insertInto('retailer_status')
            .values(chunk)
            .onConflict((oc) =>
              oc.column('retailer').doUpdateSet((eb) => ({
                health: eb.ref('excluded.health'),
                first_seen_at: eb.ref('excluded.first_seen_at'),
                last_run_id: eb.ref('excluded.last_run_id'),
                last_run_status: eb.ref('excluded.last_run_status'),
                last_run_at: eb.ref('excluded.last_run_at'),
                last_success_at: eb.ref('excluded.last_success_at'),
                consecutive_failures: eb.ref('excluded.consecutive_failures'),
                last_sku_count: eb.ref('excluded.last_sku_count'),
                last_promo_count: eb.ref('excluded.last_promo_count'),
                trailing_avg_sku: eb.ref('excluded.trailing_avg_sku'),
                stale_deadline: eb.ref('excluded.stale_deadline'),
                open_incidents: eb.ref('excluded.open_incidents'),
                open_rules: eb.ref('excluded.open_rules'),
                silenced_until: eb.ref('excluded.silenced_until'),
                silence_reason: eb.ref('excluded.silence_reason'),
                acknowledged_rules: eb.ref('excluded.acknowledged_rules'),
                updated_at: eb.ref('excluded.updated_at'),
              })),
            )
            .execute();
        }
        if (batch.actions?.length) {
          await tx
            .insertInto('operator_actions')
            .values(batch.actions.map(actionRow))
            .onConflict((oc) => oc.column('action_id').doNothing())
            .execute();
        }
        for (const chunk of chunks(batch.alerts.map(alertRow), INSERT_CHUNK)) {
          await tx
            .insertInto('alert_events')
            .values(chunk)
            .onConflict((oc) =>
              oc.column('event_id').doUpdateSet((eb) => ({ delivery: eb.ref('excluded.delivery'), delivered: eb.ref('excluded.delivered') })),
            )
            .execute();
        }
      });
      return { runs: batch.runs.length, statuses: batch.statuses.length, alerts: batch.alerts.length };
    },

    async loadRuns({ retailer, from, to }) {
      // In-order runs only: out-of-order ones were never applied to state the first time either.
      const rows = await db
        .selectFrom('ingestion_runs')
        .selectAll()
        .where('retailer', '=', retailer)
        .where('finished_at', '>=', new Date(from))
        .where('finished_at', '<=', new Date(to))
        .where('out_of_order', '=', false)
        .orderBy('finished_at', 'desc')
        .limit(REPROCESS_MAX_RUNS)
        .execute();
      return rows.reverse().map(runFromRow);
    },
  };
}
