/**
 * The run report: the one payload every ingestion run sends to the monitor.
 * Shared by the client helper (validates before sending) and the workflow (validates again on receipt,
 * because a signal can come from anywhere: the CLI, `temporal workflow signal`, another SDK).
 * Pure: no Temporal or Node imports, so it bundles into the workflow sandbox.
 */
import { z } from 'zod';
import { describeZodError } from './zod-error';

export const LIMITS = {
  runIdMax: 200,
  retailerMax: 64,
  scheduleMax: 200,
  idMax: 400,
  errorMax: 2000,
  /** Larger than any real grocery catalogue; anything above is a bug in the reporter, not data. */
  countMax: 50_000_000,
} as const;

// ---- text sanitising ------------------------------------------------------------------------------
// Postgres refuses NUL in text (22021) and a lone surrogate makes invalid JSON/UTF-8 wherever the text goes
// next (jsonb, Slack, email). Reports come from anywhere, so every string is cleaned *before* it is checked
// or cut, and cuts never split a surrogate pair. Regexes only: this module bundles into the workflow sandbox.

/** C0 controls and DEL, except tab and newline (kept in free text such as error messages and notes). */
const CONTROL_EXCEPT_TAB_LF = /[\u0000-\u0008\u000B-\u001F\u007F]/g;
/** Every C0 control and DEL: identifiers and single-line fields. */
const CONTROL_ALL = /[\u0000-\u001F\u007F]/g;
/** A high surrogate not followed by a low one, or a low surrogate not preceded by a high one. */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/** `s` without control characters (tab and newline kept unless `singleLine`) and with lone surrogates as U+FFFD. */
export function cleanText(s: string, opts: { singleLine?: boolean } = {}): string {
  return s.replace(opts.singleLine ? CONTROL_ALL : CONTROL_EXCEPT_TAB_LF, '').replace(LONE_SURROGATE, '\uFFFD');
}

/**
 * At most `max` code points of `s`, ending in `…` when cut. Never splits a surrogate pair. O(max), so a
 * megabyte of input costs no more than its first `max` characters.
 */
export function cutCodePoints(s: string, max: number): string {
  if (s.length <= max) return s; // UTF-16 units ≥ code points
  const next = (i: number) => {
    const c = s.charCodeAt(i);
    return c >= 0xd800 && c <= 0xdbff && i + 1 < s.length ? i + 2 : i + 1;
  };
  let units = 0;
  let keep = 0; // units of the first max - 1 code points: what is kept when the text is cut
  for (let points = 0; points < max; points++) {
    if (units >= s.length) return s; // fewer than `max` code points after all
    if (points === max - 1) keep = units;
    units = next(units);
  }
  if (units >= s.length) return s; // exactly `max` code points
  return `${s.slice(0, keep)}…`;
}

/**
 * Free text from outside (error messages, operator reasons and notes): control characters stripped (tab and
 * newline kept unless `singleLine`, where they become spaces), lone surrogates replaced with U+FFFD, then
 * cut to `max` code points at a code-point boundary. Pure; safe for Postgres text and jsonb.
 */
export function sanitizeText(s: string, max: number, opts: { singleLine?: boolean } = {}): string {
  const text = opts.singleLine ? cleanText(s.replace(/[\t\n]+/g, ' '), { singleLine: true }) : cleanText(s);
  return cutCodePoints(text, max);
}

/** A string field that is cleaned (every control character stripped) before the piped schema checks it. */
const cleanId = (required: string) =>
  z.string({ error: required }).transform((s) => cleanText(s, { singleLine: true }));

// ---- dates -----------------------------------------------------------------------------------------

/** Reported times must fall in [2000-01-01, 2101-01-01): Postgres refuses year 0, and anything else is a bug. */
export const DATE_RANGE = { min: Date.UTC(2000, 0, 1), max: Date.UTC(2101, 0, 1) } as const;

