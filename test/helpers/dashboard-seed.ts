/**
 * Realistic monitoring data for the dashboard tests, relative to `now` (the panels compare with now()):
 * four retailers scraped every two hours for two days, each in a different state.
 *
 *   checkers    healthy, every run succeeds
 *   pick-n-pay  the last two runs failed: unhealthy, consecutive_failures incident open
 *   woolworths  no run for almost 7 h: stale by SQL although the persisted health still says healthy
 *               (the monitor stopped writing) — the dashboard must still show it red
 *   spar        latest run dropped 40% of its SKUs: sku_drop incident, silenced
 *   makro       expected but never ran, first seen 10 minutes ago: waiting for its first run
 *   shoprite    expected but never ran, first seen 5 h ago: the stale rule fired, with a diagnosis
 *
 * One alert summary carries HTML so the status page's escaping is exercised.
 */
import type { Kysely } from 'kysely';
import type { Database } from '../../src/db/schema';

/** Retailers with runs. */
export const SEEDED_RETAILERS = ['checkers', 'pick-n-pay', 'spar', 'woolworths'] as const;
/** Known to the monitor (a retailer_status row) but never reported a run. */
export const WAITING_RETAILER = 'makro';
export const NEVER_RAN_STALE_RETAILER = 'shoprite';
/** Every retailer with a retailer_status row, sorted (what the retailer variable lists). */
export const ALL_RETAILERS = [...SEEDED_RETAILERS, WAITING_RETAILER, NEVER_RAN_STALE_RETAILER].sort();
/** The diagnosis stored with shoprite's open stale alert. */
export const NEVER_RAN_DIAGNOSIS = 'schedule ingest-shoprite is paused: "waiting for credentials"';
export const XSS_SUMMARY = 'SKU count fell <img src=x onerror="window.__xss=1"> & <script>window.__xss=2</script>';
/** The stale diagnosis stored with the seeded stale fire (alert_events.diagnosis). */
export const STALE_DIAGNOSIS = 'no worker has polled task queue ingest-checkers since 2026-11-27T08:00:00.000Z';

const MIN = 60_000;
const HOUR = 60 * MIN;

export interface SeedRun {
  run_id: string;
  retailer: string;
  status: 'success' | 'failure';
  finished_at: number;
  duration_ms: number;
  sku_count: number | null;
  promo_count: number | null;
}

export interface SeededData {
  now: number;
  runs: SeedRun[];
  /** Latest state per retailer as written to retailer_status. */
  latest: Record<string, { sku: number | null; promo: number | null; streak: number; lastSuccess: number | null }>;
}

const iso = (ms: number) => new Date(ms).toISOString();

function makeRuns(now: number): SeedRun[] {
  const runs: SeedRun[] = [];
  const plan: Record<string, { offsetMin: number; baseSku: number; basePromo: number; skip?: (k: number) => boolean }> = {
    checkers: { offsetMin: 10, baseSku: 12_000, basePromo: 800 },
    'pick-n-pay': { offsetMin: 25, baseSku: 9_000, basePromo: 610 },
    spar: { offsetMin: 55, baseSku: 5_000, basePromo: 300 },
    woolworths: { offsetMin: 40, baseSku: 7_500, basePromo: 450, skip: (k) => k < 3 },
  };
  for (const [retailer, p] of Object.entries(plan)) {
    for (let k = 23; k >= 0; k--) {
      if (p.skip?.(k)) continue;
      const finished = now - k * 2 * HOUR - p.offsetMin * MIN;
      const failed = retailer === 'pick-n-pay' && k <= 1;
      const dropped = retailer === 'spar' && k === 0;
      const sku = failed ? null : dropped ? Math.round(p.baseSku * 0.6) : p.baseSku + (k % 3) * 40;
      runs.push({
        run_id: `${retailer}-${k}`,
        retailer,
        status: failed ? 'failure' : 'success',
        finished_at: finished,
        duration_ms: (failed ? 45 : 240 + (k % 5) * 12) * 1000,
        sku_count: sku,
        promo_count: failed ? null : p.basePromo + (k % 4) * 5,
      });
    }
  }
  return runs;
}

