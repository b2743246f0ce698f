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

const isoDate = z
  .string({ error: 'must be an ISO-8601 date-time string' })
  .max(40, 'date-time string too long')
  .pipe(z.iso.datetime({ offset: true, error: 'must be an ISO-8601 date-time with a timezone, e.g. 2026-01-01T10:00:00Z' }))
  .refine((s) => !Number.isNaN(Date.parse(s)), 'not a real calendar date-time');

const count = z
  .number({ error: 'must be a number' })
  .int('must be a whole number')
  .min(0, 'must not be negative')
  .max(LIMITS.countMax, `must be at most ${LIMITS.countMax}`);

export const runReportSchema = z
  .object({
    runId: z.string({ error: 'runId is required (a string)' }).min(1, 'runId must not be empty').max(LIMITS.runIdMax),
    retailer: z
      .string({ error: 'retailer is required (a string)' })
      .max(LIMITS.retailerMax)
      .regex(/^[a-z0-9][a-z0-9_-]*$/, 'retailer must be a lower-case slug (a-z, 0-9, - and _)'),
    schedule: z.string().max(LIMITS.scheduleMax).optional(),
    status: z.enum(['success', 'failure'], { error: 'status must be "success" or "failure"' }),
    startedAt: isoDate,
    finishedAt: isoDate,
    skuCount: count.optional(),
    promoCount: count.optional(),
    lastScrapeAt: isoDate.optional(),
    /** Failure message; long stack traces are cut rather than rejected so the failure is still recorded. */
    error: z
      .string()
      .transform((s) => (s.length > LIMITS.errorMax ? `${s.slice(0, LIMITS.errorMax - 1)}…` : s))
      .optional(),
    workflowId: z.string().max(LIMITS.idMax).optional(),
    workflowRunId: z.string().max(LIMITS.idMax).optional(),
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

/** What a reporter sends (before defaults/transforms). */
export type RunReportInput = z.input<typeof runReportSchema>;
/** A validated report. */
export type RunReport = z.output<typeof runReportSchema>;

export type ParseResult = { ok: true; report: RunReport } | { ok: false; reason: string; runId?: string; retailer?: string };

/** Validate anything that claims to be a run report; never throws. */
export function parseRunReport(input: unknown): ParseResult {
  const result = runReportSchema.safeParse(input);
  if (result.success) return { ok: true, report: result.data };
  const reason = describeZodError(result.error);
  const raw = (typeof input === 'object' && input !== null ? input : {}) as Record<string, unknown>;
  return {
    ok: false,
    reason: reason || 'invalid report',
    runId: typeof raw.runId === 'string' ? raw.runId.slice(0, LIMITS.runIdMax) : undefined,
    retailer: typeof raw.retailer === 'string' ? raw.retailer.slice(0, LIMITS.retailerMax) : undefined,
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
