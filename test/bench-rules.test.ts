/**
 * The rules benchmark (scripts/bench-rules-eval.ts, `npm run bench:rules`) produces figures for every
 * method, and the comparisons the docs quote hold: the shipped SKU rule is the story's 7-run mean rule
 * (same fires as the plain mean), and the robust seasonal rules page less on the weekly pattern.
 */
import { evaluateRules, METHODS } from '../scripts/bench-rules-eval';

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
