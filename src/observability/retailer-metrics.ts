/**
 * Per-retailer gauges read from Postgres (`retailer_status`) at scrape time, so every worker reports the
 * same truth. One bounded query per scrape, shared by all the gauges; when Postgres does not answer (down,
 * or slower than the timeout) the retailer gauges are empty and `ingestion_monitor_postgres_up` is 0.
 *
 * Because every worker reports the same values, aggregate with `max by (retailer)` across instances.
 */
import { sql, type Kysely } from 'kysely';
import { Gauge, type Registry } from 'prom-client';
import type { Database } from '../db/schema';

export const RETAILER_METRIC_NAMES = {
  postgresUp: 'ingestion_monitor_postgres_up',
  healthy: 'ingestion_monitor_retailer_healthy',
  health: 'ingestion_monitor_retailer_health',
  failureStreak: 'ingestion_monitor_retailer_failure_streak',
  sinceSuccess: 'ingestion_monitor_retailer_seconds_since_last_success',
  sinceRun: 'ingestion_monitor_retailer_seconds_since_last_run',
  skuCount: 'ingestion_monitor_retailer_last_sku_count',
  promoCount: 'ingestion_monitor_retailer_last_promo_count',
  openIncidents: 'ingestion_monitor_retailer_open_incidents',
} as const;

/** The health states the monitor writes; each retailer gets one series per state (1 for its current one). */
export const HEALTH_STATES = ['healthy', 'unhealthy', 'silenced'] as const;

/** Upper bound on retailers exported per scrape (the scrape stays cheap whatever the table holds). */
export const MAX_RETAILERS = 5000;
export const SCRAPE_QUERY_TIMEOUT_MS = 3000;

export interface RetailerRow {
  retailer: string;
  health: string;
  consecutive_failures: number;
  since_success: number | null;
  since_run: number | null;
  last_sku_count: number | null;
  last_promo_count: number | null;
  open_incidents: number;
}

/** One query: the status row of every retailer, ages computed by Postgres's clock. */
export async function readRetailerRows(db: Kysely<Database>, timeoutMs = SCRAPE_QUERY_TIMEOUT_MS): Promise<RetailerRow[]> {
  const query = db
    .selectFrom('retailer_status')
    .select([
      'retailer',
      'health',
      'consecutive_failures',
      sql<number | null>`extract(epoch from (now() - last_success_at))::float8`.as('since_success'),
      sql<number | null>`extract(epoch from (now() - last_run_at))::float8`.as('since_run'),
      'last_sku_count',
      'last_promo_count',
      'open_incidents',
    ])
    .orderBy('retailer')
    .limit(MAX_RETAILERS)
    .execute();
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`retailer_status query took longer than ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    return await Promise.race([query, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Register the per-retailer gauges and `ingestion_monitor_postgres_up` on `registry`. */
export function registerRetailerMetrics(registry: Registry, db: Kysely<Database>, timeoutMs = SCRAPE_QUERY_TIMEOUT_MS): void {
  // prom-client collects all metrics of a scrape concurrently: the first collect starts the query and the
  // others share it; the next scrape queries again.
  let current: Promise<RetailerRow[] | undefined> | undefined;
  const snapshot = (): Promise<RetailerRow[] | undefined> => {
    current ??= readRetailerRows(db, timeoutMs)
      .catch(() => undefined)
      .finally(() => {
        current = undefined;
      });
    return current;
  };
  const registers = [registry];
  const perRetailer = (name: string, help: string, value: (r: RetailerRow) => number | null) =>
    new Gauge({
      name,
      help,
      labelNames: ['retailer'],
      registers,
      async collect() {
        this.reset();
        for (const r of (await snapshot()) ?? []) {
          const v = value(r);
          if (v !== null && Number.isFinite(v)) this.set({ retailer: r.retailer }, v);
        }
      },
    });

  new Gauge({
    name: RETAILER_METRIC_NAMES.postgresUp,
    help: 'Whether the scrape could read retailer_status from Postgres (1) or not (0: the retailer gauges are absent)',
    registers,
    async collect() {
      this.set((await snapshot()) === undefined ? 0 : 1);
    },
  });
  perRetailer(RETAILER_METRIC_NAMES.healthy, 'Whether the retailer is healthy (1) or not (0: unhealthy or silenced)', (r) => (r.health === 'healthy' ? 1 : 0));
  new Gauge({
    name: RETAILER_METRIC_NAMES.health,
    help: 'The retailer health state: one series per state, 1 for the current one',
    labelNames: ['retailer', 'health'],
    registers,
    async collect() {
      this.reset();
      for (const r of (await snapshot()) ?? []) {
        for (const s of HEALTH_STATES) this.set({ retailer: r.retailer, health: s }, s === r.health ? 1 : 0);
        // A state this version does not know (written by a newer monitor) still shows, without its name.
        if (!(HEALTH_STATES as readonly string[]).includes(r.health)) this.set({ retailer: r.retailer, health: 'other' }, 1);
      }
    },
  });
  perRetailer(RETAILER_METRIC_NAMES.failureStreak, 'Consecutive failed runs of the retailer (0 after a success)', (r) => r.consecutive_failures);
  perRetailer(RETAILER_METRIC_NAMES.sinceSuccess, 'Seconds since the retailer last ran successfully (absent if it never did)', (r) => r.since_success);
  perRetailer(RETAILER_METRIC_NAMES.sinceRun, 'Seconds since the retailer last reported a run (absent if it never did)', (r) => r.since_run);
  perRetailer(RETAILER_METRIC_NAMES.skuCount, 'SKU count of the retailer\'s last run (absent when that run reported none, e.g. a failure)', (r) => r.last_sku_count);
  perRetailer(RETAILER_METRIC_NAMES.promoCount, 'Promo count of the retailer\'s last run (absent when that run reported none, e.g. a failure)', (r) => r.last_promo_count);
  perRetailer(RETAILER_METRIC_NAMES.openIncidents, 'Open incidents of the retailer', (r) => r.open_incidents);
}
