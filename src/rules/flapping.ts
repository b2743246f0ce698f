/**
 * Flap control: a rule whose incident resolves and re-fires again and again within a short window is held
 * open as one "flapping" incident (one notice instead of a stream of fire / resolve pairs) and closes only
 * after a quiet period without re-firing. Pure; the retailer monitor (src/rules/retailer-monitor.ts) calls it
 * from where incidents open and close.
 *
 * Memory is bounded: per rule only the fire times within the window are kept (at most `flapCount` of them).
 */
import { FLAP_DEFAULTS, type Thresholds } from './thresholds';
import type { Incident, RuleId } from './types';

/** Fire times of one rule within the flap window (oldest first). */
export interface FlapRecord {
  rule: RuleId;
  fires: number[];
}

/** What a flapping incident carries (on `Incident.flapping`). */
export interface FlapState {
  since: number;
  /** Fires of the rule counted so far: those that made it flapping, then every re-fire while held. */
  flips: number;
  /** When the condition last cleared (the incident is held open, waiting to be quiet); absent while it holds. */
  clearedAt?: number;
}

/** The flap-control settings, defaults filled in. */
export type FlapSettings = Required<Pick<Thresholds, 'flapCount' | 'flapWindowMs' | 'flapQuietMs'>>;

export function flapSettings(t: Thresholds): FlapSettings {
  return { flapCount: t.flapCount ?? FLAP_DEFAULTS.flapCount, flapWindowMs: t.flapWindowMs ?? FLAP_DEFAULTS.flapWindowMs, flapQuietMs: t.flapQuietMs ?? FLAP_DEFAULTS.flapQuietMs };
}

export const flapControlOn = (t: FlapSettings) => t.flapCount >= 2;

/**
 * Record a fire of `rule` at `now`; answers how many fires fall within the window (this one included).
 * `records` is updated in place and never holds more than `flapCount` times per rule.
 */
export function recordFire(records: FlapRecord[], rule: RuleId, now: number, t: FlapSettings): number {
  let rec = records.find((r) => r.rule === rule);
  if (!rec) {
    rec = { rule, fires: [] };
    records.push(rec);
  }
  rec.fires = [...rec.fires.filter((at) => at > now - t.flapWindowMs && at <= now), now].slice(-Math.max(1, t.flapCount));
  return rec.fires.length;
}

/** Forget fire times that left the window (so an idle retailer's record shrinks to nothing). */
export function pruneFires(records: FlapRecord[], now: number, t: FlapSettings): FlapRecord[] {
  return records.map((r) => ({ rule: r.rule, fires: r.fires.filter((at) => at > now - t.flapWindowMs) })).filter((r) => r.fires.length > 0);
}

/** When a held flapping incident closes (its condition cleared and stayed quiet), if it is waiting. */
export function quietDeadline(inc: Incident, t: FlapSettings): number | undefined {
  return inc.flapping?.clearedAt === undefined ? undefined : inc.flapping.clearedAt + t.flapQuietMs;
}

const human = (ms: number) => (ms < 60 * 60_000 ? `${Math.round(ms / 60_000)} min` : `${Math.round((ms / (60 * 60_000)) * 10) / 10} h`);

/** The one notice a flapping incident sends. */
export function flappingSummary(summary: string, rule: RuleId, fires: number, t: FlapSettings): string {
  return (
    `FLAPPING: ${rule} fired ${fires} times within ${human(t.flapWindowMs)} (${fires - 1} resolve/re-fire flips); ` +
    `held open as one incident until quiet for ${human(t.flapQuietMs)}. Latest: ${summary}`
  );
}

export function stoppedFlappingSummary(retailer: string, inc: Incident, t: FlapSettings): string {
  return `${retailer}: ${inc.rule} stopped flapping — quiet for ${human(t.flapQuietMs)} after ${inc.flapping?.flips ?? 0} fires`;
}
