/**
 * `npm run bench` — performance figures for the monitor (printed, never asserted).
 *
 * 1. Rule engine micro-benchmark (pure RetailerMonitor, no Temporal; one per retailer as in the workflows):
 *    applyReport throughput, the cost of the per-report handler path (zod parse + applyReport +
 *    nextDeadline), evaluateTimers / nextDeadline, heap per retailer at 50 and 500 retailers, and the size of
 *    one retailer's snapshot() — what its continue-as-new carries — against Temporal's 2 MiB payload limit.
 * 2. End to end (scripts/bench-e2e.ts): the real monitors against a no-op baseline on the same dev server, cell
 *    by cell at 1 / 4 / 16 / 64 in flight and 50 / 1,000 / 10,000 retailers; alert probes, `status` at the
 *    largest fleet, a stale burst, history events per report, worker RSS. Settings (BENCH_*) are described
 *    there and in docs/benchmarks.md.
 *
 *   --micro-only / --e2e-only
 *   --quick   small cells (10 / 40 retailers), no stale burst, no micro-benchmark: the smoke test's run
 *
 * This file is also the worker child (`--monitor-worker`, see childMain in scripts/bench-lib.ts): the no-op's, and the
 * monitor's with BENCH_WORKER=tsx (the --quick default); a full run's monitor worker is scripts/bench-worker-child.js on dist/.
 * Everything targets loopback only: the dev server binds 127.0.0.1, and a non-loopback Postgres URL is refused.
 */
import os from 'node:os';
import { performance } from 'node:perf_hooks';
import Table from 'cli-table3';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { KEEP, RetailerMonitor } from '../src/rules/retailer-monitor';
import { HOUR_MS } from '../src/rules/thresholds';
import type { RetailerSnapshot } from '../src/rules/types';
import { parseRunReport, type RunReport } from '../src/shared/report';
import { endToEnd, settings, type Row } from './bench-e2e';
import {
  BLOB_LIMIT,
  BLOB_WARN,
  childMain,
  fmt,
  fmtBytes,
  fmtInt,
  fmtMs,
  fmtUs,
  hourlyReports,
  log,
  mulberry32,
  parsed,
  profiles,
  settledHeap,
  state,
  timeCalls,
  type FromChild,
  type Timed,
} from './bench-lib';

class Fleet {
  readonly monitors = new Map<string, RetailerMonitor>();
  monitor(retailer: string, now: number): RetailerMonitor {
    let m = this.monitors.get(retailer);
    if (!m) this.monitors.set(retailer, (m = RetailerMonitor.fresh(retailer, now)));
    return m;
  }
  apply(report: RunReport, now: number) {
    return this.monitor(report.retailer, now).applyReport(report, now);
  }
  get accepted(): number {
    let n = 0;
    for (const m of this.monitors.values()) n += m.counters.accepted;
    return n;
  }
}

/** Monitors after `perRetailer` hourly runs of each retailer (recentRunIds full at >= KEEP.recentRunIds). */
function steadyState(retailers: number, perRetailer: number, seed: number): { fleet: Fleet; lastNow: number } {
  const rng = mulberry32(seed);
  const fleet = new Fleet();
  let lastNow = 0;
  for (const { report, now } of hourlyReports(profiles(retailers, rng), perRetailer, rng)) {
    fleet.apply(parsed(report), now);
    lastNow = now;
  }
  return { fleet, lastNow };
}

// ---- 1. micro-benchmark -----------------------------------------------------------------------------------


