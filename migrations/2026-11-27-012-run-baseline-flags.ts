/**
 * A retailer monitor rebuilt from Postgres (after a termination) gets its robust-baseline samples back from
 * the runs of the last 6 weeks (src/activities/postgres-restore.ts). Runs whose promo count or duration fired
 * (or kept open) promo_drop / run_duration stay out of those baselines, as `sku_drop` already keeps a dropped
 * SKU count out: these two columns say so. Constant defaults: catalogue-only changes, no table rewrite.
 * The restore reads the window through `ingestion_runs_retailer_finished_idx` (retailer, finished_at desc).
 */
import type { Kysely } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .alterTable('ingestion_runs')
    .addColumn('promo_drop', 'boolean', (c) => c.notNull().defaultTo(false))
    .addColumn('long_run', 'boolean', (c) => c.notNull().defaultTo(false))
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('ingestion_runs').dropColumn('promo_drop').dropColumn('long_run').execute();
}
