/**
 * `grafana_reader`: the SELECT-only role Grafana's Postgres datasource connects as (see grafana/README.md).
 *
 * Created NOLOGIN, so the migration never ships a credential. An operator enables it once per cluster:
 *   ALTER ROLE grafana_reader LOGIN PASSWORD '<secret>';   -- then set GRAFANA_PG_PASSWORD for Grafana
 * Roles are cluster-wide, so creation tolerates an existing role (another database, a concurrent run). A
 * migrating user without CREATEROLE gets a warning instead of a failed deploy: the monitor does not need
 * this role, only the dashboard does; an admin can create it and re-run the grants below by hand.
 * Default privileges make tables that later migrations create readable too, without another grant.
 */
import { type Kysely, sql } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  await sql`
DO $$
BEGIN
  BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = 'grafana_reader') THEN
      CREATE ROLE grafana_reader NOLOGIN;
    END IF;
  EXCEPTION
    WHEN duplicate_object OR unique_violation THEN NULL;
    WHEN insufficient_privilege THEN
      RAISE WARNING 'grafana_reader not created: % lacks CREATEROLE. Create the role as an admin, then grant SELECT on ingestion_runs, retailer_status, alert_events.', current_user;
  END;
  IF EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = 'grafana_reader') THEN
    EXECUTE format('GRANT USAGE ON SCHEMA %I TO grafana_reader', current_schema());
    GRANT SELECT ON ingestion_runs, retailer_status, alert_events TO grafana_reader;
    EXECUTE format('ALTER DEFAULT PRIVILEGES IN SCHEMA %I GRANT SELECT ON TABLES TO grafana_reader', current_schema());
  END IF;
END
$$`.execute(db);
}

/** Revokes this database's grants; the role itself stays, because other databases may still grant to it. */
export async function down(db: Kysely<any>): Promise<void> {
  await sql`
DO $$
BEGIN
  IF EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = 'grafana_reader') THEN
    EXECUTE format('ALTER DEFAULT PRIVILEGES IN SCHEMA %I REVOKE SELECT ON TABLES FROM grafana_reader', current_schema());
    REVOKE SELECT ON ingestion_runs, retailer_status, alert_events FROM grafana_reader;
    EXECUTE format('REVOKE USAGE ON SCHEMA %I FROM grafana_reader', current_schema());
  END IF;
END
$$`.execute(db);
}
