/** Shared pieces of scripts/bench.ts: formatting, report generation, the worker child, history statistics. */
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
import { DefaultLogger, Runtime, Worker } from '@temporalio/worker';
import { reportIngestionRun, retailerHandle, type MonitorTarget } from '../src/client';
import { createDb } from '../src/db/database';
import { KEEP, RetailerMonitor } from '../src/rules/retailer-monitor';
import { HOUR_MS } from '../src/rules/thresholds';
import type { RetailerSnapshot } from '../src/rules/types';
import { timestampMs } from '../src/shared/duration';
import { fleetConfigQuery } from '../src/shared/messages';
import { parseRunReport, type RunReport, type RunReportInput } from '../src/shared/report';
import { ensureFleet } from '../src/worker';
import { startCaptureServer, type Captured } from '../test/helpers/capture-server';
import { createActivities } from '../src/activities';
import { testConfig, workflowBundle } from '../test/helpers/monitor';
import { ADMIN_URL, createTestDatabase, type TestDatabase } from '../test/helpers/postgres';
import { createDevServerEnv, temporalCliPath } from '../test/helpers/temporal';

// ---- small utilities ------------------------------------------------------------------------------------

export const MiB = 1024 * 1024;
/** Temporal's default per-payload limits (dynamic config limit.blobSize.error / .warn). */
export const BLOB_LIMIT = 2 * MiB;
export const BLOB_WARN = 512 * 1024;

export function envInt(name: string, dflt: number, min: number, max: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw.trim() === '') return dflt;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max) throw new Error(`${name} must be an integer in [${min}, ${max}], got "${raw}"`);
  return n;
}

