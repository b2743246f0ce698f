/** Validation of operator signals (thresholds, silences, acks). Pure, shared by the workflow and the CLI. */
import { z } from 'zod';
import { windowSpecSchema } from '../rules/maintenance';
import { thresholdOverridesSchema } from '../rules/thresholds';
import { RULES } from '../rules/types';
import { sanitizeText } from './report';

export { describeZodError } from './zod-error';

const slug = z.string().max(64).regex(/^[a-z0-9][a-z0-9_-]*$/, 'retailer must be a lower-case slug');
const ruleOrAll = z.enum([...RULES, '*']);
/**
 * Operator free text is cleaned like report text (control characters stripped, lone surrogates replaced,
 * cut at a code-point boundary) before it is checked, so it can never wedge a Postgres write.
 */
const freeText = (max: number) => z.string().transform((s) => sanitizeText(s, max));
const who = z
  .string()
  .transform((s) => sanitizeText(s, 100, { singleLine: true }).trim())
  .pipe(z.string().min(1, 'by must name someone'));

const setThresholdsArgs = z.object({ retailer: slug.optional(), thresholds: thresholdOverridesSchema() }).strict();

const silenceArgs = z
  .object({
    retailer: slug,
    rule: ruleOrAll.optional(),
    until: z.iso.datetime({ offset: true, error: 'until must be an ISO-8601 date-time with a timezone' }),
    reason: freeText(500).pipe(z.string().trim().min(1, 'a silence needs a reason')),
    by: who.optional(),
  })
  .strict();

const unsilenceArgs = z.object({ retailer: slug, rule: ruleOrAll.optional() }).strict();

const acknowledgeArgs = z
  .object({ incidentId: z.string().min(1).max(200), by: who.optional(), note: freeText(500).optional() })
  .strict();

const replayArgs = z.object({ retailer: slug, by: who.optional() }).strict();

const reprocessArgs = z
  .object({
    retailer: slug,
    from: z.iso.datetime({ offset: true, error: 'from must be an ISO-8601 date-time with a timezone' }),
    to: z.iso.datetime({ offset: true, error: 'to must be an ISO-8601 date-time with a timezone' }),
    by: who.optional(),
  })
  .strict()
  .refine((a) => Date.parse(a.from) < Date.parse(a.to), { message: 'from must be before to', path: ['from'] });

/** A maintenance window (src/rules/maintenance.ts); omit `retailer` (fleet workflow) for a fleet-wide one. */
const addMaintenanceArgs = z
  .object({
    retailer: slug.optional(),
    spec: windowSpecSchema(),
    reason: freeText(500).pipe(z.string().trim().min(1, 'a maintenance window needs a reason')),
    by: who.optional(),
  })
  .strict();
export type AddMaintenanceArgs = z.input<ReturnType<typeof addMaintenanceArgsSchema>>;

const removeMaintenanceArgs = z.object({ retailer: slug.optional(), id: z.string().min(1).max(200), by: who.optional() }).strict();
export type RemoveMaintenanceArgs = z.input<ReturnType<typeof removeMaintenanceArgsSchema>>;

/*
 * The schemas are handed out by functions, not exported as values: the workflow sandbox loads this module
 * once and shares it between all workflows (src/workflows/preloaded.ts), and the SDK deep-freezes what a
 * shared module exports, which a zod schema cannot survive (it adds its methods to itself on first use).
 */
/** A retailer slug as every message and workflow id uses it. */
export const slugSchema = () => slug;
export const setThresholdsArgsSchema = () => setThresholdsArgs;
export const silenceArgsSchema = () => silenceArgs;
export const unsilenceArgsSchema = () => unsilenceArgs;
export const acknowledgeArgsSchema = () => acknowledgeArgs;
export const replayArgsSchema = () => replayArgs;
export const reprocessArgsSchema = () => reprocessArgs;
export const addMaintenanceArgsSchema = () => addMaintenanceArgs;
export const removeMaintenanceArgsSchema = () => removeMaintenanceArgs;
