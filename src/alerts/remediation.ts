/**
 * What to do about an alert: remediation steps per rule, keyed by rule id in a Map with a generic fallback,
 * so a rule added later (by id) still gets sensible text until it has its own entry. Pure, like format.ts.
 */
import type { AlertKind } from '../rules/types';

/** The steps for a rule that has no entry of its own. */
export const GENERIC_STEPS: readonly string[] = [
  "Open the retailer's monitor in the Temporal Web UI (link below) and read the figures and recent runs.",
  "Look at the retailer's latest ingestion runs (link below) for failed activities or unusual durations.",
  'Fix the cause, then replay the retailer with the command below and watch the run report.',
  'If this is expected (maintenance, a genuine catalogue change), acknowledge or silence it with the commands below.',
];

/** Rule id → steps. Rule ids are user-visible names, so a Map (never a plain object). */
export const REMEDIATION = new Map<string, readonly string[]>([
  [
    'consecutive_failures',
    [
      'Open the failing run in the Temporal Web UI and read the failed activity and its error.',
      'Check the ingestion worker logs around the failure time.',
      'Look for a known scraper block (captcha, 403/429 from the retailer, expired cookies or proxy).',
      'Once fixed, start a replay run with the command below and watch it complete.',
    ],
  ],
  [
    'stale',
    [
      'Check the ingestion worker is running and polling its task queue (Temporal UI → Workers).',
      'Check the ingestion schedule is not paused (`temporal schedule describe`).',
      'Look for runs stuck in Running state that never report completion.',
      'Start a run with the replay command below and confirm it reports success.',
    ],
  ],
  [
    'sku_drop',
    [
      'Compare the SKU count with the retailer site: did the catalogue really shrink?',
      'Check for a site layout change that makes selectors miss products.',
      'Check for a partial scrape (pagination stopped early, timeouts, category pages failing).',
      'After fixing the scraper, replay the retailer; acknowledge if the drop is genuine.',
    ],
  ],
  [
    'promo_drop',
    [
      "Compare the promotion count with the retailer's specials page: did a promotion cycle really end?",
      'Check the promotions selectors and the specials/catalogue endpoints for a layout or API change.',
      'Check for a partial scrape of promotion pages (timeouts, blocked requests, pagination stopping early).',
      'After fixing the scraper, replay the retailer; acknowledge if the promotions really ended.',
    ],
  ],
  [
    'run_duration',
    [
      'Open the slow (or still running) run in the Temporal Web UI: which activity takes the time, and is it retrying?',
      'Check the retailer site and proxies for slow answers or throttling (429s, captchas) that stretch the run.',
      'Check the ingestion worker is not starved (CPU, memory, too many concurrent runs on its task queue).',
      'If the run is hung, terminate it and replay with the command below; acknowledge if the catalogue simply grew.',
    ],
  ],
  [
    'missed_run',
    [
      "Check the retailer's ingestion Schedule is not paused and its spec still matches (`temporal schedule describe`).",
      'Check a worker is polling the ingestion task queue (Temporal UI → Workers) and the Schedule did not skip the action (overlap policy).',
      'Look for a run that started but never reported (interceptor or reporting misconfigured).',
      'Start the missed run now with the replay command below; silence during planned downtime.',
    ],
  ],
]);

/** Steps for an alert of `rule` and `kind`. */
export function remediationFor(rule: string, kind: AlertKind): string[] {
  if (kind === 'resolve') return ['No action needed: the condition has cleared. Note the cause in the incident log if it was not obvious.'];
  if (kind === 'acknowledge') return ['Someone is on it. Re-notifications stop; the incident resolves by itself when the condition clears.'];
  return [...(REMEDIATION.get(rule) ?? GENERIC_STEPS)];
}
