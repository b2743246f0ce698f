/** The pure rule engine, driven directly with explicit clocks. */
import fc from 'fast-check';
import { MonitorState } from '../src/rules/monitor-state';
import { HOUR_MS } from '../src/rules/thresholds';
import type { AlertEvent } from '../src/rules/types';
import type { RunReport } from '../src/shared/report';

const T0 = Date.parse('2026-11-01T00:00:00Z');
let seq = 0;

function run(retailer: string, at: number, status: 'success' | 'failure', skuCount?: number, extra: Partial<RunReport> = {}): RunReport {
  return {
    runId: `run-${++seq}`,
    retailer,
    status,
    startedAt: new Date(at - 60_000).toISOString(),
    finishedAt: new Date(at).toISOString(),
    skuCount: status === 'success' ? (skuCount ?? 1000) : skuCount,
    ...extra,
  };
}

const kinds = (alerts: AlertEvent[]) => alerts.map((a) => `${a.kind}:${a.rule}`);

describe('consecutive failures', () => {
  it('fires once when the streak reaches 2 and resolves on the next success', () => {
    const s = new MonitorState();
    expect(kinds(s.applyReport(run('tesco', T0, 'failure'), T0).alerts)).toEqual([]);
    const second = s.applyReport(run('tesco', T0 + 1000, 'failure', undefined, { error: 'HTTP 503' }), T0 + 1000).alerts;
    expect(kinds(second)).toEqual(['fire:consecutive_failures']);
    expect(second[0]!.figures.failureStreak).toBe(2);
    expect(second[0]!.summary).toContain('HTTP 503');
    // A third failure keeps the same incident open: no duplicate notification.
    expect(s.applyReport(run('tesco', T0 + 2000, 'failure'), T0 + 2000).alerts).toEqual([]);
    expect(s.openIncidents()).toHaveLength(1);
    expect(s.openIncidents()[0]!.figures.failureStreak).toBe(3);
    const resolved = s.applyReport(run('tesco', T0 + 3000, 'success'), T0 + 3000).alerts;
    expect(kinds(resolved)).toEqual(['resolve:consecutive_failures']);
    expect(resolved[0]!.incidentId).toBe(second[0]!.incidentId);
    expect(s.openIncidents()).toEqual([]);
  });

  it('does not fire for failures separated by a success', () => {
    const s = new MonitorState();
    const all = [
      ...s.applyReport(run('aldi', T0, 'failure'), T0).alerts,
      ...s.applyReport(run('aldi', T0 + 1, 'success'), T0 + 1).alerts,
      ...s.applyReport(run('aldi', T0 + 2, 'failure'), T0 + 2).alerts,
    ];
    expect(all).toEqual([]);
  });

  it('honours a per-retailer streak threshold', () => {
    const s = new MonitorState();
    s.setThresholds('lidl', { failureStreak: 3 }, T0);
    s.applyReport(run('lidl', T0, 'failure'), T0);
    expect(s.applyReport(run('lidl', T0 + 1, 'failure'), T0 + 1).alerts).toEqual([]);
    expect(kinds(s.applyReport(run('lidl', T0 + 2, 'failure'), T0 + 2).alerts)).toEqual(['fire:consecutive_failures']);
  });
});

