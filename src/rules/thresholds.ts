/** Alert thresholds: defaults, per-retailer overrides, and validation of run-time changes. Pure. */
import { z } from 'zod';
import { baselineSettingsShape, type BaselineSettingOverrides } from './baseline-settings';

/** The baseline rules' keys (src/rules/baseline-settings.ts) are optional: unset = their default. */
export interface Thresholds extends BaselineSettingOverrides {
  /** Fire `consecutive_failures` when a retailer's failure streak reaches this many runs. */
  failureStreak: number;
  /** Fire `stale` when there has been no successful run for longer than this (ms). */
  staleAfterMs: number;
  /** Fire `sku_drop` when a success's SKU count is more than this percent below the trailing average. */
  skuDropPct: number;
  /** How many previous successful runs make the trailing average. */
  skuWindow: number;
  /** The SKU rule stays silent until the baseline has at least this many runs. */
  skuMinSamples: number;
  /** Re-notify an open, unacknowledged incident this often (ms); 0 = never. */
  renotifyEveryMs: number;
  /**
   * Flap control (src/rules/flapping.ts): a rule that fires `flapCount` times within `flapWindowMs` is held
   * open as one flapping incident, closed after `flapQuietMs` without re-firing. Optional: unset means
   * FLAP_DEFAULTS (so state and views from before flap control read exactly as they did).
   */
  flapCount?: number;
  flapWindowMs?: number;
  flapQuietMs?: number;
  /**
   * Missed-run rule (src/rules/missed-run.ts): grace after a Schedule's expected run (plus its usual
   * duration) before `missed_run` fires; 0 = off. Unset = DEFAULT_MISSED_RUN_GRACE_MS (15 min, on).
   */
  missedRunGraceMs?: number;
}

export const HOUR_MS = 60 * 60 * 1000;

export const DEFAULT_THRESHOLDS: Thresholds = {
  failureStreak: 2,
  staleAfterMs: 4 * HOUR_MS,
  skuDropPct: 30,
  skuWindow: 7,
  skuMinSamples: 3,
  renotifyEveryMs: 0,
};

/** Flap control when not set: 3 fires of one rule within 1 h make it flapping; it closes after 30 min quiet. 0 turns it off. */
export const FLAP_DEFAULTS = { flapCount: 3, flapWindowMs: HOUR_MS, flapQuietMs: 30 * 60_000 } as const;

const thresholds = z
  .object({
    failureStreak: z.number().int().min(1).max(1000),
    staleAfterMs: z.number().int().min(60_000, 'staleAfterMs must be at least one minute').max(90 * 24 * HOUR_MS),
    skuDropPct: z.number().gt(0).lt(100),
    skuWindow: z.number().int().min(1).max(100),
    skuMinSamples: z.number().int().min(1).max(100),
    renotifyEveryMs: z
      .number()
      .int()
      .min(0)
      .max(30 * 24 * HOUR_MS)
      .refine((v) => v === 0 || v >= 60_000, 'renotifyEveryMs must be 0 (off) or at least one minute'),
    ...baselineSettingsShape(),
    flapCount: z.number().int().min(0).max(100).refine((v) => v !== 1, 'flapCount must be 0 (off) or at least 2').optional(),
    flapWindowMs: z.number().int().min(60_000, 'flapWindowMs must be at least one minute').max(7 * 24 * HOUR_MS).optional(),
    flapQuietMs: z.number().int().min(60_000, 'flapQuietMs must be at least one minute').max(7 * 24 * HOUR_MS).optional(),
    missedRunGraceMs: z
      .number()
      .int()
      .min(0)
      .max(7 * 24 * HOUR_MS)
      .refine((v) => v === 0 || v >= 1000, 'missedRunGraceMs must be 0 (off) or at least one second')
      .optional(),
  })
  .strict();

const thresholdOverrides = thresholds.partial();

/** Every threshold, validated (a function, not the schema itself: src/workflows/preloaded.ts says why). */
export const thresholdsSchema = () => thresholds;
/** Any subset of the thresholds, validated as each would be. */
export const thresholdOverridesSchema = () => thresholdOverrides;
export type ThresholdOverrides = z.infer<ReturnType<typeof thresholdOverridesSchema>>;

export function resolveThresholds(defaults: Thresholds, overrides?: ThresholdOverrides): Thresholds {
  // Defaults stored before a setting existed (an older snapshot) take the built-in value for it.
  const t = { ...DEFAULT_THRESHOLDS, ...defaults, ...(overrides ?? {}) };
  // A window smaller than the minimum sample count could never fire; clamp so the rule stays meaningful.
  if (t.skuMinSamples > t.skuWindow) t.skuMinSamples = t.skuWindow;
  return t;
}
