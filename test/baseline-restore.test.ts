/**
 * A retailer monitor rebuilt from Postgres gets its robust-baseline samples back (pure engine side): the
 * runs Postgres keeps of the rebuild window (flags, maintenance, acknowledgements) replayed by
 * `rebuildSamples` give the same samples, and so the same baseline figures and alert text, as the live
 * monitor had after ten weeks of runs with drops, long runs, a weekly maintenance window and acknowledgements.
 */
import { REBUILD_WINDOW, rebuildSamples, type StoredBaselineRun } from '../src/rules/baseline-samples';
import { BASELINE_LIMITS, DAY_MS, type BaselineSample } from '../src/rules/baselines';
import { parseWindowSpec } from '../src/rules/maintenance';
import { RetailerMonitor, type RetailerRestore } from '../src/rules/retailer-monitor';
import type { ThresholdOverrides } from '../src/rules/thresholds';
import type { RunSummary } from '../src/rules/types';
import type { RunReport } from '../src/shared/report';

const MIN = 60_000;
const HOUR = 60 * MIN;
const START = Date.parse('2026-09-07T00:30:00Z'); // a Monday
const overrides: ThresholdOverrides = { timezone: 'Africa/Johannesburg', promoDrop: true, staleAfterMs: 90 * DAY_MS };
const maintenance = { ...parseWindowSpec('every wednesday 02:00-04:00 Africa/Johannesburg'), id: 'pnp/action/1', retailer: 'pnp', reason: 'db vacuum', by: 'sam', createdAt: START };