describe('stale', () => {
  it('is due exactly 4 h after the last success, fires once, and resolves on success', () => {
    const s = new MonitorState();
    s.applyReport(run('tesco', T0, 'success'), T0);
    expect(s.nextDeadline()).toBe(T0 + 4 * HOUR_MS);
    expect(s.evaluateTimers(T0 + 4 * HOUR_MS - 1)).toEqual([]);
    const fired = s.evaluateTimers(T0 + 4 * HOUR_MS);
    expect(kinds(fired)).toEqual(['fire:stale']);
    expect(fired[0]!.figures.hoursSinceSuccess).toBe(4);
    expect(s.evaluateTimers(T0 + 5 * HOUR_MS)).toEqual([]);
    expect(s.nextDeadline()).toBeUndefined();
    expect(kinds(s.applyReport(run('tesco', T0 + 6 * HOUR_MS, 'success'), T0 + 6 * HOUR_MS).alerts)).toEqual(['resolve:stale']);
    expect(s.nextDeadline()).toBe(T0 + 10 * HOUR_MS);
  });

  it('counts from first sighting when a retailer never succeeded, and failures do not reset it', () => {
    const s = new MonitorState();
    s.applyReport(run('coop', T0, 'failure'), T0);
    s.applyReport(run('coop', T0 + HOUR_MS, 'failure'), T0 + HOUR_MS);
    expect(s.nextDeadline()).toBe(T0 + 4 * HOUR_MS);
    expect(s.evaluateTimers(T0 + 4 * HOUR_MS)[0]!.summary).toContain('since it was first seen');
  });

  it('takes the earliest deadline over all retailers and clamps future finish times to receipt', () => {
    const s = new MonitorState();
    s.applyReport(run('a', T0, 'success'), T0);
    s.applyReport(run('b', T0 + HOUR_MS, 'success'), T0 + HOUR_MS);
    expect(s.nextDeadline()).toBe(T0 + 4 * HOUR_MS);
    // Reporter clock 2 h ahead: the deadline is based on when we received it, not a future time.
    s.applyReport(run('a', T0 + 3 * HOUR_MS, 'success'), T0 + HOUR_MS);
    expect(s.nextDeadline()).toBe(T0 + 5 * HOUR_MS);
  });

  it('a lowered threshold is due immediately', () => {
    const s = new MonitorState();
    s.applyReport(run('a', T0, 'success'), T0);
    s.setThresholds('a', { staleAfterMs: HOUR_MS }, T0 + 2 * HOUR_MS);
    expect(kinds(s.evaluateTimers(T0 + 2 * HOUR_MS))).toEqual(['fire:stale']);
  });
});

describe('SKU drop', () => {
  const feed = (s: MonitorState, counts: number[], start = T0) =>
    counts.flatMap((c, i) => s.applyReport(run('tesco', start + i * HOUR_MS, 'success', c), start + i * HOUR_MS).alerts);

  it('needs at least 3 baseline runs', () => {
    const s = new MonitorState();
    expect(feed(s, [1000, 1000, 100])).toEqual([]);
  });

  it('fires when more than 30% below the trailing average, not at exactly 30%', () => {
    const s = new MonitorState();
    expect(feed(s, [1000, 1000, 1000, 700])).toEqual([]); // exactly 30% below: not "more than"
    const s2 = new MonitorState();
    const alerts = feed(s2, [1000, 1000, 1000, 699]);
    expect(kinds(alerts)).toEqual(['fire:sku_drop']);
    expect(alerts[0]!.figures).toMatchObject({ skuCount: 699, trailingAverage: 1000, dropPct: 30.1, skuDropPct: 30 });
  });

  it('keeps dropped and failed runs out of the baseline and resolves when back within range', () => {
    const s = new MonitorState();
    feed(s, [1000, 1000, 1000]);
    expect(kinds(feed(s, [500], T0 + 10 * HOUR_MS))).toEqual(['fire:sku_drop']);
    expect(feed(s, [400], T0 + 11 * HOUR_MS)).toEqual([]); // still dropped: same incident, no duplicate
    s.applyReport(run('tesco', T0 + 12 * HOUR_MS, 'failure', 0), T0 + 12 * HOUR_MS);
    expect(s.retailerStatus('tesco', T0)!.trailingAverage).toBe(1000);
    expect(kinds(feed(s, [950], T0 + 13 * HOUR_MS))).toEqual(['resolve:sku_drop']);
    expect(s.retailerDetail('tesco', T0)!.skuBaseline).toEqual([1000, 1000, 1000, 950]);
  });

  it('uses only the last W runs', () => {
    const s = new MonitorState();
    s.setThresholds('tesco', { skuWindow: 3 }, T0);
    feed(s, [2000, 1000, 1000, 1000]);
    expect(s.retailerDetail('tesco', T0)!.skuBaseline).toEqual([1000, 1000, 1000]);
    // 750 is 25% below the last three (1000) — fine; against all four (avg 1250) it would be 40% below.
    expect(feed(s, [750], T0 + 10 * HOUR_MS)).toEqual([]);
  });
});

