/**
 * The end-to-end part of `npm run bench` (issue 8 shape): the real retailer monitors against a no-op
 * baseline (same ids, same Update-with-Start client call, no rules, no activities) on the same dev server,
 * alternated cell by cell, at 1 / 4 / 16 / 64 reports in flight and 50 / 1,000 / 10,000 retailers.
 *
 * - The fleet grows between the retailer counts: every new retailer's first report (it starts its monitor)
 *   is sent at 64 in flight, real then no-op, and reported as its own row ("growth").
 * - Each cell sends `reports` reports to retailers drawn at random from the fleet, real then no-op. After
 *   a real cell the bench waits until its rows are in Postgres, so the next no-op cell has the CPU to itself.
 * - Alert probes at 1 and 16 in flight (success-only load, a short fleet group window so every probe is the
 *   first of its group): second failure's verdict → Slack POST at the loopback stand-in.
 * - At the largest fleet: worker RSS, workflow-task failures and payload warnings in the worker log,
 *   `npm run cli -- status` wall time.
 * - Stale burst: N more retailers (their own fleet workflow, default 30 s group window, stale after
 *   BENCH_STALE_AFTER_SECONDS) report one success with the same finish time, so they all go stale at the
 *   same deadline: alert_events recorded_at − deadline, Slack POSTs, blocks and characters per message. Then
 *   the same ids against the no-op, one timer each: when the workflow task after each timer completed (the
 *   floor for waking that many entity workflows at once on this machine). BENCH_STALE_SPREAD_SECONDS spreads
 *   the finish times (so the deadlines) evenly over that many seconds instead, e.g. 60 for "going stale in
 *   the same minute"; each alert is then measured against its own retailer's deadline.
 *
 * Every loop is bounded in count and time; only loopback is used.
 */
