/**
 * Robust, seasonal baselines of a retailer's run metrics (SKU count, promo count, run duration). Pure: no
 * Temporal imports, no clock; times are passed in.
 *
 * - One sample per successful, in-order run: its finish time, the three values, the weekday it finished on
 *   in the retailer's timezone, and per metric why it is kept out of every baseline, if it is
 *   ('incident': the run fired or kept open that metric's rule; 'maintenance': it ran in a maintenance
 *   window; 'acknowledged': an operator acknowledged its incident as bad).
 * - Baseline of a metric at a moment: median and MAD (× 1.4826, floored at 5% of the median and at 1 unit)
 *   of the samples of the SAME WEEKDAY over the last 6 weeks; while fewer than 3 such samples exist, of the
 *   last 14 runs whatever their weekday ("trailing"). Excluded samples never count.
 * - Bounded: samples older than 6 weeks go, and at most 57 per weekday are kept (the newest), so at most
 *   399 per retailer. Runs every 3 hours or less often keep the full 6 weeks; hourly runs keep the last
 *   ~2.4 weeks of each weekday.
 */

export const BASELINE_METRICS = ['sku', 'promo', 'durationMs'] as const;
export type BaselineMetric = (typeof BASELINE_METRICS)[number];

export const EXCLUSION_REASONS = ['incident', 'maintenance', 'acknowledged'] as const;
export type ExclusionReason = (typeof EXCLUSION_REASONS)[number];

export const DAY_MS = 24 * 60 * 60 * 1000;

export const BASELINE_LIMITS = {
  /** Samples older than this (relative to the newest) are dropped: 6 weeks. */
  maxAgeMs: 42 * DAY_MS,
  /** Newest samples kept per weekday; 7 × 57 = 399 samples per retailer at most. */
  perWeekday: 57,
  /** Same-weekday samples needed before the seasonal baseline is used. */
  minSameWeekday: 3,
  /** The fallback: the last this many usable runs, any weekday. */
  trailingRuns: 14,
  /** Samples the fallback needs (below it: no baseline, the robust rules stay silent). */
  minTrailing: 3,
  /** MAD → standard deviation of a normal distribution. */
  madScale: 1.4826,
  /** The scaled MAD is at least this fraction of the median (a perfectly steady series is not infinitely sensitive). */
  madFloorFraction: 0.05,
} as const;

export interface BaselineSample {
  runId: string;
  /** The run's finishedAt (epoch ms). */
  at: number;
  /** Weekday (0 = Sunday) of `at` in the retailer's timezone, set when recorded or the timezone changes. */
  wd: number;
  sku?: number;
  promo?: number;
  durationMs?: number;
  /** Metrics of this run kept out of every baseline, and why. */
  excluded?: Partial<Record<BaselineMetric, ExclusionReason>>;
  /**
   * Metrics excluded for 'incident' that were judged while their weekday had no seasonal baseline yet (only
   * the trailing fallback): kept out of the fallback, but they count for their own weekday, so a weekly
   * pattern (weekend dips, long Monday runs) that fires in the first weeks is still learned. The median
   * shrugs off the odd real outlier among them.
   */
  learn?: BaselineMetric[];
}

export interface Baseline {
  median: number;
  /** Scaled, floored MAD (same unit as the metric). */
  mad: number;
  /** Samples it was computed from. */
  n: number;
  kind: 'weekday' | 'trailing';
  /** For 'weekday': the weekday's name ("Tuesday") and on how many distinct days the samples were taken. */
  weekday?: string;
  days?: number;
  /**
   * With a 'trailing' baseline: the 1–2 same-weekday samples seen so far (median, the trailing MAD). A value
   * is judged against whichever of the two it is closer to, so a weekly pattern seen once already (last
   * Saturday's dip) does not fire again while the seasonal baseline is still being learned.
   */
  provisional?: Baseline;
}

