/** The short markdown health summary the Temporal Web UI shows for the monitor (setCurrentDetails). */
import type { MonitorStatus } from '../rules/types';

const RULE_LABEL: Record<string, string> = {
  consecutive_failures: 'failures',
  stale: 'stale',
  sku_drop: 'SKU drop',
};

function ago(ms: number | undefined, now: number): string {
  if (ms === undefined) return 'never';
  const h = (now - ms) / 3_600_000;
  return h < 1 ? `${Math.round(h * 60)} min ago` : `${h.toFixed(1)} h ago`;
}

export function healthMarkdown(status: MonitorStatus, now = Date.now()): string {
  const unhealthy = status.retailers.filter((r) => r.health === 'unhealthy').length;
  const lines = [
    `**Ingestion monitor** — ${status.retailers.length} retailers, ${unhealthy} unhealthy`,
    '',
    '| retailer | health | last success | streak | open |',
    '|---|---|---|---|---|',
  ];
  for (const r of status.retailers.slice(0, 50)) {
    const icon = r.health === 'healthy' ? '🟢' : r.health === 'silenced' ? '🔕' : '🔴';
    const open = r.openIncidents.map((i) => RULE_LABEL[i.rule] ?? i.rule).join(', ') || '—';
    lines.push(`| ${r.retailer} | ${icon} ${r.health} | ${ago(r.lastSuccessAt, now)} | ${r.consecutiveFailures} | ${open} |`);
  }
  if (status.retailers.length > 50) lines.push(`| … ${status.retailers.length - 50} more | | | | |`);
  const c = status.counters;
  lines.push('', `reports: ${c.accepted} accepted, ${c.rejected} rejected, ${c.duplicates} duplicates, ${c.outOfOrder} out of order`);
  return lines.join('\n');
}
