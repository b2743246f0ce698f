/**
 * Workflow-task CPU per report, the real retailer monitor against the bench's no-op (`npm run bench:wfcpu`).
 *
 * Records real histories on a dev server (the real monitor worker with Postgres, and the no-op entity
 * workflow), the same reports to both, then replays each set several times in this process, alternated, and
 * prints the replay time per report. A replay runs exactly the workflow code a live worker runs for those
 * histories (activations, the SDK's promise hooks, the Rust core's state machines) with no server, no
 * network and no activities, so the ratio isolates what the monitor's own workflow code costs per report.
 * Run under `node --cpu-prof` (BENCH_CPU_PROF=1 prints the command) to see where that time goes.
 *
 * Bounded: RETAILERS × REPORTS reports (default 10 × 60), REPEATS replays of each set (default 5).
 */
import { randomUUID } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { sql } from 'kysely';
import os from 'node:os';
import { performance } from 'node:perf_hooks';
import { bundleWorkflowCode, Worker, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import type { temporal } from '@temporalio/proto';
import { reportIngestionRun } from '../src/client';
import type { RunReportInput } from '../src/shared/report';
import { workflowInterceptorModules } from '../src/worker';
import { createTestMonitorWorker, startFleet, testConfig, workflowBundle } from '../test/helpers/monitor';
import { createTestDatabase } from '../test/helpers/postgres';
import { createDevServerEnv } from '../test/helpers/temporal';

const envInt = (name: string, dflt: number) => {
  const v = Number(process.env[name]);
  return Number.isInteger(v) && v > 0 ? v : dflt;
};
const RETAILERS = envInt('BENCH_RETAILERS', 10);
const REPORTS = envInt('BENCH_REPORTS', 60);
const REPEATS = envInt('BENCH_REPEATS', 5);
const IN_FLIGHT = envInt('BENCH_IN_FLIGHT', 4);

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

type History = temporal.api.history.v1.IHistory;

async function main(): Promise<void> {
  const histories: { real: { workflowId: string; history: History }[]; noop: { workflowId: string; history: History }[] } = { real: [], noop: [] };
  const realBundle = await workflowBundle();
  const noopBundle: WorkflowBundleWithSourceMap = await bundleWorkflowCode({ workflowsPath: require.resolve('./bench-noop-workflow'), logger: quiet });
  await record(histories, realBundle, noopBundle);
  if (process.env.BENCH_NO_REPLAY !== '1') await measure(histories, realBundle, noopBundle);
}

type Histories = { real: { workflowId: string; history: History }[]; noop: { workflowId: string; history: History }[] };

async function record(histories: Histories, _realBundle: WorkflowBundleWithSourceMap, noopBundle: WorkflowBundleWithSourceMap): Promise<void> {
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

  const events = (k: 'real' | 'noop') => histories[k].reduce((n, h) => n + (h.history.events?.length ?? 0), 0);
  const tasks = (k: 'real' | 'noop') =>
    histories[k].reduce((n, h) => n + (h.history.events ?? []).filter((e) => String(e.eventType) === '7' || e.eventType === ('EVENT_TYPE_WORKFLOW_TASK_COMPLETED' as never)).length, 0);
  const total = histories.real.length * REPORTS;
  const replay = async (bundle: WorkflowBundleWithSourceMap, set: { workflowId: string; history: History }[]) => {
    const t = performance.now();
    const cpu = process.cpuUsage();
    const results = Worker.runReplayHistories({ workflowBundle: bundle, replayName: 'wfcpu', ...(process.env.BENCH_DEBUG_MODE === '1' ? { debugMode: true } : {}) } as Parameters<typeof Worker.runReplayHistories>[0], set);
    for await (const r of results) if (r.error) throw r.error;
    const used = process.cpuUsage(cpu);
    return { wallMs: performance.now() - t, cpuMs: (used.user + used.system) / 1000 };
  };
  // CPU time (every thread of this process), not wall time: the machine is shared, so wall time carries load.
  const times = { real: [] as number[], noop: [] as number[] };
  await replay(realBundle, histories.real); // warm-up
  await replay(noopBundle, histories.noop);
  for (let i = 0; i < REPEATS; i++) {
    times.real.push((await replay(realBundle, histories.real)).cpuMs);
    times.noop.push((await replay(noopBundle, histories.noop)).cpuMs);
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  const r = median(times.real);
  const n = median(times.noop);
  console.log(`workflow CPU per report (replay, ${RETAILERS} retailers × ${REPORTS} reports, ${IN_FLIGHT} in flight when recorded, ${REPEATS} replays alternated)`);
  console.log(`  load average ${os.loadavg().map((x) => x.toFixed(2)).join(' / ')}`);
  console.log(`  real: ${(r / total).toFixed(3)} ms CPU/report (median of ${times.real.map((x) => x.toFixed(0)).join(', ')} ms), ${(events('real') / total).toFixed(2)} events and ${(tasks('real') / total).toFixed(2)} workflow tasks per report`);
  console.log(`  noop: ${(n / total).toFixed(3)} ms CPU/report (median of ${times.noop.map((x) => x.toFixed(0)).join(', ')} ms), ${(events('noop') / total).toFixed(2)} events and ${(tasks('noop') / total).toFixed(2)} workflow tasks per report`);
  console.log(`  ratio real / noop: ${(r / n).toFixed(2)}×`);
}

const quiet = { log() {}, trace() {}, debug() {}, info() {}, warn() {}, error: (m: string) => console.error(m) };
void workflowInterceptorModules;

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
