/**
 * CPU per report, the real retailer monitor against the bench's no-op (`npm run bench:wfcpu`).
 *
 * 1. Live: RETAILERS × REPORTS reports (default 10 × 60) at IN_FLIGHT (4) after each retailer's first, to the
 *    real monitor (its worker with Postgres, in this process) and then to the no-op entity workflow, on one dev
 *    server: CPU per report of this process (worker + client), the dev server and the retailer database's
 *    Postgres backends (read from /proc).
 * 2. Replay: the histories just recorded are replayed REPEATS times (5) in this process, alternated, and the
 *    replay CPU per report printed. A replay runs exactly the workflow code a live worker runs for those
 *    histories (activations, the SDK's promise hooks, the Rust core's state machines) with no server, no
 *    network and no activities, so it isolates what the monitor's own workflow code costs. BENCH_NO_REPLAY=1
 *    skips it; BENCH_DEBUG_MODE=1 replays on the main thread, for `node --cpu-prof`.
 *
 * Per-report figures of the histories are per Update accepted (each retailer's first report included).
 */
import { randomUUID } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { sql } from 'kysely';
import os from 'node:os';
import { bundleWorkflowCode, Worker, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import type { temporal } from '@temporalio/proto';
import { reportIngestionRun } from '../src/client';
import type { RunReportInput } from '../src/shared/report';
import { createTestMonitorWorker, startFleet, testConfig, workflowBundle } from '../test/helpers/monitor';
import { createTestDatabase } from '../test/helpers/postgres';
import { envInt, percentile, sortedCopy } from './bench-lib';
import { createDevServerEnv } from '../test/helpers/temporal';

const RETAILERS = envInt('BENCH_RETAILERS', 10, 1, 1_000);
const REPORTS = envInt('BENCH_REPORTS', 60, 1, 10_000);
const REPEATS = envInt('BENCH_REPEATS', 5, 1, 50);
const IN_FLIGHT = envInt('BENCH_IN_FLIGHT', 4, 1, 256);

function report(retailer: string, i: number): RunReportInput {
  const finished = Date.now();
  const failure = i % 17 === 16;
  const base = {
    runId: randomUUID(),
    retailer,
    schedule: `ingest-${retailer}`,
    startedAt: new Date(finished - 120_000).toISOString(),
    finishedAt: new Date(finished).toISOString(),
  };
  return failure
    ? { ...base, status: 'failure', error: 'HTTP 503 from upstream' }
    : { ...base, status: 'success', skuCount: 5000 + ((i * 37) % 200), promoCount: 300 + (i % 20), lastScrapeAt: new Date(finished).toISOString() };
}

/** CPU seconds (user + system) of a process, from /proc (Linux). */
function procCpuSec(pid: number): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100; // utime, stime in clock ticks (USER_HZ 100)
  } catch {
    return 0;
  }
}

/** The dev server this process started (a child named temporal). */
function devServerPid(): number | undefined {
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      const [comm, rest] = [stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')')), stat.slice(stat.lastIndexOf(')') + 2)];
      if (comm.startsWith('temporal') && Number(rest.split(' ')[1]) === process.pid) return Number(d);
    } catch {
      // gone meanwhile
    }
  }
  return undefined;
}

interface CpuSplit {
  workerAndClient: number;
  server: number;
  postgres: number;
}

async function cpuAround(fn: () => Promise<void>, pids: () => Promise<{ server?: number; postgres: number[] }>): Promise<CpuSplit> {
  const before = await pids();
  const self0 = process.cpuUsage();
  const server0 = before.server ? procCpuSec(before.server) : 0;
  const pg0 = new Map(before.postgres.map((p) => [p, procCpuSec(p)]));
  await fn();
  const after = await pids();
  const self = process.cpuUsage(self0);
  let postgres = 0;
  for (const p of after.postgres) postgres += procCpuSec(p) - (pg0.get(p) ?? 0);
  return { workerAndClient: (self.user + self.system) / 1e6, server: after.server ? procCpuSec(after.server) - server0 : 0, postgres };
}

async function send(run: (r: RunReportInput) => Promise<unknown>, retailers: string[]): Promise<void> {
  // Finished "now" as each is sent, like the scrapers' reports (a back-dated run would be stale on arrival).
  const queue: [string, number][] = [];
  for (let i = 0; i < REPORTS; i++) for (const r of retailers) queue.push([r, i]);
  let next = 0;
  await Promise.all(
    Array.from({ length: IN_FLIGHT }, async () => {
      while (next < queue.length) {
        const [r, i] = queue[next++]!;
        await run(report(r, i));
      }
    }),
  );
}

type Recorded = { workflowId: string; history: temporal.api.history.v1.IHistory }[];
type Histories = Record<'real' | 'noop', Recorded>;

async function main(): Promise<void> {
  const histories: Histories = { real: [], noop: [] };
  const realBundle = await workflowBundle();
  const noopBundle: WorkflowBundleWithSourceMap = await bundleWorkflowCode({ workflowsPath: require.resolve('./bench-noop-workflow'), logger: quiet });
  await record(histories, noopBundle);
  if (process.env.BENCH_NO_REPLAY !== '1') await measure(histories, realBundle, noopBundle);
}

