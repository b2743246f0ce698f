/**
 * Where a reconciler pass starts looking. Pure, for the workflow and tests.
 *
 * Each pass returns as its watermark the time it started; the Schedule hands that to the next pass as its
 * last completion result (`workflowInfo().lastResult`). The next pass looks from that watermark minus an
 * overlap (visibility can lag behind a close), so missed passes are caught up (up to `maxCatchUpMs`) and
 * a run is normally seen once or twice. Without a watermark (first pass) it looks back `lookbackMs`.
 * Seeing a run twice is harmless: the monitor dedupes reports by runId.
 */
import { RECONCILER } from './types';

export function windowStart(now: number, lookbackMs: number = RECONCILER.lookbackMs, carriedWatermark?: string): number {
  const carried = carriedWatermark ? Date.parse(carriedWatermark) : NaN;
  const since = Number.isNaN(carried) ? now - lookbackMs : carried - RECONCILER.overlapMs;
  return Math.max(Math.min(since, now), now - RECONCILER.maxCatchUpMs);
}
