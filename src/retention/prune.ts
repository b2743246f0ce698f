/**
 * Retention (RUN_RETENTION_DAYS): deletes ingestion runs and closed incidents' alert events older than the
 * horizon, in bounded batches — each batch one short DELETE of at most `batchSize` rows picked by ctid, so
 * no statement holds locks or writes WAL for long, and live inserts go on between batches.
 *
 * Never deleted:
 * - a retailer's latest run: the run its status row points to (`retailer_status.last_run_id`, which the
 *   status table joins for the last error), and any run with no newer run of the same retailer;
 * - alert events of an incident that has no `resolve` event (open, or closed without one). A closed
 *   incident goes as a whole, selected by its resolve event being older than the horizon (every other
 *   event of it is older still), so a fire is never left without its resolve.
 */
import { type Kysely, sql } from 'kysely';
import type { Database } from '../db/schema';
import { RETENTION, type PruneRequest, type PruneResult, type RetentionActivities } from './types';

const DAY_MS = 86_400_000;

export interface PruneOptions extends PruneRequest {
  /** Reference time (tests); default now. */
  now?: Date;
  /** Called after every batch (the activity heartbeats here). */
  onBatch?: (progress: PruneResult) => void;
}

/** @throws RangeError when retentionDays, batchSize or maxBatches is not a positive whole number. */
export async function pruneOldRows(db: Kysely<Database>, o: PruneOptions): Promise<PruneResult> {
  const batchSize = o.batchSize ?? RETENTION.batchSize;
  const maxBatches = o.maxBatches ?? RETENTION.maxBatches;
  for (const [name, v] of [['retentionDays', o.retentionDays], ['batchSize', batchSize], ['maxBatches', maxBatches]] as const) {
    if (!Number.isInteger(v) || v < 1) throw new RangeError(`${name} must be a positive whole number, got ${v}`);
  }
  const cutoff = new Date((o.now ?? new Date()).getTime() - o.retentionDays * DAY_MS);
  const result: PruneResult = { cutoff: cutoff.toISOString(), runsDeleted: 0, alertEventsDeleted: 0, batches: 0, truncated: false };

  const runBatch = () =>
    sql`DELETE FROM ingestion_runs WHERE ctid = ANY (ARRAY(
      SELECT r.ctid FROM ingestion_runs r
      WHERE r.finished_at < ${cutoff}
        AND EXISTS (SELECT 1 FROM ingestion_runs n WHERE n.retailer = r.retailer AND n.finished_at > r.finished_at)
        AND NOT EXISTS (SELECT 1 FROM retailer_status s WHERE s.last_run_id = r.run_id)
      LIMIT ${batchSize}))`.execute(db);
  // A closed incident's Slack message reference (bot mode) goes with its events.
  const alertBatch = () =>
    sql`WITH ids AS (
        SELECT DISTINCT a.incident_id FROM alert_events a
        WHERE a.kind = 'resolve' AND a.occurred_at < ${cutoff}
        LIMIT ${batchSize}),
      slack AS (DELETE FROM slack_messages WHERE incident_id IN (SELECT incident_id FROM ids))
      DELETE FROM alert_events WHERE incident_id = ANY (ARRAY(SELECT incident_id FROM ids))`.execute(db);

  for (const [step, add] of [
    [runBatch, (n: number) => (result.runsDeleted += n)],
    [alertBatch, (n: number) => (result.alertEventsDeleted += n)],
  ] as const) {
    for (;;) {
      if (result.batches >= maxBatches) {
        result.truncated = true;
        return result;
      }
      const deleted = Number((await step()).numAffectedRows ?? 0);
      result.batches++;
      add(deleted);
      o.onBatch?.(result);
      if (deleted === 0) break;
    }
  }
  return result;
}

export function createRetentionActivities(db: Kysely<Database>, heartbeat: (details: PruneResult) => void = () => {}): RetentionActivities {
  return {
    pruneOldRows: (req) => pruneOldRows(db, { ...req, onBatch: heartbeat }),
  };
}
