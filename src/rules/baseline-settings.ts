/**
 * Settings of the baseline rules (robust SKU condition, promo_drop, run_duration) and the retailer's
 * timezone. They are optional threshold keys: unset means the default below, so thresholds stored before
 * they existed (and the status rows and histories written with them) read exactly as before. Pure.
 */
import { z } from 'zod';
import { isValidTimeZone } from './baselines';

export const SKU_RULES = ['drop-pct', 'drop-pct-and-robust'] as const;
export type SkuRule = (typeof SKU_RULES)[number];

export interface BaselineSettings {
  /** IANA timezone whose weekdays the seasonal baselines use. */
  timezone: string;
  /** 'drop-pct': the story's rule alone; 'drop-pct-and-robust': it must also be ≥ robustMads MADs below the robust baseline. */
  skuRule: SkuRule;
  /** How many (scaled) MADs from the robust baseline count as far: the robust SKU condition, promo_drop, run_duration. */
  robustMads: number;
  /** Rule promo_drop on/off. */
  promoDrop: boolean;
  /** promo_drop also needs the promo count this % below the typical one. */
  promoDropPct: number;
  /** Rule run_duration on/off. */
  runDuration: boolean;
  /** run_duration also needs the run this % longer than the typical one (100 = twice as long). */
  durationRisePct: number;
  /** … and at least this much longer (ms), so second-long runs never page. */
  durationMinRiseMs: number;
}

export const BASELINE_DEFAULTS: BaselineSettings = {
  timezone: 'UTC',
  skuRule: 'drop-pct',
  robustMads: 3,
  promoDrop: false,
  promoDropPct: 50,
  runDuration: true,
  durationRisePct: 100,
  durationMinRiseMs: 5 * 60_000,
};

/** The zod fields, all optional (merged into the thresholds schema). */
const settingsShape = {
  timezone: z
    .string()
    .min(1)
    .max(64)
    .refine(isValidTimeZone, 'timezone must be an IANA timezone such as Africa/Johannesburg or UTC')
    .optional(),
  skuRule: z.enum(SKU_RULES).optional(),
  robustMads: z.number().gt(0).max(100).optional(),
  promoDrop: z.boolean().optional(),
  promoDropPct: z.number().gt(0).lt(100).optional(),
  runDuration: z.boolean().optional(),
  durationRisePct: z.number().gt(0).max(10_000).optional(),
  durationMinRiseMs: z.number().int().min(0).max(24 * 60 * 60_000).optional(),
};

/** The baseline settings' zod fields (a function, not the schema itself: src/workflows/preloaded.ts says why). */
export const baselineSettingsShape = () => settingsShape;

export type BaselineSettingOverrides = Partial<BaselineSettings>;

/** The effective settings: defaults under whatever is set. */
export function baselineSettings(t: BaselineSettingOverrides): BaselineSettings {
  const out = { ...BASELINE_DEFAULTS };
  for (const key of Object.keys(BASELINE_DEFAULTS) as Array<keyof BaselineSettings>) {
    if (t[key] !== undefined) (out as Record<keyof BaselineSettings, unknown>)[key] = t[key];
  }
  return out;
}
