/**
 * Robust seasonal baselines (src/rules/baselines.ts) and the rules judged against them (promo_drop,
 * run_duration, the SKU rule's robust figures, skuRule and warm-up), driven through the pure RetailerMonitor.
 */
import fc from 'fast-check';
import { thresholdsArgs } from '../src/cli/args';
import { formatThresholds } from '../src/cli/format';
import { warmUpSku } from '../src/rules/baseline-rules';
import { BASELINE_DEFAULTS } from '../src/rules/baseline-settings';
import {
  BASELINE_LIMITS,
  baselineAt,
  DAY_MS,
  describeBaseline,
  grouped,
  recordSample,
  robustStats,
  weekdayIn,
  type BaselineSample,
} from '../src/rules/baselines';
import { RetailerMonitor } from '../src/rules/retailer-monitor';
import { thresholdsSchema, type ThresholdOverrides } from '../src/rules/thresholds';
import type { AlertEvent, RetailerSnapshot } from '../src/rules/types';
import type { RunReport } from '../src/shared/report';

const MIN = 60_000;
/** A Monday, 06:00 UTC. */
const MONDAY = Date.parse('2026-10-05T06:00:00Z');
const ZONES = ['UTC', 'Africa/Johannesburg', 'America/New_York', 'Asia/Kolkata', 'Pacific/Auckland'] as const;

let seq = 0;
interface Run {
  at: number;
  sku?: number;
  promo?: number;
  durationMs?: number;
}
function report(retailer: string, r: Run): RunReport {
  return {
    runId: `r-${++seq}`,
    retailer,
    status: 'success',
    startedAt: new Date(r.at - (r.durationMs ?? MIN)).toISOString(),
    finishedAt: new Date(r.at).toISOString(),
    skuCount: r.sku ?? 5000,
    ...(r.promo !== undefined ? { promoCount: r.promo } : {}),
  };
}
function monitor(overrides: ThresholdOverrides = {}, retailer = 'spar'): RetailerMonitor {
  const m = RetailerMonitor.fresh(retailer, MONDAY - DAY_MS);
  m.setOverrides(overrides);
  return m;
}
const fires = (alerts: AlertEvent[]) => alerts.filter((a) => a.kind === 'fire').map((a) => a.rule);

describe('baselines (pure)', () => {
  it('median and MAD × 1.4826, floored at 5% of the median', () => {
    expect(robustStats([10, 10, 10, 10])).toEqual({ median: 10, mad: 1 }); // floor: max(5% of 10, 1 unit)
    expect(robustStats([1000, 1000, 1000])).toEqual({ median: 1000, mad: 50 });
    const s = robustStats([100, 110, 90, 200, 95]);
    expect(s.median).toBe(100);
    expect(s.mad).toBeCloseTo(10 * 1.4826);
  });

  it('uses the same weekday in the retailer timezone once 3 exist, the trailing median before', () => {
    let samples: BaselineSample[] = [];
    const tz = 'Africa/Johannesburg';
    // 23:30 UTC on a Monday is Tuesday 01:30 in Johannesburg.
    const at = (week: number, day: number) => MONDAY + week * 7 * DAY_MS + day * DAY_MS + 17.5 * 60 * MIN;
    for (let w = 0; w < 4; w++) {
      for (let d = 0; d < 7; d++) samples = recordSample(samples, { runId: `${w}-${d}`, at: at(w, d), wd: weekdayIn(at(w, d), tz), sku: d === 0 ? 4950 : 3000 });
    }
    const next = at(4, 0);
    const b = baselineAt(samples, 'sku', next, weekdayIn(next, tz))!;
    expect(b).toMatchObject({ kind: 'weekday', weekday: 'Tuesday', median: 4950, n: 4, days: 4 });
    expect(describeBaseline(b)).toBe('median of 4 Tuesdays');
    const early = samples.filter((s) => s.at < at(2, 0));
    const fallback = baselineAt(early, 'sku', at(2, 0), weekdayIn(at(2, 0), tz))!;
    expect(fallback.kind).toBe('trailing');
    expect(describeBaseline(fallback)).toBe(`median of the last ${BASELINE_LIMITS.trailingRuns} runs`);
  });

  it('stays bounded: 6 weeks, at most 57 samples per weekday', () => {
    let samples: BaselineSample[] = [];
    for (let i = 0; i < 24 * 7 * 8; i++) {
      const at = MONDAY + i * 60 * MIN;
      samples = recordSample(samples, { runId: `h-${i}`, at, wd: weekdayIn(at, 'UTC'), sku: 1000 });
    }
    expect(samples.length).toBeLessThanOrEqual(7 * BASELINE_LIMITS.perWeekday);
    expect(samples.at(-1)!.runId).toBe(`h-${24 * 7 * 8 - 1}`);
    for (let wd = 0; wd < 7; wd++) expect(samples.filter((s) => s.wd === wd).length).toBeLessThanOrEqual(BASELINE_LIMITS.perWeekday);
  });

  it('formats figures as in the alert text', () => {
    expect(grouped(4950)).toBe('4,950');
    expect(grouped(2487.25)).toBe('2,487.3');
    expect(grouped(12)).toBe('12');
  });

  it('warm-up: a halved run is held out; held runs that are the new normal restart the warm-up', () => {
    expect(warmUpSku([5000], 2500, 30, [], 3)).toEqual({ held: true, baseline: [5000] });
    expect(warmUpSku([2500, 5000], 5050, 30, [], 3)).toEqual({ held: false, baseline: [5000, 5050] });
    expect(warmUpSku([5000], 2500, 30, [2500], 3)).toEqual({ held: true, baseline: [5000] });
    expect(warmUpSku([5000], 2500, 30, [2510, 2490], 3)).toEqual({ held: false, baseline: [2510, 2490, 2500] });
  });
});

