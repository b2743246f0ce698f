/**
 * Runs that finished inside a maintenance window (issue 9) are marked, so a retailer monitor rebuilt from
 * Postgres (after a termination) leaves them out of its SKU baseline as the running monitor does.
 * Adding a column with a constant default is a catalogue-only change in Postgres 11+: no table rewrite.
 */
import type { Kysely } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('ingestion_runs').addColumn('in_maintenance', 'boolean', (c) => c.notNull().defaultTo(false)).execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('ingestion_runs').dropColumn('in_maintenance').execute();
}