export async function seedDashboardData(db: Kysely<Database>, now = Date.now()): Promise<SeededData> {
  const runs = makeRuns(now);
  await db
    .insertInto('ingestion_runs')
    .values(
      runs.map((r) => ({
        run_id: r.run_id,
        retailer: r.retailer,
        schedule: '0 */2 * * *',
        status: r.status,
        started_at: iso(r.finished_at - r.duration_ms),
        finished_at: iso(r.finished_at),
        duration_ms: r.duration_ms,
        sku_count: r.sku_count,
        promo_count: r.promo_count,
        last_scrape_at: r.status === 'success' ? iso(r.finished_at) : null,
        error: r.status === 'failure' ? 'HTTP 503 from retailer site' : null,
        workflow_id: `scrape-${r.retailer}`,
        workflow_run_id: `wf-${r.run_id}`,
        out_of_order: false,
        sku_drop: r.retailer === 'spar' && r.run_id === 'spar-0',
        received_at: iso(r.finished_at + 1000),
      })),
    )
    .execute();

  const latest: SeededData['latest'] = {};
  const health: Record<string, { health: string; rules: string; silencedUntil?: number }> = {
    checkers: { health: 'healthy', rules: '' },
    'pick-n-pay': { health: 'unhealthy', rules: 'consecutive_failures' },
    spar: { health: 'silenced', rules: 'sku_drop', silencedUntil: now + 2 * HOUR },
    woolworths: { health: 'healthy', rules: '' },
  };
  for (const retailer of SEEDED_RETAILERS) {
    const mine = runs.filter((r) => r.retailer === retailer).sort((a, b) => a.finished_at - b.finished_at);
    const last = mine[mine.length - 1];
    const lastSuccess = [...mine].reverse().find((r) => r.status === 'success');
    let streak = 0;
    for (let i = mine.length - 1; i >= 0 && mine[i].status === 'failure'; i--) streak++;
    latest[retailer] = { sku: last.sku_count, promo: last.promo_count, streak, lastSuccess: lastSuccess?.finished_at ?? null };
    const h = health[retailer];
    await db
      .insertInto('retailer_status')
      .values({
        retailer,
        health: h.health,
        first_seen_at: iso(mine[0].finished_at),
        last_run_id: last.run_id,
        last_run_status: last.status,
        last_run_at: iso(last.finished_at),
        last_success_at: lastSuccess ? iso(lastSuccess.finished_at) : null,
        consecutive_failures: streak,
        last_sku_count: last.sku_count,
        last_promo_count: last.promo_count,
        trailing_avg_sku: 5000,
        stale_deadline: iso((lastSuccess?.finished_at ?? mine[0].finished_at) + 4 * HOUR),
        open_incidents: h.rules ? 1 : 0,
        open_rules: h.rules,
        silenced_until: h.silencedUntil ? iso(h.silencedUntil) : null,
        silence_reason: h.silencedUntil ? 'site redesign, vendor informed' : null,
        updated_at: iso(now - 5 * MIN),
      })
      .execute();
  }

  // Never ran: the monitor writes a status row as soon as it starts (health from its incidents only).
  const neverRan = (retailer: string, firstSeen: number, stale: boolean) => ({
    retailer,
    health: stale ? 'unhealthy' : 'healthy',
    first_seen_at: iso(firstSeen),
    consecutive_failures: 0,
    stale_deadline: iso(firstSeen + 4 * HOUR),
    open_incidents: stale ? 1 : 0,
    open_rules: stale ? 'stale' : '',
    updated_at: iso(now - MIN),
  });
  await db
    .insertInto('retailer_status')
    .values([neverRan(WAITING_RETAILER, now - 10 * MIN, false), neverRan(NEVER_RAN_STALE_RETAILER, now - 5 * HOUR, true)])
    .execute();

  const event = (id: string, retailer: string, rule: string, kind: 'fire' | 'resolve', at: number, summary: string, silenced = false, diagnosis: string | null = null) => ({
    event_id: id,
    incident_id: `${retailer}:${rule}:1`,
    retailer,
    rule,
    kind,
    occurred_at: iso(at),
    opened_at: iso(at),
    summary,
    figures: JSON.stringify({}),
    run_id: null,
    workflow_id: 'ingestion-monitor',
    workflow_run_id: null,
    silenced,
    delivered: !silenced,
    delivery: JSON.stringify([]),
    diagnosis,
  });
  const pnpFail = runs.find((r) => r.run_id === 'pick-n-pay-0')!.finished_at;
  const sparDrop = runs.find((r) => r.run_id === 'spar-0')!.finished_at;
  await db
    .insertInto('alert_events')
    .values([
      event('e1', 'checkers', 'stale', 'fire', now - 20 * HOUR, 'checkers: no successful run for 4.2 h', false, STALE_DIAGNOSIS),
      event('e2', 'checkers', 'stale', 'resolve', now - 18 * HOUR, 'checkers: successful run again'),
      event('e3', 'pick-n-pay', 'consecutive_failures', 'fire', pnpFail, 'pick-n-pay: 2 consecutive failed runs'),
      event('e4', 'spar', 'sku_drop', 'fire', sparDrop, XSS_SUMMARY, true),
      event('e5', 'woolworths', 'sku_drop', 'fire', now - 40 * HOUR, 'outside the 24 h range'),
      event('e6', NEVER_RAN_STALE_RETAILER, 'stale', 'fire', now - HOUR, 'shoprite: no successful run since first seen 4.0 h ago', false, NEVER_RAN_DIAGNOSIS),
    ])
    .execute();

  return { now, runs, latest };
}
