/**
 * `npm run bench` — performance figures for the monitor (printed, never asserted).
 *
 * 1. Rule engine micro-benchmark (pure RetailerMonitor, no Temporal; one per retailer as in the workflows):
 *    applyReport throughput, the cost of the per-report handler path (zod parse + applyReport +
 *    nextDeadline), evaluateTimers / nextDeadline, heap per retailer at 50 and 500 retailers, and the size of
 *    one retailer's snapshot() — what its continue-as-new carries — against Temporal's 2 MiB payload limit.
 * 2. End to end: a real dev server (`temporal server start-dev`, in memory, 127.0.0.1) + a fresh database on
 *    the local Postgres (TEST_DATABASE_URL) + two workers, each in its own child process so its RSS is its own:
 *    the real monitor worker (createTestMonitorWorker, Slack pointed at a loopback stand-in in this process)
 *    and a NO-OP worker (scripts/bench-noop-workflow.ts on its own task queue: same type name, same
 *    Update-with-Start client call, answers a verdict-like object, no rules, no activities). The fleet
 *    workflow is started as the worker does on boot (ensureFleet, default group window).
 *    - Load: N reports for 20 retailers with `reportIngestionRun`, C in flight, in rounds alternated
 *      real, no-op, real, no-op …; each call returns once the report is applied. Throughput and latency
 *      per kind and the ratio real / no-op. After each real round it waits for the round's rows (so the
 *      no-op round does not share the CPU with the persistence) and notes how long after the last verdict.
 *      A bench-only column in the throwaway database (`bench_inserted_at default clock_timestamp()`) gives
 *      each row's applied (received_at) → inserted lag.
 *    - Alerts: after a quiet group window, S retailers (spaced beyond the window, so each is the first of
 *      its group) fail twice then succeed: verdict → fire POST and verdict → resolve POST at the stand-in.
 *      Then K retailers fail twice at once: the first goes out at once, the rest in one grouped follow-up
 *      at the window's end (its latency is the window, by design).
 *    - Histories of every continue-as-new chain: events per report (real and no-op), the fleet's events per
 *      alert event; worker RSS idle / after; load average at start and end; versions.
 *
 *   BENCH_REPORTS         reports per kind (real, and the same again for the no-op), default 2000, at most 100000
 *   BENCH_ROUNDS          rounds per kind, alternated (default 2)
 *   BENCH_CONCURRENCY     reports in flight (default 16, at most 256)
 *   BENCH_MAX_SECONDS     stop a round's sending after this long (default 120)
 *   BENCH_SETTLE_SECONDS  how long to wait for a round's rows (default 60)
 *   BENCH_ALERT_SPACED    first-of-a-group alert probes, each ~32 s apart (default 3, at most 9)
 *   BENCH_ALERT_RETAILERS retailers in the alert burst (default 10)
 *   --micro-only / --e2e-only
 *
 * A monitor that falls behind or gets stuck is a figure too: the waits are bounded and report "NOT within …"
 * (or that activities were still pending), and the workflow-task failure causes come from the histories.
 *
 * Everything targets loopback only: the dev server binds 127.0.0.1, and a non-loopback Postgres URL is refused.
 */
import { execFileSync, fork, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import os from 'node:os';
import { performance } from 'node:perf_hooks';
import v8 from 'node:v8';
import vm from 'node:vm';
import Table from 'cli-table3';
import { sql } from 'kysely';
import { defaultPayloadConverter } from '@temporalio/common';
import { temporal } from '@temporalio/proto';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { DefaultLogger, Runtime, Worker } from '@temporalio/worker';
import { reportIngestionRun, retailerHandle, type MonitorTarget } from '../src/client';
import { createDb } from '../src/db/database';
import { KEEP, RetailerMonitor } from '../src/rules/retailer-monitor';
import { HOUR_MS } from '../src/rules/thresholds';
import type { RetailerSnapshot } from '../src/rules/types';
import { fleetConfigQuery } from '../src/shared/messages';
import { parseRunReport, type RunReport, type RunReportInput } from '../src/shared/report';
import { ensureFleet } from '../src/worker';
import { startCaptureServer, type Captured } from '../test/helpers/capture-server';
import { createTestMonitorWorker, testConfig } from '../test/helpers/monitor';
import { ADMIN_URL, createTestDatabase, type TestDatabase } from '../test/helpers/postgres';
import { createDevServerEnv, temporalCliPath } from '../test/helpers/temporal';

// ---- small utilities ------------------------------------------------------------------------------------

const MiB = 1024 * 1024;
/** Temporal's default per-payload limits (dynamic config limit.blobSize.error / .warn). */
const BLOB_LIMIT = 2 * MiB;
const BLOB_WARN = 512 * 1024;

function envInt(name: string, dflt: number, min: number, max: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw.trim() === '') return dflt;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max) throw new Error(`${name} must be an integer in [${min}, ${max}], got "${raw}"`);
  return n;
}

/** Deterministic PRNG so every run sends the same mix of failures and SKU drops. */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Expose the GC without a command-line flag (the flag must be set before the first use). */
v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as () => void;
function settledHeap(): number {
  for (let i = 0; i < 3; i++) gc();
  return process.memoryUsage().heapUsed;
}

const fmtInt = (n: number) => Math.round(n).toLocaleString('en-US');
const fmt = (n: number, digits = 1) => n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
const fmtBytes = (b: number) => (b >= MiB ? `${fmt(b / MiB, 2)} MiB` : b >= 1024 ? `${fmt(b / 1024, 1)} KiB` : `${b} B`);
const fmtMs = (ms: number) => (ms >= 10_000 ? `${fmt(ms / 1000, 1)} s` : `${fmt(ms, ms < 10 ? 2 : 0)} ms`);
const fmtUs = (ms: number) => `${fmt(ms * 1000, ms * 1000 < 10 ? 2 : 1)} µs`;
const log = (line: string) => console.log(`[${new Date().toISOString().slice(11, 19)}] ${line}`);

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