describe('incidents: re-notify, silence, acknowledge', () => {
  it('re-notifies every R while open and stops after an acknowledgement', () => {
    const s = new MonitorState();
    s.setThresholds(undefined, { renotifyEveryMs: HOUR_MS }, T0);
    s.applyReport(run('a', T0, 'failure'), T0);
    const [fire] = s.applyReport(run('a', T0, 'failure'), T0).alerts;
    expect(s.nextDeadline()).toBe(T0 + HOUR_MS);
    expect(kinds(s.evaluateTimers(T0 + HOUR_MS))).toEqual(['renotify:consecutive_failures']);
    expect(s.evaluateTimers(T0 + HOUR_MS + 1)).toEqual([]);
    expect(s.acknowledge(fire!.incidentId, { by: 'sam' }, T0 + HOUR_MS + 2)).toBe(true);
    expect(s.evaluateTimers(T0 + 3 * HOUR_MS).filter((a) => a.kind === 'renotify')).toEqual([]);
    expect(s.acknowledge('nope/stale/1', { by: 'sam' }, T0)).toBe(false);
  });

  it('marks alerts silenced while a silence covers them, but never the resolve', () => {
    const s = new MonitorState();
    s.silence('a', { rule: '*', until: T0 + HOUR_MS, reason: 'maintenance', by: 'sam', createdAt: T0 }, T0);
    s.applyReport(run('a', T0, 'failure'), T0);
    const [fire] = s.applyReport(run('a', T0 + 1, 'failure'), T0 + 1).alerts;
    expect(fire!.silenced).toBe(true);
    expect(s.retailerStatus('a', T0 + 2)!.health).toBe('silenced');
    const [resolve] = s.applyReport(run('a', T0 + 2, 'success'), T0 + 2).alerts;
    expect(resolve!.kind).toBe('resolve');
    expect(resolve!.silenced).toBeUndefined();
  });
});

describe('reports', () => {
  it('ignores duplicate runIds and keeps out-of-order reports from rewinding state', () => {
    const s = new MonitorState();
    const r1 = run('a', T0 + 10 * 60_000, 'success', 1000);
    expect(s.applyReport(r1, T0 + 10 * 60_000).outcome).toBe('accepted');
    expect(s.applyReport(r1, T0 + 11 * 60_000).outcome).toBe('duplicate');
    const late = s.applyReport(run('a', T0, 'failure'), T0 + 12 * 60_000);
    expect(late.outcome).toBe('out_of_order');
    expect(late.run!.outOfOrder).toBe(true);
    const st = s.retailerStatus('a', T0)!;
    expect(st.consecutiveFailures).toBe(0);
    expect(st.lastRun!.runId).toBe(r1.runId);
    expect(s.counters).toMatchObject({ accepted: 1, duplicates: 1, outOfOrder: 1 });
  });

  it('survives a snapshot round trip (continue-as-new) with duplicates still detected', () => {
    const s = new MonitorState();
    const r1 = run('a', T0, 'failure');
    s.applyReport(r1, T0);
    const copy = new MonitorState(JSON.parse(JSON.stringify(s.snapshot())));
    expect(copy.applyReport(r1, T0 + 1).outcome).toBe('duplicate');
    expect(kinds(copy.applyReport(run('a', T0 + 2, 'failure'), T0 + 2).alerts)).toEqual(['fire:consecutive_failures']);
  });
});

describe('properties', () => {
  const event = fc.record({
    retailer: fc.constantFrom('a', 'b', 'c'),
    status: fc.constantFrom('success' as const, 'failure' as const),
    sku: fc.integer({ min: 0, max: 2000 }),
    gapMin: fc.integer({ min: 1, max: 300 }),
  });

  it('never opens two incidents for one (retailer, rule), and every resolve matches an open fire', () => {
    fc.assert(
      fc.property(fc.array(event, { maxLength: 120 }), (events) => {
        const s = new MonitorState();
        const open = new Map<string, string>();
        let now = T0;
        const check = (alerts: AlertEvent[]) => {
          for (const a of alerts) {
            const key = `${a.retailer}/${a.rule}`;
            if (a.kind === 'fire') {
              expect(open.has(key)).toBe(false);
              open.set(key, a.incidentId);
            } else {
              expect(open.get(key)).toBe(a.incidentId);
              if (a.kind === 'resolve') open.delete(key);
            }
          }
        };
        for (const e of events) {
          now += e.gapMin * 60_000;
          check(s.evaluateTimers(now));
          check(s.applyReport(run(e.retailer, now, e.status, e.sku), now).alerts);
        }
        expect(s.openIncidents().map((i) => `${i.retailer}/${i.rule}`).sort()).toEqual([...open.keys()].sort());
      }),
      { numRuns: 200 },
    );
  });

  it('the streak equals the number of failures since the last success', () => {
    fc.assert(
      fc.property(fc.array(fc.boolean(), { maxLength: 50 }), (oks) => {
        const s = new MonitorState();
        oks.forEach((ok, i) => s.applyReport(run('a', T0 + i, ok ? 'success' : 'failure', 100), T0 + i));
        const lastOk = oks.lastIndexOf(true);
        const expected = oks.length - 1 - lastOk;
        expect(s.retailerStatus('a', T0)?.consecutiveFailures ?? 0).toBe(oks.length ? expected : 0);
      }),
    );
  });
});

