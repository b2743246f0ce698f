/**
 * Maintenance windows: recurring (weekly / daily) or one-off, in wall-clock time of an IANA timezone.
 * Pure (no Temporal imports, no clock): timezone math uses Intl.DateTimeFormat, which is deterministic for
 * a given instant and zone, so workflows may call it.
 *
 * Semantics are wall-clock: `every Sunday 02:00–04:00 America/New_York` is active while the local clock
 * reads Sunday 02:00 ≤ t < 04:00. On a spring-forward day the skipped hour simply does not occur (the
 * window starts when the clock jumps into it); on a fall-back day a repeated hour inside the window is
 * covered both times.
 */
import { z } from 'zod';

export const WEEKDAYS = ['sunday', 'monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday'] as const;
export type Weekday = (typeof WEEKDAYS)[number];

const DAY_MS = 24 * 60 * 60_000;

/** A parsed window, plain JSON (it travels through continue-as-new and Postgres). */
export interface WindowSpec {
  /** The normalised spec text, e.g. `every sunday 02:00-04:00 Africa/Johannesburg`. */
  spec: string;
  /** Local weekdays (0 = Sunday) for a recurring window; absent for a one-off. */
  days?: number[];
  /** Local date `YYYY-MM-DD` of a one-off window. */
  date?: string;
  /** Local minute of the day the window starts (inclusive) and ends (exclusive). */
  startMin: number;
  endMin: number;
  timeZone: string;
}

export interface MaintenanceWindow extends WindowSpec {
  /** Deterministic id (the operator action that added it, e.g. `checkers/action/7` or `fleet/action/3`). */
  id: string;
  /** The retailer it applies to; absent for a fleet-wide window. */
  retailer?: string;
  reason: string;
  by: string;
  createdAt: number;
}

/** At most this many windows per retailer, and fleet-wide. */
export const MAX_WINDOWS = 20;

export class MaintenanceSpecError extends Error {
  override readonly name = 'MaintenanceSpecError';
}

const formatters = new Map<string, Intl.DateTimeFormat>();
function formatter(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
    });
    formatters.set(timeZone, f);
  }
  return f;
}

/** The zone's canonical spelling, or undefined if Intl does not know it. */
export function canonicalTimeZone(timeZone: string): string | undefined {
  try {
    return new Intl.DateTimeFormat('en-US', { timeZone }).resolvedOptions().timeZone;
  } catch {
    return undefined;
  }
}

/** The local wall clock at `at` as if it were UTC (ms), at minute precision. */
export function localNaive(at: number, timeZone: string): number {
  const minute = Math.floor(at / 60_000) * 60_000;
  const parts = new Map<string, string>(formatter(timeZone).formatToParts(minute).map((p) => [p.type, p.value]));
  const n = (k: string) => Number(parts.get(k));
  return Date.UTC(n('year'), n('month') - 1, n('day'), n('hour') % 24, n('minute')) + (at - minute);
}

/** UTC offset of the zone at `at` (ms). */
const offsetAt = (at: number, timeZone: string) => localNaive(at, timeZone) - at;

function activeAtNaive(w: WindowSpec, naive: number): boolean {
  const dayStart = Math.floor(naive / DAY_MS) * DAY_MS;
  const min = (naive - dayStart) / 60_000;
  if (min < w.startMin || min >= w.endMin) return false;
  const d = new Date(dayStart);
  if (w.date !== undefined) return d.toISOString().slice(0, 10) === w.date;
  return (w.days ?? []).includes(d.getUTCDay());
}

/** Is `at` inside this window? */
export function windowActive(w: WindowSpec, at: number): boolean {
  return activeAtNaive(w, localNaive(at, w.timeZone));
}

/** Is `at` inside any of the windows? */
export function isInWindow(windows: readonly WindowSpec[], at: number): boolean {
  return windows.some((w) => windowActive(w, at));
}

