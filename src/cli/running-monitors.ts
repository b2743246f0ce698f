/**
 * Which running retailer monitors `status` asks, decided from Temporal visibility alone (nothing here reaches
 * a worker): the totals by health from a few count requests, then a list of the monitors worth a query.
 *
 * - Where the `RetailerHealth` search attribute is registered and the whole fleet fits within the limit:
 *   every running monitor (a small fleet reads exactly as before).
 * - Where it is registered and the fleet is larger: only the monitors that are not healthy — unhealthy,
 *   then silenced, then those with no health recorded yet — at most `limit`; the healthy ones are counted,
 *   not listed, so 10,000 healthy retailers cost four count requests instead of a hundred queries that each
 *   replay an evicted monitor.
 * - Where it is not registered (the time-skipping test server, a server set up by hand): those not healthy
 *   first if the server can tell, then the others, at most `limit`.
 *
 * Visibility is eventually consistent (a second or so behind) and the counts are separate requests, so a
 * monitor that changes health between them can be counted twice or not at all; `unknown` is never negative.
 */
import type { Client } from '@temporalio/client';
import type { Health } from '../rules/types';
import { SEARCH_ATTRIBUTES } from '../shared/messages';
import { runningRetailerMonitorsQuery, visibilityString } from '../shared/visibility';

/** Running retailer monitors by their `RetailerHealth` search attribute; `unknown`: none recorded yet. */
export interface HealthTotals {
  healthy: number;
  unhealthy: number;
  silenced: number;
  unknown: number;
}

/** What `status` asks, and what it knows of the rest. */
export interface RunningMonitors {
  /** The retailers to ask, sorted. */
  retailers: string[];
  /** Not every running monitor is among `retailers`. */
  truncated: boolean;
  /** How many retailer monitors are running in all, when the server answered the count. */
  running?: number;
  /** The running monitors by health, where the search attribute is registered. */
  health?: HealthTotals;
  /** Healthy monitors counted but not listed (the fleet is larger than the limit). */
  healthyNotListed: number;
}

const HEALTH = SEARCH_ATTRIBUTES.health;
/** The order the monitors that are not healthy are listed in when they do not all fit. */
const NOT_HEALTHY: ReadonlyArray<{ filter: string; of: (h: HealthTotals) => number }> = [
  { filter: `${HEALTH} = ${visibilityString('unhealthy' satisfies Health)}`, of: (h) => h.unhealthy },
  { filter: `${HEALTH} = ${visibilityString('silenced' satisfies Health)}`, of: (h) => h.silenced },
  { filter: `${HEALTH} IS NULL`, of: (h) => h.unknown },
];

const count = (client: Client, query: string): Promise<number | undefined> =>
  client.workflow.count(query).then(
    (c) => c.count,
    () => undefined,
  );

/** How many monitors run, and by health (four count requests at once); health is absent where it cannot be counted. */
export async function healthTotals(client: Client, base: string): Promise<{ running?: number; health?: HealthTotals }> {
  const by = (h: Health) => count(client, `${base} AND ${HEALTH} = ${visibilityString(h)}`);
  const [running, healthy, unhealthy, silenced] = await Promise.all([count(client, base), by('healthy'), by('unhealthy'), by('silenced')]);
  if (running === undefined) return {};
  if (healthy === undefined || unhealthy === undefined || silenced === undefined) return { running };
  return { running, health: { healthy, unhealthy, silenced, unknown: Math.max(0, running - healthy - unhealthy - silenced) } };
}

/** Add the retailers of `query`'s monitors to `found` until it holds more than `limit` (so a cut list is known to be cut). */
async function collect(client: Client, query: string, prefix: string, found: Set<string>, limit: number): Promise<void> {
  if (found.size > limit) return;
  for await (const wf of client.workflow.list({ query, pageSize: Math.min(limit + 1, 1000) })) {
    if (!wf.workflowId.startsWith(prefix)) continue;
    found.add(wf.workflowId.slice(prefix.length));
    if (found.size > limit) break;
  }
}

/** The running retailer monitors `status` asks (at most `limit`), and the totals it reports without asking. */
export async function runningMonitors(client: Client, limit: number, prefix: string): Promise<RunningMonitors> {
  const base = runningRetailerMonitorsQuery(prefix);
  const { running, health } = await healthTotals(client, base);
  const found = new Set<string>();
  const counted = running !== undefined ? { running } : {};
  if (health && running !== undefined && running > limit) {
    for (const { filter, of } of NOT_HEALTHY) {
      if (of(health) === 0) continue;
      await collect(client, `${base} AND ${filter}`, prefix, found, limit).catch(() => undefined); // IS NULL where unsupported
    }
    return { retailers: [...found].slice(0, limit).sort(), truncated: true, ...counted, health, healthyNotListed: health.healthy };
  }
  if (!health) {
    // No totals by health: those not healthy first where the server can tell, then the others.
    await collect(client, `${base} AND ${HEALTH} != 'healthy'`, prefix, found, limit).catch(() => undefined);
  }
  await collect(client, base, prefix, found, limit);
  const shown = [...found].slice(0, limit).sort();
  return {
    retailers: shown,
    truncated: found.size > limit || (running !== undefined && running > shown.length),
    ...counted,
    ...(health ? { health } : {}),
    healthyNotListed: 0,
  };
}