const isoDate = z
  .string({ error: 'must be an ISO-8601 date-time string' })
  .max(40, 'date-time string too long')
  .pipe(z.iso.datetime({ offset: true, error: 'must be an ISO-8601 date-time with a timezone, e.g. 2026-01-01T10:00:00Z' }))
  .refine((s) => !Number.isNaN(Date.parse(s)), 'not a real calendar date-time')
  .refine((s) => {
    const t = Date.parse(s);
    return Number.isNaN(t) || (t >= DATE_RANGE.min && t < DATE_RANGE.max);
  }, 'must be between the years 2000 and 2100');

const count = z
  .number({ error: 'must be a number' })
  .int('must be a whole number')
  .min(0, 'must not be negative')
  .max(LIMITS.countMax, `must be at most ${LIMITS.countMax}`);

const runReport = z
  .object({
    runId: cleanId('runId is required (a string)').pipe(
      z.string().min(1, 'runId must not be empty (after removing control characters)').max(LIMITS.runIdMax),
    ),
    retailer: cleanId('retailer is required (a string)').pipe(
      z
        .string()
        .max(LIMITS.retailerMax)
        .regex(/^[a-z0-9][a-z0-9_-]*$/, 'retailer must be a lower-case slug (a-z, 0-9, - and _)'),
    ),
    schedule: cleanId('schedule must be a string').pipe(z.string().max(LIMITS.scheduleMax)).optional(),
    status: z.enum(['success', 'failure'], { error: 'status must be "success" or "failure"' }),
    startedAt: isoDate,
    finishedAt: isoDate,
    skuCount: count.optional(),
    promoCount: count.optional(),
    lastScrapeAt: isoDate.optional(),
    /** Failure message; long stack traces are cut rather than rejected so the failure is still recorded. */
    error: z
      .string({ error: 'error must be a string' })
      .transform((s) => sanitizeText(s, LIMITS.errorMax))
      .optional(),
    workflowId: cleanId('workflowId must be a string').pipe(z.string().max(LIMITS.idMax)).optional(),
    workflowRunId: cleanId('workflowRunId must be a string').pipe(z.string().max(LIMITS.idMax)).optional(),
  })
  .strict()
  .superRefine((r, ctx) => {
    if (r.status === 'success' && r.skuCount === undefined) {
      ctx.addIssue({ code: 'custom', path: ['skuCount'], message: 'skuCount is required when status is "success"' });
    }
    if (Date.parse(r.finishedAt) < Date.parse(r.startedAt)) {
      ctx.addIssue({ code: 'custom', path: ['finishedAt'], message: 'finishedAt is before startedAt' });
    }
  });

/** A run report, validated and cleaned (a function, not the schema itself: src/workflows/preloaded.ts says why). */
export const runReportSchema = () => runReport;

/** What a reporter sends (before defaults/transforms). */
export type RunReportInput = z.input<ReturnType<typeof runReportSchema>>;
/** A validated report. */
export type RunReport = z.output<ReturnType<typeof runReportSchema>>;

export type ParseResult = { ok: true; report: RunReport } | { ok: false; reason: string; runId?: string; retailer?: string };

/** Validate anything that claims to be a run report; never throws. */
export function parseRunReport(input: unknown): ParseResult {
  const result = runReportSchema().safeParse(input);
  if (result.success) return { ok: true, report: result.data };
  const reason = describeZodError(result.error);
  const raw = (typeof input === 'object' && input !== null ? input : {}) as Record<string, unknown>;
  return {
    ok: false,
    reason: reason || 'invalid report',
    // Echoed into rejections (queries, logs): cleaned and cut like any other text from outside.
    runId: typeof raw.runId === 'string' ? sanitizeText(raw.runId, LIMITS.runIdMax, { singleLine: true }) : undefined,
    retailer: typeof raw.retailer === 'string' ? sanitizeText(raw.retailer, LIMITS.retailerMax, { singleLine: true }) : undefined,
  };
}

export class InvalidRunReportError extends Error {
  constructor(readonly reason: string) {
    super(`invalid run report: ${reason}`);
    this.name = 'InvalidRunReportError';
  }
}

export function durationMs(r: Pick<RunReport, 'startedAt' | 'finishedAt'>): number {
  return Date.parse(r.finishedAt) - Date.parse(r.startedAt);
}
