/** The worker's prom-client registry: alert counters (from the activity interceptor) and per-retailer gauges. */
import type { Kysely } from 'kysely';
import { Registry } from 'prom-client';
import type { Database } from '../db/schema';
import { AlertMetrics } from './alert-metrics';
import { registerRetailerMetrics } from './retailer-metrics';

export interface MonitorMetrics {
  registry: Registry;
  alerts: AlertMetrics;
}

/** A fresh registry (not prom-client's global one), so several workers or tests in one process stay apart. */
export function createMonitorMetrics(db: Kysely<Database>): MonitorMetrics {
  const registry = new Registry();
  const alerts = new AlertMetrics(registry);
  registerRetailerMetrics(registry, db);
  return { registry, alerts };
}
