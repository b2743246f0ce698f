/**
 * The monitoring store Grafana reads: one row per run, one status row per retailer, one row per alert event.
 */
import { type Kysely, sql } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('ingestion_runs')
    .addColumn('run_id', 'text', (c) => c.primaryKey())
    .addColumn('retailer', 'text', (c) => c.notNull())
    .addColumn('schedule', 'text')
    .addColumn('status', 'text', (c) => c.notNull().check(sql`status in ('success', 'failure')`))
    .addColumn('started_at', 'timestamptz', (c) => c.notNull())
    .addColumn('finished_at', 'timestamptz', (c) => c.notNull())
    .addColumn('duration_ms', 'bigint', (c) => c.notNull())
    .addColumn('sku_count', 'integer')
    .addColumn('promo_count', 'integer')
    .addColumn('last_scrape_at', 'timestamptz')
    .addColumn('error', 'text')
    .addColumn('workflow_id', 'text')
    .addColumn('workflow_run_id', 'text')
    .addColumn('out_of_order', 'boolean', (c) => c.notNull().defaultTo(false))
    .addColumn('sku_drop', 'boolean', (c) => c.notNull().defaultTo(false))
    .addColumn('received_at', 'timestamptz', (c) => c.notNull())
    .execute();
  // "Latest runs of a retailer" and Grafana's per-retailer time-range panels.
  await db.schema.createIndex('ingestion_runs_retailer_finished_idx').on('ingestion_runs').columns(['retailer', 'finished_at desc']).execute();
  // Time-range panels over all retailers ($__timeFilter(finished_at)).
  await db.schema.createIndex('ingestion_runs_finished_idx').on('ingestion_runs').column('finished_at').execute();

  await db.schema
    .createTable('retailer_status')
    .addColumn('retailer', 'text', (c) => c.primaryKey())
    .addColumn('health', 'text', (c) => c.notNull())
    .addColumn('first_seen_at', 'timestamptz', (c) => c.notNull())
    .addColumn('last_run_id', 'text')
    .addColumn('last_run_status', 'text')
    .addColumn('last_run_at', 'timestamptz')
    .addColumn('last_success_at', 'timestamptz')
    .addColumn('consecutive_failures', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('last_sku_count', 'integer')
    .addColumn('last_promo_count', 'integer')
    .addColumn('trailing_avg_sku', 'double precision')
    .addColumn('stale_deadline', 'timestamptz')
    .addColumn('open_incidents', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('open_rules', 'text', (c) => c.notNull().defaultTo(''))
    .addColumn('silenced_until', 'timestamptz')
    .addColumn('silence_reason', 'text')
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('alert_events')
    .addColumn('id', 'bigserial', (c) => c.primaryKey())
    .addColumn('event_id', 'text', (c) => c.notNull().unique())
    .addColumn('incident_id', 'text', (c) => c.notNull())
    .addColumn('retailer', 'text', (c) => c.notNull())
    .addColumn('rule', 'text', (c) => c.notNull())
    .addColumn('kind', 'text', (c) => c.notNull().check(sql`kind in ('fire', 'renotify', 'resolve')`))
    .addColumn('occurred_at', 'timestamptz', (c) => c.notNull())
    .addColumn('opened_at', 'timestamptz', (c) => c.notNull())
    .addColumn('summary', 'text', (c) => c.notNull())
    .addColumn('figures', 'jsonb', (c) => c.notNull())
    .addColumn('run_id', 'text')
    .addColumn('workflow_id', 'text')
    .addColumn('workflow_run_id', 'text')
    .addColumn('silenced', 'boolean', (c) => c.notNull().defaultTo(false))
    .addColumn('delivered', 'boolean', (c) => c.notNull().defaultTo(false))
    .addColumn('delivery', 'jsonb', (c) => c.notNull())
    .addColumn('recorded_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
  await db.schema.createIndex('alert_events_retailer_occurred_idx').on('alert_events').columns(['retailer', 'occurred_at']).execute();
  await db.schema.createIndex('alert_events_occurred_idx').on('alert_events').column('occurred_at').execute();
  await db.schema.createIndex('alert_events_incident_idx').on('alert_events').column('incident_id').execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('alert_events').ifExists().execute();
  await db.schema.dropTable('retailer_status').ifExists().execute();
  await db.schema.dropTable('ingestion_runs').ifExists().execute();
}