/** Call `fn` repeatedly, bounded by count and time; returns mean ms per call. */
function timeCalls(fn: () => unknown, maxCalls: number, maxMs: number): { perCallMs: number; calls: number } {
  for (let i = 0; i < Math.min(50, maxCalls); i++) fn(); // warm up
  const start = performance.now();
  let calls = 0;
  while (calls < maxCalls && performance.now() - start < maxMs) {
    fn();
    calls++;
  }
  return { perCallMs: (performance.now() - start) / calls, calls };
}

// ---- realistic reports ----------------------------------------------------------------------------------

const NAMES = ['checkers', 'pick-n-pay', 'woolworths', 'spar', 'shoprite', 'makro', 'game', 'dis-chem', 'clicks', 'food-lovers'];
const ERRORS = [
  'Navigation timeout of 30000 ms exceeded',
  'HTTP 503 Service Unavailable from retailer site',
  'HTTP 429 Too Many Requests (Retry-After: 120)',
  "TypeError: Cannot read properties of undefined (reading 'price') at parseProductCard (scraper/parse.ts:88:31)",
  'net::ERR_CONNECTION_RESET at https://www.example-retailer.co.za/c/food',
];

interface Profile {
  slug: string;
  baseSku: number;
  basePromo: number;
  offsetMs: number;
  durationMs: number;
}

function profiles(count: number, rng: () => number): Profile[] {
  return Array.from({ length: count }, (_, i) => ({
    slug: i < NAMES.length ? NAMES[i]! : `${NAMES[i % NAMES.length]}-${Math.floor(i / NAMES.length)}`,
    baseSku: 3_000 + Math.floor(rng() * 37_000),
    basePromo: 100 + Math.floor(rng() * 1_500),
    offsetMs: Math.floor(rng() * HOUR_MS),
    durationMs: (3 + Math.floor(rng() * 10)) * 60_000,
  }));
}

/**
 * One report as the interceptor sends it: runId = the Temporal runId (a UUID), a Schedule-style workflowId.
 * 10% failures; 1.5% of successes drop to ~55% of the retailer's SKUs (an SKU-drop incident and its resolve).
 */
function makeReport(p: Profile, finishedAt: number, rng: () => number): RunReportInput {
  const runId = randomUUID();
  const finished = new Date(finishedAt).toISOString();
  const base = {
    runId,
    retailer: p.slug,
    schedule: `ingest-${p.slug}`,
    startedAt: new Date(finishedAt - p.durationMs).toISOString(),
    finishedAt: finished,
    workflowId: `ingest-${p.slug}-${finished.slice(0, 19)}Z`,
    workflowRunId: runId,
  };
  if (rng() < 0.1) return { ...base, status: 'failure', error: ERRORS[Math.floor(rng() * ERRORS.length)]! };
  const drop = rng() < 0.015 ? 0.55 : 1;
  const wobble = 1 + (rng() - 0.5) * 0.04;
  return {
    ...base,
    status: 'success',
    skuCount: Math.round(p.baseSku * wobble * drop),
    promoCount: Math.round(p.basePromo * wobble),
    lastScrapeAt: finished,
  };
}

interface Timed<T> {
  report: T;
  now: number;
}

/** Hourly runs of every retailer, interleaved in time order of arrival; `now` is 2 s after the run finished. */
function* hourlyReports(ps: Profile[], perRetailer: number, rng: () => number, t0 = Date.UTC(2026, 10, 1)): Generator<Timed<RunReportInput>> {
  for (let k = 0; k < perRetailer; k++) {
    for (const p of ps) {
      const finishedAt = t0 + k * HOUR_MS + p.offsetMs;
      // Through JSON like a signal payload: flat strings, as the workflow sees them (randomUUID() and
      // template literals build cons strings that would inflate the heap figures several times over).
      yield { report: JSON.parse(JSON.stringify(makeReport(p, finishedAt, rng))) as RunReportInput, now: finishedAt + 2_000 };
    }
  }
}

function parsed(input: RunReportInput): RunReport {
  const r = parseRunReport(input);
  if (!r.ok) throw new Error(`generated report is invalid: ${r.reason}`);
  return r.report;
}

/** One RetailerMonitor per retailer, as the workflows hold them; created on a retailer's first report. */
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

type Row = [string, string, string?];

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

// ---- 2. end to end -------------------------------------------------------------------------------------------

interface Mem {
  rss: number;
  heapUsed: number;
  heapTotal: number;
  external: number;
}
type ToChild = { type: 'mem'; id: number; gc: boolean } | { type: 'stop' };
type FromChild = { type: 'ready' } | { type: 'mem'; id: number; mem: Mem } | { type: 'error'; message: string };

function isLoopback(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '');
  return h === 'localhost' || h === '::1' || /^127\./.test(h);
}

/**
 * A worker in a child process (`--monitor-worker`) so its memory is measured on its own.
 * BENCH_WORKER_MODE=monitor: the real monitor worker (real activities, Postgres, Slack at BENCH_SLACK_URL).
 * BENCH_WORKER_MODE=noop: only scripts/bench-noop-workflow.ts, no activities.
 */
