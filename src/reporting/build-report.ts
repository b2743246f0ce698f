/**
 * Turns an IngestionOutcome into a run report. Shared by the reporting activity and the reconciler so a
 * run reported by both gets the same runId and retailer (the monitor dedupes on runId).
 */
import type { RunReportInput } from '../shared/report';
import type { IngestionOutcome } from './types';

/** A user function that knows its workflow's result better than the documented shape does. */
export type OutcomeExtractor = (outcome: IngestionOutcome) => Partial<RunReportInput> | undefined;

export interface BuildOptions {
  extract?: OutcomeExtractor;
  /** Schedule id template with `{retailer}` (MonitorConfig.ingestion.scheduleIdTemplate). Default `ingest-{retailer}`. */
  scheduleIdTemplate?: string;
}

export type BuildResult = { ok: true; report: RunReportInput } | { ok: false; reason: string };

const SLUG = /^[a-z0-9][a-z0-9_-]*$/;

function field(value: unknown, key: string): unknown {
  return typeof value === 'object' && value !== null ? (value as Record<string, unknown>)[key] : undefined;
}

function slug(value: unknown): string | undefined {
  if (typeof value !== 'string') return undefined;
  const s = value.trim().toLowerCase();
  return SLUG.test(s) ? s : undefined;
}

/** `ingest-{retailer}` + `ingest-checkers` → `checkers`. */
export function retailerFromScheduleId(scheduleId: string | undefined, template = 'ingest-{retailer}'): string | undefined {
  if (!scheduleId || !template.includes('{retailer}')) return undefined;
  const [pre, post] = template.split('{retailer}', 2) as [string, string];
  if (!scheduleId.startsWith(pre) || !scheduleId.endsWith(post) || scheduleId.length <= pre.length + post.length) return undefined;
  return slug(scheduleId.slice(pre.length, scheduleId.length - post.length));
}

/**
 * The retailer, first valid slug (lower-cased) in this order:
 *   1. the extractor's `retailer`
 *   2. `result.retailer` (the documented result shape)
 *   3. `args[0].retailer` (the workflow's first argument)
 *   4. `memo.retailer`
 *   5. the schedule id, read through the schedule id template (`ingest-checkers` → `checkers`)
 *   6. the workflow id up to its first '-' (`checkers-2026-…` → `checkers`); a guess, hence last
 */
export function resolveRetailer(o: IngestionOutcome, extracted: Partial<RunReportInput> | undefined, template?: string): string | undefined {
  return (
    slug(extracted?.retailer) ??
    slug(field(o.result, 'retailer')) ??
    slug(field(o.firstArg, 'retailer')) ??
    slug(o.memo?.retailer) ??
    retailerFromScheduleId(o.schedule, template) ??
    slug(o.workflowId.split('-', 1)[0])
  );
}

/** "Activity task failed: HTTP 503" — wrapper failures say little, their causes say what happened. */
export function failureMessage(err: unknown): string {
  const parts: string[] = [];
  let e: unknown = err;
  for (let depth = 0; e instanceof Error && depth < 4; depth++, e = e.cause) {
    if (e.message && !parts.includes(e.message)) parts.push(e.message);
  }
  return parts.join(': ') || String(err);
}

const num = (v: unknown) => (typeof v === 'number' ? v : undefined);
const str = (v: unknown) => (typeof v === 'string' ? v : undefined);

/** Never throws: a throwing extractor is reported as the reason and the defaults are used. */
export function buildRunReport(o: IngestionOutcome, opts: BuildOptions = {}): BuildResult {
  let extracted: Partial<RunReportInput> | undefined;
  let extractError: string | undefined;
  try {
    extracted = opts.extract?.(o) ?? undefined;
  } catch (err) {
    extractError = `extractor threw: ${err instanceof Error ? err.message : String(err)}`;
  }
  const retailer = resolveRetailer(o, extracted, opts.scheduleIdTemplate);
  if (!retailer) return { ok: false, reason: `no retailer found for ${o.workflowType} ${o.workflowId}${extractError ? ` (${extractError})` : ''}` };
  const r = o.result;
  const report: RunReportInput = {
    startedAt: new Date(o.startedAt).toISOString(),
    finishedAt: new Date(Math.max(o.finishedAt, o.startedAt)).toISOString(),
    workflowId: o.workflowId,
    workflowRunId: o.runId,
    ...(o.schedule ? { schedule: o.schedule } : {}),
    ...(o.status === 'success'
      ? { skuCount: num(field(r, 'skuCount')), promoCount: num(field(r, 'promoCount')), lastScrapeAt: str(field(r, 'lastScrapeAt')) }
      : { error: o.error ?? 'failed' }),
    ...extracted,
    // Not overridable: runId is the dedupe key shared with the reconciler, status is what Temporal saw.
    runId: o.runId,
    status: o.status,
    retailer,
  };
  // Drop undefined keys: the schema is strict and some clients serialise undefined as null.
  for (const k of Object.keys(report) as Array<keyof RunReportInput>) if (report[k] === undefined) delete report[k];
  return { ok: true, report };
}
