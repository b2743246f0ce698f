/**
 * An hourly rollup of `ingestion_runs` for the trend panels (SKU, promo and duration trends, failure
 * history). At a year of data the 24 h trends returned one row per run (100 retailers × 96 runs = 9,400
 * rows) and took 44–67 ms p50 / 67–85 ms p95, against a 20 ms target (docs/benchmarks.md, 2026-11-27).
 * The panels now ask for at most 24 points per series (`maxDataPoints`), which at 24 h is Grafana's
 * 1 h interval; at an interval that is a whole number of hours they read this table instead of the runs.
 *
 * The rollup is kept by statement-level triggers with transition tables, so every writer (the monitor's
 * persistence activity, the seeding script, retention, a hand-written INSERT) keeps it exact in the same
 * transaction: INSERT adds (an `ON CONFLICT DO NOTHING` duplicate is not in the transition table), DELETE
 * subtracts and drops emptied hours, UPDATE does both, TRUNCATE empties it. Hours are epoch-aligned
 * (`floor(epoch / 3600) * 3600`), as Grafana's `$__timeGroup` buckets, whatever the session's TimeZone.
 * Sums and counts are kept separately so an average over several hours stays exact.
 */
import { type Kysely, sql } from 'kysely';

/** The hourly aggregate of the rows of `source` (a transition table), `sign` 1 to add and -1 to subtract. */
function aggregate(source: string, sign: 1 | -1) {
  const s = sign === 1 ? '' : '-';
  return `SELECT to_timestamp(floor(extract(epoch FROM finished_at) / 3600) * 3600) AS hour, retailer,
      ${s}count(*) AS runs,
      ${s}count(*) FILTER (WHERE status = 'failure') AS failures,
      ${s}coalesce(sum(sku_count) FILTER (WHERE status = 'success'), 0) AS sku_sum,
      ${s}count(sku_count) FILTER (WHERE status = 'success') AS sku_runs,
      ${s}coalesce(sum(promo_count) FILTER (WHERE status = 'success'), 0) AS promo_sum,
      ${s}count(promo_count) FILTER (WHERE status = 'success') AS promo_runs,
      ${s}coalesce(sum(duration_ms), 0) AS duration_sum,
      ${s}count(duration_ms) AS duration_runs
    FROM ${source} GROUP BY 1, 2 ORDER BY 1, 2`;
}

/** Upsert one aggregate; the ORDER BY above keeps concurrent writers locking hours in the same order. */
function apply(source: string, sign: 1 | -1) {
  return `INSERT INTO ingestion_runs_hourly AS h
      (hour, retailer, runs, failures, sku_sum, sku_runs, promo_sum, promo_runs, duration_sum, duration_runs)
    ${aggregate(source, sign)}
    ON CONFLICT (hour, retailer) DO UPDATE SET
      runs = h.runs + excluded.runs, failures = h.failures + excluded.failures,
      sku_sum = h.sku_sum + excluded.sku_sum, sku_runs = h.sku_runs + excluded.sku_runs,
      promo_sum = h.promo_sum + excluded.promo_sum, promo_runs = h.promo_runs + excluded.promo_runs,
      duration_sum = h.duration_sum + excluded.duration_sum, duration_runs = h.duration_runs + excluded.duration_runs;`;
}

const DROP_EMPTY = 'DELETE FROM ingestion_runs_hourly WHERE runs <= 0;';

export async function up(db: Kysely<any>): Promise<void> {
  await sql`CREATE TABLE ingestion_runs_hourly (
    hour timestamptz NOT NULL,
    retailer text NOT NULL,
    runs integer NOT NULL,
    failures integer NOT NULL,
    sku_sum bigint NOT NULL,
    sku_runs integer NOT NULL,
    promo_sum bigint NOT NULL,
    promo_runs integer NOT NULL,
    duration_sum bigint NOT NULL,
    duration_runs integer NOT NULL,
    PRIMARY KEY (hour, retailer)
  )`.execute(db);
  await sql
    .raw(
      `CREATE FUNCTION ingestion_runs_hourly_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  ${apply('new_rows', 1)}
  RETURN NULL;
END $$;
CREATE FUNCTION ingestion_runs_hourly_delete() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  ${apply('old_rows', -1)}
  ${DROP_EMPTY}
  RETURN NULL;
END $$;
CREATE FUNCTION ingestion_runs_hourly_update() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  ${apply('old_rows', -1)}
  ${apply('new_rows', 1)}
  ${DROP_EMPTY}
  RETURN NULL;
END $$;
CREATE FUNCTION ingestion_runs_hourly_truncate() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  TRUNCATE ingestion_runs_hourly;
  RETURN NULL;
END $$;
CREATE TRIGGER ingestion_runs_hourly_insert AFTER INSERT ON ingestion_runs
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION ingestion_runs_hourly_insert();
CREATE TRIGGER ingestion_runs_hourly_delete AFTER DELETE ON ingestion_runs
  REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION ingestion_runs_hourly_delete();
CREATE TRIGGER ingestion_runs_hourly_update AFTER UPDATE ON ingestion_runs
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION ingestion_runs_hourly_update();
CREATE TRIGGER ingestion_runs_hourly_truncate AFTER TRUNCATE ON ingestion_runs
  FOR EACH STATEMENT EXECUTE FUNCTION ingestion_runs_hourly_truncate();`,
    )
    .execute(db);
  // The runs already stored (about 10 s per 3.5 M rows on 2 cores).
  await sql.raw(`INSERT INTO ingestion_runs_hourly
      (hour, retailer, runs, failures, sku_sum, sku_runs, promo_sum, promo_runs, duration_sum, duration_runs)
    ${aggregate('ingestion_runs', 1)}`).execute(db);
  // Since 005 there are no default privileges: the dashboards' reader is granted the table explicitly.
  await sql`
DO $$
BEGIN
  IF EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = 'grafana_reader') THEN
    GRANT SELECT ON ingestion_runs_hourly TO grafana_reader;
  END IF;
END
$$`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql
    .raw(
      `DROP TRIGGER IF EXISTS ingestion_runs_hourly_insert ON ingestion_runs;
DROP TRIGGER IF EXISTS ingestion_runs_hourly_delete ON ingestion_runs;
DROP TRIGGER IF EXISTS ingestion_runs_hourly_update ON ingestion_runs;
DROP TRIGGER IF EXISTS ingestion_runs_hourly_truncate ON ingestion_runs;
DROP FUNCTION IF EXISTS ingestion_runs_hourly_insert(), ingestion_runs_hourly_delete(),
  ingestion_runs_hourly_update(), ingestion_runs_hourly_truncate();
DROP TABLE IF EXISTS ingestion_runs_hourly;`,
    )
    .execute(db);
}
