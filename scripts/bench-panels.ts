/**
 * `npm run bench:panels -- --database-url postgres://postgres@127.0.0.1:5432/im_year [--runs 20]
 *   [--ranges 24h,7d,30d] [--explain-file panels-explain.txt]`
 *
 * Times every query the status page and the Grafana dashboard run (src/dashboard/panels.ts, expanded by
 * macros.ts exactly as Grafana and src/status-page/panel-data.ts expand them, All retailers selected) at
 * each range — the default 24 h first — plus the retailer variable, the annotation query, the badge query
 * (src/status-page/badge.ts, one retailer) and the whole status page load (`loadPanelData`, panels in
 * parallel on a pool of 5). Each query runs twice to warm up, then `--runs` times in a row; p50 / p95 / max
 * are printed per query and range, with the 20 ms target marked. `EXPLAIN (ANALYZE, BUFFERS)` of every
 * query at the default range and of the five slowest at the other ranges goes to --explain-file.
 * Read-only: it never writes to the database.
 */
import { writeFileSync } from 'node:fs';
import os from 'node:os';
import { performance } from 'node:perf_hooks';
import { Command, InvalidArgumentError } from 'commander';
import { sql } from 'kysely';
import { createDb } from '../src/db/database';
import { ALL_VALUE, expandGrafanaSql, grafanaIntervalMs, type TimeRange, type VariableState } from '../src/dashboard/macros';
import { ALERT_ANNOTATION, PANELS, RETAILER_VARIABLE } from '../src/dashboard/panels';
import { loadBadgeState } from '../src/status-page/badge';
import { loadPanelData, loadRetailerOptions } from '../src/status-page/panel-data';
import { redactError, redactUrl } from '../src/shared/redact';

const TARGET_MS = 20;
const RANGES = new Map([
  ['24h', 86_400_000],
  ['7d', 7 * 86_400_000],
  ['30d', 30 * 86_400_000],
  ['90d', 90 * 86_400_000],
  ['365d', 365 * 86_400_000],
]);

interface Options {
  databaseUrl: string;
  runs: number;
  ranges: string[];
  explainFile: string;
}

interface Timing {
  name: string;
  range: string;
  p50: number;
  p95: number;
  max: number;
  rows: number;
  /** The SQL, for EXPLAIN; undefined for composite loads. */
  text?: string;
}

const pct = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];

async function measure(runs: number, fn: () => Promise<number>): Promise<{ p50: number; p95: number; max: number; rows: number }> {
  let rows = 0;
  for (let i = 0; i < 2; i++) rows = await fn();
  const ms: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    await fn();
    ms.push(performance.now() - t0);
  }
  ms.sort((a, b) => a - b);
  return { p50: pct(ms, 50), p95: pct(ms, 95), max: ms[ms.length - 1], rows };
}

