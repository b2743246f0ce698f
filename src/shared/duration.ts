/**
 * Durations as people write them ('90s', '30m', '2h', '1.5h', '1d', '1h30m') and Temporal's protobuf
 * Timestamps, converted without the SDK's internal helpers (`@temporalio/common/lib/time` is not a public
 * API and may change in any minor release).
 */
import type { Timestamp } from '@temporalio/common';

export const UNIT_MS: Readonly<Record<string, number>> = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

/** '90s', '30m', '2h', '1.5h', '1d', '1h30m' → milliseconds; undefined if it is not a duration. */
export function parseDuration(text: string): number | undefined {
  const s = text.trim().toLowerCase();
  if (!/^(\d+(\.\d+)?[smhdw])+$/.test(s)) return undefined;
  let ms = 0;
  for (const [, n, unit] of s.matchAll(/(\d+(?:\.\d+)?)([smhdw])/g)) ms += Number(n) * UNIT_MS[unit!]!;
  return Math.round(ms);
}

/** A protobuf Timestamp (seconds may be a Long) as epoch ms; undefined when absent. */
export function timestampMs(ts: Timestamp | null | undefined): number | undefined {
  if (!ts) return undefined;
  // `seconds` is a Long from the wire; its decimal string converts exactly for any realistic date.
  const seconds = Number(String(ts.seconds ?? 0));
  return seconds * 1000 + Math.floor((ts.nanos ?? 0) / 1_000_000);
}