export interface RobustCheck {
  value: number;
  baseline: Baseline;
  /** (value − median) / MAD: negative below the baseline, positive above. */
  score: number;
  /** (value − median) / median × 100 (0 when the median is 0). */
  deviationPct: number;
}

const WEEKDAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'] as const;
const formatters = new Map<string, Intl.DateTimeFormat>();

/** Throws RangeError for a timezone Intl does not know. */
function formatter(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', { timeZone, weekday: 'long' });
    formatters.set(timeZone, f);
  }
  return f;
}

export function isValidTimeZone(timeZone: string): boolean {
  try {
    formatter(timeZone);
    return true;
  } catch {
    return false;
  }
}

/** Weekday (0 = Sunday) of an instant in an IANA timezone. */
export function weekdayIn(at: number, timeZone: string): number {
  return WEEKDAYS.indexOf(formatter(timeZone).format(at) as (typeof WEEKDAYS)[number]);
}

export function median(values: readonly number[]): number {
  // A typed array sorts numerically without calling back into JS (several times faster for these sizes).
  const s = Float64Array.from(values).sort();
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/** Median and scaled, floored MAD of a non-empty list. */
export function robustStats(values: readonly number[]): { median: number; mad: number } {
  const m = median(values);
  const raw = median(values.map((v) => Math.abs(v - m))) * BASELINE_LIMITS.madScale;
  return { median: m, mad: Math.max(raw, Math.abs(m) * BASELINE_LIMITS.madFloorFraction, 1) };
}

const usable = (s: BaselineSample, metric: BaselineMetric): boolean => s[metric] !== undefined && !s.excluded?.[metric];
const usableForWeekday = (s: BaselineSample, metric: BaselineMetric): boolean =>
  usable(s, metric) || (s[metric] !== undefined && s.excluded?.[metric] === 'incident' && !!s.learn?.includes(metric));

/**
 * The baseline a value measured at `at` (weekday `wd` in the retailer's timezone) is judged against,
 * from samples before `at`; undefined while there are too few usable samples.
 */
export function baselineAt(samples: readonly BaselineSample[], metric: BaselineMetric, at: number, wd: number): Baseline | undefined {
  const from = at - BASELINE_LIMITS.maxAgeMs;
  // One pass, newest first (samples are in finish order): every report runs this once per metric.
  const same: number[] = [];
  let days = 0;
  let lastDay = Infinity;
  const trailing: number[] = [];
  for (let i = samples.length - 1; i >= 0; i--) {
    const s = samples[i]!;
    if (s.at > at) continue;
    if (s.at <= from) break;
    if (s.wd === wd && usableForWeekday(s, metric)) {
      same.push(s[metric]!);
      // Newest first: a gap of over half a week starts another day of this weekday.
      if (lastDay - s.at > 3.5 * DAY_MS) days++;
      lastDay = s.at;
    }
    if (trailing.length < BASELINE_LIMITS.trailingRuns && usable(s, metric)) trailing.push(s[metric]!);
  }
  if (same.length >= BASELINE_LIMITS.minSameWeekday) {
    return { ...robustStats(same), n: same.length, kind: 'weekday', weekday: WEEKDAYS[wd], days };
  }
  if (trailing.length < BASELINE_LIMITS.minTrailing) return undefined;
  const b: Baseline = { ...robustStats(trailing), n: trailing.length, kind: 'trailing' };
  if (same.length > 0) {
    const m = median(same);
    const mad = Math.max(b.mad, Math.abs(m) * BASELINE_LIMITS.madFloorFraction, 1);
    b.provisional = { median: m, mad, n: same.length, kind: 'weekday', weekday: WEEKDAYS[wd], days };
  }
  return b;
}

export function robustCheck(samples: readonly BaselineSample[], metric: BaselineMetric, value: number, at: number, wd: number): RobustCheck | undefined {
  const found = baselineAt(samples, metric, at, wd);
  if (!found) return undefined;
  const score1 = (b: Baseline) => Math.abs(value - b.median) / b.mad;
  const baseline = found.provisional && score1(found.provisional) < score1(found) ? found.provisional : found;
  const score = (value - baseline.median) / baseline.mad;
  const deviationPct = baseline.median === 0 ? 0 : ((value - baseline.median) / baseline.median) * 100;
  return { value, baseline, score, deviationPct };
}

/** "median of 5 Tuesdays", "median of 40 runs on 5 Tuesdays", "median of 4 Friday runs", "median of the last 7 runs". */
export function describeBaseline(b: Baseline): string {
  if (b.kind === 'trailing') return `median of the last ${b.n} runs`;
  const days = b.days ?? b.n;
  if (b.n < BASELINE_LIMITS.minSameWeekday) return days === 1 && b.n === 1 ? `last ${b.weekday}'s run` : `median of ${b.n} ${b.weekday} runs so far`;
  if (days === b.n) return `median of ${b.n} ${b.weekday}s`;
  return days === 1 ? `median of ${b.n} ${b.weekday} runs` : `median of ${b.n} runs on ${days} ${b.weekday}s`;
}

/** 4950 → "4,950"; keeps one decimal when there is one. */
export function grouped(n: number): string {
  const [int, frac] = (Math.round(n * 10) / 10).toFixed(1).split('.') as [string, string];
  const sign = int.startsWith('-') ? '−' : '';
  const digits = int.replace('-', '').replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  return `${sign}${digits}${frac === '0' ? '' : `.${frac}`}`;
}

/** "−50%", "+120%". */
export const signedPct = (pct: number): string => `${pct < 0 ? '−' : '+'}${Math.round(Math.abs(pct))}%`;

/**
 * Record a run's sample (runs arrive in finish order; an older one is put in its place), then drop what the
 * bounds no longer keep: samples over 6 weeks older than the newest, and the oldest of a weekday over its cap.
 * Changes `samples` in place and returns it.
 */
export function recordSample(samples: BaselineSample[], sample: BaselineSample): BaselineSample[] {
  let i = samples.length;
  while (i > 0 && samples[i - 1]!.at > sample.at) i--;
  samples.splice(i, 0, sample);
  const newest = samples[samples.length - 1]!.at;
  let old = 0;
  while (old < samples.length && samples[old]!.at <= newest - BASELINE_LIMITS.maxAgeMs) old++;
  if (old) samples.splice(0, old);
  let count = 0;
  for (const s of samples) if (s.wd === sample.wd) count++;
  for (let k = 0; count > BASELINE_LIMITS.perWeekday && k < samples.length; ) {
    if (samples[k]!.wd === sample.wd) {
      samples.splice(k, 1);
      count--;
    } else k++;
  }
  return samples;
}

/** Keep metrics of a run out of every baseline. Returns false when the run is not (or no longer) sampled. */
export function excludeSample(samples: BaselineSample[], runId: string, reason: ExclusionReason, metrics: readonly BaselineMetric[] = BASELINE_METRICS): boolean {
  const s = samples.find((x) => x.runId === runId);
  if (!s) return false;
  s.excluded ??= {};
  for (const m of metrics) {
    // An incident's point acknowledged (or found in maintenance) later is out of every baseline, its weekday's too.
    if (s.excluded[m] === 'incident' && reason !== 'incident') s.learn = s.learn?.filter((x) => x !== m);
    s.excluded[m] = s.excluded[m] === undefined || reason !== 'incident' ? reason : s.excluded[m];
  }
  if (s.learn?.length === 0) delete s.learn;
  return true;
}

/** Weekdays of every sample again, for a new timezone. */
export function reindexWeekdays(samples: BaselineSample[], timeZone: string): void {
  for (const s of samples) s.wd = weekdayIn(s.at, timeZone);
}

/** JSON size of the samples (what they add to a continue-as-new). */
export const samplesBytes = (samples: readonly BaselineSample[]): number => JSON.stringify(samples).length;