describe('reprocess', () => {
  const summary = (retailer: string, at: number, status: 'success' | 'failure', sku?: number) => {
    const s = new MonitorState();
    return s.applyReport(run(retailer, at, status, sku), at).run!;
  };

  it('rebuilds streak and baseline from stored runs without re-notifying an incident already open', () => {
    const s = new MonitorState();
    s.applyReport(run('a', T0, 'failure'), T0);
    const [fire] = s.applyReport(run('a', T0 + 1, 'failure'), T0 + 1).alerts;
    const stored = [summary('a', T0 - 3, 'success', 1000), summary('a', T0, 'failure'), summary('a', T0 + 1, 'failure')];
    const { alerts, applied } = s.reprocess('a', stored, T0 + 10);
    expect(applied).toBe(3);
    expect(alerts).toEqual([]);
    expect(s.openIncidents().map((i) => i.id)).toEqual([fire!.incidentId]);
    expect(s.retailerStatus('a', T0 + 10)).toMatchObject({ consecutiveFailures: 2, trailingAverage: 1000 });
  });

  it('fires what newly holds (e.g. after a threshold change) and resolves what no longer holds', () => {
    const s = new MonitorState();
    const stored = [1000, 1000, 1000, 750].map((c, i) => summary('b', T0 + i, 'success', c));
    for (const r of stored) s.applyReport({ ...run('b', r.finishedAt, 'success', r.skuCount), runId: r.runId }, r.finishedAt);
    expect(s.openIncidents()).toEqual([]); // 25% below: under the default 30%
    s.setThresholds('b', { skuDropPct: 20 }, T0 + 10);
    const fired = s.reprocess('b', stored, T0 + 10).alerts;
    expect(kinds(fired)).toEqual(['fire:sku_drop']);
    s.setThresholds('b', { skuDropPct: 30 }, T0 + 11);
    const resolved = s.reprocess('b', stored, T0 + 11).alerts;
    expect(kinds(resolved)).toEqual(['resolve:sku_drop']);
    expect(resolved[0]!.incidentId).toBe(fired[0]!.incidentId);
  });
});

describe('retailers known only from operator actions', () => {
  it('are not watched for staleness until they report (a CLI typo pages nobody)', () => {
    const s = new MonitorState();
    s.silence('chekers', { rule: '*', until: T0 + HOUR_MS, reason: 'typo', by: 'sam', createdAt: T0 }, T0);
    s.setThresholds('spar', { failureStreak: 3 }, T0);
    expect(s.nextDeadline()).toBe(T0 + HOUR_MS); // only the silence expiry
    expect(s.evaluateTimers(T0 + 10 * HOUR_MS)).toEqual([]);
    // Its first report starts the clock, with the thresholds set before.
    s.applyReport(run('spar', T0 + 10 * HOUR_MS, 'failure'), T0 + 10 * HOUR_MS);
    expect(s.nextDeadline()).toBe(T0 + 14 * HOUR_MS);
    expect(s.retailerStatus('spar', T0)!.thresholds.failureStreak).toBe(3);
  });
});

describe('snapshot size (what continue-as-new carries)', () => {
  it('stays small per retailer and is trimmed to a byte budget without touching rule state', () => {
    const s = new MonitorState();
    let now = T0;
    for (let i = 0; i < 300; i++) {
      for (const retailer of ['a', 'b', 'c', 'd']) {
        now += 1000;
        s.applyReport(run(retailer, now, i % 7 === 6 ? 'failure' : 'success', 1000, { error: i % 7 === 6 ? 'x'.repeat(2000) : undefined, runId: `${retailer}-${'0'.repeat(30)}-${i}` }), now);
      }
    }
    const full = JSON.stringify(s.snapshot()).length;
    expect(full / 4).toBeLessThan(15_000); // bytes per retailer
    const trimmed = s.snapshot(full / 3);
    expect(JSON.stringify(trimmed).length).toBeLessThanOrEqual(full / 3);
    const copy = new MonitorState(trimmed);
    for (const id of ['a', 'b', 'c', 'd']) {
      const before = s.retailerStatus(id, now)!;
      const after = copy.retailerStatus(id, now)!;
      expect(after).toMatchObject({ consecutiveFailures: before.consecutiveFailures, trailingAverage: before.trailingAverage, lastSuccessAt: before.lastSuccessAt });
    }
    // The newest ids are the ones kept for duplicate detection.
    expect(copy.isDuplicate(`a-${'0'.repeat(30)}-299`)).toBe(true);
  });
});
