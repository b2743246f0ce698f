/**
 * Operator actions (silence, ack, replay, reprocess, threshold changes) become visible in Postgres: an audit
 * table, and which open incidents are acknowledged on the retailer's status row.
 */
import { type Kysely, sql } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('operator_actions')
    .addColumn('id', 'bigserial', (c) => c.primaryKey())
    .addColumn('action_id', 'text', (c) => c.notNull().unique())
    .addColumn('at', 'timestamptz', (c) => c.notNull())
    .addColumn('action', 'text', (c) => c.notNull())
    .addColumn('retailer', 'text')
    .addColumn('rule', 'text')
    .addColumn('incident_id', 'text')
    .addColumn('by', 'text', (c) => c.notNull())
    .addColumn('reason', 'text')
    .addColumn('until', 'timestamptz')
    .addColumn('outcome', 'text')
    .addColumn('recorded_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
  await db.schema.createIndex('operator_actions_retailer_at_idx').on('operator_actions').columns(['retailer', 'at']).execute();
  await db.schema
    .alterTable('retailer_status')
    .addColumn('acknowledged_rules', 'text', (c) => c.notNull().defaultTo(''))
    .execute();
  // Grafana's read-only role (migration 002) may see the audit trail too.
  await sql`DO $$ BEGIN
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'grafana_reader') THEN
      GRANT SELECT ON operator_actions TO grafana_reader;
    END IF;
  END $$`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('retailer_status').dropColumn('acknowledged_rules').execute();
  await db.schema.dropTable('operator_actions').ifExists().execute();
}