async function childMain(): Promise<void> {
  // Worker warnings matter here (payload limits, failed tasks); some core errors dump whole histories, so cut them short.
  const logger = new DefaultLogger('WARN', ({ level, message, meta }) => {
    const extra = meta && Object.keys(meta).length ? ` ${JSON.stringify(meta)}` : '';
    console.error(`[worker ${level}] ${(message + extra).slice(0, 400)}`);
  });
  Runtime.install({ logger, shutdownSignals: [] });
  const address = process.env.BENCH_TEMPORAL_ADDRESS!;
  const url = process.env.BENCH_DATABASE_URL!;
  const taskQueue = process.env.BENCH_TASK_QUEUE!;
  const mode = process.env.BENCH_WORKER_MODE === 'noop' ? 'noop' : 'monitor';
  const send = (m: FromChild) => process.send!(m);
  const env = await TestWorkflowEnvironment.createFromExistingServer({ address, namespace: 'default' });
  const db = mode === 'monitor' ? createDb(url) : undefined;
  const worker =
    mode === 'monitor'
      ? await createTestMonitorWorker(
          env,
          testConfig({ taskQueue, databaseUrl: url, ...(process.env.BENCH_SLACK_URL ? { slackWebhookUrl: process.env.BENCH_SLACK_URL } : {}) }),
          { url, name: 'bench', db: db!, drop: async () => undefined } satisfies TestDatabase,
        )
      : await Worker.create({
          connection: env.nativeConnection,
          namespace: 'default',
          taskQueue,
          workflowsPath: require.resolve('./bench-noop-workflow'),
        });
  const running = worker.run();
  process.on('message', (m: ToChild) => {
    if (m.type === 'stop') worker.shutdown();
    else if (m.type === 'mem') {
      if (m.gc) for (let i = 0; i < 3; i++) gc();
      const u = process.memoryUsage();
      send({ type: 'mem', id: m.id, mem: { rss: u.rss, heapUsed: u.heapUsed, heapTotal: u.heapTotal, external: u.external } });
    }
  });
  process.on('disconnect', () => worker.getState() === 'RUNNING' && worker.shutdown()); // parent gone
  send({ type: 'ready' });
  try {
    await running;
  } finally {
    await db?.destroy();
    await env.teardown();
    process.disconnect(); // the IPC channel would keep this process alive
  }
}

class WorkerChild {
  private nextId = 0;
  private waiters = new Map<number, (m: Mem) => void>();
  readonly exited: Promise<number | null>;
  private constructor(readonly proc: ChildProcess) {
    proc.on('message', (m: FromChild) => {
      if (m.type === 'mem') this.waiters.get(m.id)?.(m.mem);
    });
    this.exited = new Promise((resolve) => proc.on('exit', (code) => resolve(code)));
  }

  static async start(env: Record<string, string>, timeoutMs: number): Promise<WorkerChild> {
    const proc = fork(__filename, ['--monitor-worker'], {
      env: { ...process.env, ...env },
      execArgv: process.execArgv, // keeps tsx's loader
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    const child = new WorkerChild(proc);
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`worker not ready after ${timeoutMs} ms`)), timeoutMs);
      proc.on('message', (m: FromChild) => {
        if (m.type === 'ready') {
          clearTimeout(timer);
          resolve();
        } else if (m.type === 'error') {
          clearTimeout(timer);
          reject(new Error(m.message));
        }
      });
      proc.on('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`worker exited (${code}) before it was ready`));
      });
    });
    return child;
  }

  mem(afterGc: boolean): Promise<Mem> {
    const id = ++this.nextId;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no memory reading from the worker within 10 s')), 10_000);
      this.waiters.set(id, (m) => {
        clearTimeout(timer);
        this.waiters.delete(id);
        resolve(m);
      });
      this.proc.send({ type: 'mem', id, gc: afterGc } satisfies ToChild);
    });
  }

  async stop(timeoutMs = 30_000): Promise<void> {
    if (this.proc.exitCode !== null || this.proc.signalCode !== null) return;
    this.proc.send({ type: 'stop' } satisfies ToChild);
    const timer = setTimeout(() => this.proc.kill('SIGKILL'), timeoutMs);
    await this.exited;
    clearTimeout(timer);
  }
}

/** Poll `fn` every `everyMs` until it returns something truthy, at most `timeoutMs`; undefined on timeout. */
async function poll<T>(fn: () => Promise<T | undefined | false>, timeoutMs: number, everyMs = 200): Promise<T | undefined> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline || interrupted) return undefined;
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

const sleepMs = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

let interrupted = false;

const sortedCopy = (xs: number[]) => [...xs].sort((a, b) => a - b);
const pcts = (xs: number[], ps = [50, 95, 99]) => {
  const s = sortedCopy(xs);
  return [...ps.map((p) => fmtMs(percentile(s, p))), fmtMs(s.at(-1) ?? NaN)].join(' / ');
};

/** What the histories of one workflow id's continue-as-new chain hold. */
interface ChainStats {
  runs: number;
  events: number;
  updates: number;
  signals: number;
  tasks: number;
  taskProblems: number;
  taskCauses: Map<string, number>;
  taskMs: number[];
  maxHistory: number;
  maxInput: number;
  persistRuns: number[];
  activities: Map<string, number>;
}

function emptyStats(): ChainStats {
  return { runs: 0, events: 0, updates: 0, signals: 0, tasks: 0, taskProblems: 0, taskCauses: new Map(), taskMs: [], maxHistory: 0, maxInput: 0, persistRuns: [], activities: new Map() };
}

