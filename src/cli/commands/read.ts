/**
 * Read-only commands. Each retailer has its own monitor (`ingestion-monitor/<retailer>`), the fleet workflow
 * (`ingestion-monitor`) knows the fleet's settings and its open incidents and recent alerts:
 *
 * - `retailer <r>`: the retailer monitor's `retailer` query.
 * - `incidents`, `alerts`: the fleet's list, each incident completed from its retailer's monitor.
 * - `status`: the fleet's settings, the running retailer monitors counted by health through Temporal
 *   visibility, and those worth a query asked for their state (src/cli/running-monitors.ts: all of them when
 *   the fleet fits within --limit, otherwise only those not healthy). Temporal only, like every other
 *   command (no database access needed); a monitor that does not answer is listed as such and never hides
 *   the others.
 */
import { WorkflowNotFoundError } from '@temporalio/client';
import { UnknownRetailerError } from '../../client';
import type { IsoTimes, MonitorCounters, Rejection } from '../../rules/types';
import {
  DEFAULTS,
  fleetAlertsQuery,
  fleetConfigQuery,
  fleetIncidentsQuery,
  retailerAlertsQuery,
  retailerIncidentsQuery,
  retailerQuery,
  type RetailerView,
} from '../../shared/messages';
import { slugSchema } from '../../shared/operator';
import { type GlobalOptions, Output, type Temporal, withTemporal } from '../context';
import { STATUS_LIMIT } from '../args';
import { EXIT, notFound } from '../errors';
import { runningMonitors, type RunningMonitors } from '../running-monitors';
import { temporalError } from '../temporal-errors';
import {
  type AlertView,
  type FleetIncidentView,
  type FleetStatus,
  type IncidentView,
  type RetailerRow,
  renderAlerts,
  renderIncidents,
  renderRetailer,
  renderStatus,
} from '../format';

/** Queries in flight at once (the worker answers them; a handful keeps it responsive for real work). */
const CONCURRENCY = 8;
/** One monitor's query; shorter than the RPC deadline, so one stuck monitor costs little. */
const QUERY_TIMEOUT_MS = 5_000;
/** After this many monitors time out, the rest are not asked (the worker is evidently not answering). */
const MAX_TIMEOUTS = 3;

/** A retailer argument that cannot name a monitor is simply unknown (never sent anywhere). */
export function checkRetailer(id: string): void {
  if (!slugSchema().safeParse(id).success) {
    throw notFound(`unknown retailer ${JSON.stringify(id.slice(0, 100))}: not a retailer slug (lower-case letters, digits, - and _)`);
  }
}

/** Run `fn` against a retailer's *running* monitor; a missing or closed one is an unknown retailer. */
export async function onRetailer<T>(t: Temporal, retailer: string, fn: (h: ReturnType<Temporal['retailer']>) => Promise<T>): Promise<T> {
  checkRetailer(retailer);
  const h = t.retailer(retailer);
  return t.call(async () => {
    try {
      const d = await h.describe();
      if (d.status.name !== 'RUNNING') throw new UnknownRetailerError(retailer, h.workflowId);
      return await fn(h);
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) throw new UnknownRetailerError(retailer, h.workflowId);
      throw err;
    }
  });
}

export async function retailer(g: GlobalOptions, out: Output, id: string): Promise<void> {
  const d = await withTemporal(g, (t) => onRetailer(t, id, (h) => h.query(retailerQuery)));
  out.result(() => renderRetailer(d, Date.now(), out.colour), d);
}

/** `fn` over `items`, CONCURRENCY at a time; results in the order of `items`. */
async function pool<I, R>(items: I[], fn: (item: I) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const lane = async () => {
    for (let i = next++; i < items.length; i = next++) results[i] = await fn(items[i]!);
  };
  await Promise.all(Array.from({ length: Math.min(CONCURRENCY, items.length) }, lane));
  return results;
}

type Answer<T> = { ok: true; value: T } | { ok: false; error: string; timedOut: boolean; gone: boolean };

/** Ask many retailer monitors the same query; failures are per retailer, never for the whole command. */
async function askEach<T>(t: Temporal, retailers: string[], ask: (h: ReturnType<Temporal['retailer']>) => Promise<T>): Promise<Map<string, Answer<T>>> {
  let timeouts = 0;
  const answers = await pool(retailers, async (r): Promise<Answer<T>> => {
    if (timeouts >= MAX_TIMEOUTS) return { ok: false, error: 'not asked: monitors are not answering', timedOut: true, gone: false };
    try {
      return { ok: true, value: await t.client.withDeadline(Date.now() + QUERY_TIMEOUT_MS, () => ask(t.retailer(r))) };
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) return { ok: false, error: 'monitor not found', timedOut: false, gone: true };
      const e = temporalError(err, t.target, QUERY_TIMEOUT_MS);
      if (e.exitCode === EXIT.unreachable) throw e;
      const timedOut = /did not answer/.test(e.message);
      if (timedOut) timeouts++;
      return { ok: false, error: timedOut ? `no answer within ${QUERY_TIMEOUT_MS / 1000} s` : e.message.replace(/^unexpected error: /, ''), timedOut, gone: false };
    }
  });
  return new Map(retailers.map((r, i) => [r, answers[i]!]));
}

const ZERO: MonitorCounters = { accepted: 0, rejected: 0, duplicates: 0, outOfOrder: 0 };

