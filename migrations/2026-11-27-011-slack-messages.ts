/**
 * Slack bot mode (SLACK_BOT_TOKEN): the message posted for an incident is updated in place (chat.update) and
 * replied to in its thread, so its channel and `ts` are kept per incident. `last_event_id` is the last alert
 * event applied to it, so a retried activity neither posts nor replies twice. `grouped`: the message names
 * several incidents (a grouped fire), so it is replied to, not rewritten.
 * alert_events.kind gains 'acknowledge' (an acknowledgement is announced to Slack and PagerDuty).
 */
import { type Kysely, sql } from 'kysely';

/** Drop the check on alert_events.kind whatever Postgres named it. */
const dropKindCheck = sql`DO $$ DECLARE c text; BEGIN
  FOR c IN SELECT conname FROM pg_constraint WHERE conrelid = 'alert_events'::regclass AND contype = 'c' AND pg_get_constraintdef(oid) LIKE '%kind%' LOOP
    EXECUTE format('ALTER TABLE alert_events DROP CONSTRAINT %I', c);
  END LOOP;
END $$`;

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('slack_messages')
    .ifNotExists()
    .addColumn('incident_id', 'text', (c) => c.primaryKey())
    .addColumn('channel', 'text', (c) => c.notNull())
    .addColumn('ts', 'text', (c) => c.notNull())
    .addColumn('grouped', 'boolean', (c) => c.notNull().defaultTo(false))
    .addColumn('last_event_id', 'text')
    .addColumn('posted_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
  await dropKindCheck.execute(db);
  await sql`ALTER TABLE alert_events ADD CONSTRAINT alert_events_kind_check CHECK (kind in ('fire', 'renotify', 'resolve', 'acknowledge'))`.execute(db);
  // Since 005 there are no default privileges: the read-only role sees the new table only if granted.
  await sql`DO $$ BEGIN
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'grafana_reader') THEN
      GRANT SELECT ON slack_messages TO grafana_reader;
    END IF;
  END $$`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`DELETE FROM alert_events WHERE kind = 'acknowledge'`.execute(db);
  await dropKindCheck.execute(db);
  await sql`ALTER TABLE alert_events ADD CONSTRAINT alert_events_kind_check CHECK (kind in ('fire', 'renotify', 'resolve'))`.execute(db);
  await db.schema.dropTable('slack_messages').ifExists().execute();
}
