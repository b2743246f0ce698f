/**
 * One monitor per retailer (issue 7):
 * - `quarantine`: rows Postgres refused for a data reason, kept with the reason instead of wedging every
 *   later write. `row` holds the refused row as JSON text with NUL escaped (text, not jsonb: jsonb is what
 *   refused some of these rows in the first place). One row per (table, key), so a retried write never
 *   duplicates it.
 * - `retailer_status.settings`: threshold overrides and silences, so a retailer monitor started fresh (after
 *   a termination) gets them back.
 * - `alert_events.diagnosis`: why a stale retailer might be stale, shown on the status page.
 */
import { type Kysely, sql } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('quarantine')
    .addColumn('id', 'bigserial', (c) => c.primaryKey())
    .addColumn('table_name', 'text', (c) => c.notNull())
    .addColumn('row_key', 'text', (c) => c.notNull())
    .addColumn('reason', 'text', (c) => c.notNull())
    .addColumn('row', 'text', (c) => c.notNull())
    .addColumn('quarantined_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addUniqueConstraint('quarantine_table_key_unique', ['table_name', 'row_key'])
    .execute();
  await db.schema.alterTable('retailer_status').addColumn('settings', 'jsonb').execute();
  await db.schema.alterTable('alert_events').addColumn('diagnosis', 'text').execute();
  // Grafana's read-only role (migration 002) may see what was quarantined too.
  await sql`DO $$ BEGIN
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'grafana_reader') THEN
      GRANT SELECT ON quarantine TO grafana_reader;
    END IF;
  END $$`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('alert_events').dropColumn('diagnosis').execute();
  await db.schema.alterTable('retailer_status').dropColumn('settings').execute();
  await db.schema.dropTable('quarantine').ifExists().execute();
}
