/**
 * Postgres activities: one batched, idempotent write per flush. Runs are keyed by runId (a retried
 * activity or a re-sent report never duplicates a row), status rows are upserted per retailer, alert
 * events are keyed by their deterministic eventId.
 *
 * Nothing wedges on data: strings are cleaned on the way in, and when Postgres still refuses the batch for a
 * data reason (SQLSTATE class 22, 23 or 54) it is written again row by row; a row refused again is recorded
 * in `quarantine` with the reason and skipped. Connection and server errors throw, so Temporal retries the
 * whole (idempotent) batch until Postgres is back.
 */
import { type Kysely, sql } from 'kysely';
import type { Database } from '../db/schema';
import { currentContext } from './http';
import { isDataError, quarantineReason, recordQuarantine } from './postgres-quarantine';
import { restoreRetailer } from './postgres-restore';
import { actionRow, alertRow, cleanDeep, runFromRow, runRow, settingsRow, statusRow, UnwritableValueError } from './postgres-rows';
import type { PersistBatch, PersistResult, PostgresActivities, QuarantinedRow } from './types';

export { actionRow, alertRow, runFromRow, runRow, settingsRow, statusRow } from './postgres-rows';

/** Rows per INSERT statement: 1000 × at most 19 columns stays far below Postgres's 65,535 parameters. */
export const INSERT_CHUNK = 1000;

/** Upper bound on runs loaded for one reprocess, so a huge range can't blow up the workflow's payload. */
export const REPROCESS_MAX_RUNS = 2000;

function chunks<T>(rows: T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < rows.length; i += size) out.push(rows.slice(i, i + size));
  return out;
}

/** The last of each key wins (a later status or settings row supersedes an earlier one in the same batch). */
function lastByKey<T>(items: T[], key: (t: T) => string): T[] {
  const m = new Map<string, T>();
  for (const t of items) {
    const k = key(t);
    m.delete(k); // keep insertion order of the latest occurrence
    m.set(k, t);
  }
  return [...m.values()];
}

type Db = Kysely<Database>;
type RunRow = ReturnType<typeof runRow>;
type StatusRow = ReturnType<typeof statusRow>;
type SettingsRow = ReturnType<typeof settingsRow>;
type ActionRow = ReturnType<typeof actionRow>;
type AlertRow = ReturnType<typeof alertRow>;