/** The fleet overview from the fleet's settings, each asked monitor's view and what visibility counted. Pure. */
export function summariseFleet(
  fleet: { workflowId: string; defaults: FleetStatus['defaults']; expectedRetailers: string[] },
  views: Array<{ retailer: string; view?: RetailerView; error?: string }>,
  counted: Omit<RunningMonitors, 'retailers' | 'healthyNotListed'> & { healthyNotListed?: number },
): FleetStatus {
  const { truncated, running, health, healthyNotListed = 0 } = counted;
  const counters = { ...ZERO };
  const rejections: IsoTimes<Rejection>[] = [];
  const retailers: RetailerRow[] = [];
  const unreadable: FleetStatus['unreadable'] = [];
  for (const { retailer, view, error } of views) {
    if (!view) {
      unreadable.push({ retailer, error: error ?? 'no answer' });
      continue;
    }
    const { recentRuns: _runs, skuBaseline: _baseline, counters: c, recentRejections, ...row } = view;
    for (const k of Object.keys(ZERO) as (keyof MonitorCounters)[]) counters[k] += c[k];
    rejections.push(...recentRejections.map((r) => ({ ...r, retailer: r.retailer ?? retailer })));
    retailers.push(row);
  }
  retailers.sort((a, b) => a.retailer.localeCompare(b.retailer));
  rejections.sort((a, b) => Date.parse(a.at) - Date.parse(b.at));
  const seen = new Set(views.map((v) => v.retailer));
  return {
    fleet: fleet.workflowId,
    defaults: fleet.defaults,
    expectedRetailers: fleet.expectedRetailers,
    retailers,
    counters,
    recentRejections: rejections.slice(-10),
    notRunning: truncated ? [] : fleet.expectedRetailers.filter((r) => !seen.has(r)),
    unreadable,
    truncated,
    ...(running !== undefined ? { running } : {}),
    ...(health ? { health } : {}),
    healthyNotListed,
  };
}

export async function status(g: GlobalOptions, out: Output, o: { limit?: number } = {}): Promise<void> {
  const limit = o.limit ?? STATUS_LIMIT;
  const s = await withTemporal(g, async (t) => {
    // Visibility (counts, then the list) meanwhile; the fleet first: a missing fleet, or a worker that answers
    // nothing, is reported at once.
    const listing = t.call(() => runningMonitors(t.client, limit, t.monitors.retailerWorkflowIdPrefix ?? DEFAULTS.retailerWorkflowIdPrefix));
    listing.catch(() => undefined); // reported below, unless the fleet's error comes first
    const config = await t.call(() => t.fleet().query(fleetConfigQuery));
    const { retailers, ...counted } = await listing;
    const answers = await askEach(t, retailers, (h) => h.query(retailerQuery));
    const views = retailers
      .map((retailer) => ({ retailer, answer: answers.get(retailer)! }))
      .filter(({ answer }) => answer.ok || !answer.gone) // closed between the list and the query
      .map(({ retailer, answer }) => (answer.ok ? { retailer, view: answer.value } : { retailer, error: answer.error }));
    return summariseFleet({ workflowId: g.workflowId, ...config }, views, counted);
  });
  out.result(() => renderStatus(s, Date.now(), out.colour), s);
}

/** A fleet incident as a row when its retailer's monitor could not complete it. */
const fromFleet = (f: FleetIncidentView): IncidentView => ({
  id: f.incidentId,
  retailer: f.retailer,
  rule: f.rule,
  openedAt: f.openedAt,
  lastNotifiedAt: f.openedAt,
  notifyCount: f.silenced ? 0 : 1,
  summary: f.summary,
  figures: {},
  announced: !f.silenced,
});

/** At most this many retailers are asked to complete the fleet's incident list. */
const INCIDENT_RETAILERS_MAX = 100;

export async function incidents(g: GlobalOptions, out: Output, o: { retailer?: string } = {}): Promise<void> {
  const list = await withTemporal(g, async (t): Promise<IncidentView[]> => {
    if (o.retailer !== undefined) return onRetailer(t, o.retailer, (h) => h.query(retailerIncidentsQuery));
    const fleet = await t.call(() => t.fleet().query(fleetIncidentsQuery));
    // The retailer monitor is the authority on its incidents (acknowledgements, notification counts, figures).
    const retailers = [...new Set(fleet.map((f) => f.retailer))].sort().slice(0, INCIDENT_RETAILERS_MAX);
    const answers = await askEach(t, retailers, (h) => h.query(retailerIncidentsQuery));
    const rows: IncidentView[] = [];
    for (const r of retailers) {
      const a = answers.get(r)!;
      // A monitor that cannot answer (or is gone) does not hide its incidents: the fleet's view stands in.
      if (a.ok) rows.push(...a.value);
      else rows.push(...fleet.filter((f) => f.retailer === r).map(fromFleet));
    }
    for (const f of fleet) if (!retailers.includes(f.retailer)) rows.push(fromFleet(f));
    return rows.sort((a, b) => Date.parse(a.openedAt) - Date.parse(b.openedAt) || a.id.localeCompare(b.id));
  });
  out.result(() => renderIncidents(list, Date.now(), out.colour), list);
}

export async function alerts(g: GlobalOptions, out: Output, o: { retailer?: string } = {}): Promise<void> {
  const list: AlertView[] = await withTemporal(g, (t) =>
    o.retailer !== undefined ? onRetailer(t, o.retailer, (h) => h.query(retailerAlertsQuery)) : t.call(() => t.fleet().query(fleetAlertsQuery)),
  );
  out.result(() => renderAlerts(list, Date.now(), out.colour), list);
}
