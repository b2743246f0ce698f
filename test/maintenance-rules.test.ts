/**
 * Maintenance windows and flap control in the pure rule engine: spec parsing, timezone and DST behaviour
 * (America/New_York transitions), properties against brute-force minute walks, and what the retailer monitor
 * does with them (silenced fires announced at the window's end, runs kept out of the SKU baseline, one
 * flapping notice instead of a stream, closed after the quiet period).
 */
import fc from 'fast-check';
import { maintenanceAddArgs, thresholdsArgs } from '../src/cli/args';
import { FLAP_DEFAULTS } from '../src/rules/thresholds';
import { addMaintenanceArgsSchema } from '../src/shared/operator';
import {
  isInWindow,
  MAX_WINDOWS,
  MaintenanceSpecError,
  nextBoundary,
  parseWindowSpec,
  windowActive,
  type MaintenanceWindow,
  type WindowSpec,
} from '../src/rules/maintenance';
import { RetailerMonitor } from '../src/rules/retailer-monitor';
import type { RunReport } from '../src/shared/report';

const MIN = 60_000;
const HOUR = 60 * MIN;
const at = (iso: string) => Date.parse(iso);

describe('parseWindowSpec', () => {
  it('parses recurring and one-off windows and normalises them', () => {
    expect(parseWindowSpec('every Sunday 02:00–04:00 Africa/Johannesburg')).toEqual({
      spec: 'every sunday 02:00-04:00 Africa/Johannesburg',
      days: [0],
      startMin: 120,
      endMin: 240,
      timeZone: 'Africa/Johannesburg',
    });
    expect(parseWindowSpec('every mon,wed,FRI 22:00-23:30 utc').days).toEqual([1, 3, 5]);
    expect(parseWindowSpec('every day 00:00-24:00 UTC').spec).toBe('every day 00:00-24:00 UTC');
    expect(parseWindowSpec('every weekend 9:00-10:00 Europe/London').days).toEqual([0, 6]);
    expect(parseWindowSpec('once 2026-12-24 18:00—23:00 America/New_York')).toMatchObject({ date: '2026-12-24', startMin: 1080, endMin: 1380 });
  });

  it('the Update arguments: spec parsed, operator text cleaned (a NUL can never wedge a Postgres write), no unknown fields', () => {
    const a = addMaintenanceArgsSchema().parse({ retailer: 'shop', spec: 'every sun 02:00-04:00 UTC', reason: 'db\u0000 upgrade', by: ' sam ' });
    expect(a).toMatchObject({ retailer: 'shop', spec: { spec: 'every sunday 02:00-04:00 UTC' }, by: 'sam' });
    expect(a.reason).not.toContain('\u0000');
    expect(addMaintenanceArgsSchema().safeParse({ spec: 'every sun 02:00-04:00 UTC', reason: '  ' }).success).toBe(false);
    expect(addMaintenanceArgsSchema().safeParse({ spec: 'every sun 02:00-04:00 UTC', reason: 'x', until: 'later' }).success).toBe(false);
  });

  it.each([
    ['every sunday 02:00-04:00 Mars/Olympus', /unknown timezone "Mars\/Olympus"/],
    ['every sunday 04:00-02:00 UTC', /end 02:00 is not after start 04:00/],
    ['every sunday 02:00-02:00 UTC', /end 02:00 is not after start 02:00/],
    ['every sunday 25:00-26:00 UTC', /start time "25:00" is not a time of day/],
    ['every sunday 02:60-03:00 UTC', /start time "02:60" is not a time of day/],
    ['every sunday 2am-4am UTC', /start time "2am" is not HH:MM/],
    ['every funday 02:00-04:00 UTC', /unknown day "funday"/],
    ['once 2026-02-30 02:00-04:00 UTC', /date "2026-02-30" is not a calendar date/],
    ['sometimes sunday 02:00-04:00 UTC', /expected "every/],
    ['every sunday 02:00-04:00', /expected "every/],
    ['every sunday 02:00 UTC', /is not a time range/],
  ])('refuses %j with a clear message', (spec, message) => {
    expect(() => parseWindowSpec(spec)).toThrow(MaintenanceSpecError);
    expect(() => parseWindowSpec(spec)).toThrow(message);
  });
});

describe('isInWindow and nextBoundary', () => {
  const sundayJhb = parseWindowSpec('every sunday 02:00-04:00 Africa/Johannesburg');

  it('follows the window in its own timezone (Johannesburg is UTC+2)', () => {
    // 2026-11-29 is a Sunday.
    expect(isInWindow([sundayJhb], at('2026-11-28T23:59:00Z'))).toBe(false); // 01:59 SAST
    expect(isInWindow([sundayJhb], at('2026-11-29T00:00:00Z'))).toBe(true); // 02:00 SAST
    expect(isInWindow([sundayJhb], at('2026-11-29T01:59:59Z'))).toBe(true);
    expect(isInWindow([sundayJhb], at('2026-11-29T02:00:00Z'))).toBe(false); // 04:00 SAST: end is exclusive
    expect(nextBoundary([sundayJhb], at('2026-11-27T12:00:00Z'))).toBe(at('2026-11-29T00:00:00Z'));
    expect(nextBoundary([sundayJhb], at('2026-11-29T00:00:00Z'))).toBe(at('2026-11-29T02:00:00Z'));
    expect(nextBoundary([sundayJhb], at('2026-11-29T02:00:00Z'))).toBe(at('2026-12-06T00:00:00Z'));
    expect(nextBoundary([], 0)).toBeUndefined();
  });

  it('is DST-safe in America/New_York (spring forward 2026-03-08, fall back 2026-11-01)', () => {
    // A Sunday window 01:00–04:00: on spring-forward day the local hour 02:00–03:00 does not exist,
    // so the window lasts two real hours; on fall-back day 01:00–02:00 happens twice: four real hours.
    const w = parseWindowSpec('every sunday 01:00-04:00 America/New_York');
    expect(nextBoundary([w], at('2026-03-07T12:00:00Z'))).toBe(at('2026-03-08T06:00:00Z')); // 01:00 EST
    expect(nextBoundary([w], at('2026-03-08T06:00:00Z'))).toBe(at('2026-03-08T08:00:00Z')); // 04:00 EDT
    expect(isInWindow([w], at('2026-03-08T07:30:00Z'))).toBe(true); // 03:30 EDT
    expect(nextBoundary([w], at('2026-10-31T12:00:00Z'))).toBe(at('2026-11-01T05:00:00Z')); // 01:00 EDT
    expect(nextBoundary([w], at('2026-11-01T05:00:00Z'))).toBe(at('2026-11-01T09:00:00Z')); // 04:00 EST
    // A window inside the skipped hour never happens that day; the next boundary is a week later.
    const gap = parseWindowSpec('every sunday 02:10-02:40 America/New_York');
    expect(nextBoundary([gap], at('2026-03-08T06:30:00Z'))).toBe(at('2026-03-15T06:10:00Z'));
    // A window that starts inside the skipped hour starts when the clock jumps into it.
    const starts = parseWindowSpec('every sunday 02:30-05:00 America/New_York');
    expect(nextBoundary([starts], at('2026-03-08T06:30:00Z'))).toBe(at('2026-03-08T07:00:00Z')); // 03:00 EDT
    // A window ending inside the repeated hour ends the first time, and covers the repeat again.
    const repeat = parseWindowSpec('every sunday 00:30-01:30 America/New_York');
    expect(nextBoundary([repeat], at('2026-11-01T05:10:00Z'))).toBe(at('2026-11-01T05:30:00Z')); // 01:30 EDT
    expect(nextBoundary([repeat], at('2026-11-01T05:30:00Z'))).toBe(at('2026-11-01T06:00:00Z')); // 01:00 EST: back inside
    expect(nextBoundary([repeat], at('2026-11-01T06:00:00Z'))).toBe(at('2026-11-01T06:30:00Z'));
  });

  it('a one-off window is active once, then never again', () => {
    const once = parseWindowSpec('once 2026-12-24 18:00-23:00 Europe/London');
    expect(isInWindow([once], at('2026-12-24T18:00:00Z'))).toBe(true);
    expect(isInWindow([once], at('2026-12-31T18:00:00Z'))).toBe(false);
    expect(nextBoundary([once], at('2026-12-24T19:00:00Z'))).toBe(at('2026-12-24T23:00:00Z'));
    expect(nextBoundary([once], at('2026-12-24T23:00:00Z'))).toBeUndefined();
  });

  const ZONES = ['UTC', 'Africa/Johannesburg', 'Asia/Kolkata', 'America/New_York', 'Europe/London', 'Australia/Sydney', 'Pacific/Chatham', 'America/St_Johns'];
  const windowArb = fc
    .record({
      days: fc.uniqueArray(fc.integer({ min: 0, max: 6 }), { minLength: 1, maxLength: 7 }),
      start: fc.integer({ min: 0, max: 24 * 60 - 1 }),
      length: fc.integer({ min: 1, max: 6 * 60 }),
      timeZone: fc.constantFrom(...ZONES),
    })
    .map(({ days, start, length, timeZone }): WindowSpec => ({ spec: 'x', days: [...days].sort(), startMin: start, endMin: Math.min(start + length, 24 * 60), timeZone }));
  // Instants around the 2026 DST transitions of the zones above, and ordinary days.
  const instantArb = fc.oneof(
    fc.integer({ min: at('2026-03-05T00:00:00Z'), max: at('2026-04-08T00:00:00Z') }),
    fc.integer({ min: at('2026-09-25T00:00:00Z'), max: at('2026-11-05T00:00:00Z') }),
    fc.integer({ min: at('2026-06-01T00:00:00Z'), max: at('2026-06-08T00:00:00Z') }),
  );

  it('property: in fixed-offset zones, isInWindow agrees with plain offset arithmetic', () => {
    const FIXED = new Map([
      ['UTC', 0],
      ['Africa/Johannesburg', 120],
      ['Asia/Kolkata', 330],
    ]);
    fc.assert(
      fc.property(windowArb, instantArb, fc.constantFrom(...FIXED.keys()), (w0, t, zone) => {
        const w = { ...w0, timeZone: zone };
        const local = new Date(t + FIXED.get(zone)! * MIN);
        const minute = local.getUTCHours() * 60 + local.getUTCMinutes();
        const expected = w.days!.includes(local.getUTCDay()) && minute >= w.startMin && minute < w.endMin;
        expect(windowActive(w, t)).toBe(expected);
      }),
      { numRuns: 500 },
    );
  });

  it('property: nextBoundary is the first minute at which isInWindow changes (brute-force walk, DST zones too)', () => {
    fc.assert(
      fc.property(windowArb, instantArb, (w, t0) => {
        const t = Math.floor(t0 / MIN) * MIN;
        const b = nextBoundary([w], t);
        const state = windowActive(w, t);
        // Walk minute by minute for up to 8 days; the first change must be the boundary (or the window
        // toggles back and forth at the boundary, which a walk also sees as a change).
        let walked: number | undefined;
        for (let m = t + MIN; m <= t + 8 * 24 * HOUR; m += MIN) {
          if (windowActive(w, m) !== state) {
            walked = m;
            break;
          }
        }
        if (walked === undefined) return; // a window never active in these 8 days (inside a skipped hour)
        expect(b).toBeDefined();
        expect(b).toBeLessThanOrEqual(walked);
        // Nothing changes between `t` and the boundary.
        if (b! < walked) expect(windowActive(w, b!) === windowActive(w, b! - 1)).toBe(false);
      }),
      { numRuns: 60 },
    );
  });
});

// ---- the retailer monitor ---------------------------------------------------------------------------

const T0 = at('2026-11-29T00:30:00Z'); // Sunday 02:30 in Johannesburg
let seq = 0;
function report(retailer: string, status: 'success' | 'failure', finishedAt: number, skuCount = 1000): RunReport {
  return {
    runId: `${retailer}-${++seq}`,
    retailer,
    status,
    startedAt: new Date(finishedAt - 5 * MIN).toISOString(),
    finishedAt: new Date(finishedAt).toISOString(),
    ...(status === 'success' ? { skuCount } : { error: 'HTTP 503' }),
  } as RunReport;
}
function window(spec: string, id = 'shop/action/1'): MaintenanceWindow {
  return { ...parseWindowSpec(spec), id, retailer: 'shop', reason: 'db upgrade', by: 'sam', createdAt: 0 };
}

describe('retailer monitor in a maintenance window', () => {
  it('records a fire inside the window silenced, wakes at the window end and announces it then', () => {
    const m = RetailerMonitor.fresh('shop', T0);
    m.addMaintenance(window('every sunday 02:00-04:00 Africa/Johannesburg'));
    expect(m.inMaintenance(T0)).toBe(true);
    m.applyReport(report('shop', 'failure', T0), T0);
    const fired = m.applyReport(report('shop', 'failure', T0 + MIN), T0 + MIN).alerts;
    expect(fired).toMatchObject([{ kind: 'fire', rule: 'consecutive_failures', silenced: true }]);
    expect(m.health(T0 + MIN)).toBe('silenced');
    const end = at('2026-11-29T02:00:00Z'); // 04:00 SAST
    expect(m.nextDeadline(T0 + MIN)).toBe(end);
    expect(m.status(T0 + MIN).activeMaintenance).toEqual(['shop/action/1']);
    expect(m.evaluateTimers(end - 1)).toEqual([]);
    const announced = m.evaluateTimers(end);
    expect(announced).toMatchObject([{ kind: 'fire', rule: 'consecutive_failures', incidentId: fired[0]!.incidentId }]);
    expect(announced[0]!.silenced).toBeUndefined();
    expect(announced[0]!.summary).toMatch(/maintenance window ended; still open/);
    expect(m.health(end)).toBe('unhealthy');
  });

  it('an incident opened and resolved inside the window is never announced', () => {
    const m = RetailerMonitor.fresh('shop', T0 - 3 * HOUR);
    m.addMaintenance(window('every sunday 02:00-04:00 Africa/Johannesburg'));
    m.applyReport(report('shop', 'failure', T0), T0);
    m.applyReport(report('shop', 'failure', T0 + MIN), T0 + MIN);
    const resolved = m.applyReport(report('shop', 'success', T0 + 2 * MIN), T0 + 2 * MIN).alerts;
    expect(resolved).toMatchObject([{ kind: 'resolve', silenced: true }]);
    expect(m.evaluateTimers(at('2026-11-29T02:00:00Z'))).toEqual([]);
  });

  it('a run inside a window is marked and never enters the SKU baseline; fleet windows count too', () => {
    const m = RetailerMonitor.fresh('shop', T0 - 10 * HOUR);
    for (let i = 5; i >= 2; i--) m.applyReport(report('shop', 'success', T0 - i * HOUR, 1000), T0 - i * HOUR);
    m.setFleetMaintenance([{ ...window('every day 02:00-04:00 Africa/Johannesburg', 'fleet/action/1'), retailer: undefined }]);
    const inside = m.applyReport(report('shop', 'success', T0, 900), T0);
    expect(inside.run?.inMaintenance).toBe(true);
    expect(m.detail(T0).skuBaseline).toEqual([1000, 1000, 1000, 1000]);
    const after = at('2026-11-29T03:00:00Z');
    expect(m.applyReport(report('shop', 'success', after, 900), after).run?.inMaintenance).toBeUndefined();
    expect(m.detail(after).skuBaseline).toEqual([1000, 1000, 1000, 1000, 900]);
  });

  it(`a retailer holds at most ${MAX_WINDOWS} windows of its own; fleet-wide windows do not count against it`, () => {
    const m = RetailerMonitor.fresh('shop', T0);
    m.setFleetMaintenance([{ ...window('every day 02:00-04:00 UTC', 'fleet/action/1'), retailer: undefined }]);
    for (let i = 1; i <= MAX_WINDOWS; i++) expect(m.addMaintenance(window('every sunday 02:00-04:00 UTC', `shop/action/${i}`))).toBe(true);
    expect(m.canAddMaintenance()).toBe(false);
    expect(m.addMaintenance(window('every monday 02:00-04:00 UTC', 'shop/action/99'))).toBe(false);
    expect(m.ownMaintenanceWindows().map((w) => w.id)).not.toContain('fleet/action/1');
    expect(m.maintenanceWindows()).toHaveLength(MAX_WINDOWS + 1);
    m.removeMaintenance('shop/action/1');
    expect(m.canAddMaintenance()).toBe(true);
  });

  it('windows travel through a snapshot (continue-as-new), and an old snapshot without them loads', () => {
    const m = RetailerMonitor.fresh('shop', T0);
    m.addMaintenance(window('every sunday 02:00-04:00 Africa/Johannesburg'));
    const again = new RetailerMonitor(m.snapshot());
    expect(again.inMaintenance(T0)).toBe(true);
    const old = m.snapshot();
    delete old.retailer.maintenance;
    expect(new RetailerMonitor(old).inMaintenance(T0)).toBe(false);
    expect(again.removeMaintenance('shop/action/1')?.spec).toBe('every sunday 02:00-04:00 Africa/Johannesburg');
    expect(again.inMaintenance(T0)).toBe(false);
  });
});

describe('flap control', () => {
  const start = at('2026-11-27T10:00:00Z');
  /** Alternate failure pairs and successes every 5 minutes: fire, resolve, fire, resolve … */
  function flap(m: RetailerMonitor, times: number, from: number) {
    const out = [];
    let t = from;
    for (let i = 0; i < times; i++) {
      for (const status of ['failure', 'failure', 'success'] as const) {
        t += 5 * MIN;
        out.push(...m.applyReport(report('flappy', status, t), t).alerts);
      }
    }
    return { alerts: out, t };
  }

  it('sends the third fire within an hour as one flapping notice, holds it open, and resolves after 30 min quiet', () => {
    const m = RetailerMonitor.fresh('flappy', start);
    const { alerts, t } = flap(m, 6, start);
    expect(alerts.map((a) => a.kind)).toEqual(['fire', 'resolve', 'fire', 'resolve', 'fire']);
    const notice = alerts[4]!;
    expect(notice.summary).toMatch(/FLAPPING: consecutive_failures fired 3 times within 1 h \(2 resolve\/re-fire flips\)/);
    expect(notice.figures.flips).toBe(3);
    // Held open: still one open incident, unhealthy, its flip count growing.
    expect(m.openIncidents()).toHaveLength(1);
    expect(m.openIncidents()[0]!.flapping).toMatchObject({ flips: 6, clearedAt: t });
    expect(m.health(t)).toBe('unhealthy');
    expect(m.nextDeadline(t)).toBe(t + FLAP_DEFAULTS.flapQuietMs);
    expect(m.evaluateTimers(t + FLAP_DEFAULTS.flapQuietMs - 1)).toEqual([]);
    const closed = m.evaluateTimers(t + FLAP_DEFAULTS.flapQuietMs);
    expect(closed).toMatchObject([{ kind: 'resolve', incidentId: notice.incidentId }]);
    expect(closed[0]!.summary).toMatch(/stopped flapping — quiet for 30 min after 6 fires/);
    expect(m.openIncidents()).toEqual([]);
  });

  it('a flapping incident whose condition still holds stays open like any other', () => {
    const m = RetailerMonitor.fresh('flappy', start);
    const { t } = flap(m, 3, start);
    m.applyReport(report('flappy', 'failure', t + MIN), t + MIN);
    m.applyReport(report('flappy', 'failure', t + 2 * MIN), t + 2 * MIN);
    expect(m.evaluateTimers(t + 3 * HOUR)).toEqual(expect.not.arrayContaining([expect.objectContaining({ kind: 'resolve' })]));
    expect(m.openIncidents()).toHaveLength(1);
  });

  it('the CLI turns --flap-count/--flap-window/--flap-quiet into thresholds, and checks a window spec before sending', () => {
    expect(thresholdsArgs({ retailer: 'shop', flapCount: 'off', flapWindow: '2h', flapQuiet: '45m' })).toEqual({
      retailer: 'shop',
      thresholds: { flapCount: 0, flapWindowMs: 2 * HOUR, flapQuietMs: 45 * MIN },
    });
    expect(() => thresholdsArgs({ flapQuiet: '10s' })).toThrow(/--flap-quiet: flapQuietMs must be at least one minute/);
    expect(maintenanceAddArgs(['every', 'sunday', '02:00-04:00', 'UTC'], { reason: 'x', by: 'me' })).toEqual({ spec: 'every sunday 02:00-04:00 UTC', reason: 'x', by: 'me' });
    expect(() => maintenanceAddArgs(['every sunday 02:00-04:00 Narnia/Cair'], { reason: 'x', by: 'me' })).toThrow(/<spec>: unknown timezone "Narnia\/Cair"/);
  });

  it('is per retailer configurable (off with flapCount 0) and off for histories recorded before it', () => {
    const off = RetailerMonitor.fresh('flappy', start);
    off.setOverrides({ flapCount: 0 });
    expect(flap(off, 4, start).alerts.map((a) => a.kind)).toEqual(['fire', 'resolve', 'fire', 'resolve', 'fire', 'resolve', 'fire', 'resolve']);
    const legacy = RetailerMonitor.fresh('flappy', start);
    legacy.setFlapControl(false);
    expect(flap(legacy, 4, start).alerts).toHaveLength(8);
    // Fires spread wider than the window never flap.
    const slow = RetailerMonitor.fresh('flappy', start);
    let t = start;
    const kinds: string[] = [];
    for (let i = 0; i < 4; i++) {
      t += 40 * MIN;
      for (const status of ['failure', 'failure', 'success'] as const) kinds.push(...slow.applyReport(report('flappy', status, t), t).alerts.map((a) => a.kind));
    }
    expect(kinds).toEqual(['fire', 'resolve', 'fire', 'resolve', 'fire', 'resolve', 'fire', 'resolve']);
  });

  it('property: memory stays bounded and every resolve sent matches a fire sent', () => {
    fc.assert(
      fc.property(fc.array(fc.constantFrom('failure', 'success'), { maxLength: 200 }), fc.array(fc.integer({ min: 1, max: 20 }), { minLength: 200, maxLength: 200 }), (statuses, gaps) => {
        const m = RetailerMonitor.fresh('flappy', start);
        let t = start;
        const open = new Set<string>();
        statuses.forEach((status, i) => {
          t += gaps[i]! * MIN;
          for (const a of [...m.applyReport(report('flappy', status as 'failure' | 'success', t), t).alerts, ...m.evaluateTimers(t)]) {
            if (a.kind === 'fire' && !a.silenced) open.add(a.incidentId);
            if (a.kind === 'resolve') {
              expect(open.has(a.incidentId)).toBe(true);
              open.delete(a.incidentId);
            }
          }
          const s = m.snapshot().retailer;
          for (const f of s.flaps ?? []) expect(f.fires.length).toBeLessThanOrEqual(3);
          expect((s.held ?? []).length + s.incidents.length).toBeLessThanOrEqual(3);
        });
      }),
      { numRuns: 100 },
    );
  });
});