async function record(histories: Histories, noopBundle: WorkflowBundleWithSourceMap): Promise<void> {
  const env = await createDevServerEnv();
  const tdb = await createTestDatabase('im_wfcpu');
  const suffix = randomUUID().slice(0, 6);
  const real = { taskQueue: `wfcpu-real-${suffix}`, workflowId: `wfcpu-fleet-${suffix}`, retailerWorkflowIdPrefix: `wfcpu-real-${suffix}/` };
  const noop = { taskQueue: `wfcpu-noop-${suffix}`, workflowId: `wfcpu-fleet-${suffix}`, retailerWorkflowIdPrefix: `wfcpu-noop-${suffix}/` };
  const config = { ...testConfig({ taskQueue: real.taskQueue, databaseUrl: tdb.url }), workflowId: real.workflowId };
  const realWorker = await createTestMonitorWorker(env, config, tdb);
  const noopWorker = await Worker.create({ connection: env.nativeConnection, taskQueue: noop.taskQueue, workflowBundle: noopBundle });
  const retailers = Array.from({ length: RETAILERS }, (_, i) => `wfcpu-${i}`);
  const pids = async () => ({
    server: devServerPid(),
    postgres: (await sql<{ pid: number }>`select pid from pg_stat_activity where datname = ${tdb.name}`.execute(tdb.db)).rows.map((r) => r.pid),
  });
  const firstReports = async (target: typeof real) => {
    for (const r of retailers) await reportIngestionRun(env.client, report(r, -1), target);
  };
  const split: Partial<Record<'real' | 'noop', CpuSplit>> = {};
  try {
    await realWorker.runUntil(async () => {
      await startFleet(env.client, config);
      await firstReports(real); // start the monitors: the CPU below is the steady state
      split.real = await cpuAround(() => send((r) => reportIngestionRun(env.client, r, real), retailers), pids);
      // let the persistence loops write the last batches, so the histories end quiet
      await new Promise((res) => setTimeout(res, 3000));
    });
    await noopWorker.runUntil(async () => {
      await firstReports(noop);
      split.noop = await cpuAround(() => send((r) => reportIngestionRun(env.client, r, noop), retailers), pids);
    });
    const n = RETAILERS * REPORTS;
    const row = (k: 'real' | 'noop') => {
      const c = split[k]!;
      const total = c.workerAndClient + c.server + c.postgres;
      return `  ${k}: CPU per report ${((1000 * total) / n).toFixed(2)} ms = worker+client ${((1000 * c.workerAndClient) / n).toFixed(2)} + dev server ${((1000 * c.server) / n).toFixed(2)} + postgres ${((1000 * c.postgres) / n).toFixed(2)}`;
    };
    console.log(`live CPU per report (${n} reports after each retailer's first, ${IN_FLIGHT} in flight; worker and client share this process)`);
    console.log(row('real'));
    console.log(row('noop'));
    for (const r of retailers) {
      for (const [kind, target] of [['real', real], ['noop', noop]] as const) {
        const workflowId = `${target.retailerWorkflowIdPrefix}${r}`;
        histories[kind].push({ workflowId, history: await env.client.workflow.getHandle(workflowId).fetchHistory() });
      }
    }
  } finally {
    await env.teardown();
    await tdb.drop();
  }
}

async function measure(histories: Histories, realBundle: WorkflowBundleWithSourceMap, noopBundle: WorkflowBundleWithSourceMap): Promise<void> {
  const count = (k: 'real' | 'noop', pick?: (e: NonNullable<Recorded[number]['history']['events']>[number]) => unknown) =>
    histories[k].reduce((n, h) => n + (h.history.events ?? []).filter((e) => !pick || pick(e)).length, 0);
  const updates = { real: count('real', (e) => e.workflowExecutionUpdateAcceptedEventAttributes), noop: count('noop', (e) => e.workflowExecutionUpdateAcceptedEventAttributes) };
  const replayCpuMs = async (bundle: WorkflowBundleWithSourceMap, set: Recorded) => {
    const cpu = process.cpuUsage();
    const options = { workflowBundle: bundle, replayName: 'wfcpu', ...(process.env.BENCH_DEBUG_MODE === '1' ? { debugMode: true } : {}) };
    for await (const r of Worker.runReplayHistories(options as Parameters<typeof Worker.runReplayHistories>[0], set)) if (r.error) throw r.error;
    const used = process.cpuUsage(cpu);
    return (used.user + used.system) / 1000;
  };
  // CPU time (every thread of this process), not wall time: the machine is shared, so wall time carries load.
  const times = { real: [] as number[], noop: [] as number[] };
  await replayCpuMs(realBundle, histories.real); // warm-up
  await replayCpuMs(noopBundle, histories.noop);
  for (let i = 0; i < REPEATS; i++) {
    times.real.push(await replayCpuMs(realBundle, histories.real));
    times.noop.push(await replayCpuMs(noopBundle, histories.noop));
  }
  console.log(`workflow CPU per report (replay, ${RETAILERS} retailers × ${REPORTS + 1} reports, ${IN_FLIGHT} in flight when recorded, ${REPEATS} replays alternated)`);
  console.log(`  load average ${os.loadavg().map((x) => x.toFixed(2)).join(' / ')}`);
  const median = { real: percentile(sortedCopy(times.real), 50), noop: percentile(sortedCopy(times.noop), 50) };
  for (const k of ['real', 'noop'] as const) {
    const u = updates[k];
    const tasks = count(k, (e) => e.workflowTaskCompletedEventAttributes);
    console.log(`  ${k}: ${(median[k] / u).toFixed(3)} ms CPU/report (median of ${times[k].map((x) => x.toFixed(0)).join(', ')} ms), ${(count(k) / u).toFixed(2)} events and ${(tasks / u).toFixed(2)} workflow tasks per report`);
  }
  console.log(`  ratio real / noop: ${(median.real / updates.real / (median.noop / updates.noop)).toFixed(2)}×`);
}

const quiet = { log() {}, trace() {}, debug() {}, info() {}, warn() {}, error: (m: string) => console.error(m) };

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