async function main(o: Options): Promise<void> {
  const db = createDb(o.databaseUrl, 5);
  const timings: Timing[] = [];
  try {
    const counts = await sql<{ runs: string; alerts: string; retailers: string }>`SELECT
      (SELECT count(*) FROM ingestion_runs) AS runs, (SELECT count(*) FROM alert_events) AS alerts,
      (SELECT count(*) FROM retailer_status) AS retailers`.execute(db);
    const version = await sql<{ v: string }>`SELECT current_setting('server_version') AS v`.execute(db);
    console.log(
      `${redactUrl(o.databaseUrl)}: ${JSON.stringify(counts.rows[0])}; Postgres ${version.rows[0].v}; ` +
        `${os.cpus().length} cores, load ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}`,
    );
    const options = await loadRetailerOptions(db);
    const variable: VariableState = { name: RETAILER_VARIABLE.name, multi: true, includeAll: true, options, current: [ALL_VALUE] };
    // A panel with its own max data points (the trends) is timed as Grafana runs it, and once more at the
    // width-sized interval Grafana used before it had one (1 min at 24 h: a point per run), for comparison.
    const queries: { name: string; sql: string; maxDataPoints?: number }[] = [
      ...PANELS.map((p) => ({ name: p.key, sql: p.sql, maxDataPoints: p.maxDataPoints })),
      ...PANELS.filter((p) => p.maxDataPoints !== undefined).map((p) => ({ name: `${p.key} (per run, before)`, sql: p.sql })),
      { name: 'variable: retailer', sql: RETAILER_VARIABLE.sql },
      { name: 'annotation: alerts', sql: ALERT_ANNOTATION.sql },
    ];
    const now = new Date();
    for (const label of o.ranges) {
      const range: TimeRange = { from: new Date(now.getTime() - (RANGES.get(label) as number)), to: now };
      for (const q of queries) {
        const intervalMs = grafanaIntervalMs(range, q.maxDataPoints);
        const text = expandGrafanaSql(q.sql, { range, intervalMs, variables: [variable], now });
        const m = await measure(o.runs, async () => (await sql.raw(text).execute(db)).rows.length);
        timings.push({ name: q.name, range: label, ...m, text });
      }
      const page = await measure(o.runs, async () => (await loadPanelData(db, { range })).panels.length);
      timings.push({ name: 'status page (all panels, parallel)', range: label, ...page });
    }
    const badge = options[Math.floor(options.length / 2)] ?? 'none';
    timings.push({ name: `badge (${badge})`, range: '-', ...(await measure(o.runs, async () => ((await loadBadgeState(db, badge)) ? 1 : 0))) });

    const f = (n: number) => n.toFixed(1).padStart(7);
    console.log(`\n${'query'.padEnd(36)} ${'range'.padEnd(5)} ${'p50 ms'.padStart(7)} ${'p95 ms'.padStart(7)} ${'max ms'.padStart(7)} ${'rows'.padStart(6)}`);
    for (const t of timings) {
      const over = t.range === o.ranges[0] && t.text && t.p95 > TARGET_MS ? '  > 20 ms' : '';
      console.log(`${t.name.padEnd(36)} ${t.range.padEnd(5)} ${f(t.p50)} ${f(t.p95)} ${f(t.max)} ${String(t.rows).padStart(6)}${over}`);
    }

    const explained = [
      ...timings.filter((t) => t.text && t.range === o.ranges[0]),
      ...timings.filter((t) => t.text && t.range !== o.ranges[0]).sort((a, b) => b.p95 - a.p95).slice(0, 5),
    ];
    const out: string[] = [`# EXPLAIN (ANALYZE, BUFFERS), ${now.toISOString()}, ${JSON.stringify(counts.rows[0])}`];
    for (const t of explained) {
      const plan = await sql.raw<{ 'QUERY PLAN': string }>(`EXPLAIN (ANALYZE, BUFFERS) ${t.text}`).execute(db);
      out.push(`\n## ${t.name} @ ${t.range} (p95 ${t.p95.toFixed(1)} ms)\n${t.text}\n`, ...plan.rows.map((r) => r['QUERY PLAN']));
    }
    writeFileSync(o.explainFile, `${out.join('\n')}\n`);
    console.log(`\nplans: ${o.explainFile}`);
  } finally {
    await db.destroy();
  }
}

const program = new Command('bench-panels')
  .description('Time every status-page and Grafana query (p50/p95) and write their plans')
  .requiredOption('--database-url <url>', 'postgres:// URL of a seeded database (npm run seed:year)')
  .option('--runs <n>', 'timed runs per query', (v) => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < 1 || n > 1000) throw new InvalidArgumentError('expected a whole number 1–1000');
    return n;
  }, 20)
  .option('--ranges <list>', `comma-separated, the first is the default range (${[...RANGES.keys()].join(', ')})`, (v) => {
    const list = v.split(',').map((s) => s.trim());
    const bad = list.find((r) => !RANGES.has(r));
    if (bad !== undefined || !list.length) throw new InvalidArgumentError(`unknown range ${JSON.stringify(bad)}`);
    return list;
  }, ['24h', '7d', '30d'])
  .option('--explain-file <path>', 'where the plans go', 'panels-explain.txt')
  .parse();

main(program.opts<Options>()).catch((err) => {
  console.error(redactError(err));
  process.exit(1);
});
