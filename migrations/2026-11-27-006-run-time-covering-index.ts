/**
 * The dashboards' time-range panels (runs and failures in range, the SKU / promo / duration trends, the
 * failure history) read every run of the range for all selected retailers. Measured at a year of data
 * (3.5 M runs, docs/benchmarks.md 2026-11-27) they walked `ingestion_runs_retailer_finished_idx` once per
 * retailer and fetched each row from the heap. A covering index on finished_at with the columns those
 * panels read lets them run as one index-only scan of the range; it replaces the plain finished_at index,
 * which it makes redundant.
 *
 * Kysely runs migrations in one transaction, where CREATE INDEX CONCURRENTLY cannot run, so this builds the
 * index with a plain CREATE INDEX, which blocks writes to ingestion_runs while it builds (about 15 s per
 * 3.5 M rows on 2 cores). On a large live table, build it first without blocking and the migration skips it:
 *   CREATE INDEX CONCURRENTLY IF NOT EXISTS ingestion_runs_finished_cover_idx ON ingestion_runs (finished_at)
 *     INCLUDE (retailer, status, sku_count, promo_count, duration_ms);
 */
import { type Kysely, sql } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  await sql`CREATE INDEX IF NOT EXISTS ingestion_runs_finished_cover_idx ON ingestion_runs (finished_at)
    INCLUDE (retailer, status, sku_count, promo_count, duration_ms)`.execute(db);
  await sql`DROP INDEX IF EXISTS ingestion_runs_finished_idx`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`CREATE INDEX IF NOT EXISTS ingestion_runs_finished_idx ON ingestion_runs (finished_at)`.execute(db);
  await sql`DROP INDEX IF EXISTS ingestion_runs_finished_cover_idx`.execute(db);
}
