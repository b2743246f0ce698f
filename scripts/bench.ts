/**
 * `npm run bench` — performance figures for the monitor (printed, never asserted).
 *
 * 1. Rule engine micro-benchmark (pure MonitorState, no Temporal): applyReport throughput, the cost of the
 *    per-report signal-handler path (zod parse + applyReport + nextDeadline), evaluateTimers / nextDeadline
 *    at 50 and 500 retailers, the size of snapshot() — what continue-as-new carries — against Temporal's
 *    2 MiB payload limit, and heap per retailer.
 * 2. End to end: a real dev server (`temporal server start-dev`, in memory, 127.0.0.1) + a fresh database on
 *    the local Postgres (TEST_DATABASE_URL) + the real monitor worker (createTestMonitorWorker, no alert
 *    channels) in a child process of this script, so its RSS / heap are the worker's own. N reports for 20
 *    retailers go in as signals with C in flight; then it waits for the `status` query and for the rows in
 *    `ingestion_runs`, and reads the histories of the whole continue-as-new chain.
 *
 *   BENCH_REPORTS       reports sent end to end (default 5000, at most 100000)
 *   BENCH_CONCURRENCY   signals in flight (default 16, at most 256)
 *   BENCH_MAX_SECONDS   stop sending after this long (default 240)
 *   BENCH_SETTLE_SECONDS  how long to wait for the status query, and then for the rows (default 120 each)
 *   --micro-only / --e2e-only
 *
 * A monitor that falls behind or gets stuck is a figure too: the waits are bounded and report "NOT within …"
 * with the pending activity's last failure, and the workflow-task failure causes come from the histories.
 *
 * Everything targets loopback only: the dev server binds 127.0.0.1, and a non-loopback Postgres URL is refused.
 */
import { fork, type ChildProcess } from 'node:child_process';
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
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { reportIngestionRun } from '../src/client';
import { createDb } from '../src/db/database';
import { KEEP, MonitorState } from '../src/rules/monitor-state';
import { HOUR_MS } from '../src/rules/thresholds';
import type { MonitorSnapshot, MonitorStatus } from '../src/rules/types';
import { DEFAULTS, ingestionCompletedSignal, statusQuery } from '../src/shared/messages';
import { parseRunReport, type RunReport, type RunReportInput } from '../src/shared/report';
import { createTestMonitorWorker, testConfig } from '../test/helpers/monitor';
import { ADMIN_URL, createTestDatabase, type TestDatabase } from '../test/helpers/postgres';
import { createDevServerEnv } from '../test/helpers/temporal';

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