/** Walk a workflow id's chain from the current run back to the first (each run's start names the run it continues). */
async function chainStats(client: import('@temporalio/client').Client, workflowId: string, into: ChainStats = emptyStats()): Promise<ChainStats> {
  let runId: string | undefined = (await client.workflow.getHandle(workflowId).describe()).runId;
  for (let k = 0; runId && k < 1_000; k++) {
    const history: temporal.api.history.v1.IHistory = await client.workflow.getHandle(workflowId, runId).fetchHistory();
    const events = history.events ?? [];
    into.runs++;
    into.events += events.length;
    into.maxHistory = Math.max(into.maxHistory, temporal.api.history.v1.History.encode(history).finish().length);
    const start = events[0]?.workflowExecutionStartedEventAttributes;
    into.maxInput = Math.max(into.maxInput, start?.input?.payloads?.[0]?.data?.length ?? 0);
    let startedAt: number | undefined;
    for (const e of events) {
      const at = e.eventTime ? Number(e.eventTime.seconds ?? 0) * 1000 + Math.floor((e.eventTime.nanos ?? 0) / 1e6) : 0;
      if (e.workflowExecutionUpdateAcceptedEventAttributes) into.updates++;
      if (e.workflowExecutionSignaledEventAttributes) into.signals++;
      if (e.workflowTaskStartedEventAttributes) startedAt = at;
      if (e.workflowTaskCompletedEventAttributes) {
        into.tasks++;
        if (startedAt !== undefined) into.taskMs.push(at - startedAt);
      }
      if (e.workflowTaskFailedEventAttributes || e.workflowTaskTimedOutEventAttributes) {
        into.taskProblems++;
        const cause = e.workflowTaskFailedEventAttributes
          ? (temporal.api.enums.v1.WorkflowTaskFailedCause[e.workflowTaskFailedEventAttributes.cause ?? 0] ?? 'unknown').replace('WORKFLOW_TASK_FAILED_CAUSE_', '')
          : 'TIMED_OUT';
        into.taskCauses.set(cause, (into.taskCauses.get(cause) ?? 0) + 1);
      }
      const a = e.activityTaskScheduledEventAttributes;
      if (a?.activityType?.name) into.activities.set(a.activityType.name, (into.activities.get(a.activityType.name) ?? 0) + 1);
      if (a?.activityType?.name === 'persistBatch') {
        const [batch] = (a.input?.payloads ?? []).map((p) => defaultPayloadConverter.fromPayload<{ runs: unknown[] }>(p));
        into.persistRuns.push(batch?.runs.length ?? 0);
      }
    }
    runId = start?.continuedExecutionRunId || undefined;
  }
  return into;
}

/** One round of reports through `reportIngestionRun`, C in flight, bounded in time. */
interface RoundResult {
  kind: 'real' | 'no-op';
  round: number;
  sent: number;
  seconds: number;
  latencies: number[];
  firstLatencies: number[];
  verdicts: Record<'accepted' | 'duplicate' | 'out_of_order', number>;
  errors: number;
  firstError?: string;
  lastVerdictWall: number;
}

async function sendRound(
  client: import('@temporalio/client').Client,
  kind: RoundResult['kind'],
  round: number,
  reports: RunReportInput[],
  target: MonitorTarget,
  C: number,
  maxSeconds: number,
  started: Set<string>,
): Promise<RoundResult> {
  const res: RoundResult = { kind, round, sent: 0, seconds: 0, latencies: [], firstLatencies: [], verdicts: { accepted: 0, duplicate: 0, out_of_order: 0 }, errors: 0, lastVerdictWall: 0 };
  let next = 0;
  const t0 = performance.now();
  const deadline = t0 + maxSeconds * 1000;
  await Promise.all(
    Array.from({ length: C }, async () => {
      while (next < reports.length && performance.now() < deadline && !interrupted) {
        const report = reports[next++]!;
        const first = !started.has(report.retailer);
        started.add(report.retailer);
        const s = performance.now();
        try {
          const v = await reportIngestionRun(client, report, target);
          res.verdicts[v.outcome]++;
          (first ? res.firstLatencies : res.latencies).push(performance.now() - s);
          res.lastVerdictWall = Date.now();
        } catch (err) {
          res.errors++;
          res.firstError ??= String(err).slice(0, 300);
        }
      }
    }),
  );
  res.seconds = (performance.now() - t0) / 1000;
  res.sent = res.latencies.length + res.firstLatencies.length;
  return res;
}

/** A report shaped like the interceptor's: Schedule-style workflow id, run UUID, 5-minute run. */
function probeReport(retailer: string, finishedAt: number, outcome: Pick<RunReportInput, 'status'> & Partial<RunReportInput>): RunReportInput {
  const runId = randomUUID();
  const finished = new Date(finishedAt).toISOString();
  return {
    runId,
    retailer,
    schedule: `ingest-${retailer}`,
    startedAt: new Date(finishedAt - 5 * 60_000).toISOString(),
    finishedAt: finished,
    workflowId: `ingest-${retailer}-${finished.slice(0, 19)}Z`,
    workflowRunId: runId,
    ...outcome,
  };
}
function failureReport(retailer: string, finishedAt: number, error = 'HTTP 503 Service Unavailable from retailer site'): RunReportInput {
  return probeReport(retailer, finishedAt, { status: 'failure', error });
}
function successReport(retailer: string, finishedAt: number): RunReportInput {
  return probeReport(retailer, finishedAt, { status: 'success', skuCount: 12_000, promoCount: 400, lastScrapeAt: new Date(finishedAt).toISOString() });
}