describe('property: robust baselines', () => {
  const zone = fc.constantFrom(...ZONES);

  it('a constant series never fires, whatever the timing, timezone or settings', () => {
    fc.assert(
      fc.property(
        zone,
        fc.integer({ min: 1, max: 100_000 }),
        fc.integer({ min: 0, max: 5000 }),
        fc.integer({ min: 1, max: 6 * 60 }).map((m) => m * MIN),
        fc.array(fc.integer({ min: 10, max: 30 * 60 }), { minLength: 5, maxLength: 120 }),
        fc.constantFrom('drop-pct' as const, 'drop-pct-and-robust' as const),
        (timezone, sku, promo, durationMs, gapsMin, skuRule) => {
          const m = monitor({ timezone, skuRule, promoDrop: true, runDuration: true, durationMinRiseMs: 0 });
          let at = MONDAY;
          for (const gap of gapsMin) {
            at += gap * MIN;
            expect(m.applyReport(report('spar', { at, sku, promo, durationMs }), at).alerts).toEqual([]);
          }
        },
      ),
      { numRuns: 60 },
    );
  });

  it('a seasonal series with weekend dips and long Mondays fires only on the real drop, once the weekdays are learned', () => {
    fc.assert(
      fc.property(
        zone,
        fc.double({ min: 0.45, max: 0.8, noNaN: true }), // weekend promo level (a 20–55% dip)
        fc.integer({ min: 22, max: 41 }), // day of the injected drop (weeks 4–6, after the first Monday of week 4)
        fc.double({ min: 0.05, max: 0.3, noNaN: true }), // what is left of the promos that day
        fc.array(fc.double({ min: -0.03, max: 0.03, noNaN: true }), { minLength: 42, maxLength: 42 }),
        (timezone, weekend, dropDay, left, jitter) => {
          const m = monitor({ timezone, promoDrop: true, runDuration: true });
          const local = (d: number) => MONDAY + d * DAY_MS;
          const fired: Array<[number, string]> = [];
          for (let d = 0; d < 42; d++) {
            const at = local(d);
            const wd = weekdayIn(at, timezone);
            const weekendDay = wd === 0 || wd === 6;
            const monday = wd === 1;
            let promo = 800 * (weekendDay ? weekend : 1) * (1 + jitter[d]!);
            if (d === dropDay) promo *= left;
            const durationMs = (monday ? 40 : 15) * MIN * (1 + jitter[d]!);
            for (const rule of fires(m.applyReport(report('spar', { at, promo: Math.round(promo), durationMs: Math.round(durationMs) }), at).alerts)) fired.push([d, rule]);
          }
          // Weeks 1–3 judge against the trailing fallback (a weekly peak may fire there); from week 4 on the
          // same weekday is known: the only fire is the injected drop.
          expect(fired.filter(([d]) => d >= 21)).toEqual([[dropDay, 'promo_drop']]);
        },
      ),
      { numRuns: 40 },
    );
  });

  it('an outlier excluded from training stays excluded after continue-as-new (snapshot → restore)', () => {
    fc.assert(
      fc.property(zone, fc.integer({ min: 3, max: 20 }), fc.integer({ min: 1, max: 4 }), (timezone, before, cut) => {
        const m = monitor({ timezone, promoDrop: true });
        let at = MONDAY;
        for (let i = 0; i < before; i++) m.applyReport(report('spar', { at: (at += DAY_MS), promo: 800 }), at);
        const outlier = report('spar', { at: (at += DAY_MS), promo: 80 });
        expect(fires(m.applyReport(outlier, at).alerts)).toEqual(['promo_drop']);
        // Cross continue-as-new `cut` times (JSON round trip of the snapshot), reporting normal runs between.
        let current = m;
        for (let c = 0; c < cut; c++) {
          current = new RetailerMonitor(JSON.parse(JSON.stringify(current.snapshot())) as RetailerSnapshot);
          current.applyReport(report('spar', { at: (at += DAY_MS), promo: 800 }), at);
        }
        const sample = current.snapshot().retailer.baselineSamples!.find((s) => s.runId === outlier.runId)!;
        expect(sample.excluded?.promo).toBe('incident');
        const promo = current.baselineViews(at + DAY_MS).find((v) => v.metric === 'promo')!;
        expect(promo.excluded).toBe(1);
        expect(promo.typical).toBe(800);
      }),
      { numRuns: 40 },
    );
  });
});

