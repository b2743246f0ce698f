/**
 * The dashboard SQL, proven without Grafana: (1) macros.ts expands exactly like Grafana's Postgres
 * datasource (cases mirror Grafana's own macros_test.go); (2) every panel, variable and annotation query,
 * expanded that way, runs on real Postgres against seeded data and returns the columns its panel type
 * needs; (3) the same queries run as `grafana_reader`, which can read but not write.
 */
import { Client } from 'pg';
import { migrations } from '../migrations';
import {
  ALL_VALUE,
  expandGrafanaSql,
  formatInterval,
  goFloat,
  grafanaIntervalMs,
  interpolatePostgresMacros,
  interpolateTemplateVariables,
  parseGoDuration,
  rfc3339Nano,
  type VariableState,
} from '../src/dashboard/macros';
import { ALERT_ANNOTATION, PANELS, RETAILER_VARIABLE, STALE_HOURS, type PanelDef } from '../src/dashboard/panels';
import { ALL_RETAILERS, NEVER_RAN_DIAGNOSIS, SEEDED_RETAILERS, seedDashboardData, type SeedRun, type SeededData } from './helpers/dashboard-seed';
import { ADMIN_URL, createTestDatabase, type TestDatabase } from './helpers/postgres';

describe('Grafana Postgres macro expansion', () => {
  const from = new Date(Date.UTC(2018, 3, 12, 18, 0, 0));
  const to = new Date(from.getTime() + 5 * 60_000);
  const range = { from, to };
  const macros = (s: string) => interpolatePostgresMacros(s, range);

  it('expands the time macros like macros.go', () => {
    expect(macros('select $__time(time_column)')).toBe('select time_column AS "time"');
    expect(macros('select min($__time(time_column))')).toBe('select min(time_column AS "time")');
    expect(macros('select $__timeEpoch(t)')).toBe('select extract(epoch from t) as "time"');
    expect(macros('WHERE $__timeFilter(time_column)')).toBe(
      "WHERE time_column BETWEEN '2018-04-12T18:00:00Z' AND '2018-04-12T18:05:00Z'",
    );
    expect(macros('select $__timeFrom()')).toBe("select '2018-04-12T18:00:00Z'");
    expect(macros('select $__timeTo()')).toBe("select '2018-04-12T18:05:00Z'");
    expect(macros('select $__unixEpochFilter(time)')).toBe(`select time >= ${from.getTime() / 1000} AND time <= ${to.getTime() / 1000}`);
    expect(macros('select $__unixEpochNanoFilter(time)')).toBe(
      `select time >= ${from.getTime()}000000 AND time <= ${to.getTime()}000000`,
    );
    expect(macros('select $__unixEpochNanoFrom()')).toBe(`select ${from.getTime()}000000`);
    expect(macros('select $__unixEpochNanoTo()')).toBe(`select ${to.getTime()}000000`);
  });

  it('formats times as Go RFC3339Nano: milliseconds kept, trailing zeros dropped', () => {
    expect(rfc3339Nano(new Date('2017-07-18T11:15:52.123Z'))).toBe('2017-07-18T11:15:52.123Z');
    expect(rfc3339Nano(new Date('1960-02-01T07:00:00.500Z'))).toBe('1960-02-01T07:00:00.5Z');
    expect(rfc3339Nano(new Date('1980-02-03T08:00:00.000Z'))).toBe('1980-02-03T08:00:00Z');
    expect(interpolatePostgresMacros('WHERE $__timeFilter(c)', { from: new Date('1960-02-01T07:00:00.500Z'), to: new Date('1980-02-03T08:00:00.500Z') })).toBe(
      "WHERE c BETWEEN '1960-02-01T07:00:00.5Z' AND '1980-02-03T08:00:00.5Z'",
    );
    // Pre-1970: Go's Unix() floors.
    expect(interpolatePostgresMacros('$__unixEpochFilter(t)', { from: new Date(-1500), to: new Date(1500) })).toBe('t >= -2 AND t <= 1');
  });

  it('expands $__timeGroup and $__timeGroupAlias, including the pre-5.3 alias compatibility', () => {
    expect(macros("SELECT $__timeGroup(time_column,'5m')")).toBe('SELECT floor(extract(epoch from time_column)/300)*300');
    expect(macros("SELECT $__timeGroupAlias(time_column,'5m')")).toBe(
      'SELECT floor(extract(epoch from time_column)/300)*300 AS "time"',
    );
    expect(macros("SELECT $__timeGroup(time_column,'5m'), value")).toBe(
      'SELECT floor(extract(epoch from time_column)/300)*300 AS "time", value',
    );
    expect(macros("SELECT $__timeGroup(time_column,'5m') as time, value")).toBe(
      'SELECT floor(extract(epoch from time_column)/300)*300 as time, value',
    );
    expect(macros("$__timeGroup(time_column , '5m')")).toBe('floor(extract(epoch from time_column)/300)*300');
    expect(macros('$__timeGroupAlias(c, 1h, NULL)')).toBe('floor(extract(epoch from c)/3600)*3600 AS "time"');
    expect(macros('$__timeGroup(c, 20ms, previous)')).toBe('floor(extract(epoch from c)/0.02)*0.02');
    // Go prints large float64 seconds in exponent form (%v); Postgres accepts it.
    expect(macros("$__timeGroup(c, '12d')")).toBe('floor(extract(epoch from c)/1.0368e+06)*1.0368e+06');
    expect(macros("SELECT $__unixEpochGroup(time_column+time_adjustment,'5m')")).toBe(
      'SELECT floor((time_column+time_adjustment)/300)*300',
    );
    expect(macros("$__unixEpochGroupAlias(t,'5m')")).toBe('floor((t)/300)*300 AS "time"');
  });

  it('rejects what Grafana rejects', () => {
    expect(() => macros('$__timeGroup(c)')).toThrow('needs time column and interval');
    expect(() => macros("$__timeGroup(c, 'soon')")).toThrow("error parsing interval 'soon'");
    expect(() => macros('$__timeGroup(c, 5m, maybe)')).toThrow('error parsing fill value maybe');
    expect(() => macros('SELECT $__nope(x)')).toThrow('unknown macro "__nope"');
    // Any $name(...) is a macro in Grafana's engine, not only $__ names.
    expect(() => macros('SELECT $retailer(x)')).toThrow('unknown macro "retailer"');
  });

  it('parses and prints intervals as Go and Grafana do', () => {
    expect(parseGoDuration('1h30m')).toBe(5_400e9);
    expect(parseGoDuration('1.5s')).toBe(1.5e9);
    expect(parseGoDuration('250ms')).toBe(250e6);
    expect(() => parseGoDuration('5')).toThrow();
    expect(goFloat(300)).toBe('300');
    expect(goFloat(604_800)).toBe('604800');
    expect(goFloat(2_592_000)).toBe('2.592e+06');
    expect(goFloat(0.001)).toBe('0.001');
    expect(goFloat(0.00001)).toBe('1e-05');
    expect(formatInterval(60_000)).toBe('1m');
    expect(formatInterval(90_000)).toBe('1m');
    expect(formatInterval(86_400_000)).toBe('1d');
    expect(formatInterval(500)).toBe('500ms');
    const day = { from: new Date(0), to: new Date(86_400_000) };
    expect(grafanaIntervalMs(day)).toBe(60_000); // 86.4 s rounds to 1m
    expect(grafanaIntervalMs({ from: new Date(0), to: new Date(7 * 86_400_000) })).toBe(600_000);
    expect(grafanaIntervalMs({ from: new Date(0), to: new Date(3_600_000) })).toBe(60_000); // datasource minimum
  });

  it('applies the global substitutions ($__interval, $__interval_ms, $__unixEpochFrom/To)', () => {
    const sql = 'SELECT $__interval_ms, $__interval, $__unixEpochFrom(), $__unixEpochTo(), $__timeGroupAlias(t, $__interval)';
    expect(expandGrafanaSql(sql, { range, intervalMs: 300_000 })).toBe(
      `SELECT 300000, 5m, ${from.getTime() / 1000}, ${to.getTime() / 1000}, floor(extract(epoch from t)/300)*300 AS "time"`,
    );
  });

  describe('template variables (SqlDatasource.interpolateVariable)', () => {
    const multi = (current: string | string[], options = ['a', "o'brien", 'c']): VariableState => ({
      name: 'retailer',
      multi: true,
      includeAll: true,
      options,
      current,
    });

    it('quotes multi-value selections and doubles single quotes inside values', () => {
      expect(interpolateTemplateVariables('IN ($retailer)', [multi(['a', "o'brien"])], 60_000)).toBe("IN ('a','o''brien')");
      expect(interpolateTemplateVariables('IN (${retailer})', [multi(["it's"])], 60_000)).toBe("IN ('it''s')");
      expect(interpolateTemplateVariables('IN ([[retailer]])', [multi('x')], 60_000)).toBe("IN ('x')");
    });

    it('expands All to every option (quoted), or to a custom allValue verbatim', () => {
      expect(interpolateTemplateVariables('IN ($retailer)', [multi([ALL_VALUE])], 60_000)).toBe("IN ('a','o''brien','c')");
      expect(interpolateTemplateVariables('IN ($retailer)', [multi(ALL_VALUE)], 60_000)).toBe("IN ('a','o''brien','c')");
      const custom = { ...multi([ALL_VALUE]), allValue: 'SELECT retailer FROM retailer_status' };
      expect(interpolateTemplateVariables('IN ($retailer)', [custom], 60_000)).toBe('IN (SELECT retailer FROM retailer_status)');
    });

    it('only escapes a single-value variable, leaving the quotes to the SQL', () => {
      const single: VariableState = { name: 'who', multi: false, includeAll: false, options: [], current: "o'brien" };
      expect(interpolateTemplateVariables("name = '$who'", [single], 60_000)).toBe("name = 'o''brien'");
    });

    it('leaves unknown names and macros for the later stages, and refuses formats it does not emulate', () => {
      expect(interpolateTemplateVariables('$unknown $__timeFilter(t)', [], 60_000)).toBe('$unknown $__timeFilter(t)');
      expect(interpolateTemplateVariables('$__interval $__interval_ms', [], 120_000)).toBe('2m 120000');
      expect(() => interpolateTemplateVariables('${retailer:csv}', [multi('a')], 60_000)).toThrow('not supported');
    });

    it('stays safe when a quoted value is run: the quote is data, not SQL', async () => {
      const c = new Client({ connectionString: ADMIN_URL });
      await c.connect();
      try {
        const sql = interpolateTemplateVariables('SELECT v FROM unnest(ARRAY[$retailer]) AS t(v) ORDER BY v', [multi(["x'); DROP TABLE y; --", 'b'])], 60_000);
        const res = await c.query(sql);
        expect(res.rows.map((r) => r.v)).toEqual(['b', "x'); DROP TABLE y; --"]);
      } finally {
        await c.end();
      }
    });
  });
});