/** The next wall-clock boundary (start or end, naive local ms) strictly after `naive`, if any. */
function nextNaiveBoundary(w: WindowSpec, naive: number): number | undefined {
  const today = Math.floor(naive / DAY_MS) * DAY_MS;
  for (let i = 0; i <= 8; i++) {
    const day = today + i * DAY_MS;
    const d = new Date(day);
    const matches = w.date !== undefined ? d.toISOString().slice(0, 10) === w.date : (w.days ?? []).includes(d.getUTCDay());
    if (!matches) continue;
    for (const m of [w.startMin, w.endMin]) {
      const b = day + m * 60_000;
      if (b > naive) return b;
    }
  }
  return undefined;
}

/** The first instant in (lo, hi] whose offset differs from the offset at lo (there is one). */
function offsetChange(lo: number, hi: number, timeZone: string): number {
  const base = offsetAt(lo, timeZone);
  let a = Math.floor(lo / 60_000);
  let b = Math.ceil(hi / 60_000);
  while (b - a > 1) {
    const mid = Math.floor((a + b) / 2);
    if (offsetAt(mid * 60_000, timeZone) === base) a = mid;
    else b = mid;
  }
  return b * 60_000;
}

/** The first instant strictly after `after` at which this window starts or ends, within about a week. */
export function windowBoundary(w: WindowSpec, after: number): number | undefined {
  let from = after;
  // At most two offset changes can fall inside the eight days looked at.
  for (let hop = 0; hop < 4; hop++) {
    const naive = localNaive(from, w.timeZone);
    const next = nextNaiveBoundary(w, naive);
    if (next === undefined) return undefined;
    const candidate = from + (next - naive);
    // Real zones change offset at most once a week: equal offsets at both ends mean no jump in between.
    if (offsetAt(candidate, w.timeZone) === offsetAt(from, w.timeZone)) return candidate;
    // The clock jumps between `from` and the candidate: the jump itself may enter or leave the window.
    const jump = offsetChange(from, candidate, w.timeZone);
    if (windowActive(w, jump) !== windowActive(w, jump - 1)) return jump;
    from = jump;
  }
  return undefined;
}

/** The earliest instant strictly after `after` at which any window starts or ends (for the monitor's timer). */
export function nextBoundary(windows: readonly WindowSpec[], after: number): number | undefined {
  let best: number | undefined;
  for (const w of windows) {
    const b = windowBoundary(w, after);
    if (b !== undefined && (best === undefined || b < best)) best = b;
  }
  return best;
}

/** A one-off window whose end has passed is over for good (recurring ones never are). */
export function windowOver(w: WindowSpec, at: number): boolean {
  if (w.date === undefined) return false;
  return localNaive(at, w.timeZone) >= Date.parse(`${w.date}T00:00:00Z`) + w.endMin * 60_000;
}

// ---- parsing ------------------------------------------------------------------------------------------

const DAY_ALIASES = new Map<string, number>(
  WEEKDAYS.flatMap((d, i): Array<[string, number]> => [
    [d, i],
    [d.slice(0, 3), i],
    [`${d}s`, i],
  ]),
);

function parseTime(text: string, what: string): number {
  const m = /^(\d{1,2}):(\d{2})$/.exec(text);
  if (!m) throw new MaintenanceSpecError(`${what} time "${text}" is not HH:MM`);
  const h = Number(m[1]);
  const min = Number(m[2]);
  if (min > 59 || h > 24 || (h === 24 && min > 0)) throw new MaintenanceSpecError(`${what} time "${text}" is not a time of day (00:00–24:00)`);
  return h * 60 + min;
}

const hhmm = (min: number) => `${String(Math.floor(min / 60)).padStart(2, '0')}:${String(min % 60).padStart(2, '0')}`;

/**
 * Parse a window spec; throws MaintenanceSpecError with a message for the operator.
 *   every sunday 02:00-04:00 Africa/Johannesburg
 *   every mon,wed,fri 22:00-23:30 Europe/London
 *   every day 01:00-01:30 UTC
 *   once 2026-12-24 18:00-23:00 America/New_York
 * The dash may be `-`, `–` or `—`; a window does not cross midnight (use two windows).
 */