const write = {
  async ingestion_runs(db: Db, rows: RunRow[]) {
    // Postgres allows 65,535 bind parameters per statement (19 per run row): insert in chunks.
    for (const chunk of chunks(rows, INSERT_CHUNK)) {
      await db.insertInto('ingestion_runs').values(chunk).onConflict((oc) => oc.column('run_id').doNothing()).execute();
    }
  },
  async retailer_status(db: Db, rows: StatusRow[]) {
    for (const chunk of chunks(rows, INSERT_CHUNK)) {
      await db
        .insertInto('retailer_status')
        .values(chunk)
        .onConflict((oc) =>
          // Every column but `settings`, which only a settings write changes.
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
  },
  async settings(db: Db, rows: SettingsRow[]) {
    for (const chunk of chunks(rows, INSERT_CHUNK)) {
      await db
        .insertInto('retailer_status')
        .values(chunk)
        .onConflict((oc) => oc.column('retailer').doUpdateSet((eb) => ({ settings: eb.ref('excluded.settings') })))
        .execute();
    }
  },
  async operator_actions(db: Db, rows: ActionRow[]) {
    for (const chunk of chunks(rows, INSERT_CHUNK)) {
      await db.insertInto('operator_actions').values(chunk).onConflict((oc) => oc.column('action_id').doNothing()).execute();
    }
  },
  async alert_events(db: Db, rows: AlertRow[]) {
    for (const chunk of chunks(rows, INSERT_CHUNK)) {
      await db
        .insertInto('alert_events')
        .values(chunk)
        .onConflict((oc) =>
          oc.column('event_id').doUpdateSet(() => ({
            // The monitor records an event as it fires (delivery pending: an empty list) and the fleet writes it
            // again once delivered; whichever lands second, a pending write never erases a delivery.
            delivery: sql`CASE WHEN jsonb_array_length(excluded.delivery) = 0 THEN alert_events.delivery ELSE excluded.delivery END`,
            delivered: sql<boolean>`CASE WHEN jsonb_array_length(excluded.delivery) = 0 THEN alert_events.delivered ELSE excluded.delivered END`,
            // A re-write without the diagnosis (delivery update) must not erase it.
            diagnosis: sql<string | null>`coalesce(excluded.diagnosis, alert_events.diagnosis)`,
          })),
        )
        .execute();
    }
  },
};

/** One table's share of a batch: rows that could be built, and records refused before reaching Postgres. */
interface Part<R> {
  table: string;
  write: (db: Db, rows: R[]) => Promise<void>;
  rows: Array<{ key: string; row: R; record: unknown }>;
}

type Refused = QuarantinedRow & { record: unknown };

function part<T, R>(table: string, items: T[], key: (t: T) => string, build: (t: T) => R, writer: (db: Db, rows: R[]) => Promise<void>, refused: Refused[]): Part<R> {
  const rows: Part<R>['rows'] = [];
  for (const item of items) {
    try {
      rows.push({ key: key(item), row: build(item), record: item });
    } catch (err) {
      if (!(err instanceof UnwritableValueError)) throw err;
      refused.push({ table, key: key(item), reason: quarantineReason(err), record: item });
    }
  }
  return { table, write: writer, rows };
}

export function createPostgresActivities(db: Kysely<Database>): PostgresActivities {
  return {
    async persistBatch(input: PersistBatch): Promise<PersistResult> {
      const now = Date.now();
      // Second line of defence after the report schema: no NUL or lone surrogate reaches Postgres.
      const batch = cleanDeep(input);
      const refused: Refused[] = [];
      const parts = [
        part('ingestion_runs', batch.runs, (r) => r.runId, runRow, write.ingestion_runs, refused),
        part('retailer_status', lastByKey(batch.statuses, (s) => s.retailer), (s) => s.retailer, (s) => statusRow(s, now), write.retailer_status, refused),
        part('retailer_status.settings', lastByKey(batch.settings ?? [], (s) => s.retailer), (s) => s.retailer, (s) => settingsRow(s, now), write.settings, refused),
        part('operator_actions', batch.actions ?? [], (a) => a.actionId, actionRow, write.operator_actions, refused),
        part('alert_events', lastByKey(batch.alerts, (a) => a.event.eventId), (a) => a.event.eventId, alertRow, write.alert_events, refused),
      ] as Part<unknown>[];

      try {
        await db.transaction().execute(async (tx) => {
          for (const p of parts) if (p.rows.length) await p.write(tx, p.rows.map((r) => r.row));
          if (refused.length) await recordQuarantine(tx, refused);
        });
      } catch (err) {
        if (!isDataError(err)) throw err; // connection / server trouble: Temporal retries the whole batch
        // Some row is refused: write row by row, each in its own transaction, and quarantine the refused.
        for (const p of parts) {
          const ok: typeof p.rows = [];
          for (const r of p.rows) {
            try {
              await db.transaction().execute((tx) => p.write(tx, [r.row]));
              ok.push(r);
            } catch (rowErr) {
              if (!isDataError(rowErr)) throw rowErr;
              refused.push({ table: p.table, key: r.key, reason: quarantineReason(rowErr), record: r.record });
            }
          }
          p.rows = ok;
        }
        // (If every row went in on its own, the batch as a whole was the problem: nothing to quarantine.)
        if (refused.length) await recordQuarantine(db, refused);
      }

      const quarantined = refused.map(({ table, key, reason }) => ({ table, key, reason }));
      for (const q of quarantined) currentContext()?.log.warn('Row quarantined: Postgres refused it for a data reason', { ...q });
      const written = (table: string) => parts.find((p) => p.table === table)?.rows.length ?? 0;
      return { runs: written('ingestion_runs'), statuses: written('retailer_status'), alerts: written('alert_events'), quarantined };
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

    restoreRetailer: (req) => restoreRetailer(db, req),
  };
}
