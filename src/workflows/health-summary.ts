/** The markdown a retailer monitor shows in the Temporal Web UI (setCurrentDetails). */
import type { RetailerStatus } from '../rules/types';

const RULE_LABEL = new Map<string, string>([
  ['consecutive_failures', 'consecutive failures'],
  ['stale', 'stale'],
  ['sku_drop', 'SKU drop'],
  ['promo_drop', 'promo drop'],
  ['run_duration', 'run duration'],
  ['missed_run', 'missed run'],
]);

function ago(ms: number | undefined, now: number): string {
  if (ms === undefined) return 'never';
  const h = (now - ms) / 3_600_000;
  return h < 1 ? `${Math.round(h * 60)} min ago` : `${h.toFixed(1)} h ago`;
}

const iso = (ms: number | undefined) => (ms === undefined ? '—' : new Date(ms).toISOString());

/** A table of the figures an on-call engineer looks at first, then one line per open incident. */
export function retailerMarkdown(s: RetailerStatus, now: number): string {
  const icon = s.health === 'healthy' ? '🟢' : s.health === 'silenced' ? '🔕' : '🔴';
  const last = s.lastRun;
  const lines = [
    `### ${icon} ${s.retailer} — ${s.health}`,
    '',
    '| figure | value |',
    '|---|---|',
    `| last run | ${last ? `${last.status} at ${iso(last.finishedAt)}${last.skuCount !== undefined ? `, ${last.skuCount} SKUs` : ''}` : 'none yet'} |`,
    `| last success | ${iso(s.lastSuccessAt)} (${ago(s.lastSuccessAt, now)}) |`,
    `| failure streak | ${s.consecutiveFailures} |`,
    `| trailing SKU average | ${s.trailingAverage ?? '—'} |`,
    `| stale at | ${iso(s.staleDeadline)} |`,
    `| runs / failures | ${s.totals.runs} / ${s.totals.failures} |`,
    '',
  ];
  if (s.openIncidents.length === 0) lines.push('No open incidents.');
  for (const i of s.openIncidents) {
    const ack = i.acknowledged ? ` — acknowledged by ${i.acknowledged.by}` : '';
    lines.push(`- **${RULE_LABEL.get(i.rule) ?? i.rule}** \`${i.id}\` since ${iso(i.openedAt)}${ack}`);
  }
  for (const x of s.silences) lines.push(`- 🔕 ${x.rule === '*' ? 'all rules' : x.rule} silenced until ${iso(x.until)}: ${x.reason}`);
  const active = new Set(s.activeMaintenance ?? []);
  for (const w of s.maintenance ?? []) lines.push(`- 🛠 ${active.has(w.id) ? '**in maintenance now**: ' : ''}\`${w.id}\` ${w.spec}: ${w.reason}`);
  return lines.join('\n');
}