/** Deterministic PRNG so every run sends the same mix of failures and SKU drops. */
export function mulberry32(seed: number): () => number {
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
export const gc = vm.runInNewContext('gc') as () => void;
export function settledHeap(): number {
  for (let i = 0; i < 3; i++) gc();
  return process.memoryUsage().heapUsed;
}

export const fmtInt = (n: number) => Math.round(n).toLocaleString('en-US');
export const fmt = (n: number, digits = 1) => n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
export const fmtBytes = (b: number) => (b >= MiB ? `${fmt(b / MiB, 2)} MiB` : b >= 1024 ? `${fmt(b / 1024, 1)} KiB` : `${b} B`);
export const fmtMs = (ms: number) => (ms >= 10_000 ? `${fmt(ms / 1000, 1)} s` : `${fmt(ms, ms < 10 ? 2 : 0)} ms`);
export const fmtUs = (ms: number) => `${fmt(ms * 1000, ms * 1000 < 10 ? 2 : 1)} µs`;
export const log = (line: string) => console.log(`[${new Date().toISOString().slice(11, 19)}] ${line}`);

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

/** Call `fn` repeatedly, bounded by count and time; returns mean ms per call. */
export function timeCalls(fn: () => unknown, maxCalls: number, maxMs: number): { perCallMs: number; calls: number } {
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

export const NAMES = ['checkers', 'pick-n-pay', 'woolworths', 'spar', 'shoprite', 'makro', 'game', 'dis-chem', 'clicks', 'food-lovers'];
export const ERRORS = [
  'Navigation timeout of 30000 ms exceeded',
  'HTTP 503 Service Unavailable from retailer site',
  'HTTP 429 Too Many Requests (Retry-After: 120)',
  "TypeError: Cannot read properties of undefined (reading 'price') at parseProductCard (scraper/parse.ts:88:31)",
  'net::ERR_CONNECTION_RESET at https://www.example-retailer.co.za/c/food',
];

export interface Profile {
  slug: string;
  baseSku: number;
  basePromo: number;
  offsetMs: number;
  durationMs: number;
}

export function profiles(count: number, rng: () => number): Profile[] {
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
export function makeReport(p: Profile, finishedAt: number, rng: () => number): RunReportInput {
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

export interface Timed<T> {
  report: T;
  now: number;
}

/** Hourly runs of every retailer, interleaved in time order of arrival; `now` is 2 s after the run finished. */
export function* hourlyReports(ps: Profile[], perRetailer: number, rng: () => number, t0 = Date.UTC(2026, 10, 1)): Generator<Timed<RunReportInput>> {
  for (let k = 0; k < perRetailer; k++) {
    for (const p of ps) {
      const finishedAt = t0 + k * HOUR_MS + p.offsetMs;
      // Through JSON like a signal payload: flat strings, as the workflow sees them (randomUUID() and
      // template literals build cons strings that would inflate the heap figures several times over).
      yield { report: JSON.parse(JSON.stringify(makeReport(p, finishedAt, rng))) as RunReportInput, now: finishedAt + 2_000 };
    }
  }
}

export function parsed(input: RunReportInput): RunReport {
  const r = parseRunReport(input);
  if (!r.ok) throw new Error(`generated report is invalid: ${r.reason}`);
  return r.report;
}

/** One RetailerMonitor per retailer, as the workflows hold them; created on a retailer's first report. */
// ---- 2. end to end -------------------------------------------------------------------------------------------

export interface Mem {
  rss: number;
  heapUsed: number;
  heapTotal: number;
  external: number;
}
export type ToChild = { type: 'mem'; id: number; gc: boolean } | { type: 'stop' };
export type FromChild = { type: 'ready' } | { type: 'mem'; id: number; mem: Mem } | { type: 'error'; message: string };

export function isLoopback(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '');
  return h === 'localhost' || h === '::1' || /^127\./.test(h);
}

/**
 * A worker in a child process (`--monitor-worker`) so its memory is measured on its own.
 * BENCH_WORKER_MODE=monitor: the real monitor worker (real activities, Postgres, Slack at BENCH_SLACK_URL).
 * BENCH_WORKER_MODE=noop: only scripts/bench-noop-workflow.ts, no activities.
 */
export async function childMain(): Promise<void> {
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
  const env = await TestWorkflowEnvironment.createFromExistingServer({ address, namespace: 'default' });
  const db = mode === 'monitor' ? createDb(url) : undefined;
  // Worker options the bench may set (the same for both kinds): BENCH_MAX_CACHED, BENCH_WORKFLOW_THREADS.
  const tuning = benchTuning();
  const worker =
    mode === 'monitor'
      ? await Worker.create({
          connection: env.nativeConnection,
          namespace: 'default',
          taskQueue,
          workflowBundle: await workflowBundle(),
          activities: createActivities(testConfig({ taskQueue, databaseUrl: url, ...(process.env.BENCH_SLACK_URL ? { slackWebhookUrl: process.env.BENCH_SLACK_URL } : {}) }), db!, env.client),
          ...tuning,
        })
      : await Worker.create({
          connection: env.nativeConnection,
          namespace: 'default',
          taskQueue,
          workflowsPath: require.resolve('./bench-noop-workflow'),
          ...tuning,
        });
  console.error(`[worker INFO] ${mode}: maxCachedWorkflows ${worker.options.maxCachedWorkflows}, workflow threads ${worker.options.workflowThreadPoolSize}`);
  const running = worker.run();
  serveParent(worker, gc);
  try {
    await running;
  } finally {
    await db?.destroy();
    await env.teardown();
    process.disconnect(); // the IPC channel would keep this process alive
  }
}

// Plain JavaScript, shared with scripts/bench-worker-child.js (messages: ToChild in, FromChild out).
const { benchTuning, serveParent } = require('./bench-child-ipc.js') as {
  benchTuning: () => { maxCachedWorkflows?: number; workflowThreadPoolSize?: number };
  serveParent: (worker: Worker, gc: () => void) => void;
};

export class WorkerChild {
  private nextId = 0;
  private waiters = new Map<number, (m: Mem) => void>();
  readonly exited: Promise<number | null>;
  /** The child's output lines (bounded: the first 2,000 kept), and counts of lines that matter to the bench. */
  readonly lines: string[] = [];
  readonly counts = { lines: 0, payloadWarnings: 0, taskFailures: 0, warnings: 0 };
  /** Distinct WARN/ERROR messages (their first 120 characters, digits masked) and how often each came. */
  readonly warningKinds = new Map<string, number>();
  onLine(line: string): void {
    this.counts.lines++;
    if (this.lines.length < 2_000) this.lines.push(line);
    if (/TMPRL1103|payload size/i.test(line)) this.counts.payloadWarnings++;
    if (/workflow task (failed|timed out)|Failing workflow task|Script execution timed out|WorkflowTaskTimedOut|DeadlockError|Potential deadlock/i.test(line)) this.counts.taskFailures++;
    if (/\b(WARN|ERROR)\b/.test(line)) {
      this.counts.warnings++;
      // Colour codes out, digits masked (times, ids) but not in SDK codes such as TMPRL1100.
      const plain = line.replace(/\x1b\[[0-9;]*m/g, '');
      const kind = plain.replace(/\d+/g, (m, at: number) => (plain.slice(at - 5, at) === 'TMPRL' ? m : '#')).slice(0, 160);
      if (this.warningKinds.has(kind) || this.warningKinds.size < 50) this.warningKinds.set(kind, (this.warningKinds.get(kind) ?? 0) + 1);
    }
    if (process.env.BENCH_WORKER_LOG === '1') console.error(line);
  }
  private constructor(readonly proc: ChildProcess) {
    proc.on('message', (m: FromChild) => {
      if (m.type === 'mem') this.waiters.get(m.id)?.(m.mem);
    });
    this.exited = new Promise((resolve) => proc.on('exit', (code) => resolve(code)));
  }

  /**
   * `tsx`: this file's `childMain` under tsx, bundling its workflow code with webpack at start (either kind);
   * `dist`: the monitor worker as users run it, scripts/bench-worker-child.js on dist/ with plain node.
   */
  static async start(env: Record<string, string>, timeoutMs: number, entry: 'tsx' | 'dist' = 'tsx'): Promise<WorkerChild> {
    const [modulePath, args, execArgv] =
      entry === 'dist'
        ? [require.resolve('./bench-worker-child.js'), [], (process.env.BENCH_WORKER_NODE_ARGS ?? '').split(' ').filter(Boolean)]
        : [require.resolve('./bench'), ['--monitor-worker'], process.execArgv]; // keeps tsx's loader
    const proc = fork(modulePath, args, { env: { ...process.env, ...env }, execArgv, stdio: ['ignore', 'pipe', 'pipe', 'ipc'] });
    const child = new WorkerChild(proc);
    for (const stream of [proc.stdout!, proc.stderr!]) {
      let rest = '';
      stream.setEncoding('utf8');
      stream.on('data', (chunk: string) => {
        const lines = (rest + chunk).split('\n');
        rest = lines.pop()!;
        for (const line of lines) child.onLine(line);
      });
    }
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
export async function poll<T>(fn: () => Promise<T | undefined | false>, timeoutMs: number, everyMs = 200): Promise<T | undefined> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline || state.interrupted) return undefined;
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

export const sleepMs = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Set on Ctrl-C: every loop stops sending and the bench cleans up. */
export const state = { interrupted: false };

export const sortedCopy = (xs: number[]) => [...xs].sort((a, b) => a - b);
export const pcts = (xs: number[], ps = [50, 95, 99]) => {
  const s = sortedCopy(xs);
  return [...ps.map((p) => fmtMs(percentile(s, p))), fmtMs(s.at(-1) ?? NaN)].join(' / ');
};

/** What the histories of one workflow id's continue-as-new chain hold. */
export interface ChainStats {
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
  /** The first few failed or timed-out workflow tasks: where, and the events around them (to read why). */
  problemTimelines: string[];
}

export function emptyStats(): ChainStats {
  return { runs: 0, events: 0, updates: 0, signals: 0, tasks: 0, taskProblems: 0, taskCauses: new Map(), taskMs: [], maxHistory: 0, maxInput: 0, persistRuns: [], activities: new Map(), problemTimelines: [] };
}

/** Events from the task before a failed or timed-out one to a few after, with ms from the first shown. */
function problemTimeline(workflowId: string, runId: string, events: temporal.api.history.v1.IHistoryEvent[], i: number): string {
  const ms = (e: temporal.api.history.v1.IHistoryEvent) => timestampMs(e.eventTime) ?? 0;
  let from = i;
  for (let seen = 0; from > 0 && seen < 2; from--) if (events[from - 1]!.workflowTaskScheduledEventAttributes) seen++;
  const shown = events.slice(from, i + 6);
  const t0 = ms(shown[0]!);
  const name = (e: temporal.api.history.v1.IHistoryEvent) => (temporal.api.enums.v1.EventType[e.eventType ?? 0] ?? '?').replace('EVENT_TYPE_', '');
  // The full run id and the wall time, to set beside the dev server's own log lines of that moment.
  return `${workflowId} run ${runId} event ${events[i]!.eventId}, from ${new Date(t0).toISOString()}: ${shown.map((e) => `${e.eventId} ${name(e)} +${Math.round(ms(e) - t0)}ms`).join(', ')}`;
}

/** Walk a workflow id's chain from the current run back to the first (each run's start names the run it continues). */
export async function chainStats(client: import('@temporalio/client').Client, workflowId: string, into: ChainStats = emptyStats()): Promise<ChainStats> {
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
      const at = timestampMs(e.eventTime) ?? 0;
      if (e.workflowExecutionUpdateAcceptedEventAttributes) into.updates++;
      if (e.workflowExecutionSignaledEventAttributes) into.signals++;
      if (e.workflowTaskStartedEventAttributes) startedAt = at;
      if (e.workflowTaskCompletedEventAttributes) {
        into.tasks++;
        if (startedAt !== undefined) into.taskMs.push(at - startedAt);
      }
      if (e.workflowTaskFailedEventAttributes || e.workflowTaskTimedOutEventAttributes) {
        into.taskProblems++;
        if (into.problemTimelines.length < 5) into.problemTimelines.push(problemTimeline(workflowId, runId, events, events.indexOf(e)));
        const cause = e.workflowTaskFailedEventAttributes
          ? (temporal.api.enums.v1.WorkflowTaskFailedCause[e.workflowTaskFailedEventAttributes.cause ?? 0] ?? 'unknown').replace('WORKFLOW_TASK_FAILED_CAUSE_', '')
          : // SCHEDULE_TO_START: a busy worker left it on its sticky queue and the server moved it to the shared
            // queue; START_TO_CLOSE: a worker held it past the task timeout (the one that means a stuck task).
            `TIMED_OUT ${(temporal.api.enums.v1.TimeoutType[e.workflowTaskTimedOutEventAttributes?.timeoutType ?? 0] ?? 'unknown').replace('TIMEOUT_TYPE_', '')}`;
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
export interface RoundResult {
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

export async function sendRound(
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
      while (next < reports.length && performance.now() < deadline && !state.interrupted) {
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
export function probeReport(retailer: string, finishedAt: number, outcome: Pick<RunReportInput, 'status'> & Partial<RunReportInput>): RunReportInput {
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
export function failureReport(retailer: string, finishedAt: number, error = 'HTTP 503 Service Unavailable from retailer site'): RunReportInput {
  return probeReport(retailer, finishedAt, { status: 'failure', error });
}
export function successReport(retailer: string, finishedAt: number): RunReportInput {
  return probeReport(retailer, finishedAt, { status: 'success', skuCount: 12_000, promoCount: 400, lastScrapeAt: new Date(finishedAt).toISOString() });
}