function microBenchmark(): Row[] {
  const rows: Row[] = [];
  const RETAILERS = 50;
  const PER = 2_000;
  log(`micro: generating ${RETAILERS} retailers × ${PER} reports (10% failures, 1.5% of successes drop SKUs)`);
  const rng = mulberry32(42);
  const ps = profiles(RETAILERS, rng);
  const inputs = [...hourlyReports(ps, PER, rng)];
  const reports: Array<Timed<RunReport>> = inputs.map(({ report, now }) => ({ report: parsed(report), now }));

  // Warm the JIT on throwaway monitors, then measure three fresh runs and keep the median.
  {
    const warm = new Fleet();
    for (const { report, now } of reports.slice(0, 20_000)) warm.apply(report, now);
  }
  const applyRates: number[] = [];
  let outcomes = { accepted: 0, alerts: 0 };
  for (let rep = 0; rep < 3; rep++) {
    const fleet = new Fleet();
    let alerts = 0;
    const start = performance.now();
    for (const { report, now } of reports) alerts += fleet.apply(report, now).alerts.length;
    const ms = performance.now() - start;
    applyRates.push(reports.length / (ms / 1000));
    outcomes = { accepted: fleet.accepted, alerts };
  }
  applyRates.sort((a, b) => a - b);
  const applyRate = applyRates[1]!;
  rows.push([
    `applyReport throughput (${RETAILERS} retailers × ${fmtInt(PER)} reports)`,
    `${fmtInt(applyRate)} reports/s`,
    `${fmtUs(1000 / applyRate)}/report; median of 3; ${fmtInt(outcomes.alerts)} alert events (${fmt((outcomes.alerts / reports.length) * 100, 2)}% of reports)`,
  ]);

  // What the report handler does per report: zod parse + applyReport + nextDeadline of that retailer.
  const handlerRate = (() => {
    const fleet = new Fleet();
    const start = performance.now();
    for (const { report, now } of inputs) {
      const p = parseRunReport(report);
      if (p.ok) {
        const m = fleet.monitor(p.report.retailer, now);
        m.applyReport(p.report, now);
        m.nextDeadline();
      }
    }
    return inputs.length / ((performance.now() - start) / 1000);
  })();
  rows.push([
    `report-handler path: parse + applyReport + nextDeadline (${RETAILERS} retailers)`,
    `${fmtInt(handlerRate)} reports/s`,
    `${fmtUs(1000 / handlerRate)}/report (zod validation included); each retailer's monitor does only its own`,
  ]);
  inputs.length = 0;
  reports.length = 0;

  // Steady state: every retailer has more than KEEP.recentRunIds runs, so the duplicate memory is full.
  const PER_STEADY = KEEP.recentRunIds + 100;
  let oneSnapshot: RetailerSnapshot | undefined;
  for (const n of [50, 500]) {
    log(`micro: steady state for ${n} retailers (${PER_STEADY} hourly runs each)`);
    const h0 = settledHeap();
    let { fleet, lastNow } = steadyState(n, PER_STEADY, 7 + n);
    const h1 = settledHeap();
    rows.push([`heap per retailer (${n} retailers, steady state)`, fmtBytes((h1 - h0) / n), `RetailerMonitor total ${fmtBytes(h1 - h0)}, incl. the runId index`]);

    const monitors = [...fleet.monitors.values()];
    const one = monitors[0]!;
    const quiet = lastNow + 60_000; // nothing is due
    const nd = timeCalls(() => one.nextDeadline(), 200_000, 1_000);
    rows.push([`nextDeadline() of one retailer monitor (${n} retailers)`, fmtUs(nd.perCallMs), `per call (${fmtInt(nd.calls)} calls); runs once per report`]);
    const ev = timeCalls(() => one.evaluateTimers(quiet), 200_000, 1_000);
    rows.push([`evaluateTimers() of one retailer monitor, nothing due`, fmtUs(ev.perCallMs), `per call (${fmtInt(ev.calls)} calls)`]);

    const copies = monitors.map((m) => new RetailerMonitor(m.snapshot()));
    const t0 = performance.now();
    let fired = 0;
    for (const m of copies) fired += m.evaluateTimers(lastNow + 5 * HOUR_MS).length;
    rows.push([`evaluateTimers() of all ${n} monitors, all stale`, fmtMs(performance.now() - t0), `one call each, ${fired} stale incidents opened (in ${n} workflows in production)`]);

    // Per-report cost at this retailer count: a few thousand more hourly runs.
    const prng = mulberry32(99 + n);
    const more = [...hourlyReports(profiles(n, prng), Math.ceil(15_000 / n), prng, lastNow + HOUR_MS)];
    const chunk = Math.ceil(more.length / 3);
    const chunkRates: number[] = [];
    for (let c = 0; c < 3; c++) {
      const part = more.slice(c * chunk, (c + 1) * chunk);
      const hStart = performance.now();
      for (const { report, now } of part) {
        const p = parseRunReport(report);
        if (p.ok) {
          const m = fleet.monitor(p.report.retailer, now);
          m.applyReport(p.report, now);
          m.nextDeadline();
        }
      }
      chunkRates.push(part.length / ((performance.now() - hStart) / 1000));
    }
    const hRate = chunkRates.sort((a, b) => a - b)[1]!;
    rows.push([`report-handler path at ${n} retailers, steady state`, `${fmtInt(hRate)} reports/s`, `${fmtUs(1000 / hRate)}/report; median of 3 × ${fmtInt(chunk)}`]);

    const snap = one.snapshot();
    oneSnapshot = snap;
    const snapMs = timeCalls(() => one.snapshot(), 2_000, 1_000).perCallMs;
    const restoreMs = timeCalls(() => new RetailerMonitor(snap), 2_000, 1_000).perCallMs;
    rows.push([`snapshot() / restore of one retailer monitor`, `${fmtMs(snapMs)} / ${fmtMs(restoreMs)}`, 'JSON deep copy out; deep copy + runId index in (each continue-as-new of that monitor)']);
    fleet = undefined as unknown as Fleet;
  }

  const snap = oneSnapshot!;
  const total = Buffer.byteLength(JSON.stringify(snap));
  const ids = Buffer.byteLength(JSON.stringify(snap.retailer.recentRunIds));
  const runs = Buffer.byteLength(JSON.stringify(snap.retailer.recentRuns));
  const samples = Buffer.byteLength(JSON.stringify(snap.retailer.baselineSamples ?? []));
  const verdict = total > BLOB_LIMIT ? 'OVER the 2 MiB limit' : total > BLOB_WARN ? 'over the 512 KiB warning' : 'under the 512 KiB warning';
  rows.push([
    'snapshot() JSON of one retailer monitor, steady state',
    fmtBytes(total),
    `${fmt((total / BLOB_LIMIT) * 100, 1)}% of 2 MiB (${verdict}); recentRunIds ${fmt((ids / total) * 100, 0)}%, recentRuns ${fmt((runs / total) * 100, 0)}%, baseline samples ${fmt((samples / total) * 100, 0)}% (${snap.retailer.baselineSamples?.length ?? 0} of at most 399); the fleet size no longer enters it`,
  ]);
  return rows;
}

