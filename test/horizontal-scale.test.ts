/**
 * Horizontal scale (issue 8): two monitor workers, each its own process, poll the same task queue and share
 * the fleet's retailer monitors. One is SIGKILLed in the middle of a bounded load (300 reports over 30
 * retailers, 4 in flight, each retailer's runs in order). Then: every report was applied exactly once (one
 * `ingestion_runs` row per run; each monitor's `accepted` counter and run total equal its report count), every
 * incident has exactly one fire and one resolve in `alert_events`, and the survivor did the rest of the work.
 * A sender retries a report whose call failed with the same run id, as the reporting interceptor does; the
 * monitor then answers `duplicate` if the first attempt had been applied. Real dev server, real Postgres.
 */
import { hostname } from 'node:os';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { reportIngestionRun } from '../src/client';
import { DEFAULTS, retailerQuery, retailerWorkflowId, type RunVerdict } from '../src/shared/messages';
import type { RunReportInput } from '../src/shared/report';
import { ensureFleet } from '../src/worker';
import { createTestDatabase, type TestDatabase } from './helpers/postgres';
import { createDevServerEnv } from './helpers/temporal';
import { until } from './helpers/wait';
import { type ChildWorker, spawnWorkerProcess, workerReady } from './helpers/worker-process';

const taskQueue = 'horizontal-scale';
const target = { taskQueue };
const RETAILERS = Array.from({ length: 30 }, (_, i) => `shard${String(i).padStart(2, '0')}`);
/** Each retailer's ten runs: two failures in a row open an incident, the next success resolves it; twice. */
const STATUSES = ['success', 'success', 'failure', 'failure', 'success', 'success', 'success', 'failure', 'failure', 'success'] as const;
const IN_FLIGHT = 4;
/** Worker A is killed once this many verdicts are back (about a third of the load). */
const KILL_AFTER = 100;
const SEND_ATTEMPTS = 6;

let env: TestWorkflowEnvironment;
let tdb: TestDatabase;
const workers: ChildWorker[] = [];
let passed = false;

beforeAll(async () => {
  [env, tdb] = await Promise.all([createDevServerEnv(), createTestDatabase('im_hscale')]);
}, 120_000);

afterAll(async () => {
  for (const w of workers) if (!w.exited()) w.proc.kill('SIGKILL');
  if (!passed) workers.forEach((w, i) => console.error(`worker ${'AB'[i]} output:\n${w.output() || '(none)'}`));
  await Promise.all([env?.teardown(), tdb?.drop()]);
}, 60_000);

const base = Date.now() - (STATUSES.length + 1) * 60_000;
function report(retailer: string, seq: number): RunReportInput {
  const finished = base + seq * 60_000;
  const status = STATUSES[seq]!;
  return {
    runId: `${retailer}-${seq}`,
    retailer,
    status,
    startedAt: new Date(finished - 30_000).toISOString(),
    finishedAt: new Date(finished).toISOString(),
    ...(status === 'success' ? { skuCount: 1000, promoCount: 10 } : { error: 'HTTP 503 from the retailer' }),
  };
}

/** Send one report; a failed call is sent again with the same run id (bounded). */
async function send(r: RunReportInput, errors: string[]): Promise<RunVerdict> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await reportIngestionRun(env.client, r, target);
    } catch (err) {
      errors.push(`${r.runId} attempt ${attempt}: ${(err as Error).message}`);
      if (attempt >= SEND_ATTEMPTS) throw err;
      await new Promise((resolve) => setTimeout(resolve, 1_000));
    }
  }
}

/** `identity` of every completed workflow task of a workflow (the SDK's default identity is pid@host). */
async function taskIdentities(workflowId: string): Promise<string[]> {
  const history = await env.client.workflow.getHandle(workflowId).fetchHistory();
  return (history.events ?? []).flatMap((e) => (e.workflowTaskCompletedEventAttributes?.identity ? [e.workflowTaskCompletedEventAttributes.identity] : []));
}

