/**
 * The rules judged against robust baselines: promo_drop, run_duration, and the robust second condition and
 * figures of sku_drop. Pure; RetailerMonitor (src/rules/retailer-monitor.ts) keeps the incidents.
 */
import { humanDuration } from './retailer-monitor';
import type { BaselineSettings } from './baseline-settings';
import { describeBaseline, grouped, median, robustCheck, signedPct, type BaselineMetric, type BaselineSample, type RobustCheck } from './baselines';
import type { AlertFigures, RunSummary } from './types';

const round1 = (n: number) => Math.round(n * 10) / 10;

/** The robust figures every baseline alert carries. `direction` -1: a drop is bad; +1: a rise is bad. */
export function robustFigures(check: RobustCheck, direction: -1 | 1, s: BaselineSettings): AlertFigures {
  return {
    typical: round1(check.baseline.median),
    typicalBasis: describeBaseline(check.baseline),
    deviationPct: round1(check.deviationPct),
    mads: round1(check.score * direction),
    madThreshold: s.robustMads,
  };
}

/** "2,487 SKUs vs typical 4,950 (median of 5 Tuesdays), −50%, 6.1 MADs". */
export function robustText(check: RobustCheck, unit: Unit, direction: -1 | 1): string {
  const mads = round1(check.score * direction);
  return `${unit.value(check.value)} vs typical ${unit.typical(check.baseline.median)} (${describeBaseline(check.baseline)}), ${signedPct(check.deviationPct)}, ${mads} MADs`;
}

interface Unit {
  value: (n: number) => string;
  typical: (n: number) => string;
}
const count = (noun: string): Unit => ({ value: (n) => `${grouped(n)} ${noun}`, typical: grouped });
export const skuUnit = count('SKUs');
const promoUnit = count('promos');
const durationUnit: Unit = { value: humanDuration, typical: humanDuration };

/** A run's duration, when it has a real one (a hand-sent report often has startedAt = finishedAt). */
export function runDurationMs(run: RunSummary): number | undefined {
  const d = run.finishedAt - run.startedAt;
  return Number.isFinite(d) && d > 0 ? d : undefined;
}

/** What one baseline rule says about one run. */
export interface BaselineVerdict {
  /** The condition holds: open (or keep open) the incident; the run stays out of this metric's baseline. */
  anomalous: boolean;
  figures: AlertFigures;
  /** Fire text (when anomalous) or resolve text. */
  summary: string;
}

export interface RuleInput {
  retailer: string;
  samples: readonly BaselineSample[];
  run: RunSummary;
  /** Weekday of the run's finish in the retailer's timezone. */
  wd: number;
  settings: BaselineSettings;
}

/** promo_drop: promo count ≥ robustMads MADs AND ≥ promoDropPct % below its robust baseline. Undefined: cannot judge. */
export function promoVerdict({ retailer, samples, run, wd, settings: s }: RuleInput): BaselineVerdict | undefined {
  if (run.promoCount === undefined) return undefined;
  const check = robustCheck(samples, 'promo', run.promoCount, run.finishedAt, wd);
  if (!check) return undefined;
  const anomalous = -check.score >= s.robustMads && -check.deviationPct >= s.promoDropPct;
  const figures: AlertFigures = { promoCount: run.promoCount, ...robustFigures(check, -1, s) };
  const text = robustText(check, promoUnit, -1);
  return {
    anomalous,
    figures,
    summary: anomalous
      ? `${retailer}: promo count drop — ${text} (thresholds ${s.robustMads} MADs and ${s.promoDropPct}%)`
      : `${retailer}: promo count back to normal — ${text}`,
  };
}

/** run_duration: duration ≥ robustMads MADs, ≥ durationRisePct % AND ≥ durationMinRiseMs above its robust baseline. */
export function durationVerdict({ retailer, samples, run, wd, settings: s }: RuleInput): BaselineVerdict | undefined {
  const duration = runDurationMs(run);
  if (duration === undefined) return undefined;
  const check = robustCheck(samples, 'durationMs', duration, run.finishedAt, wd);
  if (!check) return undefined;
  const anomalous = check.score >= s.robustMads && check.deviationPct >= s.durationRisePct && duration - check.baseline.median >= s.durationMinRiseMs;
  const figures: AlertFigures = { durationMs: duration, ...robustFigures(check, 1, s) };
  const text = robustText(check, durationUnit, 1);
  return {
    anomalous,
    figures,
    summary: anomalous
      ? `${retailer}: run ${run.runId} took ${text} (thresholds ${s.robustMads} MADs, +${s.durationRisePct}% and +${humanDuration(s.durationMinRiseMs)})`
      : `${retailer}: run duration back to normal — ${text}`,
  };
}

/** The robust view of a SKU count: figures and text for the sku_drop alert, and whether it is ≥ robustMads below. */
export function skuRobust(samples: readonly BaselineSample[], sku: number, at: number, wd: number, s: BaselineSettings) {
  const check = robustCheck(samples, 'sku', sku, at, wd);
  if (!check) return undefined;
  return { figures: robustFigures(check, -1, s), text: robustText(check, skuUnit, -1), far: -check.score >= s.robustMads };
}

export const BASELINE_RULE_METRIC = new Map<string, BaselineMetric>([
  ['sku_drop', 'sku'],
  ['promo_drop', 'promo'],
  ['run_duration', 'durationMs'],
]);

/**
 * The SKU rule's warm-up (fewer than skuMinSamples runs in the trailing average, so it cannot fire yet): a
 * run more than dropPct % below the median of the warm-up runs is held out of the average (flagged as a
 * drop), and an earlier warm-up run that far below the median of them all is dropped from it. When the
 * held runs are the new normal (`heldBefore`: the held SKU counts just before this run, oldest first, and
 * with this one they make minSamples), they restart the warm-up instead.
 */
export function warmUpSku(baseline: readonly number[], sku: number, dropPct: number, heldBefore: readonly number[], minSamples: number): { held: boolean; baseline: number[] } {
  if (baseline.length === 0) return { held: false, baseline: [sku] };
  const keep = 1 - dropPct / 100;
  if (sku < median(baseline) * keep) {
    if (heldBefore.length + 1 >= minSamples) return { held: false, baseline: [...heldBefore, sku] };
    return { held: true, baseline: [...baseline] };
  }
  const all = [...baseline, sku];
  const floor = median(all) * keep;
  return { held: false, baseline: all.filter((x) => x >= floor) };
}