/** A state after `perRetailer` hourly runs of each retailer (recentRunIds full at >= 500). */
function steadyState(retailers: number, perRetailer: number, seed: number): { state: MonitorState; lastNow: number } {
  const rng = mulberry32(seed);
  const state = new MonitorState();
  let lastNow = 0;
  for (const { report, now } of hourlyReports(profiles(retailers, rng), perRetailer, rng)) {
    state.applyReport(parsed(report), now);
    lastNow = now;
  }
  return { state, lastNow };
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

  // Warm the JIT on a throwaway state, then measure three fresh runs and keep the median.
  {
    const warm = new MonitorState();
    for (const { report, now } of reports.slice(0, 20_000)) warm.applyReport(report, now);
  }
  const applyRates: number[] = [];
  let outcomes = { accepted: 0, alerts: 0 };
  for (let rep = 0; rep < 3; rep++) {
    const state = new MonitorState();
    let alerts = 0;
    const start = performance.now();
    for (const { report, now } of reports) alerts += state.applyReport(report, now).alerts.length;
    const ms = performance.now() - start;
    applyRates.push(reports.length / (ms / 1000));
    outcomes = { accepted: state.counters.accepted, alerts };
  }
  applyRates.sort((a, b) => a - b);
  const applyRate = applyRates[1]!;
  rows.push([
    `applyReport throughput (${RETAILERS} retailers × ${fmtInt(PER)} reports)`,
    `${fmtInt(applyRate)} reports/s`,
    `${fmtUs(1000 / applyRate)}/report; median of 3; ${fmtInt(outcomes.alerts)} alert events (${fmt((outcomes.alerts / reports.length) * 100, 2)}% of reports)`,
  ]);

  // What the signal handler does per report: zod parse + applyReport + nextDeadline (deadlineMayHaveMoved).
  const handlerRate = (() => {
    const state = new MonitorState();
    const start = performance.now();
    for (const { report, now } of inputs) {
      const p = parseRunReport(report);
      if (p.ok) state.applyReport(p.report, now);
      state.nextDeadline();
    }
    return inputs.length / ((performance.now() - start) / 1000);
  })();
  rows.push([
    `signal-handler path: parse + applyReport + nextDeadline (${RETAILERS} retailers)`,
    `${fmtInt(handlerRate)} reports/s`,
    `${fmtUs(1000 / handlerRate)}/report (zod validation included)`,
  ]);
  inputs.length = 0;
  reports.length = 0;

  // Steady state: every retailer has more than KEEP.recentRunIds runs, so the duplicate memory is full.
  const PER_STEADY = KEEP.recentRunIds + 100;
  const snapshots: Record<number, MonitorSnapshot> = {};
  for (const n of [50, 500]) {
    log(`micro: steady state for ${n} retailers (${PER_STEADY} hourly runs each)`);
    const h0 = settledHeap();
    let { state, lastNow } = steadyState(n, PER_STEADY, 7 + n);
    const h1 = settledHeap();
    rows.push([`heap per retailer (${n} retailers, steady state)`, fmtBytes((h1 - h0) / n), `MonitorState total ${fmtBytes(h1 - h0)}, incl. the runId index`]);

    const quiet = lastNow + 60_000; // nothing is due
    const nd = timeCalls(() => state.nextDeadline(), 200_000, 1_000);
    rows.push([`nextDeadline() with ${n} retailers`, fmtUs(nd.perCallMs), `per call (${fmtInt(nd.calls)} calls); runs once per report in the signal handler`]);
    const ev = timeCalls(() => state.evaluateTimers(quiet), 200_000, 1_000);
    rows.push([`evaluateTimers() with ${n} retailers, nothing due`, fmtUs(ev.perCallMs), `per call (${fmtInt(ev.calls)} calls)`]);

    const snap = state.snapshot();
    snapshots[n] = snap;
    const allDue = new MonitorState(snap);
    const t0 = performance.now();
    const fired = allDue.evaluateTimers(lastNow + 5 * HOUR_MS).length;
    rows.push([`evaluateTimers() with ${n} retailers, all stale`, fmtMs(performance.now() - t0), `one call, ${fired} stale incidents opened`]);

    // Per-report cost at this retailer count (nextDeadline is O(retailers)): a few thousand more hourly runs.
    const prng = mulberry32(99 + n);
    const more = [...hourlyReports(profiles(n, prng), Math.ceil(15_000 / n), prng, lastNow + HOUR_MS)];
    const chunk = Math.ceil(more.length / 3);
    const chunkRates: number[] = [];
    for (let c = 0; c < 3; c++) {
      const part = more.slice(c * chunk, (c + 1) * chunk);
      const hStart = performance.now();
      for (const { report, now } of part) {
        const p = parseRunReport(report);
        if (p.ok) state.applyReport(p.report, now);
        state.nextDeadline();
      }
      chunkRates.push(part.length / ((performance.now() - hStart) / 1000));
    }
    const hRate = chunkRates.sort((a, b) => a - b)[1]!;
    rows.push([`signal-handler path at ${n} retailers, steady state`, `${fmtInt(hRate)} reports/s`, `${fmtUs(1000 / hRate)}/report; median of 3 × ${fmtInt(chunk)}`]);

    const snapMs = timeCalls(() => state.snapshot(), 50, 3_000).perCallMs;
    const restoreMs = timeCalls(() => new MonitorState(snap), 50, 3_000).perCallMs;
    rows.push([`snapshot() / restore with ${n} retailers`, `${fmtMs(snapMs)} / ${fmtMs(restoreMs)}`, 'JSON deep copy out; deep copy + runId index in (each continue-as-new)']);
    state = undefined as unknown as MonitorState;
  }

  for (const n of [50, 500]) {
    const snap = snapshots[n]!;
    const total = Buffer.byteLength(JSON.stringify(snap));
    const ids = Object.values(snap.retailers).reduce((a, r) => a + Buffer.byteLength(JSON.stringify(r.recentRunIds)), 0);
    const runs = Object.values(snap.retailers).reduce((a, r) => a + Buffer.byteLength(JSON.stringify(r.recentRuns)), 0);
    const fixed = Buffer.byteLength(JSON.stringify({ ...snap, retailers: {} }));
    const perRetailer = (total - fixed) / n;
    const verdict = total > BLOB_LIMIT ? 'OVER the 2 MiB limit' : total > BLOB_WARN ? 'over the 512 KiB warning' : 'under the 512 KiB warning';
    rows.push([
      `snapshot() JSON, ${n} retailers, steady state`,
      fmtBytes(total),
      `${fmt((total / BLOB_LIMIT) * 100, 0)}% of 2 MiB (${verdict}); recentRunIds ${fmt((ids / total) * 100, 0)}%, recentRuns ${fmt((runs / total) * 100, 0)}%, recentAlerts+rest ${fmtBytes(total - ids - runs)}; ${fmtBytes(perRetailer)}/retailer`,
    ]);
    if (n === 50) {
      rows.push([
        'retailers at steady state that fit in one continue-as-new payload',
        `${fmtInt(Math.floor((BLOB_LIMIT - fixed) / perRetailer))} (2 MiB) / ${fmtInt(Math.floor((BLOB_WARN - fixed) / perRetailer))} (512 KiB warning)`,
        `from ${fmtBytes(perRetailer)} per retailer; the carried pending work comes on top`,
      ]);
    }
  }
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

/** The monitor worker, run in a child process (`--monitor-worker`) so its memory is measured on its own. */
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
  const send = (m: FromChild) => process.send!(m);
  const env = await TestWorkflowEnvironment.createFromExistingServer({ address, namespace: 'default' });
  const db = createDb(url);
  const tdb: TestDatabase = { url, name: 'bench', db, drop: async () => undefined };
  const worker = await createTestMonitorWorker(env, testConfig({ taskQueue, databaseUrl: url }), tdb);
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
    await db.destroy();
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
      const timer = setTimeout(() => reject(new Error(`monitor worker not ready after ${timeoutMs} ms`)), timeoutMs);
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
        reject(new Error(`monitor worker exited (${code}) before it was ready`));
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

let interrupted = false;

async function endToEnd(): Promise<Row[]> {
  const N = envInt('BENCH_REPORTS', 5_000, 20, 100_000);
  const C = envInt('BENCH_CONCURRENCY', 16, 1, 256);
  const maxSeconds = envInt('BENCH_MAX_SECONDS', 240, 10, 1_800);
  const settleSeconds = envInt('BENCH_SETTLE_SECONDS', 120, 5, 1_800);
  const RETAILERS = 20;
  const maxReportsPerRun: number = DEFAULTS.maxReportsPerRun;
  if (!isLoopback(new URL(ADMIN_URL).hostname)) throw new Error(`refusing a non-loopback Postgres (${new URL(ADMIN_URL).hostname}): the bench targets loopback only`);

  log('e2e: starting the dev server (127.0.0.1) and a fresh database');
  const cleanup: Array<() => Promise<unknown>> = [];
  const rows: Row[] = [];
  try {
    const [env, tdb] = await Promise.all([createDevServerEnv(), createTestDatabase('im_bench')]);
    cleanup.push(() => env.teardown(), () => tdb.drop());
    if (!isLoopback(env.address.replace(/:\d+$/, ''))) throw new Error(`dev server is not on loopback: ${env.address}`);
    const taskQueue = 'monitor-bench';
    const workflowId = `ingestion-monitor-bench-${Date.now()}`;

    log('e2e: starting the monitor worker (child process; bundles the workflow code)');
    const child = await WorkerChild.start({ BENCH_TEMPORAL_ADDRESS: env.address, BENCH_DATABASE_URL: tdb.url, BENCH_TASK_QUEUE: taskQueue }, 120_000);
    cleanup.unshift(() => child.stop());
    const memBefore = await child.mem(true);

    // N reports, retailer i % 20, finished in the recent past (the newest 0.1 s before sending started),
    // so no stale clock is anywhere near due; same 10% failure / SKU-drop mix as the micro-benchmark.
    const rng = mulberry32(2026);
    const ps = profiles(RETAILERS, rng);
    const sendStartWall = Date.now();
    const reports = Array.from({ length: N }, (_, i) => makeReport(ps[i % RETAILERS]!, sendStartWall - 100 - (N - 1 - i) * 50, rng));

    const target = { workflowId, taskQueue, startInput: { maxReportsPerRun } };
    log(`e2e: sending ${fmtInt(N)} reports for ${RETAILERS} retailers, ${C} in flight (maxReportsPerRun ${maxReportsPerRun})`);
    const t0 = performance.now();
    const handle = await reportIngestionRun(env.client, reports[0]!, target); // signal-with-start
    const firstMs = performance.now() - t0;
    const firstRunId = (await handle.describe()).runId;

    const latencies: number[] = [];
    let worst = { ms: 0, at: 0 };
    let next = 1;
    let errors = 0;
    let firstError: string | undefined;
    const loadStart = performance.now();
    const loadDeadline = loadStart + maxSeconds * 1000;
    await Promise.all(
      Array.from({ length: C }, async () => {
        while (next < N && performance.now() < loadDeadline && !interrupted) {
          const i = next++;
          const s = performance.now();
          try {
            await handle.signal(ingestionCompletedSignal, reports[i]!);
            const ms = performance.now() - s;
            latencies.push(ms);
            if (ms > worst.ms) worst = { ms, at: s - loadStart };
          } catch (err) {
            errors++;
            firstError ??= String(err);
          }
        }
      }),
    );
    const loadEnd = performance.now();
    const sent = 1 + latencies.length;
    if (sent < N) log(`e2e: sent only ${sent} of ${N} reports (time limit ${maxSeconds} s or interrupted)`);
    if (errors) log(`e2e: ${errors} signal errors, first: ${firstError}`);

    log(`e2e: load done; waiting for the status query and the rows (at most ${settleSeconds} s each)`);
    let lastCounters: MonitorStatus['counters'] | undefined;
    let queryError: string | undefined;
    const counted = await poll(async () => {
      try {
        const c = (lastCounters = (await handle.query(statusQuery)).counters);
        return c.accepted + c.outOfOrder + c.duplicates + c.rejected >= sent && c;
      } catch (err) {
        queryError = String((err as Error)?.cause ?? err).slice(0, 200);
        return undefined;
      }
    }, settleSeconds * 1000);
    const statusAt = performance.now();
    const counters = counted ?? lastCounters;
    if (!counted) log(`e2e: the status query never counted every report${queryError ? `; last query error: ${queryError}` : ''}`);
    const countRows = async () => {
      const { rows: [r] } = await sql<{ n: string }>`select count(*)::text as n from ingestion_runs`.execute(tdb.db);
      return Number(r!.n);
    };
    const allRows = await poll(async () => (await countRows()) >= sent, settleSeconds * 1000);
    const rowsAt = performance.now();
    const dbRows = await countRows();
    // Let the last persistBatch (status rows, alert records) finish before reading histories.
    const idle = await poll(async () => ((await handle.describe()).raw.pendingActivities?.length ?? 0) === 0, allRows ? 30_000 : 1_000);
    let stuck: string | undefined;
    if (!idle) {
      const pa = (await handle.describe()).raw.pendingActivities ?? [];
      stuck = pa.map((a) => `${a.activityType?.name} attempt ${a.attempt}: ${a.lastFailure?.message ?? 'no failure yet'}`).join('; ');
      log(`e2e: activities still pending: ${stuck}`);
    }

    log('e2e: reading the histories of the continue-as-new chain');
    const loadStartWall = Date.now() - (performance.now() - loadStart);
    const chain: Array<{ runId: string; startedAt: number; events: number; bytes: number; inputBytes: number; signals: number; tasks: number; taskProblems: number; batches: number[] }> = [];
    const taskMs: number[] = [];
    const taskCauses = new Map<string, number>();
    let runId: string | undefined = firstRunId;
    while (runId && chain.length < 1_000) {
      const history: temporal.api.history.v1.IHistory = await env.client.workflow.getHandle(workflowId, runId).fetchHistory();
      const events = history.events ?? [];
      const batches: number[] = [];
      let signals = 0;
      let tasks = 0;
      let taskProblems = 0;
      let startedAt: number | undefined;
      for (const e of events) {
        const at = e.eventTime ? Number(e.eventTime.seconds ?? 0) * 1000 + Math.floor((e.eventTime.nanos ?? 0) / 1e6) : 0;
        if (e.workflowExecutionSignaledEventAttributes) signals++;
        if (e.workflowTaskStartedEventAttributes) startedAt = at;
        if (e.workflowTaskCompletedEventAttributes) {
          tasks++;
          if (startedAt !== undefined) taskMs.push(at - startedAt);
        }
        if (e.workflowTaskFailedEventAttributes || e.workflowTaskTimedOutEventAttributes) {
          taskProblems++;
          const cause = e.workflowTaskFailedEventAttributes
            ? (temporal.api.enums.v1.WorkflowTaskFailedCause[e.workflowTaskFailedEventAttributes.cause ?? 0] ?? 'unknown').replace('WORKFLOW_TASK_FAILED_CAUSE_', '')
            : 'TIMED_OUT';
          taskCauses.set(cause, (taskCauses.get(cause) ?? 0) + 1);
        }
        const a = e.activityTaskScheduledEventAttributes;
        if (a?.activityType?.name === 'persistBatch') {
          const [batch] = (a.input?.payloads ?? []).map((p) => defaultPayloadConverter.fromPayload<{ runs: unknown[] }>(p));
          batches.push(batch?.runs.length ?? 0);
        }
      }
      const input = events[0]?.workflowExecutionStartedEventAttributes?.input?.payloads?.[0]?.data;
      const first = events[0]?.eventTime;
      chain.push({
        runId,
        startedAt: first ? Number(first.seconds ?? 0) * 1000 + Math.floor((first.nanos ?? 0) / 1e6) - loadStartWall : 0,
        events: events.length,
        bytes: temporal.api.history.v1.History.encode(history).finish().length,
        inputBytes: input?.length ?? 0,
        signals,
        tasks,
        taskProblems,
        batches,
      });
      runId = events.at(-1)?.workflowExecutionContinuedAsNewEventAttributes?.newExecutionRunId ?? undefined;
    }
    const memAfter = await child.mem(false);
    const memAfterGc = await child.mem(true);

    // ---- figures ----
    const sorted = [...latencies].sort((a, b) => a - b);
    const loadS = (loadEnd - loadStart) / 1000;
    const batches = chain.flatMap((r) => r.batches);
    const totalEvents = chain.reduce((a, r) => a + r.events, 0);
    const totalSignals = chain.reduce((a, r) => a + r.signals, 0);
    const totalTasks = chain.reduce((a, r) => a + r.tasks, 0);
    const rowsInBatches = batches.reduce((a, b) => a + b, 0);
    rows.push(
      ['reports sent / retailers / in flight', `${fmtInt(sent)} / ${RETAILERS} / ${C}`, `maxReportsPerRun ${maxReportsPerRun} (start input); ${errors} signal errors`],
      ['first report (signal-with-start) latency', fmtMs(firstMs), 'starts the monitor'],
      ['client signal throughput', `${fmtInt((sent - 1) / loadS)} reports/s`, `${fmtInt(sent - 1)} signals in ${fmt(loadS, 2)} s`],
      ['signal latency p50 / p95 / p99 / max', `${fmtMs(percentile(sorted, 50))} / ${fmtMs(percentile(sorted, 95))} / ${fmtMs(percentile(sorted, 99))} / ${fmtMs(sorted.at(-1) ?? NaN)}`, `client-side, handle.signal round trip; the slowest was sent at +${fmt(worst.at / 1000, 2)} s`],
      [
        'status query counts every report',
        counted ? `${fmt((statusAt - loadStart) / 1000, 2)} s after the first signal` : `NOT within ${settleSeconds} s`,
        `${counted ? `${fmtMs(statusAt - loadEnd)} after the last ack (±200 ms poll); ` : ''}${
          counters
            ? `accepted ${fmtInt(counters.accepted)}, out of order ${fmtInt(counters.outOfOrder)}, duplicates ${counters.duplicates}, rejected ${counters.rejected}`
            : 'no answer'
        }${!counted && queryError ? `; last query error: ${queryError}` : ''}`,
      ],
      [
        'all rows in ingestion_runs',
        allRows ? `${fmt((rowsAt - loadStart) / 1000, 2)} s after the first signal` : `NOT within ${settleSeconds} s`,
        `${allRows ? `${fmtMs(rowsAt - loadEnd)} after the last ack; ` : ''}${fmtInt(dbRows)} of ${fmtInt(sent)} rows${stuck ? `; still pending: ${stuck.slice(0, 300)}` : ''}`,
      ],
      [
        'persistBatch activities / avg rows per batch',
        `${fmtInt(batches.length)} / ${fmt(rowsInBatches / Math.max(1, batches.length), 1)}`,
        `runs per batch max ${Math.max(0, ...batches)} (Postgres takes at most 4,095: 65,535 bind parameters / 16 columns), ${batches.filter((b) => b === 0).length} without runs`,
      ],
      [
        'runs in the continue-as-new chain',
        `${chain.length}`,
        `started at ${chain.map((r) => `${r.startedAt >= 0 ? '+' : ''}${fmt(r.startedAt / 1000, 2)} s`).join(', ')}; reports per run ${chain.map((r) => fmtInt(r.signals)).join(', ')}; events per run ${chain.map((r) => fmtInt(r.events)).join(', ')}; history ${chain.map((r) => fmtBytes(r.bytes)).join(', ')}; carried input ${chain.map((r) => fmtBytes(r.inputBytes)).join(', ')}`,
      ],
      [
        'history events per report',
        fmt(totalEvents / sent, 2),
        `${fmtInt(totalEvents)} events; ${fmtInt(totalSignals)} signal events; ${fmtInt(totalTasks)} workflow tasks (${fmt(totalSignals / Math.max(1, totalTasks), 1)} signals per task)`,
      ],
      [
        'workflow task started → completed p50 / p95 / max',
        (() => {
          const t = [...taskMs].sort((a, b) => a - b);
          return `${fmtMs(percentile(t, 50))} / ${fmtMs(percentile(t, 95))} / ${fmtMs(t.at(-1) ?? NaN)}`;
        })(),
        `server event times; ${chain.reduce((a, r) => a + r.taskProblems, 0)} workflow tasks failed or timed out${taskCauses.size ? ` (${[...taskCauses].map(([c, n]) => `${n}× ${c}`).join(', ')})` : ''}`,
      ],
      ['worker RSS before → after (→ after GC)', `${fmtBytes(memBefore.rss)} → ${fmtBytes(memAfter.rss)} (→ ${fmtBytes(memAfterGc.rss)})`, 'child process: Rust core + main isolate + workflow thread'],
      [
        'worker main-isolate heap before → after (→ after GC)',
        `${fmtBytes(memBefore.heapUsed)} → ${fmtBytes(memAfter.heapUsed)} (→ ${fmtBytes(memAfterGc.heapUsed)})`,
        'activities, pg pool; the workflow sandbox has its own isolate (in RSS only)',
      ],
    );
  } finally {
    log('e2e: stopping the worker, the dev server and dropping the database');
    for (const fn of cleanup) await fn().catch((err) => console.error('cleanup:', err));
  }
  return rows;
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
  const machine = `${os.availableParallelism()} CPUs (${cpus[0]?.model.trim() ?? 'unknown'}), ${fmt(os.totalmem() / 1024 ** 3, 1)} GiB RAM, Node ${process.version}, ${os.platform()} ${os.release()}`;
  log(`machine: ${machine}`);
  const micro = args.includes('--e2e-only') ? [] : microBenchmark();
  const e2e = args.includes('--micro-only') || interrupted ? [] : await endToEnd();
  console.log();
  console.log(`machine: ${machine}`);
  if (micro.length) printTable('rule engine (pure MonitorState)', micro);
  if (e2e.length) printTable('end to end (dev server + Postgres + monitor worker)', e2e);
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
