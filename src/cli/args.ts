/**
 * Command-line options → Update arguments, validated with the same zod schemas the monitors' Update
 * validators apply, so a bad argument is refused here with a clear message before anything is sent.
 * Pure (clock passed in); throws CliError(exit 2) on bad input.
 */
import { hostname, userInfo } from 'node:os';
import type { z } from 'zod';
import type { AcknowledgeArgs, ExpectedRetailersArgs, ReplayArgs, ReprocessArgs, SetThresholdsArgs, SilenceArgs, UnsilenceArgs } from '../shared/messages';
import {
  acknowledgeArgsSchema,
  addMaintenanceArgsSchema,
  removeMaintenanceArgsSchema,
  type AddMaintenanceArgs,
  type RemoveMaintenanceArgs,
  replayArgsSchema,
  reprocessArgsSchema,
  setThresholdsArgsSchema,
  silenceArgsSchema,
  slugSchema,
  unsilenceArgsSchema,
} from '../shared/operator';
import { runReportSchema, type RunReportInput } from '../shared/report';
import { usageError } from './errors';
import { parseDuration } from './format';

/**
 * `status` asks at most this many running retailer monitors unless --limit says otherwise: all of them when the
 * fleet fits, else only those not healthy (the healthy are counted through visibility). Each is one query the
 * worker answers, often by replaying an evicted monitor (issue 8).
 */
export const STATUS_LIMIT = 100;

/** Schema field → the flag the user typed, so messages point at what to fix (default: camelCase → --kebab-case). */
const FLAG: Record<string, string> = {
  'thresholds.failureStreak': '--failure-streak',
  'thresholds.staleAfterMs': '--stale-after',
  'thresholds.skuDropPct': '--sku-drop-pct',
  'thresholds.skuWindow': '--sku-window',
  'thresholds.skuMinSamples': '--sku-min-samples',
  'thresholds.renotifyEveryMs': '--renotify-every',
  'thresholds.timezone': '--timezone',
  'thresholds.skuRule': '--sku-rule',
  'thresholds.robustMads': '--robust-mads',
  'thresholds.promoDrop': '--promo-drop',
  'thresholds.promoDropPct': '--promo-drop-pct',
  'thresholds.runDuration': '--run-duration',
  'thresholds.durationRisePct': '--duration-rise-pct',
  'thresholds.durationMinRiseMs': '--duration-min-rise',
  'thresholds.flapCount': '--flap-count',
  'thresholds.flapWindowMs': '--flap-window',
  'thresholds.flapQuietMs': '--flap-quiet',
  'thresholds.missedRunGraceMs': '--missed-run-grace',
};

/**
 * How issues are named: `positional` fields as `<field>`, the rest as flags; `'json'` keeps field names
 * (for reports read from a file, where the user wrote field names, not flags).
 */
type Naming = { positional: string[] } | 'json';