describe('rules against the robust baselines', () => {
  /** Five weeks of daily runs at 06:00 UTC: SKUs 4,950 on Tuesdays, 5,000 otherwise. */
  function history(m: RetailerMonitor, extra: (d: number) => Partial<Run> = () => ({})) {
    for (let d = 0; d < 35; d++) {
      const at = MONDAY + d * DAY_MS;
      m.applyReport(report('spar', { at, sku: d % 7 === 1 ? 4950 : 5000, promo: 800, durationMs: 10 * MIN, ...extra(d) }), at);
    }
  }

  it('sku_drop keeps the story rule and quotes the robust figures', () => {
    const m = monitor();
    history(m);
    const tuesday = MONDAY + 36 * DAY_MS;
    const alerts = m.applyReport(report('spar', { at: tuesday, sku: 2487 }), tuesday).alerts;
    expect(fires(alerts)).toEqual(['sku_drop']);
    expect(alerts[0]!.summary).toContain('below the trailing average');
    expect(alerts[0]!.summary).toContain('2,487 SKUs vs typical 4,950 (median of 5 Tuesdays), −50%, ');
    expect(alerts[0]!.figures).toMatchObject({ skuCount: 2487, typical: 4950, typicalBasis: 'median of 5 Tuesdays', deviationPct: -49.8, madThreshold: 3 });
    expect(alerts[0]!.figures.mads).toBeGreaterThan(3);
  });

  it("skuRule 'drop-pct-and-robust' needs the robust score too: a noisy retailer pages less", () => {
    const noisy = (d: number) => ({ sku: [5000, 2600, 5200, 3000, 4800, 2900, 5100][d % 7]! });
    const plain = monitor();
    const robust = monitor({ skuRule: 'drop-pct-and-robust' });
    history(plain, noisy);
    history(robust, noisy);
    const at = MONDAY + 36 * DAY_MS; // a Tuesday, typically ~2,600
    expect(fires(plain.applyReport(report('spar', { at, sku: 2550 }), at).alerts)).toEqual(['sku_drop']);
    expect(fires(robust.applyReport(report('spar', { at, sku: 2550 }), at).alerts)).toEqual([]);
    const later = at + 7 * DAY_MS;
    expect(fires(robust.applyReport(report('spar', { at: later, sku: 600 }), later).alerts)).toEqual(['sku_drop']);
  });

  it('warm-up: a halved run is not taken into the trailing average (the runbook promise)', () => {
    const m = monitor();
    const at = (i: number) => MONDAY + i * 60 * MIN;
    m.applyReport(report('spar', { at: at(0), sku: 5000 }), at(0));
    const halved = m.applyReport(report('spar', { at: at(1), sku: 2500 }), at(1));
    expect(halved.alerts).toEqual([]); // the rule cannot fire with fewer than 3 runs …
    expect(halved.run!.skuDrop).toBe(true); // … but the run is flagged and kept out
    m.applyReport(report('spar', { at: at(2), sku: 5050 }), at(2));
    m.applyReport(report('spar', { at: at(3), sku: 4950 }), at(3));
    expect(m.status(at(3)).trailingAverage).toBe(5000);
    expect(fires(m.applyReport(report('spar', { at: at(4), sku: 2500 }), at(4)).alerts)).toEqual(['sku_drop']);
  });

  it('promo_drop is off by default; on, it fires far below the baseline and resolves when back', () => {
    const off = monitor();
    history(off);
    const at = MONDAY + 36 * DAY_MS;
    expect(fires(off.applyReport(report('spar', { at, promo: 100 }), at).alerts)).toEqual([]);
    const on = monitor({ promoDrop: true });
    history(on);
    const fired = on.applyReport(report('spar', { at, promo: 100 }), at).alerts;
    expect(fires(fired)).toEqual(['promo_drop']);
    expect(fired[0]!.summary).toBe('spar: promo count drop — 100 promos vs typical 800 (median of 5 Tuesdays), −88%, 17.5 MADs (thresholds 3 MADs and 50%)');
    const next = at + DAY_MS;
    const resolved = on.applyReport(report('spar', { at: next, promo: 790 }), next).alerts;
    expect(resolved.map((a) => `${a.kind}:${a.rule}`)).toEqual(['resolve:promo_drop']);
  });

  it('run_duration is on by default: a run over twice its usual duration (and 5 min more) fires, a normal one resolves', () => {
    const m = monitor();
    history(m);
    const at = MONDAY + 36 * DAY_MS;
    expect(fires(m.applyReport(report('spar', { at, durationMs: 18 * MIN }), at).alerts)).toEqual([]); // +80%: not enough
    const slow = at + DAY_MS;
    const fired = m.applyReport(report('spar', { at: slow, durationMs: 45 * MIN }), slow).alerts;
    expect(fires(fired)).toEqual(['run_duration']);
    expect(fired[0]!.figures).toMatchObject({ durationMs: 45 * MIN, typical: 10 * MIN, deviationPct: 350 });
    expect(m.openRules()).toEqual(['run_duration']);
    const ok = slow + DAY_MS;
    expect(m.applyReport(report('spar', { at: ok, durationMs: 11 * MIN }), ok).alerts.map((a) => a.kind)).toEqual(['resolve']);
  });

  it('acknowledging a baseline incident keeps its run out of every baseline; a maintenance run too', () => {
    const m = monitor({ promoDrop: true });
    history(m);
    const at = MONDAY + 36 * DAY_MS;
    const fired = m.applyReport(report('spar', { at, promo: 100 }), at).alerts[0]!;
    expect(m.acknowledge(fired.incidentId, { by: 'sam' }, at)).toBe(true);
    const sample = m.snapshot().retailer.baselineSamples!.find((s) => s.runId === fired.runId)!;
    expect(sample.excluded).toEqual({ sku: 'acknowledged', promo: 'acknowledged', durationMs: 'acknowledged' });
    const next = at + DAY_MS;
    const r = report('spar', { at: next, sku: 5000 });
    m.applyReport(r, next, { inMaintenance: true });
    expect(m.snapshot().retailer.baselineSamples!.at(-1)!.excluded).toEqual({ sku: 'maintenance', promo: 'maintenance', durationMs: 'maintenance' });
    expect(m.excludeRun('no-such-run', 'maintenance')).toBe(false);
  });

  it('a snapshot from before the baselines loads, seeded from its recent runs', () => {
    const m = monitor();
    history(m);
    const old = m.snapshot();
    delete old.retailer.baselineSamples;
    const restored = new RetailerMonitor(old);
    expect(restored.snapshot().retailer.baselineSamples).toHaveLength(old.retailer.recentRuns.length);
  });

  it('legacy rules (a history from before the patch) fire no new rule and keep the old SKU text', () => {
    const m = monitor({ promoDrop: true });
    m.useLegacyRules();
    history(m);
    const at = MONDAY + 36 * DAY_MS;
    const alerts = m.applyReport(report('spar', { at, sku: 2487, promo: 10, durationMs: 90 * MIN }), at).alerts;
    expect(fires(alerts)).toEqual(['sku_drop']);
    expect(alerts[0]!.summary).toBe('spar: SKU count 2487 is 50.2% below the trailing average of 4992.9 (threshold 30%)');
  });

  it('validates the new settings', () => {
    expect(thresholdsSchema().partial().safeParse({ timezone: 'Mars/Olympus' }).success).toBe(false);
    expect(thresholdsSchema().partial().safeParse({ timezone: 'Africa/Johannesburg', skuRule: 'drop-pct-and-robust', promoDrop: true }).success).toBe(true);
    expect(thresholdsSchema().partial().safeParse({ skuRule: 'robust' }).success).toBe(false);
    expect(BASELINE_DEFAULTS).toMatchObject({ timezone: 'UTC', skuRule: 'drop-pct', promoDrop: false, runDuration: true });
  });

  it('CLI: thresholds options for the baseline rules, refused with the flag named', () => {
    expect(thresholdsArgs({ retailer: 'spar', timezone: 'Africa/Johannesburg', skuRule: 'drop-pct-and-robust', promoDrop: 'on', runDuration: 'off', durationMinRise: '10m', robustMads: '4' })).toEqual({
      retailer: 'spar',
      thresholds: { timezone: 'Africa/Johannesburg', skuRule: 'drop-pct-and-robust', promoDrop: true, runDuration: false, durationMinRiseMs: 10 * MIN, robustMads: 4 },
    });
    expect(() => thresholdsArgs({ timezone: 'Mars/Olympus' })).toThrow(/--timezone: timezone must be an IANA timezone/);
    expect(() => thresholdsArgs({ promoDrop: 'maybe' })).toThrow(/--promo-drop: "maybe" is not on or off/);
    expect(formatThresholds(monitor().thresholds)).toContain('SKU rule drop-pct · promo_drop off · run_duration on (+100%, +5m, 3 MADs) · timezone UTC');
  });
});