export function parseWindowSpec(text: string): WindowSpec {
  const words = text.trim().split(/\s+/).filter(Boolean);
  const usage = 'expected "every <day[,day…]|day> HH:MM-HH:MM <Area/City>" or "once YYYY-MM-DD HH:MM-HH:MM <Area/City>"';
  if (words.length !== 4) throw new MaintenanceSpecError(`"${text.slice(0, 120)}": ${usage}`);
  const [kind, when, range, zone] = words as [string, string, string, string];
  const spec: Partial<WindowSpec> = {};
  if (kind.toLowerCase() === 'every') {
    const days = new Set<number>();
    for (const raw of when.toLowerCase().split(',')) {
      if (raw === 'day' || raw === 'daily') for (let i = 0; i < 7; i++) days.add(i);
      else if (raw === 'weekday' || raw === 'weekdays') for (let i = 1; i <= 5; i++) days.add(i);
      else if (raw === 'weekend' || raw === 'weekends') [0, 6].forEach((i) => days.add(i));
      else {
        const d = DAY_ALIASES.get(raw);
        if (d === undefined) throw new MaintenanceSpecError(`unknown day "${raw}" (use sunday … saturday, sun … sat, day, weekday or weekend)`);
        days.add(d);
      }
    }
    spec.days = [...days].sort((a, b) => a - b);
  } else if (kind.toLowerCase() === 'once') {
    const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(when);
    const ms = m ? Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])) : NaN;
    if (!m || Number.isNaN(ms) || new Date(ms).toISOString().slice(0, 10) !== when) throw new MaintenanceSpecError(`date "${when}" is not a calendar date YYYY-MM-DD`);
    spec.date = when;
  } else {
    throw new MaintenanceSpecError(`"${kind}": ${usage}`);
  }
  const times = range.split(/[-–—]/);
  if (times.length !== 2) throw new MaintenanceSpecError(`"${range}" is not a time range HH:MM-HH:MM`);
  spec.startMin = parseTime(times[0]!, 'start');
  spec.endMin = parseTime(times[1]!, 'end');
  if (spec.startMin >= 24 * 60) throw new MaintenanceSpecError('start time 24:00 is the end of the day; start at 00:00');
  if (spec.endMin <= spec.startMin) {
    throw new MaintenanceSpecError(`end ${hhmm(spec.endMin)} is not after start ${hhmm(spec.startMin)} (a window cannot cross midnight: use two windows)`);
  }
  const tz = canonicalTimeZone(zone);
  if (!tz) throw new MaintenanceSpecError(`unknown timezone "${zone.slice(0, 60)}" (use an IANA name such as Africa/Johannesburg or UTC)`);
  spec.timeZone = tz;
  const dayText = spec.days ? (spec.days.length === 7 ? 'day' : spec.days.map((d) => WEEKDAYS[d]).join(',')) : spec.date;
  spec.spec = `${spec.days ? 'every' : 'once'} ${dayText} ${hhmm(spec.startMin)}-${hhmm(spec.endMin)} ${tz}`;
  return spec as WindowSpec;
}

const windowSpec = z.string().max(200).transform((text, ctx) => {
  try {
    return parseWindowSpec(text);
  } catch (err) {
    ctx.addIssue({ code: 'custom', message: err instanceof MaintenanceSpecError ? err.message : String(err) });
    return z.NEVER;
  }
});

/** The spec text as a zod schema, whose error message is the parser's (a function, not the schema itself: src/workflows/preloaded.ts says why). */
export const windowSpecSchema = () => windowSpec;

/** Is this a well-formed stored window? (Old or hand-edited settings must not wedge a monitor.) */
export function isStoredWindow(v: unknown): v is MaintenanceWindow {
  const w = v as Partial<MaintenanceWindow> | null;
  return (
    !!w &&
    typeof w.id === 'string' &&
    typeof w.spec === 'string' &&
    typeof w.startMin === 'number' &&
    typeof w.endMin === 'number' &&
    typeof w.timeZone === 'string' &&
    canonicalTimeZone(w.timeZone) !== undefined &&
    (Array.isArray(w.days) || typeof w.date === 'string')
  );
}
