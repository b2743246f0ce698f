/** The acknowledgement notice (pure rule engine): what Slack and PagerDuty hear when an incident is acknowledged. */
import { RetailerMonitor } from '../src/rules/retailer-monitor';
import { DEFAULT_THRESHOLDS, HOUR_MS } from '../src/rules/thresholds';
import type { RunReport } from '../src/shared/report';

const T0 = Date.parse('2026-11-01T00:00:00Z');

const failure = (m: RetailerMonitor, at: number) => {
  const report: RunReport = { runId: `r-${at}`, retailer: 'tesco', status: 'failure', startedAt: new Date(at - 60_000).toISOString(), finishedAt: new Date(at).toISOString(), error: 'HTTP 503' };
  return m.applyReport(report, at).alerts;
};

describe('acknowledgement notice', () => {
  it('is an acknowledge event of the incident with who and why; once per incident id, nothing for an unacknowledged or unknown one', () => {
    const m = RetailerMonitor.fresh('tesco', T0, { ...DEFAULT_THRESHOLDS, renotifyEveryMs: HOUR_MS });
    failure(m, T0);
    const [fire] = failure(m, T0 + 1);
    expect(m.acknowledgementEvent(fire!.incidentId, T0 + 2)).toBeUndefined();
    m.acknowledge(fire!.incidentId, { by: 'sam', note: 'proxy down' }, T0 + 2);
    const notice = m.acknowledgementEvent(fire!.incidentId, T0 + 2)!;
    expect(notice).toMatchObject({
      eventId: `${fire!.incidentId}/acknowledge/1`,
      incidentId: fire!.incidentId,
      kind: 'acknowledge',
      rule: 'consecutive_failures',
      openedAt: fire!.openedAt,
      summary: `tesco: ${fire!.incidentId} acknowledged by sam (proxy down)`,
    });
    expect(notice.silenced).toBeUndefined();
    expect(m.acknowledgementEvent('tesco/stale/99', T0 + 3)).toBeUndefined();
    // No reminders after it.
    expect(m.evaluateTimers(T0 + 3 * HOUR_MS).filter((a) => a.kind === 'renotify')).toEqual([]);
  });

  it('is quiet for an incident nobody was told about, which is still announced when its silence ends', () => {
    const m = RetailerMonitor.fresh('tesco', T0);
    m.silence({ rule: '*', until: T0 + HOUR_MS, reason: 'maintenance', by: 'ops', createdAt: T0 }, T0);
    failure(m, T0);
    const [fire] = failure(m, T0 + 1);
    expect(fire!.silenced).toBe(true);
    m.acknowledge(fire!.incidentId, { by: 'sam' }, T0 + 2);
    expect(m.acknowledgementEvent(fire!.incidentId, T0 + 2)!.silenced).toBe(true);
    const later = m.evaluateTimers(T0 + HOUR_MS + 1);
    expect(later.map((a) => [a.kind, a.incidentId, a.silenced])).toEqual([['fire', fire!.incidentId, undefined]]);
  });
});