it('two workers share the fleet; one SIGKILLed mid-load: no report lost or applied twice, no alert duplicated, the survivor carries on', async () => {
  const workerEnv = { TEMPORAL_ADDRESS: env.address, TEMPORAL_NAMESPACE: env.namespace ?? 'default', DATABASE_URL: tdb.url, MONITOR_TASK_QUEUE: taskQueue };
  const a = spawnWorkerProcess(workerEnv);
  const b = spawnWorkerProcess(workerEnv);
  workers.push(a, b);
  await Promise.all([workerReady(a, 120_000), workerReady(b, 120_000)]);
  const identityA = `${a.proc.pid}@${hostname()}`;
  const identityB = `${b.proc.pid}@${hostname()}`;
  await ensureFleet(env.client, { workflowId: DEFAULTS.workflowId, taskQueue }, { groupWindowMs: 1_000 });

  // 4 lanes; each owns every 4th retailer and sends its retailers' runs round-robin, so a retailer's runs
  // go out in order and one at a time.
  const verdicts = new Map<string, RunVerdict>();
  const errors: string[] = [];
  let killedAt: number | undefined;
  let doneAtKill = 0;
  const lanes = Array.from({ length: IN_FLIGHT }, async (_, lane) => {
    const mine = RETAILERS.filter((_, i) => i % IN_FLIGHT === lane);
    for (let seq = 0; seq < STATUSES.length; seq++) {
      for (const retailer of mine) {
        const r = report(retailer, seq);
        verdicts.set(r.runId, await send(r, errors));
        if (killedAt === undefined && verdicts.size >= KILL_AFTER) {
          killedAt = Date.now();
          doneAtKill = verdicts.size;
          a.proc.kill('SIGKILL');
        }
      }
    }
  });
  await Promise.all(lanes);
  const loadMs = Date.now() - killedAt!;
  expect(a.proc.signalCode ?? (await new Promise((resolve) => a.proc.once('exit', (_c, s) => resolve(s))))).toBe('SIGKILL');
  expect(b.exited()).toBe(false);

  // Every report has a verdict: applied (accepted) or found already applied (duplicate, after a retry).
  expect(verdicts.size).toBe(RETAILERS.length * STATUSES.length);
  const outcomes = [...verdicts.values()].map((v) => v.outcome);
  expect(outcomes.every((o) => o === 'accepted' || o === 'duplicate')).toBe(true);

  // One row per run in Postgres.
  const runs = await until('every run in ingestion_runs', async () => {
    const r = await tdb.db.selectFrom('ingestion_runs').select(['run_id', 'retailer']).execute();
    return r.length >= verdicts.size ? r : undefined;
  }, 60_000, 250);
  expect(runs.map((r) => r.run_id).sort()).toEqual([...verdicts.keys()].sort());

  // Each monitor applied each of its runs exactly once.
  for (const retailer of RETAILERS) {
    const view = await env.client.workflow.getHandle(retailerWorkflowId(retailer)).query(retailerQuery);
    expect({ retailer, accepted: view.counters.accepted, runs: view.totals.runs, failures: view.totals.failures }).toEqual({
      retailer,
      accepted: STATUSES.length,
      runs: STATUSES.length,
      failures: STATUSES.filter((s) => s === 'failure').length,
    });
    expect(view.health).toBe('healthy');
  }

  // Two incidents per retailer, each with exactly one fire and one resolve: nothing lost, nothing twice.
  const events = await until('every fire and resolve in alert_events', async () => {
    const r = await tdb.db.selectFrom('alert_events').select(['incident_id', 'retailer', 'rule', 'kind']).execute();
    return r.length >= RETAILERS.length * 4 ? r : undefined;
  }, 90_000, 250);
  const perIncident = new Map<string, string[]>();
  for (const e of events) perIncident.set(e.incident_id, [...(perIncident.get(e.incident_id) ?? []), e.kind].sort());
  expect(events.every((e) => e.rule === 'consecutive_failures')).toBe(true);
  expect(perIncident.size).toBe(RETAILERS.length * 2);
  for (const [incident, kinds] of perIncident) expect({ incident, kinds }).toEqual({ incident, kinds: ['fire', 'resolve'] });
  for (const retailer of RETAILERS) expect(events.filter((e) => e.retailer === retailer)).toHaveLength(4);

  // The two workers shared the fleet before the kill; the survivor did the rest.
  const identities = await Promise.all(RETAILERS.map((r) => taskIdentities(retailerWorkflowId(r))));
  const touchedBy = (id: string) => identities.filter((ids) => ids.includes(id)).length;
  const lastBy = identities.map((ids) => ids[ids.length - 1]);
  process.stdout.write(
    `horizontal-scale: ${doneAtKill} of ${verdicts.size} verdicts back at the kill; the rest took ${(loadMs / 1000).toFixed(1)} s; ` +
      `monitors with tasks on A: ${touchedBy(identityA)}, on B: ${touchedBy(identityB)}; ` +
      `duplicate verdicts (retried after the kill): ${outcomes.filter((o) => o === 'duplicate').length}; failed sends retried: ${errors.length}\n`,
  );
  expect(touchedBy(identityA)).toBeGreaterThan(0);
  expect(touchedBy(identityB)).toBeGreaterThan(0);
  // Any monitor whose last completed task was not B's, with the identities of its tasks (none expected).
  const notLastByB = RETAILERS.flatMap((r, i) => (lastBy[i] === identityB ? [] : [{ retailer: r, A: identityA, B: identityB, tasks: identities[i] }]));
  expect(notLastByB).toEqual([]);
  passed = true;
}, 240_000);