// ---- 2. end to end: scripts/bench-e2e.ts --------------------------------------------------------------------

// ---- main -------------------------------------------------------------------------------------------------

function printTable(title: string, rows: Row[]): void {
  const table = new Table({ head: [title, 'figure', 'notes'], style: { head: [], border: [] }, colWidths: [52, 34, 80], wordWrap: true });
  for (const [a, b, c] of rows) table.push([a, b, c ?? '']);
  console.log(table.toString());
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  Runtime.install({ logger: new DefaultLogger('ERROR'), shutdownSignals: [] });
  process.on('SIGINT', () => {
    if (state.interrupted) process.exit(130);
    state.interrupted = true;
    log('interrupted: stopping the load and cleaning up (Ctrl-C again to quit now)');
  });
  const cpus = os.cpus();
  const machine = `nproc ${os.availableParallelism()} (${cpus[0]?.model.trim() ?? 'unknown'}), ${fmt(os.totalmem() / 1024 ** 3, 1)} GiB RAM, Node ${process.version}, ${os.platform()} ${os.release()}`;
  log(`machine: ${machine}; load average ${os.loadavg().map((l) => l.toFixed(2)).join(' / ')}`);
  const quick = args.includes('--quick');
  const micro = args.includes('--e2e-only') || quick ? [] : microBenchmark();
  const e2e = args.includes('--micro-only') || state.interrupted ? { rows: [], cells: [], env: [] } : await endToEnd(settings(quick));
  console.log();
  console.log(`machine: ${machine}`);
  for (const line of e2e.env) console.log(line);
  if (micro.length) printTable('rule engine (pure RetailerMonitor, one per retailer)', micro);
  if (e2e.cells.length) printTable('cell: real / no-op (same run)', e2e.cells);
  if (e2e.rows.length) printTable('end to end (dev server + Postgres + monitor worker; no-op baseline)', e2e.rows);
  if (e2e.figures) console.log(`bench figures (JSON): ${JSON.stringify(e2e.figures)}`);
  console.log(`load average at exit (1/5/15 min): ${os.loadavg().map((l) => l.toFixed(2)).join(' / ')}`);
}

if (process.argv.includes('--monitor-worker')) {
  childMain().catch((err) => {
    process.send?.({ type: 'error', message: String(err?.stack ?? err) } satisfies FromChild);
    console.error(err);
    process.exit(1);
  });
} else {
  main().then(
    () => process.exit(0),
    (err) => {
      console.error(err);
      process.exit(1);
    },
  );
}

