/**
 * Where a retailer's robust-baseline samples come from: the sample of each run the monitor judges, and the
 * same samples rebuilt from what Postgres keeps of the last 6 weeks of runs, for a monitor started fresh
 * (after a termination, or a lost history; see the restoreRetailer activity). Pure.
 *
 * A rebuild replays the stored runs through the same steps the live monitor took (finish order; each
 * acknowledgement applied when it happened, between the runs received before and after it), so it yields the
 * samples the live monitor had. Whether an incident point still counts for its own weekday (`learn`) depends
 * on the 6 weeks before it, so the rebuild reads twice the window (REBUILD_WINDOW) and replays it all; the
 * older half only gives context and ages out as it did live. What stays approximate is third-order: the
 * `learn` marks of the context runs themselves (judged without their own 6 weeks before).
 */
import { runDurationMs } from './baseline-rules';
import { BASELINE_LIMITS, BASELINE_METRICS, baselineAt, excludeSample, recordSample, weekdayIn, type BaselineMetric, type BaselineSample, type ExclusionReason } from './baselines';
import type { RunSummary } from './types';

/** What a rebuild reads: twice the baseline window (6 weeks of samples plus the 6 weeks that judged them). */
export const REBUILD_WINDOW = { maxAgeMs: 2 * BASELINE_LIMITS.maxAgeMs, perWeekday: 2 * BASELINE_LIMITS.perWeekday } as const;

/** A successful, in-order run of the baseline window as Postgres keeps it (times in epoch ms). */
export interface StoredBaselineRun {
  runId: string;
  startedAt: number;
  finishedAt: number;
  receivedAt: number;
  sku?: number;
  promo?: number;
  /** Its SKU count fired or kept open sku_drop (or was held during warm-up). */
  skuDrop?: true;
  /** Its promo count fired or kept open promo_drop. */
  promoDrop?: true;
  /** Its duration fired or kept open run_duration. */
  longRun?: true;
  /** It finished inside a maintenance window. */
  inMaintenance?: true;
  /** When an operator acknowledged the baseline-rule incident this run fired, if one was. */
  acknowledgedAt?: number;
}

/** The sample of a run just judged (`samples`: those it was judged against). */
export function sampleOf(samples: readonly BaselineSample[], run: RunSummary, timeZone: string, maintenance = false): BaselineSample {
  const sample: BaselineSample = { runId: run.runId, at: run.finishedAt, wd: weekdayIn(run.finishedAt, timeZone) };
  if (run.skuCount !== undefined) sample.sku = run.skuCount;
  if (run.promoCount !== undefined) sample.promo = run.promoCount;
  const duration = runDurationMs(run);
  if (duration !== undefined) sample.durationMs = duration;
  const excluded: Partial<Record<BaselineMetric, ExclusionReason>> = {};
  if (maintenance) for (const m of BASELINE_METRICS) excluded[m] = 'maintenance';
  if (run.skuDrop) excluded.sku ??= 'incident';
  if (run.promoDrop) excluded.promo ??= 'incident';
  if (run.longRun) excluded.durationMs ??= 'incident';
  if (Object.keys(excluded).length) sample.excluded = excluded;
  const learn = BASELINE_METRICS.filter((m) => excluded[m] === 'incident' && baselineAt(samples, m, sample.at, sample.wd)?.kind !== 'weekday');
  if (learn.length) sample.learn = learn;
  return sample;
}

/** Baseline samples from the runs a snapshot or an older restore remembers (at most the 10 recent runs). */
export function seedSamples(runs: readonly RunSummary[], timeZone: string): BaselineSample[] {
  let samples: BaselineSample[] = [];
  for (const run of runs) if (run.status === 'success' && !run.outOfOrder) samples = recordSample(samples, sampleOf(samples, run, timeZone));
  return samples;
}

function summaryOf(run: StoredBaselineRun): RunSummary {
  return {
    runId: run.runId,
    retailer: '',
    status: 'success',
    startedAt: run.startedAt,
    finishedAt: run.finishedAt,
    receivedAt: run.receivedAt,
    ...(run.sku !== undefined ? { skuCount: run.sku } : {}),
    ...(run.promo !== undefined ? { promoCount: run.promo } : {}),
    ...(run.skuDrop ? { skuDrop: true } : {}),
    ...(run.promoDrop ? { promoDrop: true } : {}),
    ...(run.longRun ? { longRun: true } : {}),
  };
}

/**
 * The samples the live monitor had, rebuilt from the stored runs of its baseline window (any order; runs
 * beyond the bounds are dropped as the live monitor dropped them).
 */
export function rebuildSamples(runs: readonly StoredBaselineRun[], timeZone: string): BaselineSample[] {
  const ordered = [...runs].sort((a, b) => a.finishedAt - b.finishedAt || a.receivedAt - b.receivedAt);
  const acks = ordered.filter((r) => r.acknowledgedAt !== undefined).sort((a, b) => a.acknowledgedAt! - b.acknowledgedAt!);
  const samples: BaselineSample[] = [];
  let nextAck = 0;
  const acknowledgeUpTo = (t: number) => {
    for (; nextAck < acks.length && acks[nextAck]!.acknowledgedAt! <= t; nextAck++) excludeSample(samples, acks[nextAck]!.runId, 'acknowledged');
  };
  for (const run of ordered) {
    acknowledgeUpTo(run.receivedAt);
    recordSample(samples, sampleOf(samples, summaryOf(run), timeZone, run.inMaintenance === true));
  }
  acknowledgeUpTo(Infinity);
  return samples;
}