function nameFor(path: PropertyKey[], naming: Naming): string {
  const key = path.map(String).join('.');
  if (naming === 'json') return key;
  if (naming.positional.includes(key)) return `<${key}>`;
  return FLAG[key] ?? `--${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
}

function validate<S extends z.ZodType>(schema: S, value: unknown, naming: Naming = { positional: [] }): z.output<S> {
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  const issues = r.error.issues.slice(0, 5).map((i) => (i.path.length ? `${nameFor(i.path, naming)}: ${i.message}` : i.message));
  throw usageError(`invalid arguments: ${issues.join('; ')}`);
}

/** `$USER@hostname`: who did it, for the audit trail in status and Postgres. */
export function defaultBy(env: NodeJS.ProcessEnv = process.env): string {
  let user = env.USER || env.LOGNAME || env.USERNAME;
  try {
    user ||= userInfo().username;
  } catch {
    // no passwd entry (e.g. a container running as a bare uid)
  }
  return `${user || 'unknown'}@${hostname()}`.slice(0, 100);
}

export function durationOption(flag: string, text: string): number {
  const ms = parseDuration(text);
  if (ms === undefined) throw usageError(`${flag}: "${text}" is not a duration (use e.g. 30m, 2h, 1d, 1h30m)`);
  return ms;
}

/** Whole or decimal number; anything else is refused here rather than sent as NaN. */
export function numberOption(flag: string, text: string): number {
  if (!/^-?\d+(\.\d+)?$/.test(text.trim())) throw usageError(`${flag}: "${text}" is not a number`);
  return Number(text);
}

export const replayArgs = (o: { retailer: string; by: string }): ReplayArgs => validate(replayArgsSchema(), o, { positional: ['retailer'] });

export const reprocessArgs = (o: { retailer: string; from: string; to: string; by: string }): ReprocessArgs => validate(reprocessArgsSchema(), o, { positional: ['retailer'] });

export function silenceArgs(o: { retailer: string; rule?: string; for?: string; until?: string; reason?: string; by: string }, now: number): SilenceArgs {
  if ((o.for === undefined) === (o.until === undefined)) throw usageError('give exactly one of --for <duration> or --until <iso>');
  const until = o.for !== undefined ? new Date(now + durationOption('--for', o.for)).toISOString() : o.until!;
  const args = validate(silenceArgsSchema(), { retailer: o.retailer, rule: o.rule, until, reason: o.reason ?? '', by: o.by }, { positional: ['retailer'] });
  if (Date.parse(args.until) <= now) throw usageError(`--until: ${args.until} is in the past`);
  return args;
}

export const unsilenceArgs = (o: { retailer: string; rule?: string }): UnsilenceArgs => validate(unsilenceArgsSchema(), o, { positional: ['retailer'] });

export const ackArgs = (o: { incidentId: string; by: string; note?: string }): AcknowledgeArgs => validate(acknowledgeArgsSchema(), o, { positional: ['incidentId'] });

export interface ThresholdOptions {
  retailer?: string;
  failureStreak?: string;
  staleAfter?: string;
  skuDropPct?: string;
  skuWindow?: string;
  skuMinSamples?: string;
  renotifyEvery?: string;
  timezone?: string;
  skuRule?: string;
  robustMads?: string;
  promoDrop?: string;
  promoDropPct?: string;
  runDuration?: string;
  durationRisePct?: string;
  durationMinRise?: string;
  flapCount?: string;
  flapWindow?: string;
  flapQuiet?: string;
  missedRunGrace?: string;
}

/** `on` / `off` (also true/false, yes/no) for a rule switch. */
export function onOffOption(flag: string, text: string): boolean {
  if (/^(on|true|yes)$/i.test(text.trim())) return true;
  if (/^(off|false|no)$/i.test(text.trim())) return false;
  throw usageError(`${flag}: "${text}" is not on or off`);
}

/** The baseline rules' options (src/rules/baseline-settings.ts) into `t`. */
function baselineThresholds(o: ThresholdOptions, t: Record<string, number | string | boolean>): void {
  if (o.timezone !== undefined) t.timezone = o.timezone;
  if (o.skuRule !== undefined) t.skuRule = o.skuRule;
  if (o.robustMads !== undefined) t.robustMads = numberOption('--robust-mads', o.robustMads);
  if (o.promoDrop !== undefined) t.promoDrop = onOffOption('--promo-drop', o.promoDrop);
  if (o.promoDropPct !== undefined) t.promoDropPct = numberOption('--promo-drop-pct', o.promoDropPct.replace(/%$/, ''));
  if (o.runDuration !== undefined) t.runDuration = onOffOption('--run-duration', o.runDuration);
  if (o.durationRisePct !== undefined) t.durationRisePct = numberOption('--duration-rise-pct', o.durationRisePct.replace(/%$/, ''));
  if (o.durationMinRise !== undefined) t.durationMinRiseMs = /^0$/.test(o.durationMinRise.trim()) ? 0 : durationOption('--duration-min-rise', o.durationMinRise);
}

export function thresholdsArgs(o: ThresholdOptions): SetThresholdsArgs {
  const t: Record<string, number | string | boolean> = {};
  if (o.failureStreak !== undefined) t.failureStreak = numberOption('--failure-streak', o.failureStreak);
  if (o.staleAfter !== undefined) t.staleAfterMs = durationOption('--stale-after', o.staleAfter);
  if (o.skuDropPct !== undefined) t.skuDropPct = numberOption('--sku-drop-pct', o.skuDropPct.replace(/%$/, ''));
  if (o.skuWindow !== undefined) t.skuWindow = numberOption('--sku-window', o.skuWindow);
  if (o.skuMinSamples !== undefined) t.skuMinSamples = numberOption('--sku-min-samples', o.skuMinSamples);
  if (o.renotifyEvery !== undefined) {
    t.renotifyEveryMs = /^(off|0)$/i.test(o.renotifyEvery) ? 0 : durationOption('--renotify-every', o.renotifyEvery);
  }
  baselineThresholds(o, t);
  if (o.flapCount !== undefined) t.flapCount = /^off$/i.test(o.flapCount) ? 0 : numberOption('--flap-count', o.flapCount);
  if (o.flapWindow !== undefined) t.flapWindowMs = durationOption('--flap-window', o.flapWindow);
  if (o.flapQuiet !== undefined) t.flapQuietMs = durationOption('--flap-quiet', o.flapQuiet);
  if (o.missedRunGrace !== undefined) {
    t.missedRunGraceMs = /^(off|0)$/i.test(o.missedRunGrace) ? 0 : durationOption('--missed-run-grace', o.missedRunGrace);
  }
  if (Object.keys(t).length === 0) {
    throw usageError('nothing to change: give at least one of --failure-streak, --stale-after, --sku-drop-pct, --sku-window, --sku-min-samples, --renotify-every, --flap-count, --flap-window, --flap-quiet, --missed-run-grace (or a baseline rule option, see --help)');
  }
  return validate(setThresholdsArgsSchema(), { retailer: o.retailer, thresholds: t });
}

export interface ReportOptions {
  retailer?: string;
  status?: string;
  skuCount?: string;
  promoCount?: string;
  startedAt?: string;
  finishedAt?: string;
  error?: string;
  runId?: string;
  schedule?: string;
}

/** A manual run id that sorts by time and cannot collide with a scheduler's ids. */
export const manualRunId = (now: number) => `manual-${new Date(now).toISOString().replace(/[-:.]/g, '')}`;

/** Defaults a hand-sent report needs: runId, finishedAt = now, startedAt = finishedAt. */
function withDefaults(r: Record<string, unknown>, now: number): Record<string, unknown> {
  const finishedAt = r.finishedAt ?? new Date(now).toISOString();
  return { ...r, runId: r.runId ?? manualRunId(now), finishedAt, startedAt: r.startedAt ?? finishedAt };
}

export function reportFromOptions(o: ReportOptions, now: number): RunReportInput {
  const raw: Record<string, unknown> = {
    retailer: o.retailer,
    status: o.status,
    skuCount: o.skuCount === undefined ? undefined : numberOption('--sku-count', o.skuCount),
    promoCount: o.promoCount === undefined ? undefined : numberOption('--promo-count', o.promoCount),
    startedAt: o.startedAt,
    finishedAt: o.finishedAt,
    error: o.error,
    runId: o.runId,
    schedule: o.schedule,
  };
  for (const k of Object.keys(raw)) if (raw[k] === undefined) delete raw[k];
  const report = withDefaults(raw, now);
  validate(runReportSchema(), report);
  return report as RunReportInput;
}

/** `--file`: one report object or an array of them; every one is validated before anything is sent. */
export function reportsFromJson(text: string, source: string, now: number): RunReportInput[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw usageError(`${source} is not JSON: ${(err as Error).message}`);
  }
  const list = Array.isArray(parsed) ? parsed : [parsed];
  if (list.length === 0) throw usageError(`${source} has no reports`);
  return list.map((item, i) => {
    if (typeof item !== 'object' || item === null || Array.isArray(item)) throw usageError(`${source}: report ${i + 1} is not an object`);
    // Each report gets its own default runId so an array of hand-written reports is not de-duplicated away.
    const report = withDefaults(item as Record<string, unknown>, now + i);
    try {
      validate(runReportSchema(), report, 'json');
    } catch (err) {
      throw usageError(`${source}${list.length > 1 ? ` report ${i + 1}` : ''}: ${(err as Error).message}`);
    }
    return report as RunReportInput;
  });
}

/** `expect <retailer...> [--remove]`: every argument must be a retailer slug. */
export function expectedArgs(retailers: string[], remove: boolean, by: string): ExpectedRetailersArgs {
  if (retailers.length === 0) throw usageError('name at least one retailer');
  const slugs = retailers.map((r) => {
    const parsed = slugSchema().safeParse(r);
    if (!parsed.success) throw usageError(`invalid arguments: <retailer>: ${JSON.stringify(r.slice(0, 100))} is not a lower-case slug`);
    return parsed.data;
  });
  const unique = [...new Set(slugs)];
  return remove ? { remove: unique, by } : { add: unique, by };
}

/**
 * `maintenance add <spec...>`: the words of the spec joined (quoting is optional), checked with the schema
 * the monitors' validators apply; sent as text (the monitor parses it again).
 */
export function maintenanceAddArgs(spec: string[], o: { retailer?: string; reason?: string; by: string }): AddMaintenanceArgs {
  const a: AddMaintenanceArgs = { ...(o.retailer !== undefined ? { retailer: o.retailer } : {}), spec: spec.join(' '), reason: o.reason ?? '', by: o.by };
  validate(addMaintenanceArgsSchema(), a, { positional: ['spec'] });
  return a;
}

export function maintenanceRemoveArgs(id: string, o: { retailer?: string; by: string }): RemoveMaintenanceArgs {
  return validate(removeMaintenanceArgsSchema(), { ...(o.retailer !== undefined ? { retailer: o.retailer } : {}), id, by: o.by }, { positional: ['id'] });
}