import { execFile, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { promisify } from 'node:util';
import { sql } from 'kysely';
import { temporal } from '@temporalio/proto';
import { reportIngestionRun, retailerHandle, type MonitorTarget } from '../src/client';
import { timestampMs } from '../src/shared/duration';
import { STALE_NOOP_PREFIX } from './bench-noop-workflow';
import { replayCheck } from './replay-check';
import type { RunReportInput } from '../src/shared/report';
import { ensureFleet } from '../src/worker';
import { startCaptureServer, type Captured } from '../test/helpers/capture-server';
import { ADMIN_URL, createTestDatabase } from '../test/helpers/postgres';
import { createDevServerEnv } from '../test/helpers/temporal';
import {
  chainStats,
  emptyStats,
  envInt,
  failureReport,
  fmt,
  fmtBytes,
  fmtInt,
  fmtMs,
  isLoopback,
  log,
  makeReport,
  mulberry32,
  percentile,
  poll,
  profiles,
  sendRound,
  sleepMs,
  sortedCopy,
  state,
  successReport,
  WorkerChild,
  type Mem,
  type RoundResult,
} from './bench-lib';

export type Row = [string, string, string?];

/** '1.23 s, 0.98 s, failed after 120 s': the wall times of CLI runs. */
const wallTimes = (runs: Array<{ ms: number; error?: string }>) => runs.map((r) => (r.error ? `failed after ${fmtMs(r.ms)}` : fmtMs(r.ms))).join(', ');
export type Kind = RoundResult['kind'];

export interface Settings {
  quick: boolean;
  retailerCounts: number[];
  concurrencies: number[];
  /** Reports per cell at 16 in flight; 1 → ¼, 4 → ½, 64 → 1½ of it. */
  cellReports: number;
  /** Reports per cell are cut to this at the largest fleet when it has more retailers than this times 10. */
  growConcurrency: number;
  growMaxSeconds: number;
  cellMaxSeconds: number;
  probes: number;
  groupWindowMs: number;
  staleRetailers: number;
  staleAfterMs: number;
  /** 0: every stale retailer has the same deadline; otherwise the deadlines are spread evenly over this long. */
  staleSpreadMs: number;
  /** BENCH_WORKER: how the monitor worker runs: `dist` (as users run it; full runs) or `tsx` (quick runs, no build). */
  workerEntry: 'tsx' | 'dist';
  maxCached?: number;
}

export function settings(quick: boolean): Settings {
  const list = (name: string, dflt: number[]) => {
    const raw = process.env[name];
    if (!raw) return dflt;
    const xs = raw.split(',').map((x) => Number(x.trim()));
    if (xs.some((x) => !Number.isInteger(x) || x < 1 || x > 20_000) || xs.length > 6) throw new Error(`${name}: up to 6 integers in [1, 20000], got "${raw}"`);
    return xs;
  };
  return {
    quick,
    retailerCounts: list('BENCH_RETAILERS', quick ? [10, 40] : [50, 1_000, 10_000]),
    concurrencies: list('BENCH_CONCURRENCIES', [1, 4, 16, 64]),
    cellReports: envInt('BENCH_CELL_REPORTS', quick ? 64 : 480, 8, 20_000),
    growConcurrency: envInt('BENCH_GROW_CONCURRENCY', 64, 1, 256),
    growMaxSeconds: envInt('BENCH_GROW_MAX_SECONDS', quick ? 60 : 600, 10, 1_800),
    cellMaxSeconds: envInt('BENCH_MAX_SECONDS', quick ? 20 : 60, 5, 600),
    probes: envInt('BENCH_ALERT_PROBES', quick ? 2 : 12, 0, 50),
    groupWindowMs: envInt('BENCH_GROUP_WINDOW_MS', 2_000, 500, 60_000),
    staleRetailers: envInt('BENCH_STALE_RETAILERS', quick ? 0 : 1_000, 0, 5_000),
    staleAfterMs: envInt('BENCH_STALE_AFTER_SECONDS', 150, 60, 3_600) * 1000,
    staleSpreadMs: envInt('BENCH_STALE_SPREAD_SECONDS', 0, 0, 600) * 1000,
    workerEntry: process.env.BENCH_WORKER === 'tsx' || process.env.BENCH_WORKER === 'dist' ? process.env.BENCH_WORKER : quick ? 'tsx' : 'dist',
    maxCached: process.env.BENCH_MAX_CACHED ? envInt('BENCH_MAX_CACHED', 0, 0, 100_000) : undefined,
  };
}

const cellSize = (s: Settings, C: number) => Math.max(C, Math.round(s.cellReports * (C === 1 ? 0.25 : C === 4 ? 0.5 : C >= 64 ? 1.5 : 1)));

interface Cell {
  retailers: number;
  C: number;
  real: RoundResult;
  noop: RoundResult;
  /** All of the real cell's rows in Postgres, this long after its last verdict (undefined: not within the wait). */
  rowsMs?: number;
  load1: number;
  window: [number, number];
}

const p = (xs: number[], q: number) => percentile(sortedCopy(xs), q);
const rate = (r: RoundResult) => r.sent / r.seconds;

/** Slack message size: blocks, the longest text field and all text together. */
function slackSize(c: Captured): { blocks: number; longest: number; total: number } {
  const texts: string[] = [];
  const walk = (v: unknown, key?: string) => {
    if (typeof v === 'string') {
      if (key === 'text') texts.push(v);
    } else if (Array.isArray(v)) v.forEach((x) => walk(x));
    else if (v && typeof v === 'object') for (const [k, x] of Object.entries(v)) walk(x, k);
  };
  walk(c.body);
  return { blocks: Array.isArray(c.body?.blocks) ? c.body.blocks.length : 0, longest: Math.max(0, ...texts.map((t) => t.length)), total: texts.reduce((a, t) => a + t.length, 0) };
}

/** The figures of one cell, machine-readable (printed as one JSON line after the tables). */
export interface CellFigures {
  retailers: number;
  inFlight: number;
  real: { reportsPerSecond: number; p50Ms: number; p99Ms: number; reports: number; errors: number };
  noop: { reportsPerSecond: number; p50Ms: number; p99Ms: number; reports: number; errors: number };
}
export interface E2eFigures {
  cells: CellFigures[];
  eventsPerReport: { real: number; noop: number };
  rowLag16Ms: { p50: number; p99: number };
  rssMiB: { idle: number; end: number };
}

export async function endToEnd(s: Settings): Promise<{ rows: Row[]; cells: Row[]; env: string[]; figures?: E2eFigures }> {
  if (!isLoopback(new URL(ADMIN_URL).hostname)) throw new Error(`refusing a non-loopback Postgres (${new URL(ADMIN_URL).hostname}): the bench targets loopback only`);
  const env: string[] = [];
  const rows: Row[] = [];
  const cellRows: Row[] = [];
  const cleanup: Array<() => Promise<unknown>> = [];
  let figures: E2eFigures | undefined;
  const load0 = os.loadavg();
  env.push(`load average at start (1/5/15 min): ${load0.map((l) => l.toFixed(2)).join(' / ')}`);
  try {
    log('e2e: starting the dev server (127.0.0.1), a fresh database and the loopback Slack stand-in');
    const [dev, tdb, slack] = await Promise.all([createDevServerEnv(), createTestDatabase('im_bench'), startCaptureServer()]);
    cleanup.push(() => dev.teardown(), () => tdb.drop(), () => slack.close());
    if (!isLoopback(dev.address.replace(/:\d+$/, ''))) throw new Error(`dev server is not on loopback: ${dev.address}`);
    if (!isLoopback(new URL(slack.url).hostname)) throw new Error(`Slack stand-in is not on loopback: ${slack.url}`);
    await sql`alter table ingestion_runs add column bench_inserted_at timestamptz not null default clock_timestamp()`.execute(tdb.db);
    await sql`alter table alert_events add column bench_inserted_at timestamptz not null default clock_timestamp()`.execute(tdb.db);

    const taskQueue = 'monitor-bench';
    const noopQueue = 'noop-bench';
    const fleetId = `ingestion-monitor-bench-${Date.now()}`;
    const cached: Record<string, string> = s.maxCached !== undefined ? { BENCH_MAX_CACHED: String(s.maxCached) } : {};
    if (s.workerEntry === 'dist') {
      log('e2e: building dist/ if it is stale (the monitor worker runs from it)');
      const built = spawnSync(process.execPath, [path.join(__dirname, 'build-if-stale.js')], { stdio: ['ignore', 'inherit', 'inherit'] });
      if (built.status !== 0) throw new Error('building dist/ failed');
    }
    log(
      `e2e: starting the monitor worker (${s.workerEntry === 'dist' ? 'plain node on dist/, prebuilt bundle' : 'tsx, bundled at start'}) and the no-op worker (tsx, bundled at start), two child processes`,
    );
    const t0 = performance.now();
    const [child, noopChild] = await Promise.all([
      WorkerChild.start({ BENCH_TEMPORAL_ADDRESS: dev.address, BENCH_DATABASE_URL: tdb.url, BENCH_TASK_QUEUE: taskQueue, BENCH_WORKER_MODE: 'monitor', BENCH_SLACK_URL: slack.url, ...cached }, 180_000, s.workerEntry),
      WorkerChild.start({ BENCH_TEMPORAL_ADDRESS: dev.address, BENCH_DATABASE_URL: '', BENCH_TASK_QUEUE: noopQueue, BENCH_WORKER_MODE: 'noop', ...cached }, 180_000),
    ]);
    const workersReadyMs = performance.now() - t0;
    cleanup.unshift(() => child.stop(), () => noopChild.stop());
    await ensureFleet(dev.client, { workflowId: fleetId, taskQueue }, { groupWindowMs: s.groupWindowMs });
    const realTarget: MonitorTarget = { workflowId: fleetId, taskQueue };
    const noopTarget: MonitorTarget = { taskQueue: noopQueue, retailerWorkflowIdPrefix: 'bench-noop/' };
    const mem: Array<{ at: string; real: Mem; noop: Mem }> = [];
    const readMem = async (at: string, gc = false) => mem.push({ at, real: await child.mem(gc), noop: await noopChild.mem(gc) });
    await readMem('idle', true);

    const rng = mulberry32(2026);
    const maxR = Math.max(...s.retailerCounts);
    const ps = profiles(maxR, rng);
    const countRows = async () => Number((await sql<{ n: string }>`select count(*)::text as n from ingestion_runs`.execute(tdb.db)).rows[0]!.n);
    let expectedRows = 0;
    /** After a real round: wait until its rows are in, so the no-op round does not share the CPU with the writes. */
    const settleRows = async (r: RoundResult) => {
      expectedRows += r.verdicts.accepted + r.verdicts.out_of_order;
      const ok = await poll(async () => (await countRows()) >= expectedRows, 60_000, 50);
      return ok ? Date.now() - r.lastVerdictWall : undefined;
    };
    const startedReal = new Set<string>();
    const startedNoop = new Set<string>();
    const growth: Array<{ from: number; to: number; real: RoundResult; noop: RoundResult }> = [];
    const cells: Cell[] = [];
    let clock = Date.now() - 10 * 60_000; // report finish times: increasing, in the recent past
    const nextFinish = () => (clock = Math.min(clock + 5, Date.now() - 1_000));

    let have = 0;
    for (const R of s.retailerCounts) {
      if (state.interrupted) break;
      if (R > have) {
        log(`e2e: growing the fleet ${fmtInt(have)} → ${fmtInt(R)} retailers (first report of each starts its monitor), ${s.growConcurrency} in flight`);
        const first = ps.slice(have, R).map((pr) => makeReport(pr, nextFinish(), rng));
        const real = await sendRound(dev.client, 'real', 0, first, realTarget, s.growConcurrency, s.growMaxSeconds, startedReal);
        await settleRows(real);
        const noop = await sendRound(dev.client, 'no-op', 0, first, noopTarget, s.growConcurrency, s.growMaxSeconds, startedNoop);
        growth.push({ from: have, to: R, real, noop });
        log(`e2e:   real ${fmtInt(real.sent)} in ${fmt(real.seconds, 1)} s (${fmtInt(rate(real))}/s, ${real.errors} errors); no-op ${fmtInt(noop.sent)} in ${fmt(noop.seconds, 1)} s (${fmtInt(rate(noop))}/s, ${noop.errors} errors)`);
        have = R;
        await readMem(`after growing to ${fmtInt(R)}`);
      }
      for (const C of s.concurrencies) {
        if (state.interrupted) break;
        const reports: RunReportInput[] = Array.from({ length: cellSize(s, C) }, () => makeReport(ps[Math.floor(rng() * R)]!, nextFinish(), rng));
        const w0 = Date.now();
        const real = await sendRound(dev.client, 'real', 1, reports, realTarget, C, s.cellMaxSeconds, startedReal);
        const w1 = Date.now();
        const rowsMs = await settleRows(real);
        const noop = await sendRound(dev.client, 'no-op', 1, reports, noopTarget, C, s.cellMaxSeconds, startedNoop);
        const cell: Cell = { retailers: R, C, real, noop, rowsMs, load1: os.loadavg()[0]!, window: [w0, w1] };
        cells.push(cell);
        log(
          `e2e: ${fmtInt(R)} retailers, ${C} in flight: real ${fmtInt(rate(real))}/s p50 ${fmtMs(p(real.latencies, 50))}; no-op ${fmtInt(rate(noop))}/s p50 ${fmtMs(p(noop.latencies, 50))}; ratio ${fmt(rate(real) / rate(noop), 2)}× (errors ${real.errors}/${noop.errors}${real.firstError ? `: ${real.firstError}` : ''})`,
        );
      }
      await readMem(`after the cells at ${fmtInt(R)}`);
    }

    // ---- row lag at 16 in flight ------------------------------------------------------------------------
    const lagAt = async (C: number) => {
      const out: number[] = [];
      for (const c of cells.filter((x) => x.C === C)) {
        const r = await sql<{ ms: number }>`select (extract(epoch from (bench_inserted_at - received_at)) * 1000)::float8 as ms from ingestion_runs
          where received_at >= ${new Date(c.window[0] - 50)} and received_at <= ${new Date(c.window[1] + 50)}`.execute(tdb.db);
        out.push(...r.rows.map((x) => Number(x.ms)));
      }
      return out;
    };
    const lag16 = await lagAt(16);
    const lagAll = (await sql<{ ms: number }>`select (extract(epoch from (bench_inserted_at - received_at)) * 1000)::float8 as ms from ingestion_runs`.execute(tdb.db)).rows.map((x) => Number(x.ms));

    // ---- the largest fleet: worker health, CLI status ---------------------------------------------------
    // The fleet as it really is: a growth cut short by its time bound leaves fewer monitors than asked for.
    const fleetNow = `${fmtInt(startedReal.size)} real monitors (${fmtInt(startedNoop.size)} no-op)`;
    log(`e2e: at ${fleetNow}: \`npm run cli -- status\` and the worker log`);
    const cli = path.join(__dirname, '..', 'src', 'cli', 'index.ts');
    const tsx = path.join(__dirname, '..', 'node_modules', '.bin', 'tsx');
    const run = promisify(execFile);
    const cliEnv = { ...process.env, TEMPORAL_ADDRESS: dev.address, TEMPORAL_NAMESPACE: 'default' };
    type CliRun = { ms: number; out: string; error?: string };
    const timeCli = async (args: string[], command: string[] = [tsx, cli]): Promise<CliRun> => {
      const a = performance.now();
      try {
        const { stdout } = await run(command[0]!, [...command.slice(1), '--address', dev.address, '--namespace', 'default', '--workflow-id', fleetId, ...args], {
          env: cliEnv,
          timeout: 120_000,
          maxBuffer: 64 * 1024 * 1024,
        });
        return { ms: performance.now() - a, out: stdout };
      } catch (err) {
        return { ms: performance.now() - a, out: '', error: String(err).slice(0, 300) };
      }
    };
    const cliFloor = state.interrupted ? { ms: NaN } : await timeCli(['--help']);
    const timeStatus = async (command?: string[]) => {
      const runs: CliRun[] = [];
      for (let i = 0; i < (s.quick ? 1 : 3) && !state.interrupted; i++) runs.push(await timeCli(['status', '--json'], command));
      return runs;
    };
    const statusRuns = await timeStatus();
    // The same from dist/ (what `npm run cli` runs; build it before the bench), and from another build
    // (BENCH_STATUS_BEFORE_CLI: its dist/src/cli/index.js) for a before/after on the same fleet.
    const distCli = path.join(__dirname, '..', 'dist', 'src', 'cli', 'index.js');
    const distRuns = existsSync(distCli) ? await timeStatus([process.execPath, distCli]) : [];
    const beforeCli = process.env.BENCH_STATUS_BEFORE_CLI;
    const beforeRuns = beforeCli && existsSync(beforeCli) ? await timeStatus([process.execPath, beforeCli]) : [];
    const statusJson = (() => {
      try {
        return JSON.parse(statusRuns.at(-1)?.out ?? '') as { retailers?: unknown[]; truncated?: boolean; unreadable?: unknown[]; running?: number; health?: Record<string, number>; healthyNotListed?: number };
      } catch {
        return undefined;
      }
    })();
    await readMem(`at ${fleetNow}, after status`);

    // ---- alert probes at 1 and 16 in flight -------------------------------------------------------------
    const probes: Array<{ C: number; ms: number[]; missing: number }> = [];
    const mentions = (c: Captured, slug: string) => JSON.stringify(c.body).includes(slug);
    for (const C of s.probes ? [1, 16] : []) {
      if (state.interrupted) break;
      log(`e2e: ${s.probes} alert probes at ${C} in flight (success-only load; group window ${fmtMs(s.groupWindowMs)})`);
      const R0 = Math.min(have, s.retailerCounts[0]!);
      let loadOn = true;
      const load = (async () => {
        for (let k = 0; loadOn && k < 500 && !state.interrupted; k++) {
          const batch = Array.from({ length: C * 4 }, () => successReport(ps[Math.floor(rng() * R0)]!.slug, nextFinish()));
          await sendRound(dev.client, 'real', 2, batch, realTarget, C, 30, startedReal);
        }
      })();
      const res = { C, ms: [] as number[], missing: 0 };
      await sleepMs(1_000);
      for (let i = 0; i < s.probes && !state.interrupted; i++) {
        await poll(async () => Date.now() - (slack.received.at(-1)?.at ?? 0) > s.groupWindowMs + 500, 30_000, 50);
        const slug = `probe-c${C}-${i}`;
        await reportIngestionRun(dev.client, failureReport(slug, nextFinish()), realTarget);
        const sent = Date.now();
        await reportIngestionRun(dev.client, failureReport(slug, nextFinish()), realTarget);
        const ack = Date.now();
        // Since the hand-over runs in the report's own workflow task, the POST can come before the verdict
        // reaches the client: a negative figure.
        const post = await poll(async () => slack.received.find((c) => c.at >= sent && mentions(c, slug)), 30_000, 5);
        if (post) res.ms.push(post.at - ack);
        else res.missing++;
      }
      loadOn = false;
      await load;
      probes.push(res);
    }

    // ---- stale burst ------------------------------------------------------------------------------------
    let stale: { n: number; sendS: number; deadline: number; recorded: number[]; posts: Captured[]; missing: number; firstPostMs?: number; noop?: { n: number; sendS: number; woken: number[] } } | undefined;
    if (s.staleRetailers > 0 && !state.interrupted) {
      const staleFleet = `${fleetId}-stale`;
      const prefix = 'bench-stale/';
      await ensureFleet(dev.client, { workflowId: staleFleet, taskQueue }, { thresholds: { staleAfterMs: s.staleAfterMs }, retailerWorkflowIdPrefix: prefix });
      const target: MonitorTarget = { workflowId: staleFleet, taskQueue, retailerWorkflowIdPrefix: prefix };
      const slugs = Array.from({ length: s.staleRetailers }, (_, i) => `stale-${String(i).padStart(4, '0')}`);
      if (s.staleAfterMs - s.staleSpreadMs < 90_000) throw new Error('BENCH_STALE_AFTER_SECONDS must be at least BENCH_STALE_SPREAD_SECONDS + 90 (the first reports must all be in before the first deadline)');
      // Retailer i finished at finishedAt(i): all at one moment, or spread evenly over staleSpreadMs, all in the past.
      const staleTimes = (now: number) => {
        const first = now - 1_000 - s.staleSpreadMs;
        const finishedAt = (i: number) => first + Math.floor((i * s.staleSpreadMs) / Math.max(1, slugs.length - 1));
        return { finishedAt, deadlineOf: new Map(slugs.map((slug, i) => [slug, finishedAt(i) + s.staleAfterMs])), first: finishedAt(0) + s.staleAfterMs, last: finishedAt(slugs.length - 1) + s.staleAfterMs };
      };
      // The first reports are sent within this many seconds, so every monitor runs before the first deadline.
      const sendBoundS = Math.floor((s.staleAfterMs - s.staleSpreadMs) / 1000) - 10;
      const times = staleTimes(Date.now());
      const deadline = times.first;
      log(
        `e2e: stale burst: ${fmtInt(slugs.length)} retailers report one success ${s.staleSpreadMs ? `finished over ${fmtMs(s.staleSpreadMs)}` : 'finished at the same moment'}; stale after ${fmtMs(s.staleAfterMs)} (first deadline in ${fmtMs(deadline - Date.now())})`,
      );
      const a = performance.now();
      const sent = await sendRound(dev.client, 'real', 3, slugs.map((slug, i) => successReport(slug, times.finishedAt(i))), target, s.growConcurrency, sendBoundS, new Set());
      const sendS = (performance.now() - a) / 1000;
      log(`e2e:   ${fmtInt(sent.sent)} started in ${fmt(sendS, 1)} s (${sent.errors} errors); waiting for the deadline and the alerts (at most 120 s after it)`);
      await sleepMs(Math.max(0, times.last - Date.now()));
      const countStale = async () =>
        Number((await sql<{ n: string }>`select count(*)::text as n from alert_events where rule = 'stale' and kind = 'fire' and retailer like 'stale-%'`.execute(tdb.db)).rows[0]!.n);
      await poll(async () => (await countStale()) >= sent.sent, 120_000, 250);
      await sleepMs(Math.min(35_000, 30_000 + 3_000)); // the fleet's grouped follow-up (default 30 s window)
      // Each alert against its own retailer's deadline.
      const recorded = (
        await sql<{ retailer: string; at: number }>`select retailer, (extract(epoch from bench_inserted_at) * 1000)::float8 as at from alert_events where rule = 'stale' and kind = 'fire' and retailer like 'stale-%'`.execute(tdb.db)
      ).rows.map((x) => Number(x.at) - (times.deadlineOf.get(x.retailer) ?? deadline));
      const posts = slack.received.filter((c) => c.at >= deadline - 1_000 && JSON.stringify(c.body).includes('stale-'));
      stale = { n: sent.sent, sendS, deadline, recorded, posts, missing: sent.sent - recorded.length, firstPostMs: posts[0] ? posts[0].at - deadline : undefined };

      // The same burst against the no-op (one timer each, nothing done when it fires), after the real one so
      // each has the machine to itself: when did each no-op's workflow task after its timer complete?
      if (!state.interrupted) {
        const noopPrefix = `${STALE_NOOP_PREFIX}${s.staleAfterMs}/`;
        const noopStale: MonitorTarget = { taskQueue: noopQueue, retailerWorkflowIdPrefix: noopPrefix };
        const nTimes = staleTimes(Date.now());
        log(`e2e: stale burst, no-op: the same ${fmtInt(slugs.length)} ids with one timer each (first deadline in ${fmtMs(nTimes.first - Date.now())})`);
        const b = performance.now();
        const nSent = await sendRound(dev.client, 'no-op', 3, slugs.map((slug, i) => successReport(slug, nTimes.finishedAt(i))), noopStale, s.growConcurrency, sendBoundS, new Set());
        const nSendS = (performance.now() - b) / 1000;
        await sleepMs(Math.max(0, nTimes.last - Date.now()) + 5_000);
        const { EventType } = temporal.api.enums.v1;
        const wokenAt = async (slug: string): Promise<number | undefined> => {
          const events = (await retailerHandle(dev.client, slug, noopStale).fetchHistory()).events ?? [];
          const fired = events.findIndex((e) => e.eventType === EventType.EVENT_TYPE_TIMER_FIRED);
          const done = fired < 0 ? undefined : events.slice(fired).find((e) => e.eventType === EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED);
          return done ? timestampMs(done.eventTime) : undefined;
        };
        const woken: number[] = [];
        const deadlineAt = Date.now() + 120_000;
        for (const slug of slugs.slice(0, nSent.sent)) {
          // Poll one id until it has woken (bounded by one overall deadline), so a slow burst is still measured.
          for (;;) {
            const at = await wokenAt(slug).catch(() => undefined);
            if (at !== undefined) {
              woken.push(at - nTimes.deadlineOf.get(slug)!);
              break;
            }
            if (Date.now() > deadlineAt || state.interrupted) break;
            await sleepMs(250);
          }
        }
        stale.noop = { n: nSent.sent, sendS: nSendS, woken };
      }
    }

    // ---- histories: events per report (a sample of chains) ---------------------------------------------
    log('e2e: reading histories (the first 50 retailers of each kind: every continue-as-new chain)');
    const sample = ps.slice(0, Math.min(50, have)).map((x) => x.slug);
    const realStats = emptyStats();
    const noopStats = emptyStats();
    if (state.interrupted) sample.length = 0;
    for (const r of sample) await chainStats(dev.client, retailerHandle(dev.client, r, realTarget).workflowId, realStats).catch(() => undefined);
    for (const r of sample) await chainStats(dev.client, retailerHandle(dev.client, r, noopTarget).workflowId, noopStats).catch(() => undefined);
    // Task failures over a wider sample of the largest fleet (random retailers, every chain).
    const wide = emptyStats();
    const wideN = state.interrupted ? 0 : Math.min(have, s.quick ? 50 : envInt('BENCH_TASK_SAMPLE', 300, 10, 20_000));
    for (let i = 0; i < wideN; i++) await chainStats(dev.client, retailerHandle(dev.client, ps[Math.floor((i * have) / wideN)]!.slug, realTarget).workflowId, wide).catch(() => undefined);
    for (const t of wide.problemTimelines) log(`e2e: a failed or timed-out workflow task: ${t}`);
    await readMem('at the end');
    await readMem('at the end, after GC', true);
    const load1 = os.loadavg();
    env.push(`load average at end (1/5/15 min): ${load1.map((l) => l.toFixed(2)).join(' / ')}`);

    // ---- figures -----------------------------------------------------------------------------------------
    const x = (a: number, b: number) => `${fmt(a / b, 2)}×`;
    for (const c of cells) {
      cellRows.push([
        `${fmtInt(c.retailers)} retailers, ${c.C} in flight`,
        `${x(rate(c.real), rate(c.noop))}; p50 ${x(p(c.real.latencies, 50), p(c.noop.latencies, 50))}; p99 ${x(p(c.real.latencies, 99), p(c.noop.latencies, 99))}`,
        `real ${fmtInt(rate(c.real))}/s, p50 ${fmtMs(p(c.real.latencies, 50))}, p99 ${fmtMs(p(c.real.latencies, 99))} (${fmtInt(c.real.sent)} reports, ${c.real.errors} errors); ` +
          `no-op ${fmtInt(rate(c.noop))}/s, p50 ${fmtMs(p(c.noop.latencies, 50))}, p99 ${fmtMs(p(c.noop.latencies, 99))} (${fmtInt(c.noop.sent)}, ${c.noop.errors} errors); ` +
          `rows in ${c.rowsMs === undefined ? 'NOT within 60 s' : fmtMs(c.rowsMs)} after the last verdict; load ${fmt(c.load1, 2)}`,
      ]);
    }
    for (const g of growth) {
      rows.push([
        `growth ${fmtInt(g.from)} → ${fmtInt(g.to)} (first reports, ${s.growConcurrency} in flight)`,
        `real ${fmtInt(rate(g.real))}/s, no-op ${fmtInt(rate(g.noop))}/s (${x(rate(g.real), rate(g.noop))})`,
        `real p50 ${fmtMs(p(g.real.firstLatencies, 50))} p99 ${fmtMs(p(g.real.firstLatencies, 99))}, ${fmtInt(g.real.sent)} in ${fmt(g.real.seconds, 1)} s, ${g.real.errors} errors${g.real.firstError ? ` (${g.real.firstError})` : ''}; no-op p50 ${fmtMs(p(g.noop.firstLatencies, 50))} p99 ${fmtMs(p(g.noop.firstLatencies, 99))}, ${fmtInt(g.noop.sent)} in ${fmt(g.noop.seconds, 1)} s, ${g.noop.errors} errors`,
      ]);
    }
    const kindFigures = (r: RoundResult) => ({ reportsPerSecond: rate(r), p50Ms: p(r.latencies, 50), p99Ms: p(r.latencies, 99), reports: r.sent, errors: r.errors });
    figures = {
      cells: cells.map((c) => ({ retailers: c.retailers, inFlight: c.C, real: kindFigures(c.real), noop: kindFigures(c.noop) })),
      eventsPerReport: { real: realStats.events / Math.max(1, realStats.updates), noop: noopStats.events / Math.max(1, noopStats.updates) },
      rowLag16Ms: { p50: p(lag16, 50), p99: p(lag16, 99) },
      rssMiB: { idle: mem[0]!.real.rss / 2 ** 20, end: mem.at(-2)!.real.rss / 2 ** 20 },
    };
    const perUpdate = (st: ReturnType<typeof emptyStats>) => fmt(st.events / Math.max(1, st.updates), 2);
    rows.push(
      [
        'history events per report (real / no-op)',
        `${perUpdate(realStats)} / ${perUpdate(noopStats)}`,
        `events ÷ updates accepted over every run of ${sample.length} retailers' chains (incl. each monitor's start); real: ${fmtInt(realStats.updates)} updates, ${fmtInt(realStats.tasks)} workflow tasks, activities ${[...realStats.activities].map(([n, c]) => `${n} ${fmtInt(c)}`).join(', ')}; no-op: ${fmtInt(noopStats.updates)} updates, ${fmtInt(noopStats.tasks)} tasks`,
      ],
      [
        'applied → row in Postgres at 16 in flight, p50 / p99 / max',
        lag16.length ? `${fmtMs(p(lag16, 50))} / ${fmtMs(p(lag16, 99))} / ${fmtMs(Math.max(...lag16))}` : 'no rows',
        `${fmtInt(lag16.length)} rows of the 16-in-flight real cells (received_at → INSERT, bench-only column); all ${fmtInt(lagAll.length)} rows: p50 ${fmtMs(p(lagAll, 50))}, p99 ${fmtMs(p(lagAll, 99))}`,
      ],
      ...probes.map(
        (pr): Row => [
          `failure alert at the sink, ${pr.C} in flight: p50 / p99 / max`,
          pr.ms.length ? `${fmtMs(p(pr.ms, 50))} / ${fmtMs(p(pr.ms, 99))} / ${fmtMs(Math.max(...pr.ms))}` : 'none',
          `${pr.ms.length} probes (second failure's verdict → POST at the stand-in, first of its group; negative: the POST came first), ${pr.missing} without a POST within 30 s`,
        ],
      ),
      [
        `worker log at ${fleetNow}: task failures / payload warnings`,
        `${child.counts.taskFailures} / ${child.counts.payloadWarnings} (no-op: ${noopChild.counts.taskFailures} / ${noopChild.counts.payloadWarnings})`,
        `${fmtInt(child.counts.lines)} log lines, ${child.counts.warnings} WARN/ERROR; histories of ${wideN} monitors spread over the fleet: ${wide.taskProblems} failed or timed-out workflow tasks${wide.taskCauses.size ? ` (${[...wide.taskCauses].map(([k, n]) => `${n}× ${k}`).join(', ')})` : ''} in ${fmtInt(wide.tasks)} tasks; largest history ${fmtBytes(wide.maxHistory)}; most frequent warnings: ${
          [...child.warningKinds].sort((a, b) => b[1] - a[1]).slice(0, 3).map(([k, n]) => `${n}× "${k}"`).join('; ') || 'none'
        }`,
      ],
      [
        `\`npm run cli -- status\` at ${fleetNow} (wall, ${statusRuns.length} runs)`,
        wallTimes(statusRuns),
        `a process each (tsx); \`--help\` alone takes ${fmtMs(cliFloor.ms)} (start-up floor); ${
          statusJson
            ? `${fmtInt(statusJson.retailers?.length ?? 0)} retailers listed, truncated ${statusJson.truncated}, ${statusJson.unreadable?.length ?? 0} unreadable${
                statusJson.health ? `; running ${statusJson.running} by health ${JSON.stringify(statusJson.health)}, ${statusJson.healthyNotListed} healthy counted, not listed` : ''
              }`
            : `no JSON${statusRuns.at(-1)?.error ? `: ${statusRuns.at(-1)!.error}` : ''}`
        }`,
      ],
      ...(distRuns.length ? [[`the same from dist/ (node dist/src/cli/index.js status --json)`, wallTimes(distRuns), 'dist/ as built before the bench'] as Row] : []),
      ...(beforeRuns.length ? [[`the same from BENCH_STATUS_BEFORE_CLI`, wallTimes(beforeRuns), beforeCli!] as Row] : []),
      ...mem.map(
        (m): Row => [`worker RSS ${m.at}`, `${fmtBytes(m.real.rss)} (no-op ${fmtBytes(m.noop.rss)})`, `monitor worker heap ${fmtBytes(m.real.heapUsed)}`],
      ),
      ['workers ready (both bundle their workflow code)', fmtMs(workersReadyMs), `maxCachedWorkflows ${s.maxCached ?? 'SDK default'}`],
    );
    if (stale) {
      const within = (ms: number) => stale!.recorded.filter((v) => v <= ms).length;
      const sizes = stale.posts.map(slackSize);
      rows.push(
        [
          `stale burst: ${fmtInt(stale.n)} retailers, ${s.staleSpreadMs ? `deadlines over ${fmtMs(s.staleSpreadMs)}` : 'same deadline'}; alert_events recorded after the (own) deadline p50 / p99 / max`,
          stale.recorded.length ? `${fmtMs(p(stale.recorded, 50))} / ${fmtMs(p(stale.recorded, 99))} / ${fmtMs(Math.max(...stale.recorded))}` : 'none',
          `${fmtInt(stale.recorded.length)} of ${fmtInt(stale.n)} recorded (${stale.missing} missing); ≤ 1 s: ${within(1_000)}, ≤ 10 s: ${within(10_000)}; the ${fmtInt(stale.n)} first reports took ${fmt(stale.sendS, 1)} s`,
        ],
        [
          'stale burst: Slack POSTs; blocks, longest text, all text per message (max)',
          `${stale.posts.length} POSTs; ${Math.max(0, ...sizes.map((z) => z.blocks))} blocks, ${fmtInt(Math.max(0, ...sizes.map((z) => z.longest)))} chars, ${fmtInt(Math.max(0, ...sizes.map((z) => z.total)))} chars`,
          `first POST ${stale.firstPostMs === undefined ? '—' : fmtMs(stale.firstPostMs)} after the first deadline; messages over 50 blocks: ${sizes.filter((z) => z.blocks > 50).length}, with a text over 3,000 chars: ${sizes.filter((z) => z.longest > 3_000).length}; POST times after the first deadline: ${stale.posts.map((c) => fmtMs(c.at - stale!.deadline)).join(', ')}`,
        ],
      );
      if (stale.noop) {
        const w = stale.noop.woken;
        const wWithin = (ms: number) => w.filter((v) => v <= ms).length;
        rows.push([
          'stale burst, no-op baseline: the workflow task after each timer completed, after its deadline p50 / p99 / max',
          w.length ? `${fmtMs(p(w, 50))} / ${fmtMs(p(w, 99))} / ${fmtMs(Math.max(...w))}` : 'none',
          `${fmtInt(w.length)} of ${fmtInt(stale.noop.n)} woken; ≤ 1 s: ${wWithin(1_000)}, ≤ 10 s: ${wWithin(10_000)}; Temporal's floor for waking that many entity workflows ${s.staleSpreadMs ? `over ${fmtMs(s.staleSpreadMs)}` : 'at one moment'} on this machine (the ${fmtInt(stale.noop.n)} first reports took ${fmt(stale.noop.sendS, 1)} s)`,
        ]);
      }
    }
    // ---- replay check: every monitor and fleet history this run produced, against the code it ran ------------
    const replayLimit = envInt('BENCH_REPLAY_LIMIT', 1_000, 0, 20_000);
    if (replayLimit > 0) {
      log(`e2e: replaying up to ${fmtInt(replayLimit)} of the histories on ${taskQueue} against the workflow bundle (nondeterminism check)`);
      const rc = await replayCheck(dev.client, `TaskQueue = '${taskQueue}'`, replayLimit);
      rows.push([
        'replay check: histories of this run replayed against the code that ran them',
        `${fmtInt(rc.replayed)} replayed, ${rc.failed.length} nondeterministic`,
        rc.failed.length ? rc.failed.slice(0, 3).map((f) => `${f.workflowId}: ${f.error}`).join(' | ') : `${fmt(rc.seconds, 1)} s; BENCH_REPLAY_LIMIT bounds it (0: skip)`,
      ]);
      if (rc.failed.length) for (const f of rc.failed.slice(0, 10)) console.error(`replay check: ${f.workflowId}: ${f.error}`);
    }
  } finally {
    log('e2e: stopping the workers, the dev server and the Slack stand-in; dropping the database');
    for (const fn of cleanup) await fn().catch((err) => console.error('cleanup:', err));
  }
  return { rows, cells: cellRows, env, figures };
}
