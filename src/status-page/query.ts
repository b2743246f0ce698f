/**
 * The status page's URL parameters, validated before any SQL is built: `from`, `to` and `retailer`, as in
 * Grafana's dashboard URLs. Anything unknown, repeated or malformed is a `BadRequestError` whose message is
 * shown to whoever sent it (the page prints it; the API answers 400) — never a silent default.
 */

export class BadRequestError extends Error {
  override readonly name = 'BadRequestError';
}

/** Retailer slugs as the run-report schema allows them; anything else is refused before SQL is built. */
export const RETAILER_SLUG = /^[a-z0-9][a-z0-9_-]{0,99}$/;

export const QUERY_PARAMS = ['from', 'to', 'retailer'] as const;
/** Default range when `from` is absent, and the longest range accepted. */
export const DEFAULT_FROM = 'now-24h';
const DAY_MS = 86_400_000;
export const MAX_RANGE_MS = 400 * DAY_MS;

const UNIT_MS = new Map([
  ['s', 1000],
  ['m', 60_000],
  ['h', 3_600_000],
  ['d', DAY_MS],
  ['w', 7 * DAY_MS],
]);
/** ISO 8601 date, or date and time with optional seconds, fraction and zone. */
const ISO = /^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:?\d{2})?)?$/;
const TIME_HELP = 'use now, now-<number><s|m|h|d|w> (e.g. now-30m), epoch milliseconds or an ISO 8601 timestamp';

/**
 * `now`, `now-30m` (s, m, h, d, w), epoch milliseconds, or an ISO 8601 timestamp, as epoch ms.
 * @throws BadRequestError for anything else, naming the parameter and the accepted forms.
 */
export function parseTimeParam(name: string, value: string, now: number): number {
  if (value === 'now') return now;
  const rel = /^now-(\d{1,9})([smhdw])$/.exec(value);
  if (rel) return now - Number(rel[1]) * (UNIT_MS.get(rel[2]) as number);
  const ms = /^\d{1,15}$/.test(value) ? Number(value) : ISO.test(value) ? Date.parse(value) : Number.NaN;
  if (!Number.isFinite(ms)) throw new BadRequestError(`invalid ${name}: ${JSON.stringify(value)} (${TIME_HELP})`);
  return ms;
}

export interface PanelParams {
  from: Date;
  to: Date;
  /** Empty: all retailers. */
  retailers: string[];
}

/**
 * The page's and the API's parameters. Absent `from` / `to` mean `now-24h` / `now`; `retailer` may repeat
 * (empty, `all` and Grafana's `$__all` select every retailer).
 * @throws BadRequestError for an unknown or repeated parameter, a malformed time or slug, or a bad range.
 */
export function parsePanelParams(params: URLSearchParams, now = Date.now()): PanelParams {
  for (const key of new Set(params.keys())) {
    if (!(QUERY_PARAMS as readonly string[]).includes(key)) {
      throw new BadRequestError(`unknown parameter ${JSON.stringify(key)} (allowed: ${QUERY_PARAMS.join(', ')})`);
    }
    if (key !== 'retailer' && params.getAll(key).length > 1) throw new BadRequestError(`${key} given more than once`);
  }
  const to = parseTimeParam('to', params.get('to') ?? 'now', now);
  const from = parseTimeParam('from', params.get('from') ?? DEFAULT_FROM, now);
  if (from >= to) throw new BadRequestError('from must be before to');
  if (to - from > MAX_RANGE_MS) throw new BadRequestError('time range is limited to 400 days');
  if (Number.isNaN(new Date(from).getTime()) || from < 0) throw new BadRequestError('from is before 1970');
  const retailers = params.getAll('retailer').filter((r) => r !== '' && r !== '$__all' && r !== 'all');
  for (const r of retailers) {
    if (!RETAILER_SLUG.test(r)) throw new BadRequestError(`invalid retailer: ${JSON.stringify(r)} (a lower-case slug: a-z, 0-9, - and _)`);
  }
  return { from: new Date(from), to: new Date(to), retailers: [...new Set(retailers)] };
}