async function endToEnd(): Promise<{ rows: Row[]; env: string[] }> {
  const N = envInt('BENCH_REPORTS', 2_000, 40, 100_000);
  const ROUNDS = envInt('BENCH_ROUNDS', 2, 1, 10);
  const C = envInt('BENCH_CONCURRENCY', 16, 1, 256);
  const maxSeconds = envInt('BENCH_MAX_SECONDS', 120, 10, 1_800);
  const settleSeconds = envInt('BENCH_SETTLE_SECONDS', 60, 5, 1_800);
  const K = envInt('BENCH_ALERT_RETAILERS', 10, 2, 50);
  const SPACED = envInt('BENCH_ALERT_SPACED', 3, 0, 9);
  const RETAILERS = 20;
  if (!isLoopback(new URL(ADMIN_URL).hostname)) throw new Error(`refusing a non-loopback Postgres (${new URL(ADMIN_URL).hostname}): the bench targets loopback only`);

  const envLines: string[] = [];
  const load0 = os.loadavg();
  log('e2e: starting the dev server (127.0.0.1), a fresh database and the loopback Slack stand-in');
  const cleanup: Array<() => Promise<unknown>> = [];
  const rows: Row[] = [];
  try {
    const [env, tdb, slack] = await Promise.all([createDevServerEnv(), createTestDatabase('im_bench'), startCaptureServer()]);
    cleanup.push(() => env.teardown(), () => tdb.drop(), () => slack.close());
    if (!isLoopback(env.address.replace(/:\d+$/, ''))) throw new Error(`dev server is not on loopback: ${env.address}`);
    if (!isLoopback(new URL(slack.url).hostname)) throw new Error(`Slack stand-in is not on loopback: ${slack.url}`);
    // Bench-only column in this throwaway database: when each run row was inserted (vs received_at, when the
    // monitor applied the report, workflow time). Same machine clock for both.
    await sql`alter table ingestion_runs add column bench_inserted_at timestamptz not null default clock_timestamp()`.execute(tdb.db);
    const pgVersion = (await sql<{ v: string }>`select version() as v`.execute(tdb.db)).rows[0]!.v.split(' on ')[0]!;
    let cliVersion = 'unknown';
    try {
      cliVersion = execFileSync(temporalCliPath(), ['--version'], { encoding: 'utf8', timeout: 10_000 }).trim();
    } catch {
      // keep unknown
    }
    envLines.push(
      `Temporal CLI: ${cliVersion}; TypeScript SDK ${require('@temporalio/worker/package.json').version}; ${pgVersion}`,
      `load average at start (1/5/15 min): ${load0.map((l) => l.toFixed(2)).join(' / ')}`,
    );

    const taskQueue = 'monitor-bench';
    const noopQueue = 'noop-bench';
    const fleetId = `ingestion-monitor-bench-${Date.now()}`;

    log('e2e: starting the monitor worker and the no-op worker (two child processes; each bundles its workflow code)');
    const [child, noopChild] = await Promise.all([
      WorkerChild.start({ BENCH_TEMPORAL_ADDRESS: env.address, BENCH_DATABASE_URL: tdb.url, BENCH_TASK_QUEUE: taskQueue, BENCH_WORKER_MODE: 'monitor', BENCH_SLACK_URL: slack.url }, 180_000),
      WorkerChild.start({ BENCH_TEMPORAL_ADDRESS: env.address, BENCH_DATABASE_URL: '', BENCH_TASK_QUEUE: noopQueue, BENCH_WORKER_MODE: 'noop' }, 180_000),
    ]);
    cleanup.unshift(() => child.stop(), () => noopChild.stop());
    // The fleet as the worker starts it on boot (use-existing), default group window.
    await ensureFleet(env.client, { workflowId: fleetId, taskQueue }, {});
    const fleetConfig = await env.client.workflow.getHandle(fleetId).query(fleetConfigQuery);
    const windowMs = fleetConfig.groupWindowMs;
    const memBefore = await child.mem(true);
    const noopMemBefore = await noopChild.mem(true);

    // N reports per kind, retailer i % 20, finished in the recent past (the newest 0.1 s before sending),
    // so no stale clock is anywhere near due; same 10% failure / SKU-drop mix as the micro-benchmark.
    // The no-op gets the very same reports (its own workflow ids, so nothing is a duplicate).
    const rng = mulberry32(2026);
    const ps = profiles(RETAILERS, rng);
    const sendStartWall = Date.now();
    const reports = Array.from({ length: N }, (_, i) => makeReport(ps[i % RETAILERS]!, sendStartWall - 100 - (N - 1 - i) * 50, rng));
    const retailers = ps.map((p) => p.slug);
    const realTarget: MonitorTarget = { workflowId: fleetId, taskQueue };
    const noopPrefix = 'bench-noop/';
    const noopTarget: MonitorTarget = { taskQueue: noopQueue, retailerWorkflowIdPrefix: noopPrefix };

    const countRows = async () => Number((await sql<{ n: string }>`select count(*)::text as n from ingestion_runs`.execute(tdb.db)).rows[0]!.n);
    const results: RoundResult[] = [];
    const rowsAfterRound: Array<{ round: number; ms: number | undefined; rows: number; expected: number }> = [];
    const startedReal = new Set<string>();
    const startedNoop = new Set<string>();
    const per = Math.ceil(N / ROUNDS);
    let expectedRows = 0;
    log(`e2e: ${fmtInt(N)} reports per kind for ${RETAILERS} retailers with reportIngestionRun (Update-with-Start), ${C} in flight, ${ROUNDS} rounds: real, no-op, real, no-op …`);
    for (let r = 0; r < ROUNDS && !interrupted; r++) {
      const slice = reports.slice(r * per, (r + 1) * per);
      const real = await sendRound(env.client, 'real', r + 1, slice, realTarget, C, maxSeconds, startedReal);
      results.push(real);
      log(`e2e: round ${r + 1} real: ${fmtInt(real.sent)} in ${fmt(real.seconds, 2)} s (${fmtInt(real.sent / real.seconds)}/s), p50 ${fmtMs(percentile(sortedCopy(real.latencies), 50))}, ${real.errors} errors${real.firstError ? ` (${real.firstError})` : ''}`);
      // Rows of this round: wait until they are all in (so the no-op round does not share the CPU with the
      // real monitors' persistence), and note how long after the round's last verdict.
      expectedRows += real.verdicts.accepted + real.verdicts.out_of_order;
      const ok = await poll(async () => (await countRows()) >= expectedRows, settleSeconds * 1000, 50);
      rowsAfterRound.push({ round: r + 1, ms: ok ? Date.now() - real.lastVerdictWall : undefined, rows: await countRows(), expected: expectedRows });
      const noop = await sendRound(env.client, 'no-op', r + 1, slice, noopTarget, C, maxSeconds, startedNoop);
      results.push(noop);
      log(`e2e: round ${r + 1} no-op: ${fmtInt(noop.sent)} in ${fmt(noop.seconds, 2)} s (${fmtInt(noop.sent / noop.seconds)}/s), p50 ${fmtMs(percentile(sortedCopy(noop.latencies), 50))}, ${noop.errors} errors${noop.firstError ? ` (${noop.firstError})` : ''}`);
    }
    const memAfterLoad = await child.mem(false);

    // Per-row lag: applied (received_at, workflow time) → inserted (bench_inserted_at).
    const lagRows = (
      await sql<{ ms: number }>`select (extract(epoch from (bench_inserted_at - received_at)) * 1000)::float8 as ms from ingestion_runs`.execute(tdb.db)
    ).rows.map((x) => Number(x.ms));

    const agg = (kind: RoundResult['kind']) => {
      const rs = results.filter((x) => x.kind === kind);
      const sent = rs.reduce((a, x) => a + x.sent, 0);
      const seconds = rs.reduce((a, x) => a + x.seconds, 0);
      const lat = rs.flatMap((x) => x.latencies);
      const firsts = rs.flatMap((x) => x.firstLatencies);
      const errors = rs.reduce((a, x) => a + x.errors, 0);
      const verdicts = { accepted: 0, duplicate: 0, out_of_order: 0 };
      for (const x of rs) for (const k of Object.keys(verdicts) as (keyof typeof verdicts)[]) verdicts[k] += x.verdicts[k];
      const s = sortedCopy(lat);
      return { rs, sent, seconds, rate: sent / seconds, lat, firsts, errors, verdicts, p50: percentile(s, 50), p95: percentile(s, 95), p99: percentile(s, 99), firstError: rs.find((x) => x.firstError)?.firstError };
    };
    const real = agg('real');
    const noop = agg('no-op');

    // ---- alert latency ------------------------------------------------------------------------------------
    log(`e2e: load done (${slack.received.length} Slack POSTs so far); waiting for a quiet group window (${fmtMs(windowMs)}) before the alert probes`);
    const quietFor = windowMs + 1_500;
    await poll(async () => Date.now() - (slack.received.at(-1)?.at ?? 0) > quietFor, 120_000, 250);
    // Everything the load caused has gone out by now (the last group window closed with no POST since).
    const postsDuringLoad = slack.received.length;
    const alertEventsDuringLoad = Number((await sql<{ n: string }>`select count(*)::text as n from alert_events`.execute(tdb.db)).rows[0]!.n);
    const mentions = (c: Captured, slug: string) => JSON.stringify(c.body).includes(slug);
    const postAfter = (slug: string, after: number, timeoutMs: number) =>
      poll(async () => slack.received.find((c) => c.at >= after && mentions(c, slug)), timeoutMs, 20);

    const spacedFire: number[] = [];
    const spacedResolve: number[] = [];
    const spacedNotes: string[] = [];
    const finishedBase = Date.now() - 60 * 60_000;
    for (let i = 0; i < SPACED && !interrupted; i++) {
      const slug = `alert-spaced-${i}`;
      log(`e2e: alert probe ${i + 1}/${SPACED} (first of a group): two failures then a success for ${slug}`);
      await reportIngestionRun(env.client, failureReport(slug, finishedBase), realTarget);
      const v2 = await reportIngestionRun(env.client, failureReport(slug, finishedBase + 60_000), realTarget);
      const t2 = Date.now();
      if (v2.opened.length !== 1) spacedNotes.push(`${slug}: second failure opened ${v2.opened.length} incidents`);
      const fire = await postAfter(slug, t2 - 5, 60_000);
      if (fire) spacedFire.push(fire.at - t2);
      else spacedNotes.push(`${slug}: no fire POST within 60 s`);
      const v3 = await reportIngestionRun(env.client, successReport(slug, finishedBase + 120_000), realTarget);
      const t3 = Date.now();
      if (v3.resolved.length !== 1) spacedNotes.push(`${slug}: success resolved ${v3.resolved.length} incidents`);
      const resolve = await postAfter(slug, Math.max(t3 - 5, (fire?.at ?? 0) + 1), 60_000);
      if (resolve) spacedResolve.push(resolve.at - t3);
      else spacedNotes.push(`${slug}: no resolve POST within 60 s`);
      if (i < SPACED - 1) await sleepMs(Math.max(0, (resolve?.at ?? Date.now()) + quietFor - Date.now()));
    }

    log(`e2e: alert burst: ${K} retailers fail twice at once`);
    await sleepMs(Math.max(0, (slack.received.at(-1)?.at ?? 0) + quietFor - Date.now()));
    const burst = Array.from({ length: K }, (_, i) => `alert-burst-${String(i).padStart(2, '0')}`);
    await Promise.all(burst.map((slug) => reportIngestionRun(env.client, failureReport(slug, finishedBase), realTarget)));
    const burstStart = Date.now();
    const burstVerdictAt = new Map<string, number>();
    const burstOpened = new Map<string, number>();
    await Promise.all(
      burst.map(async (slug) => {
        const v = await reportIngestionRun(env.client, failureReport(slug, finishedBase + 60_000), realTarget);
        burstVerdictAt.set(slug, Date.now());
        burstOpened.set(slug, v.opened.length);
      }),
    );
    await poll(async () => burst.every((slug) => slack.received.some((c) => c.at >= burstStart && mentions(c, slug))), windowMs + 30_000, 50);
    const burstPosts = slack.received.filter((c) => c.at >= burstStart && burst.some((slug) => mentions(c, slug)));
    const burstFirst: number[] = [];
    const burstGrouped: number[] = [];
    let burstMissing = 0;
    for (const slug of burst) {
      const post = burstPosts.find((c) => mentions(c, slug));
      if (!post) {
        burstMissing++;
        continue;
      }
      const ms = post.at - burstVerdictAt.get(slug)!;
      (burst.filter((s) => mentions(post, s)).length > 1 ? burstGrouped : burstFirst).push(ms);
    }

    // ---- histories -----------------------------------------------------------------------------------------
    log('e2e: waiting for the fleet to record its alerts, then reading the histories (every continue-as-new chain)');
    const fleetIdle = await poll(async () => ((await env.client.workflow.getHandle(fleetId).describe()).raw.pendingActivities ?? []).length === 0, 60_000, 250);
    const retailerIdle = await poll(
      async () => {
        const all = await Promise.all(retailers.map(async (r) => (await retailerHandle(env.client, r, realTarget).describe()).raw.pendingActivities ?? []));
        return all.flat().length === 0;
      },
      30_000,
      250,
    );
    const alertEvents = Number((await sql<{ n: string }>`select count(*)::text as n from alert_events`.execute(tdb.db)).rows[0]!.n);
    const realStats = emptyStats();
    for (const r of retailers) await chainStats(env.client, retailerHandle(env.client, r, realTarget).workflowId, realStats);
    const noopStats = emptyStats();
    for (const r of retailers) await chainStats(env.client, retailerHandle(env.client, r, noopTarget).workflowId, noopStats);
    const fleetStats = await chainStats(env.client, fleetId);
    const memAfter = await child.mem(false);
    const memAfterGc = await child.mem(true);
    const noopMemAfter = await noopChild.mem(false);
    const load1 = os.loadavg();
    envLines.push(`load average at end (1/5/15 min): ${load1.map((l) => l.toFixed(2)).join(' / ')}`);

    // ---- figures -------------------------------------------------------------------------------------------
    const ratio = (a: number, b: number) => `${fmt(a / b, 2)}×`;
    const perRound = (kind: RoundResult['kind']) =>
      results
        .filter((x) => x.kind === kind)
        .map((x) => `r${x.round} ${fmtInt(x.sent / x.seconds)}/s p50 ${fmtMs(percentile(sortedCopy(x.latencies), 50))} p99 ${fmtMs(percentile(sortedCopy(x.latencies), 99))}`)
        .join('; ');
    const causes = (s: ChainStats) => (s.taskCauses.size ? ` (${[...s.taskCauses].map(([c, n]) => `${n}× ${c}`).join(', ')})` : '');
    const taskLine = (s: ChainStats) => {
      const t = sortedCopy(s.taskMs);
      return `${fmtMs(percentile(t, 50))} / ${fmtMs(percentile(t, 95))} / ${fmtMs(t.at(-1) ?? NaN)}`;
    };
    const persistRows = realStats.persistRuns.reduce((a, b) => a + b, 0);
    const realReports = real.sent;
    const activities = [...realStats.activities].map(([n, c]) => `${n} ${fmtInt(c)}`).join(', ');
    rows.push(
      ['reports per kind / retailers / in flight / rounds', `${fmtInt(N)} / ${RETAILERS} / ${C} / ${ROUNDS}`, `alternated: ${results.map((x) => `${x.kind} ${x.round}`).join(', ')}`],
      [
        'REAL: reports answered, verdicts',
        `${fmtInt(real.sent)}, ${real.errors} errors`,
        `accepted ${fmtInt(real.verdicts.accepted)}, out of order ${fmtInt(real.verdicts.out_of_order)}, duplicate ${real.verdicts.duplicate}${real.firstError ? `; first error: ${real.firstError}` : ''}`,
      ],
      ['REAL: first report per retailer (starts its monitor) p50 / max', `${fmtMs(percentile(sortedCopy(real.firsts), 50))} / ${fmtMs(sortedCopy(real.firsts).at(-1) ?? NaN)}`, 'Update-with-Start: start, fleet context + restore from Postgres (2 activities), apply, answer'],
      ['REAL: throughput (verdict returned)', `${fmtInt(real.rate)} reports/s`, `${fmtInt(real.sent)} in ${fmt(real.seconds, 2)} s; per round: ${perRound('real')}`],
      ['REAL: latency p50 / p95 / p99 / max', pcts(real.lat), 'client-side reportIngestionRun round trip (report applied, verdict back); first reports excluded'],
      [
        'NO-OP: reports answered',
        `${fmtInt(noop.sent)}, ${noop.errors} errors`,
        `same reports, same client call (Update-with-Start), trivial workflow on its own task queue + worker process${noop.firstError ? `; first error: ${noop.firstError}` : ''}`,
      ],
      ['NO-OP: first report per retailer p50 / max', `${fmtMs(percentile(sortedCopy(noop.firsts), 50))} / ${fmtMs(sortedCopy(noop.firsts).at(-1) ?? NaN)}`, ''],
      ['NO-OP: throughput', `${fmtInt(noop.rate)} reports/s`, `${fmtInt(noop.sent)} in ${fmt(noop.seconds, 2)} s; per round: ${perRound('no-op')}`],
      ['NO-OP: latency p50 / p95 / p99 / max', pcts(noop.lat), ''],
      [
        'REAL / NO-OP ratio',
        `throughput ${ratio(real.rate, noop.rate)}`,
        `latency p50 ${ratio(real.p50, noop.p50)}, p95 ${ratio(real.p95, noop.p95)}, p99 ${ratio(real.p99, noop.p99)}`,
      ],
      [
        'applied → row inserted in ingestion_runs p50 / p95 / p99 / max',
        pcts(lagRows),
        `${fmtInt(lagRows.length)} rows; received_at (workflow time of the applying task) → INSERT time (bench-only column, clock_timestamp())`,
      ],
      [
        'all rows of a real round in Postgres, after its last verdict',
        rowsAfterRound.map((x) => (x.ms === undefined ? `r${x.round} NOT within ${settleSeconds} s` : `r${x.round} ${fmtMs(x.ms)}`)).join('; '),
        rowsAfterRound.map((x) => `r${x.round}: ${fmtInt(x.rows)} of ${fmtInt(x.expected)} rows`).join('; ') + ' (polled every 50 ms)',
      ],
      [
        'persistBatch activities / avg runs per batch',
        `${fmtInt(realStats.persistRuns.length)} / ${fmt(persistRows / Math.max(1, realStats.persistRuns.length), 1)}`,
        `max ${Math.max(0, ...realStats.persistRuns)} runs; ${realStats.persistRuns.filter((b) => b === 0).length} without runs (status only); all activities: ${activities}`,
      ],
      [
        'REAL: history events per report',
        fmt(realStats.events / Math.max(1, realReports), 2),
        `${fmtInt(realStats.events)} events in ${realStats.runs} runs (20 chains); ${fmtInt(realStats.updates)} updates accepted; ${fmtInt(realStats.tasks)} workflow tasks (${fmt(realStats.updates / Math.max(1, realStats.tasks), 2)} updates per task); largest history ${fmtBytes(realStats.maxHistory)}, largest carried input ${fmtBytes(realStats.maxInput)}`,
      ],
      [
        'NO-OP: history events per report',
        fmt(noopStats.events / Math.max(1, noop.sent), 2),
        `${fmtInt(noopStats.events)} events in ${noopStats.runs} runs; ${fmtInt(noopStats.tasks)} workflow tasks (${fmt(noopStats.updates / Math.max(1, noopStats.tasks), 2)} updates per task)`,
      ],
      ['REAL: workflow task started → completed p50 / p95 / max', taskLine(realStats), `server event times; ${realStats.taskProblems} workflow tasks failed or timed out${causes(realStats)}`],
      ['NO-OP: workflow task started → completed p50 / p95 / max', taskLine(noopStats), `${noopStats.taskProblems} failed or timed out${causes(noopStats)}`],
      [
        'alert latency, first of a group (verdict → Slack POST)',
        spacedFire.length ? `fire p50 ${fmtMs(percentile(sortedCopy(spacedFire), 50))} max ${fmtMs(Math.max(...spacedFire))}; resolve p50 ${spacedResolve.length ? fmtMs(percentile(sortedCopy(spacedResolve), 50)) : '—'} max ${spacedResolve.length ? fmtMs(Math.max(...spacedResolve)) : '—'}` : 'not measured',
        `${SPACED} retailers spaced beyond the ${fmtMs(windowMs)} group window; second failure's verdict (resp. the success's) → POST at the loopback Slack stand-in; samples fire ${spacedFire.map((m) => fmtInt(m)).join(', ')} ms, resolve ${spacedResolve.map((m) => fmtInt(m)).join(', ')} ms${spacedNotes.length ? `; ${spacedNotes.join('; ')}` : ''}`,
      ],
      [
        `alert burst: ${K} retailers fire at once`,
        `${burstPosts.length} POSTs`,
        `first of the burst (sent at once): ${burstFirst.length ? burstFirst.map((m) => fmtMs(m)).join(', ') : 'none'}; grouped follow-up naming ${burstGrouped.length} retailers: verdict → POST p50 ${burstGrouped.length ? fmtMs(percentile(sortedCopy(burstGrouped), 50)) : '—'} max ${burstGrouped.length ? fmtMs(Math.max(...burstGrouped)) : '—'} (the group window, by design)${burstMissing ? `; ${burstMissing} retailers never named at the stand-in` : ''}; incidents opened ${[...burstOpened.values()].reduce((a, b) => a + b, 0)}`,
      ],
      [
        'the load\'s alerts: Slack POSTs / alert_events rows',
        `${postsDuringLoad} / ${alertEventsDuringLoad}`,
        `fires and resolves caused by the load (10% failures, SKU drops), counted after a quiet group window; one POST per (kind, rule) window opener plus one follow-up per window`,
      ],
      [
        'fleet workflow: history events per alert event',
        fmt(fleetStats.events / Math.max(1, alertEvents), 2),
        `${fmtInt(fleetStats.events)} events in ${fleetStats.runs} runs for ${fmtInt(alertEvents)} alert_events rows; ${fmtInt(fleetStats.signals)} alertEvents signals; activities ${[...fleetStats.activities].map(([n, c]) => `${n} ${c}`).join(', ')}; ${fleetStats.taskProblems} tasks failed${causes(fleetStats)}${fleetIdle ? '' : '; fleet still had pending activities after 60 s'}${retailerIdle ? '' : '; retailer monitors still had pending activities after 30 s'}`,
      ],
      [
        'monitor worker RSS idle → after load → after all (→ after GC)',
        `${fmtBytes(memBefore.rss)} → ${fmtBytes(memAfterLoad.rss)} → ${fmtBytes(memAfter.rss)} (→ ${fmtBytes(memAfterGc.rss)})`,
        'child process: Rust core + main isolate + workflow thread; idle = after the fleet started, before the first report',
      ],
      [
        'monitor worker main-isolate heap idle → after (→ after GC)',
        `${fmtBytes(memBefore.heapUsed)} → ${fmtBytes(memAfter.heapUsed)} (→ ${fmtBytes(memAfterGc.heapUsed)})`,
        'activities, pg pool; the workflow sandbox has its own isolate (in RSS only)',
      ],
      ['no-op worker RSS idle → after', `${fmtBytes(noopMemBefore.rss)} → ${fmtBytes(noopMemAfter.rss)}`, 'the floor of a worker process with one tiny workflow bundle'],
    );
  } finally {
    log('e2e: stopping the workers, the dev server and the Slack stand-in; dropping the database');
    for (const fn of cleanup) await fn().catch((err) => console.error('cleanup:', err));
  }
  return { rows, env: envLines };
}

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
    if (interrupted) process.exit(130);
    interrupted = true;
    log('interrupted: stopping the load and cleaning up (Ctrl-C again to quit now)');
  });
  const cpus = os.cpus();
  const machine = `nproc ${os.availableParallelism()} (${cpus[0]?.model.trim() ?? 'unknown'}), ${fmt(os.totalmem() / 1024 ** 3, 1)} GiB RAM, Node ${process.version}, ${os.platform()} ${os.release()}`;
  log(`machine: ${machine}; load average ${os.loadavg().map((l) => l.toFixed(2)).join(' / ')}`);
  const micro = args.includes('--e2e-only') ? [] : microBenchmark();
  const e2e = args.includes('--micro-only') || interrupted ? { rows: [], env: [] } : await endToEnd();
  console.log();
  console.log(`machine: ${machine}`);
  for (const line of e2e.env) console.log(line);
  if (micro.length) printTable('rule engine (pure RetailerMonitor, one per retailer)', micro);
  if (e2e.rows.length) printTable('end to end (dev server + Postgres + monitor worker; no-op baseline)', e2e.rows);
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
