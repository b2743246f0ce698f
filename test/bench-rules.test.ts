/**
 * The rules benchmark (scripts/bench-rules-eval.ts, `npm run bench:rules`) produces figures for every
 * method, and the comparisons the docs quote hold: the shipped SKU rule is the story's 7-run mean rule
 * (same fires as the plain mean), and the robust seasonal rules page less on the weekly pattern. The
 * monitor is driven as the workflow drives it (Schedule facts on request), so missed_run catches every
 * missed run within minutes, long before stale, and run_duration fires for spikes still running.
 */
import { evaluateRules, historyOf, injected, METHODS, retailers, runMethod } from '../scripts/bench-rules-eval';

it('evaluates every method against the 15 injected incidents', () => {
  const figures = evaluateRules();
  expect(figures.map((f) => f.method)).toEqual([...METHODS]);
  const by = new Map(figures.map((f) => [f.method, f]));
  for (const f of figures) {
    expect(f.kinds.reduce((a, k) => a + k.incidents, 0)).toBe(15);
    expect(f.kinds.map((k) => [k.kind, k.incidents])).toEqual([
      ['sku_drop', 5],
      ['promo_drop', 3],
      ['duration', 3],
      ['missed_run', 3],
      ['flapping', 1],
    ]);
    for (const x of [f.precision, f.recall]) expect(x >= 0 && x <= 1).toBe(true);
    for (const k of f.kinds) expect(k.detected).toBeLessThanOrEqual(k.incidents);
    expect(f.maxSnapshotBytes).toBeLessThan(64 * 1024); // bounded state: 6 weeks of samples fit easily
  }
  const [defaults, robust, mean7] = [by.get('defaults')!, by.get('robust')!, by.get('mean7')!];
  // The story's SKU rule is unchanged by default: it fires exactly as the plain 7-run mean does.
  expect(defaults.kinds[0]).toEqual(mean7.kinds[0]);
  // promo_drop is off by default: no promo drop is seen.
  expect(defaults.kinds[1]!.detected).toBe(0);
  // The seasonal baselines page less on the weekly pattern once learned (weeks 4–6) and overall.
  expect(robust.falseLate).toBeLessThan(mean7.falseLate);
  expect(robust.precision).toBeGreaterThan(mean7.precision);
});

it('scores missed_run (Schedule facts) against the missed runs, side by side with stale alone', () => {
  const by = new Map(evaluateRules().map((f) => [f.method, f]));
  const [defaults, mean7] = [by.get('defaults')!, by.get('mean7')!];
  const missed = defaults.missedRun!;
  expect(missed).toMatchObject({ rule: 'missed_run', incidents: 3, detected: 3, beforeNextRun: 3 });
  // Fired after expected + grace (the rule waits the usual duration too), within the hour.
  for (const d of missed.delaysMin) expect(d > 0 && d < 60).toBe(true);
  // stale alone sees them too, but hours later.
  expect(defaults.staleMissed.detected).toBe(3);
  expect(Math.min(...defaults.staleMissed.delaysMin)).toBeGreaterThan(Math.max(...missed.delaysMin));
  // A run taken on time and still running is the open-run check's, not a missed run: no false missed_run
  // (none from a misread Schedule time either, e.g. at DST).
  expect(missed.falsePositives).toBe(0);
  // The plain 7-run mean has neither the missed-run rule nor the open-run check.
  expect(mean7.missedRun).toBeUndefined();
  expect(mean7.openRun.fires).toBe(0);
  // Without the open-run check (histories before its patch) the rule fires as before on every such run:
  // the 3 missed runs and the 220 long on-time runs (Mondays, spikes, first runs).
  const rs = retailers();
  const incidents = injected(rs);
  const histories = new Map(rs.map((r) => [r.slug, historyOf(r, incidents)]));
  const missedFires = (openRunCheck: boolean) => runMethod('defaults', rs, histories, openRunCheck).fires.filter((f) => f.rule === 'missed_run').length;
  expect(missedFires(true)).toBe(3);
  expect(missedFires(false)).toBe(223);
  // The open-run check fires run_duration for a spike before its report.
  expect(defaults.openRun.spikesWhileOpen).toBeGreaterThan(0);
  for (const lead of defaults.openRun.leadMin) expect(lead).toBeGreaterThan(0);
});