describe('dashboard SQL on real Postgres', () => {
  let tdb: TestDatabase;
  let seeded: SeededData;
  let client: Client;
  const allQueries = () => [
    ...PANELS.map((p) => ({ name: p.key, sql: p.sql })),
    { name: 'variable retailer', sql: RETAILER_VARIABLE.sql },
    { name: 'annotation', sql: ALERT_ANNOTATION.sql },
  ];

  const retailerVar = (current: string[] = [ALL_VALUE]): VariableState => ({
    name: 'retailer',
    multi: true,
    includeAll: true,
    options: ALL_RETAILERS,
    current,
  });

  /** As Grafana expands it at the default 24 h range (or `hours`), with the panel's own max data points. */
  function expand(sql: string, current?: string[], maxDataPoints?: number, hours = 24) {
    const range = { from: new Date(seeded.now - hours * 3600_000), to: new Date(seeded.now) };
    return expandGrafanaSql(sql, { range, intervalMs: grafanaIntervalMs(range, maxDataPoints), variables: [retailerVar(current)] });
  }

  async function run(p: PanelDef | { sql: string }, current?: string[], hours?: number) {
    const res = await client.query(expand(p.sql, current, 'maxDataPoints' in p ? p.maxDataPoints : undefined, hours));
    return { columns: res.fields.map((f) => f.name), rows: res.rows as Record<string, unknown>[] };
  }

  beforeAll(async () => {
    tdb = await createTestDatabase('im_dash_sql');
    seeded = await seedDashboardData(tdb.db);
    client = new Client({ connectionString: tdb.url });
    await client.connect();
  });

  afterAll(async () => {
    await client?.end();
    await tdb?.drop();
  });

  it('has no SQL comments (newer Grafana strips them before macros, older does not)', () => {
    for (const q of allQueries()) expect(q.sql).not.toMatch(/--|\/\*/);
  });

  it('the retailer variable lists every retailer, sorted', async () => {
    const { columns, rows } = await run(RETAILER_VARIABLE);
    expect(columns).toEqual(['retailer']);
    expect(rows.map((r) => r.retailer)).toEqual(ALL_RETAILERS);
  });

  describe.each(PANELS.map((p) => [p.key, p] as const))('panel %s', (_key, panel) => {
    it('returns the columns its visualization needs', async () => {
      const { columns, rows } = await run(panel);
      expect(rows.length).toBeGreaterThan(0);
      if (panel.kind === 'stat') {
        expect(rows).toHaveLength(1);
        expect(columns).toHaveLength(1);
        expect(typeof rows[0][columns[0]]).toBe('number');
      } else if (panel.kind === 'table') {
        expect(columns).toEqual(panel.fields!.map((f) => f.name));
      } else {
        expect(panel.format).toBe('time_series');
        expect(columns).toEqual(['time', 'metric', panel.fields![0].name]);
        const times = rows.map((r) => Number(r.time));
        expect(times.every(Number.isFinite)).toBe(true);
        expect([...times].sort((a, b) => a - b)).toEqual(times);
        for (const r of rows) {
          expect(SEEDED_RETAILERS).toContain(r.metric);
          expect(typeof r[panel.fields![0].name]).toBe('number');
        }
        if (panel.kind === 'status-history') {
          const mapped = new Set(panel.mappings!.map((m) => m.value));
          for (const r of rows) expect(mapped).toContain(String(r[panel.fields![0].name]));
        }
      }
    });
  });

  const stat = async (key: string, current?: string[]) => {
    const { columns, rows } = await run(PANELS.find((p) => p.key === key)!, current);
    return rows[0][columns[0]];
  };

  it('stat values match the seeded scenario', async () => {
    const dayAgo = seeded.now - 24 * 3600_000;
    const inRange = seeded.runs.filter((r) => r.finished_at >= dayAgo && r.finished_at <= seeded.now);
    expect(await stat('retailers-healthy')).toBe(1); // checkers
    // pick-n-pay (incident), shoprite (never ran, stale incident), woolworths (stale by the clock); spar is silenced
    expect(await stat('retailers-unhealthy')).toBe(3);
    expect(await stat('runs-in-range')).toBe(inRange.length);
    expect(await stat('failures-in-range')).toBe(inRange.filter((r) => r.status === 'failure').length);
    const oldest = Math.min(...Object.values(seeded.latest).map((l) => l.lastSuccess!));
    expect(await stat('oldest-success-age')).toBeCloseTo((seeded.now - oldest) / 3600_000, 0);
    expect(await stat('oldest-success-age')).toBeGreaterThan(STALE_HOURS);
  });

  it('the status table shows each retailer with the persisted figures and the why, problems first', async () => {
    const { rows } = await run(PANELS.find((p) => p.key === 'retailer-status')!);
    expect(rows.map((r) => r.retailer)).toEqual(['pick-n-pay', 'shoprite', 'woolworths', 'spar', 'makro', 'checkers']);
    const by = Object.fromEntries(rows.map((r) => [r.retailer as string, r]));
    expect(by['pick-n-pay']).toMatchObject({
      health: 'unhealthy',
      last_run_status: 'failure',
      failure_streak: 2,
      open_rules: 'consecutive_failures',
      last_error: 'HTTP 503 from retailer site',
      diagnosis: null,
    });
    // checkers' stale alert was resolved: its diagnosis no longer applies.
    expect(by.checkers).toMatchObject({ health: 'healthy', sku_count: seeded.latest.checkers.sku, promo_count: seeded.latest.checkers.promo, last_error: null, diagnosis: null });
    // The persisted health says healthy, but the clock says stale.
    expect(by.woolworths.health).toBe('stale');
    expect(by.woolworths.hours_since_success as number).toBeGreaterThan(STALE_HOURS);
    expect(by.checkers.hours_since_success as number).toBeLessThan(STALE_HOURS);
    expect(by.spar).toMatchObject({ health: 'silenced', sku_count: 3000, open_incidents: 1 });
    expect(by.makro).toMatchObject({ health: 'waiting', last_run_at: null, last_run_status: null, hours_since_success: null, last_error: null });
    expect(by.shoprite).toMatchObject({ health: 'unhealthy', last_run_at: null, open_rules: 'stale', diagnosis: NEVER_RAN_DIAGNOSIS });
  });

  it('a retailer that never ran is not healthy and has no success age until it is stale', async () => {
    expect(await stat('retailers-healthy', ['makro'])).toBe(0);
    expect(await stat('retailers-unhealthy', ['makro'])).toBe(0);
    expect(await stat('oldest-success-age', ['makro'])).toBeNull();
    expect(PANELS.find((p) => p.key === 'oldest-success-age')!.noValue).toBe('waiting for first run');
    const health = PANELS.find((p) => p.key === 'retailer-status')!.fields!.find((f) => f.name === 'health')!;
    expect(health.mappings).toContainEqual({ value: 'waiting', text: 'waiting for first run', color: 'blue' });
    // Once past its stale deadline it counts, from its first sighting.
    expect(await stat('oldest-success-age', ['shoprite'])).toBeCloseTo(5, 0);
  });

  /** Hourly means of `value` over the seeded runs of one retailer whose hour reaches into the last `hours`. */
  function hourlyMeans(retailer: string, value: (r: SeedRun) => number | null, hours = 24) {
    const from = seeded.now - hours * 3600_000;
    const byHour = new Map<number, number[]>();
    for (const r of seeded.runs) {
      const v = value(r);
      const hour = Math.floor(r.finished_at / 3600_000) * 3600_000;
      if (r.retailer !== retailer || v === null || hour + 3600_000 <= from) continue;
      byHour.set(hour, [...(byHour.get(hour) ?? []), v]);
    }
    return [...byHour.entries()].sort(([a], [b]) => a - b).map(([hour, vs]) => ({ hour, mean: vs.reduce((a, b) => a + b, 0) / vs.length }));
  }

  it('trends follow the retailer selection and carry the seeded values (hourly at 24 h, from the rollup)', async () => {
    const sku = PANELS.find((p) => p.key === 'sku-trend')!;
    expect(expand(sku.sql, ['checkers'], sku.maxDataPoints)).toContain('FROM ingestion_runs_hourly');
    const one = await run(sku, ['checkers']);
    expect(new Set(one.rows.map((r) => r.metric))).toEqual(new Set(['checkers']));
    const expected = hourlyMeans('checkers', (r) => (r.status === 'success' ? r.sku_count : null));
    expect(one.rows.map((r) => [Number(r.time) * 1000, r.sku_count])).toEqual(expected.map((e) => [e.hour, e.mean]));
    const history = await run(PANELS.find((p) => p.key === 'failure-history')!, ['pick-n-pay']);
    expect(history.rows.slice(-2).map((r) => r.failed)).toEqual([1, 1]);
    expect(history.rows.slice(0, -2).every((r) => r.failed === 0)).toBe(true);
  });

  it('below an hour per point the trends read the runs, and agree with the rollup on whole hours', async () => {
    for (const key of ['sku-trend', 'promo-trend', 'duration-trend', 'failure-history']) {
      const p = PANELS.find((x) => x.key === key)!;
      // 6 h at 24 points is a 15 min interval: the runs branch, every run its own point here.
      const short = expand(p.sql, undefined, p.maxDataPoints, 6);
      expect(short).toContain('FROM ingestion_runs\n');
      const { rows: raw } = await client.query(short);
      expect(raw.length).toBeGreaterThan(0);
      // The same SQL at a 1 h interval over the same 6 h reads the rollup's rows as they are; the grouping
      // rollup branch and the runs branch forced to 1 h (the constant conditions replaced) must give the same
      // points.
      const range = { from: new Date(seeded.now - 6 * 3600_000), to: new Date(seeded.now) };
      const hourly = expandGrafanaSql(p.sql, { range, intervalMs: 3600_000, variables: [retailerVar()] });
      const direct = '3600000 = 3600000 AND';
      const grouped = '3600000 % 3600000 = 0 AND 3600000 <> 3600000';
      const runs = '3600000 % 3600000 <> 0';
      for (const cut of [direct, grouped, runs]) expect(hourly.split(cut)).toHaveLength(2);
      const fromRollup = (await client.query(hourly)).rows;
      const fromGrouped = (await client.query(hourly.replace(direct, 'false AND').replace(grouped, 'true'))).rows;
      const fromRuns = (await client.query(hourly.replace(direct, 'false AND').replace(grouped, 'false').replace(runs, 'true'))).rows;
      expect(fromRollup.length).toBeGreaterThan(0);
      // Every branch gives float8 epoch seconds.
      for (const r of [...fromRollup, ...fromGrouped, ...fromRuns]) expect(typeof r.time).toBe('number');
      expect(fromGrouped).toEqual(fromRollup);
      const rounded = (rows: Record<string, unknown>[]) =>
        rows
          .filter((r) => Number(r.time) * 1000 >= Math.floor(range.from.getTime() / 3600_000) * 3600_000 + 3600_000)
          .map((r) => Object.values(r).map((v) => (typeof v === 'number' ? Math.round(v * 1000) / 1000 : v)));
      expect(rounded(fromRollup)).toEqual(rounded(fromRuns));
    }
  });

  it('alert events and annotations cover the time range only', async () => {
    const { columns, rows } = await run(ALERT_ANNOTATION);
    expect(columns).toEqual(['time', 'text', 'tags']);
    expect(rows).toHaveLength(5); // e5 is 40 h old
    const table = await run(PANELS.find((p) => p.key === 'alert-events')!);
    expect(table.rows.map((r) => r.summary)).not.toContain('outside the 24 h range');
  });

  describe('as grafana_reader', () => {
    let reader: Client;
    beforeAll(async () => {
      reader = new Client({ connectionString: tdb.url });
      await reader.connect();
      await reader.query('SET ROLE grafana_reader');
    });
    afterAll(async () => {
      await reader?.end();
    });

    it('is an unprivileged role', async () => {
      const { rows } = await client.query(
        "SELECT rolsuper, rolcreaterole, rolcreatedb, rolbypassrls FROM pg_roles WHERE rolname = 'grafana_reader'",
      );
      expect(rows).toEqual([{ rolsuper: false, rolcreaterole: false, rolcreatedb: false, rolbypassrls: false }]);
    });

    it('runs every panel, variable and annotation query', async () => {
      for (const q of allQueries()) {
        const res = await reader.query(expand(q.sql));
        expect({ name: q.name, ok: res.rows.length >= 0 }).toEqual({ name: q.name, ok: true });
      }
    });

    it.each([
      ["INSERT INTO alert_events (event_id, incident_id, retailer, rule, kind, occurred_at, opened_at, summary, figures, delivery) VALUES ('x','x','x','x','fire',now(),now(),'x','{}','[]')"],
      ["UPDATE retailer_status SET health = 'healthy'"],
      ['DELETE FROM ingestion_runs'],
      ['TRUNCATE ingestion_runs'],
      ['CREATE TABLE grafana_owned (id int)'],
    ])('is denied: %s', async (statement) => {
      const version = Number((await client.query('SHOW server_version_num')).rows[0].server_version_num);
      // Before Postgres 15 every role may create tables in `public` (a PUBLIC grant, not ours to revoke).
      if (statement.startsWith('CREATE') && version < 150000) return;
      await expect(reader.query(statement)).rejects.toMatchObject({ code: '42501' });
    });
  });

  it('the role migration is idempotent and reversible', async () => {
    const m = migrations['2026-11-27-002-grafana-reader'];
    await m.up(tdb.db);
    await m.down!(tdb.db);
    const revoked = await client.query("SELECT has_table_privilege('grafana_reader', 'retailer_status', 'SELECT') AS ok");
    expect(revoked.rows[0].ok).toBe(false);
    await m.up(tdb.db);
    const granted = await client.query("SELECT has_table_privilege('grafana_reader', 'retailer_status', 'SELECT') AS ok");
    expect(granted.rows[0].ok).toBe(true);
  });
});
