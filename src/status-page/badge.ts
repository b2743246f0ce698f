/**
 * Per-retailer status badges, like healthchecks.io's: `/badge/<retailer>.svg` (a shields.io-style flat
 * badge) and `/badge/<retailer>.json` (the shields.io endpoint schema, for https://shields.io/badges/endpoint-badge).
 *
 *   up       no open incident, last run in time
 *   late     the stale rule is open, or the retailer is past its stale deadline by the clock (the monitor
 *            may have stopped writing) — like a healthchecks.io check that missed its period
 *   down     an incident of another rule is open (failure streak, SKU drop), silenced or not
 *   waiting  known to the monitor but no run reported yet, and not yet past its stale deadline
 *
 * "late" is not raised at half the stale window: with the usual window of about two schedule periods
 * that would flag every normal gap between runs.
 */
import { type Kysely, sql } from 'kysely';
import type { Database } from '../db/schema';
import { IS_STALE } from '../dashboard/panels';

export const BADGE_STATES = ['up', 'late', 'down', 'waiting'] as const;
export type BadgeState = (typeof BADGE_STATES)[number];

/** shields.io named colours (for the JSON endpoint) and their hex values (for the SVG). */
const COLOR = new Map<BadgeState, { name: string; hex: string }>([
  ['up', { name: 'brightgreen', hex: '#4c1' }],
  ['late', { name: 'orange', hex: '#fe7d37' }],
  ['down', { name: 'red', hex: '#e05d44' }],
  ['waiting', { name: 'lightgrey', hex: '#9f9f9f' }],
]);

export interface BadgeRow {
  open_rules: string;
  last_run_at: Date | string | null;
  stale: boolean;
}

export function badgeState(row: BadgeRow): BadgeState {
  const rules = row.open_rules.split(',').filter((r) => r !== '');
  if (rules.some((r) => r !== 'stale')) return 'down';
  if (rules.includes('stale') || row.stale) return 'late';
  return row.last_run_at === null ? 'waiting' : 'up';
}

/** The retailer's badge state, or undefined when no monitor has a status row for it. */
export async function loadBadgeState(db: Kysely<Database>, retailer: string): Promise<BadgeState | undefined> {
  const row = await db
    .selectFrom('retailer_status')
    .select(['open_rules', 'last_run_at', sql<boolean>`${sql.raw(IS_STALE)}`.as('stale')])
    .where('retailer', '=', retailer)
    .executeTakeFirst();
  return row && badgeState(row);
}

/** The shields.io endpoint schema (https://shields.io/badges/endpoint-badge). */
export function badgeJson(label: string, state: BadgeState) {
  return { schemaVersion: 1, label, message: state, color: (COLOR.get(state) as { name: string }).name };
}

/** Approximate Verdana 11px advance widths, enough to size the badge like shields.io does. */
function textWidth(text: string): number {
  let w = 0;
  for (const ch of text) {
    if ('iljI.,:;|!\''.includes(ch)) w += 3.5;
    else if ('frt-()[] '.includes(ch)) w += 4.8;
    else if ('mwMW'.includes(ch)) w += 10.5;
    else if (/[A-Z0-9_]/.test(ch)) w += 7.5;
    else w += 6.8;
  }
  return Math.ceil(w);
}

const escapeXml = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** A flat, shields.io-style badge: grey label, coloured message. */
export function badgeSvg(label: string, state: BadgeState): string {
  const color = (COLOR.get(state) as { hex: string }).hex;
  const lw = textWidth(label) + 10;
  const mw = textWidth(state) + 10;
  const w = lw + mw;
  const l = escapeXml(label);
  const title = `${l}: ${state}`;
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="20" role="img" aria-label="${title}">
<title>${title}</title>
<linearGradient id="s" x2="0" y2="100%"><stop offset="0" stop-color="#bbb" stop-opacity=".1"/><stop offset="1" stop-opacity=".1"/></linearGradient>
<clipPath id="r"><rect width="${w}" height="20" rx="3" fill="#fff"/></clipPath>
<g clip-path="url(#r)"><rect width="${lw}" height="20" fill="#555"/><rect x="${lw}" width="${mw}" height="20" fill="${color}"/><rect width="${w}" height="20" fill="url(#s)"/></g>
<g fill="#fff" text-anchor="middle" font-family="Verdana,Geneva,DejaVu Sans,sans-serif" font-size="11">
<text x="${lw / 2}" y="15" fill="#010101" fill-opacity=".3">${l}</text><text x="${lw / 2}" y="14">${l}</text>
<text x="${lw + mw / 2}" y="15" fill="#010101" fill-opacity=".3">${state}</text><text x="${lw + mw / 2}" y="14">${state}</text>
</g>
</svg>
`;
}