/** A deterministic pseudo-random sequence in [0, 1). */
function lcg(seed: number): () => number {
  let x = seed;
  return () => ((x = (x * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
}

function report(n: number, at: number, o: { sku: number; promo: number; tookMs: number; fail?: boolean }): RunReport {
  return {
    runId: `pnp-${n}`,
    retailer: 'pnp',
    status: o.fail ? 'failure' : 'success',
    startedAt: new Date(at - o.tookMs).toISOString(),
    finishedAt: new Date(at).toISOString(),
    ...(o.fail ? { error: 'HTTP 503' } : { skuCount: o.sku, promoCount: o.promo }),
  };
}

interface Lived {
  live: RetailerMonitor;
  stored: StoredBaselineRun[];
  runs: RunSummary[];
  now: number;
}

/** Ten weeks of runs every 3 hours: weekend dips, noise, drops, long runs, failures, out-of-order runs, acknowledgements. */
function liveHistory(): Lived {
  const rnd = lcg(42);
  const live = RetailerMonitor.fresh('pnp', START - HOUR);
  live.setOverrides(overrides);
  live.addMaintenance(maintenance);
  const runs: RunSummary[] = [];
  const ackedAt = new Map<string, number>();
  let now = START;
  for (let n = 0; now < START + 70 * DAY_MS; n++, now += 3 * HOUR) {
    const weekend = [0, 6].includes(new Date(now + 2 * HOUR).getUTCDay());
    const r = rnd();
    const o = {
      sku: Math.round((weekend ? 4000 : 5000) * (0.98 + rnd() * 0.04) * (r < 0.03 ? 0.5 : 1)),
      promo: Math.round(800 * (0.95 + rnd() * 0.1) * (r >= 0.03 && r < 0.06 ? 0.1 : 1)),
      tookMs: Math.round((n % 8 === 4 ? 40 : 10) * MIN * (0.9 + rnd() * 0.2) * (r >= 0.06 && r < 0.09 ? 5 : 1)),
      fail: r >= 0.09 && r < 0.12,
    };
    // Now and then a run reports after a newer one (out of order: never a sample).
    const finished = r >= 0.12 && r < 0.14 ? now - 5 * HOUR : now;
    const res = live.applyReport(report(n, finished, o), now + 2 * MIN);
    if (res.run) runs.push(res.run);
    // Some incidents a baseline rule opens are acknowledged as bad a few minutes later.
    for (const fire of res.alerts.filter((a) => a.kind === 'fire' && a.rule !== 'consecutive_failures')) {
      if (n % 3 === 0 && live.acknowledge(fire.incidentId, { by: 'sam' }, now + 20 * MIN)) ackedAt.set(fire.runId!, now + 20 * MIN);
    }
  }
  now -= 3 * HOUR;
  // What restoreRetailer reads: successful, in-order runs of the rebuild window, with their flags.
  const stored = runs
    .filter((r) => r.status === 'success' && !r.outOfOrder && r.finishedAt > now - REBUILD_WINDOW.maxAgeMs)
    .map((r) => ({
      runId: r.runId,
      startedAt: r.startedAt,
      finishedAt: r.finishedAt,
      receivedAt: r.receivedAt,
      ...(r.skuCount !== undefined ? { sku: r.skuCount } : {}),
      ...(r.promoCount !== undefined ? { promo: r.promoCount } : {}),
      ...(r.skuDrop ? { skuDrop: true as const } : {}),
      ...(r.promoDrop ? { promoDrop: true as const } : {}),
      ...(r.longRun ? { longRun: true as const } : {}),
      ...(r.inMaintenance ? { inMaintenance: true as const } : {}),
      ...(ackedAt.has(r.runId) ? { acknowledgedAt: ackedAt.get(r.runId)! } : {}),
    }));
  return { live, stored, runs, now };
}

function restoreOf(l: Lived, baselineRuns?: StoredBaselineRun[]): RetailerRestore {
  return {
    consecutiveFailures: 0,
    recentRuns: l.runs.slice(-10),
    skuBaseline: l.live.snapshot().retailer.skuBaseline,
    recentRunIds: l.runs.map((r) => r.runId).slice(-200),
    openIncidents: l.live.openIncidents(),
    incidentSeq: 1000,
    actionSeq: 0,
    overrides,
    silences: [],
    maintenance: [maintenance],
    totals: { runs: l.runs.length, failures: 0, outOfOrder: 0 },
    ...(baselineRuns ? { baselineRuns } : {}),
  };
}

describe('baseline samples rebuilt from Postgres', () => {
  const l = liveHistory();
  const samples = l.live.snapshot().retailer.baselineSamples!;

  it('the history exercises every exclusion', () => {
    const reasons = new Set(samples.flatMap((s) => Object.values(s.excluded ?? {})));
    expect([...reasons].sort()).toEqual(['acknowledged', 'incident', 'maintenance']);
    // An incident point in the window's first week: whether it counts for its weekday was judged on the 6 weeks before.
    expect(samples.some((s) => s.at < samples[0]!.at + 7 * DAY_MS && Object.values(s.excluded ?? {}).includes('incident'))).toBe(true);
    expect(l.runs.some((r) => r.outOfOrder)).toBe(true);
    expect(samples.length).toBeGreaterThan(300);
  });

  it('rebuildSamples gives the live samples back (stored runs in any order)', () => {
    expect(rebuildSamples(l.stored, 'Africa/Johannesburg')).toEqual(samples);
    expect(rebuildSamples([...l.stored].reverse(), 'Africa/Johannesburg')).toEqual(samples);
  });

  it('needs the 6 weeks before the window: from the window alone, an early incident point would count for its weekday', () => {
    const windowOnly = l.stored.filter((r) => r.finishedAt > l.now - BASELINE_LIMITS.maxAgeMs);
    const learned = (list: BaselineSample[]) => list.filter((s) => s.learn?.length).map((s) => s.runId);
    expect(learned(rebuildSamples(windowOnly, 'Africa/Johannesburg'))).not.toEqual(learned(samples));
  });

  it('a monitor restored with them has the live baseline figures on every weekday, and judges the next run alike', () => {
    const restored = RetailerMonitor.fresh('pnp', l.now);
    restored.restore(restoreOf(l, l.stored));
    for (let d = 1; d <= 7; d++) expect(restored.baselineViews(l.now + d * DAY_MS)).toEqual(l.live.baselineViews(l.now + d * DAY_MS));
    const drop = report(9999, l.now + 3 * HOUR, { sku: 2400, promo: 800, tookMs: 10 * MIN });
    const summaries = (m: RetailerMonitor) => m.applyReport(drop, l.now + 3 * HOUR + MIN).alerts.map((a) => a.summary.replace(/\/sku_drop\/\d+/, ''));
    const expected = summaries(l.live);
    expect(expected.join()).toMatch(/vs typical [\d,]+ \(median of \d+ runs on \d+ \w+days\)/);
    expect(summaries(restored)).toEqual(expected);
  });

  it('without them (an older worker) the samples are only seeded from the recent runs (so this test can fail)', () => {
    const seeded = RetailerMonitor.fresh('pnp', l.now);
    seeded.restore(restoreOf(l));
    expect(seeded.snapshot().retailer.baselineSamples!.length).toBeLessThanOrEqual(10);
    expect(seeded.baselineViews(l.now + DAY_MS)).not.toEqual(l.live.baselineViews(l.now + DAY_MS));
  });
});
