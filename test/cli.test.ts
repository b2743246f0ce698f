/**
 * The CLI as a user runs it: a real child process against the live monitor on the real dev server and
 * real Postgres. Plus unit tests of the pure formatting and argument validation.
 */
import { spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { WorkflowNotFoundError } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Worker } from '@temporalio/worker';
import { expectedArgs, reportFromOptions, silenceArgs, thresholdsArgs } from '../src/cli/args';
import { summariseFleet } from '../src/cli/commands/read';
import { formatAge, formatDuration, parseDuration, renderStatus, type AlertView, type FleetStatus, type IncidentView } from '../src/cli/format';
import { DEFAULT_THRESHOLDS } from '../src/rules/thresholds';
import { retailerWorkflowId, type RetailerView } from '../src/shared/messages';
import { createTestMonitorWorker, startFleet, testConfig } from './helpers/monitor';
import { createTestDatabase, type TestDatabase } from './helpers/postgres';
import { createDevServerEnv } from './helpers/temporal';
import { until } from './helpers/wait';

describe('format and arguments (pure)', () => {
  it('parses durations and refuses what is not one', () => {
    expect(parseDuration('2h')).toBe(7_200_000);
    expect(parseDuration('30m')).toBe(1_800_000);
    expect(parseDuration('1d')).toBe(86_400_000);
    expect(parseDuration('1h30m')).toBe(5_400_000);
    expect(parseDuration('1.5h')).toBe(5_400_000);
    for (const bad of ['banana', '', '2', 'h', '-1h', '2 hours']) expect(parseDuration(bad)).toBeUndefined();
    expect(formatDuration(4 * 3_600_000)).toBe('4h');
    expect(formatDuration(5_400_000)).toBe('1h 30m');
  });

  it('prints ages at a readable precision, past and future', () => {
    const now = 1_800_000_000_000;
    expect(formatAge(now - 3_000, now)).toBe('just now');
    expect(formatAge(now - 45_000, now)).toBe('45 s ago');
    expect(formatAge(now - 12 * 60_000, now)).toBe('12 min ago');
    expect(formatAge(now - 3.2 * 3_600_000, now)).toBe('3.2 h ago');
    expect(formatAge(now - 3 * 86_400_000, now)).toBe('3.0 d ago');
    expect(formatAge(now + 40 * 60_000, now)).toBe('in 40 min');
  });

  it('renders status without colour codes unless asked, with the counters line', () => {
    const status: FleetStatus = {
      fleet: 'ingestion-monitor',
      retailers: [],
      counters: { accepted: 3, rejected: 1, duplicates: 0, outOfOrder: 2 },
      recentRejections: [{ at: '1970-01-01T00:00:00.000Z', reason: 'run report: status: bad', retailer: 'spar' }],
      defaults: { failureStreak: 2, staleAfterMs: 1, skuDropPct: 30, skuWindow: 7, skuMinSamples: 3, renotifyEveryMs: 0 },
      expectedRetailers: ['ghost'],
      notRunning: ['ghost'],
      unreadable: [{ retailer: 'stuck', error: 'no answer within 5 s' }],
      truncated: false,
      healthyNotListed: 0,
    };
    const plain = renderStatus(status, 1000, false);
    expect(plain).toContain('3 accepted · 1 rejected · 2 out of order · 0 repeats ignored (already recorded)');
    expect(plain).toContain('last rejection (just now, spar): run report: status: bad');
    expect(plain).toContain('expected but no monitor running: ghost');
    expect(plain).toContain('stuck: monitor did not answer (no answer within 5 s)');
    expect(plain).not.toContain('\x1b[');
    expect(renderStatus(status, 1000, true)).toContain('\x1b[');
  });

  it('renders a large all-healthy fleet as totals, not as an empty fleet', () => {
    const status: FleetStatus = {
      fleet: 'ingestion-monitor',
      retailers: [],
      counters: { accepted: 0, rejected: 0, duplicates: 0, outOfOrder: 0 },
      recentRejections: [],
      defaults: { failureStreak: 2, staleAfterMs: 1, skuDropPct: 30, skuWindow: 7, skuMinSamples: 3, renotifyEveryMs: 0 },
      expectedRetailers: [],
      notRunning: [],
      unreadable: [],
      truncated: true,
      running: 10_000,
      health: { healthy: 9_998, unhealthy: 0, silenced: 0, unknown: 2 },
      healthyNotListed: 9_998,
    };
    const text = renderStatus(status, 1000, false);
    expect(text.split('\n')).toEqual([
      '10,000 running: 9,998 healthy · 0 unhealthy · 0 silenced · 2 with no health recorded yet',
      '9,998 healthy monitors are counted, not listed (more than --limit are running); `retailer <r>` shows one',
      'only 0 of 2 monitors not healthy are shown, unhealthy first (--limit)',
    ]);
  });

  it('sums the retailer monitors into the fleet overview; an unreadable monitor is listed, not fatal', () => {
    const view = (retailer: string, accepted: number, at: string) =>
      ({
        retailer,
        health: 'healthy',
        firstSeenAt: at,
        consecutiveFailures: 0,
        staleDeadline: at,
        openIncidents: [],
        silences: [],
        thresholds: DEFAULT_THRESHOLDS,
        totals: { runs: accepted, failures: 0, outOfOrder: 0 },
        recentRuns: [],
        skuBaseline: [],
        counters: { accepted, rejected: 1, duplicates: 0, outOfOrder: 0 },
        recentRejections: [{ at, reason: `bad report for ${retailer}` }],
      }) as RetailerView;
    const s = summariseFleet(
      { workflowId: 'fleet', defaults: DEFAULT_THRESHOLDS, expectedRetailers: ['alpha', 'ghost'] },
      [{ retailer: 'zulu', view: view('zulu', 2, '2026-11-27T10:00:00.000Z') }, { retailer: 'alpha', view: view('alpha', 3, '2026-11-27T09:00:00.000Z') }, { retailer: 'stuck', error: 'boom' }],
      { truncated: false },
    );
    expect(s.retailers.map((r) => r.retailer)).toEqual(['alpha', 'zulu']);
    expect(s.retailers[0]).not.toHaveProperty('recentRuns');
    expect(s.counters).toEqual({ accepted: 5, rejected: 2, duplicates: 0, outOfOrder: 0 });
    expect(s.recentRejections.map((r) => r.retailer)).toEqual(['alpha', 'zulu']);
    expect(s.notRunning).toEqual(['ghost']);
    expect(s.unreadable).toEqual([{ retailer: 'stuck', error: 'boom' }]);
  });

  it('validates operator arguments with the shared schemas', () => {
    const now = Date.parse('2026-11-27T10:00:00Z');
    expect(silenceArgs({ retailer: 'checkers', for: '2h', reason: 'deploy', by: 'me@host' }, now).until).toBe('2026-11-27T12:00:00.000Z');
    expect(() => silenceArgs({ retailer: 'checkers', for: '2h', until: '2026-11-28T00:00:00Z', reason: 'x', by: 'me' }, now)).toThrow(/exactly one/);
    expect(() => silenceArgs({ retailer: 'Checkers', for: '2h', reason: 'x', by: 'me' }, now)).toThrow(/<retailer>: retailer must be a lower-case slug/);
    expect(() => silenceArgs({ retailer: 'checkers', until: '2026-11-27T09:00:00Z', reason: 'x', by: 'me' }, now)).toThrow(/in the past/);
    expect(thresholdsArgs({ retailer: 'checkers', staleAfter: '6h', renotifyEvery: 'off' })).toEqual({
      retailer: 'checkers',
      thresholds: { staleAfterMs: 6 * 3_600_000, renotifyEveryMs: 0 },
    });
    expect(() => thresholdsArgs({ failureStreak: '0' })).toThrow(/--failure-streak/);
    expect(() => thresholdsArgs({})).toThrow(/nothing to change/);
    expect(reportFromOptions({ retailer: 'pnp', status: 'failure' }, now)).toEqual({
      retailer: 'pnp',
      status: 'failure',
      runId: 'manual-20261127T100000000Z',
      startedAt: '2026-11-27T10:00:00.000Z',
      finishedAt: '2026-11-27T10:00:00.000Z',
    });
    expect(() => reportFromOptions({ retailer: 'pnp', status: 'success' }, now)).toThrow(/--sku-count: skuCount is required/);
    expect(expectedArgs(['spar', 'spar', 'game'], false, 'me')).toEqual({ add: ['spar', 'game'], by: 'me' });
    expect(expectedArgs(['spar'], true, 'me')).toEqual({ remove: ['spar'], by: 'me' });
    expect(() => expectedArgs(['__proto__'], false, 'me')).toThrow(/"__proto__" is not a lower-case slug/);
  });
});

// ---- the live monitor -------------------------------------------------------------------------------

let env: TestWorkflowEnvironment;
let tdb: TestDatabase;
let worker: Worker;
let running: Promise<void>;
const taskQueue = 'monitor-cli';
const workflowId = `ingestion-monitor-cli-${Date.now()}`;
const ROOT = resolve(__dirname, '..');

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
  ms: number;
}

/** Run the CLI exactly as a user would (tsx from source), with the test server as its environment. */
function cli(args: string[], opts: { env?: Record<string, string>; stdin?: string } = {}): Promise<Run> {
  const started = Date.now();
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, ['-r', 'tsx/cjs', 'src/cli/index.ts', ...args], {
      cwd: ROOT,
      env: {
        ...process.env,
        TEMPORAL_ADDRESS: env.address,
        TEMPORAL_NAMESPACE: 'default',
        MONITOR_WORKFLOW_ID: workflowId,
        MONITOR_TASK_QUEUE: taskQueue,
        USER: 'cli-tester',
        ...opts.env,
      },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', fail);
    child.on('close', (code) => done({ code, stdout, stderr, ms: Date.now() - started }));
    child.stdin.end(opts.stdin ?? '');
  });
}

async function cliJson<T>(args: string[]): Promise<T> {
  const r = await cli([...args, '--json']);
  if (r.code !== 0) throw new Error(`${args.join(' ')} exited ${r.code}: ${r.stderr}`);
  return JSON.parse(r.stdout) as T;
}

/** Some things are eventually consistent (visibility, the fleet hearing of an incident): poll a --json query. */
async function untilJson<T>(args: string[], ok: (v: T) => boolean, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await cliJson<T>(args);
    if (ok(v)) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting on ${args.join(' ')}: ${JSON.stringify(v)}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

const noStack = (r: Run) => expect(r.stderr).not.toMatch(/\n\s+at /);
const minutesAgo = (m: number) => new Date(Date.now() - m * 60_000).toISOString();

describe('ingestion-monitor CLI against the live monitor', () => {
  beforeAll(async () => {
    [env, tdb] = await Promise.all([createDevServerEnv(), createTestDatabase('im_cli')]);
    const config = { ...testConfig({ taskQueue, databaseUrl: tdb.url }), workflowId };
    worker = await createTestMonitorWorker(env, config, tdb);
    running = worker.run();
    await startFleet(env.client, config);
  });

  afterAll(async () => {
    worker?.shutdown();
    await running;
    await Promise.all([env?.teardown(), tdb?.drop()]);
  });

  /** Whether any workflow (running or not) exists with this id: commands must never create one. */
  const exists = (id: string) =>
    env.client.workflow
      .getHandle(id)
      .describe()
      .then(
        () => true,
        (err: unknown) => {
          if (err instanceof WorkflowNotFoundError) return false;
          throw err;
        },
      );

  it('report twice (failures) → verdicts, then status shows the retailer unhealthy, with counters', async () => {
    const verdicts: string[] = [];
    for (const [runId, m] of [['cli-1', 20], ['cli-2', 10]] as const) {
      const r = await cli(['report', '--retailer', 'checkers', '--status', 'failure', '--run-id', runId, '--finished-at', minutesAgo(m), '--error', 'HTTP 503']);
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      expect(r.stdout).toContain(`reported failure run ${runId} for checkers: accepted`);
      verdicts.push(r.stdout);
    }
    // The second failure opens the incident, and the verdict says so.
    expect(verdicts[1]).toMatch(/checkers unhealthy; opened checkers\/consecutive_failures\/\d+/);
    const again = await cli(['report', '--retailer', 'checkers', '--status', 'failure', '--run-id', 'cli-2', '--finished-at', minutesAgo(10), '--json']);
    expect(JSON.parse(again.stdout)).toMatchObject({ ok: true, verdict: { outcome: 'duplicate', retailer: 'checkers', runId: 'cli-2' } });

    const status = await untilJson<FleetStatus>(['status'], (s) => s.retailers.length > 0);
    expect(status.counters).toEqual({ accepted: 2, rejected: 0, duplicates: 1, outOfOrder: 0 });
    expect(status.retailers).toEqual([expect.objectContaining({ retailer: 'checkers', health: 'unhealthy', consecutiveFailures: 2 })]);
    expect(status.fleet).toBe(workflowId);

    const table = await cli(['status']);
    expect(table.code).toBe(0);
    expect(table.stdout).toMatch(/checkers.*unhealthy.*failure · 1[0-2] min ago.*never.*2.*consecutive_failures/);
    expect(table.stdout).toContain('2 accepted · 0 rejected · 0 out of order · 1 repeats ignored (already recorded)');
    expect(table.stdout).not.toContain('\x1b['); // stdout is a pipe, not a terminal: no colour codes
  });

  it('incidents --json lists the consecutive_failures incident; ack acknowledges it', async () => {
    const incidents = await untilJson<IncidentView[]>(['incidents'], (l) => l.length > 0);
    expect(incidents).toEqual([expect.objectContaining({ retailer: 'checkers', rule: 'consecutive_failures', notifyCount: 1 })]);
    expect(incidents[0]!.figures.lastError).toBe('HTTP 503');
    const id = incidents[0]!.id;
    expect((await cli(['incidents'])).stdout).toMatch(new RegExp(`${id}.*checkers.*consecutive_failures`));
    expect(await cliJson<IncidentView[]>(['incidents', '--retailer', 'checkers'])).toEqual([expect.objectContaining({ id })]);

    const ack = await cli(['ack', id, '--note', 'looking into the 503s']);
    expect(ack.stderr).toBe('');
    expect(ack.code).toBe(0);
    expect(ack.stdout).toContain(`acknowledged ${id}`);
    const [after] = await cliJson<IncidentView[]>(['incidents']);
    expect(after!.acknowledged).toMatchObject({ by: expect.stringMatching(/^cli-tester@/), note: 'looking into the 503s' });

    const missing = await cli(['ack', 'checkers/stale/99']);
    expect(missing.code).toBe(3);
    expect(missing.stderr).toContain('no open incident "checkers/stale/99"');
    expect(missing.stderr).toContain(`open for checkers: ${id}`);
    const nowhere = await cli(['ack', 'nosuch/stale/1']);
    expect(nowhere.code).toBe(3);
    expect(nowhere.stderr).toContain('no open incident "nosuch/stale/1"');
    expect(await exists(retailerWorkflowId('nosuch'))).toBe(false);
  });

  it('alerts --json lists the fire of the incident', async () => {
    const alerts = await untilJson<AlertView[]>(['alerts'], (l) => l.some((a) => a.kind === 'fire'));
    expect(alerts).toEqual(expect.arrayContaining([expect.objectContaining({ retailer: 'checkers', rule: 'consecutive_failures', kind: 'fire' })]));
    expect(alerts[0]!.at).toMatch(/^\d{4}-\d\d-\d\dT/); // ISO times, not epoch milliseconds
    expect((await cli(['alerts', '--retailer', 'checkers'])).stdout).toMatch(/fire/);
  });

  it('silence --for 1h shows in retailer --json; unsilence removes it', async () => {
    const r = await cli(['silence', 'checkers', '--for', '1h', '--reason', 'deploy window']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('silenced all rules of checkers until');
    // Updates answer once applied: no polling needed.
    const d = await cliJson<RetailerView>(['retailer', 'checkers']);
    expect(d.silences).toEqual([expect.objectContaining({ rule: '*', reason: 'deploy window', by: expect.stringMatching(/^cli-tester@/) })]);
    expect(Math.abs(Date.parse(d.silences[0]!.until) - (Date.now() + 3_600_000))).toBeLessThan(60_000);
    expect(d.health).toBe('silenced');

    expect((await cli(['unsilence', 'checkers'])).code).toBe(0);
    expect((await cliJson<RetailerView>(['retailer', 'checkers'])).silences).toEqual([]);
  });

  it('thresholds --retailer r --failure-streak 3 shows in the retailer thresholds', async () => {
    const r = await cli(['thresholds', '--retailer', 'checkers', '--failure-streak', '3', '--json']);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({
      ok: true,
      update: 'setThresholds',
      args: { retailer: 'checkers', thresholds: { failureStreak: 3 } },
      result: expect.objectContaining({ retailer: 'checkers', actionId: expect.any(String) }),
    });
    const d = await cliJson<RetailerView>(['retailer', 'checkers']);
    expect(d.thresholds.failureStreak).toBe(3);
    expect(d.thresholds.staleAfterMs).toBe(4 * 3_600_000); // the others are untouched
    expect((await cli(['retailer', 'checkers'])).stdout).toMatch(/thresholds\s+failure streak 3 · stale after 4h/);
  });

  it('thresholds without --retailer changes the fleet defaults, pushed to every retailer monitor', async () => {
    const r = await cli(['thresholds', '--sku-window', '9']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('thresholds for all retailers (fleet defaults) set: SKU window 9 runs');
    const d = await untilJson<RetailerView>(['retailer', 'checkers'], (v) => v.thresholds.skuWindow === 9);
    expect(d.thresholds.failureStreak).toBe(3); // the retailer's own override stays
  });

  it('expect starts a monitor for a retailer that has never reported; --remove stops expecting it', async () => {
    const r = await cli(['expect', 'lonely-mart', '--json']);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ ok: true, update: 'setExpectedRetailers', result: { expectedRetailers: ['lonely-mart'] } });
    const s = await untilJson<FleetStatus>(['status'], (v) => v.retailers.some((x) => x.retailer === 'lonely-mart'));
    expect(s.expectedRetailers).toEqual(['lonely-mart']);
    expect(s.notRunning).toEqual([]);
    // A list cut by --limit says so, with how many monitors run in all (visibility counts; more in the status test below).
    const cut = await untilJson<FleetStatus>(['status', '--limit', '1'], (v) => (v.running ?? 0) >= 2);
    expect(cut.retailers.length + cut.unreadable.length).toBeLessThanOrEqual(1);
    expect(cut.truncated).toBe(true);
    expect((await cli(['status', '--limit', '1'])).stdout).toMatch(/^\d+ running: \d+ healthy · \d+ unhealthy · \d+ silenced/);
    expect((await cliJson<RetailerView>(['retailer', 'lonely-mart'])).lastRun).toBeUndefined();
    const bad = await cli(['expect', 'Lonely Mart']);
    expect(bad.code).toBe(2);
    expect((await cli(['expect', 'lonely-mart', '--remove'])).code).toBe(0);
    expect((await cliJson<FleetStatus>(['status'])).expectedRetailers).toEqual([]);
  });

  it('report --file - reads a report from stdin', async () => {
    const report = { runId: 'cli-3', retailer: 'checkers', status: 'success', skuCount: 15_000, finishedAt: minutesAgo(1) };
    const r = await cli(['report', '--file', '-'], { stdin: JSON.stringify(report) });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/reported success run cli-3 for checkers \(15000 SKUs\): accepted; checkers healthy; resolved checkers\/consecutive_failures\//);
    const d = await cliJson<RetailerView>(['retailer', 'checkers']);
    expect(d).toMatchObject({ health: 'healthy', consecutiveFailures: 0, lastRun: { status: 'success', skuCount: 15_000 } });
  });

  it('status over a fleet larger than --limit lists those not healthy and counts the healthy; within it, lists all as before', async () => {
    const reports = [
      ...['big-a', 'big-b', 'big-c'].map((retailer) => ({ runId: `${retailer}-1`, retailer, status: 'success', skuCount: 1_000, finishedAt: minutesAgo(5) })),
      ...['big-bad-1', 'big-bad-2'].flatMap((retailer) =>
        [1, 2].map((n) => ({ runId: `${retailer}-${n}`, retailer, status: 'failure', error: 'HTTP 500', finishedAt: minutesAgo(10 - n) })),
      ),
    ];
    expect((await cli(['report', '--file', '-'], { stdin: JSON.stringify(reports) })).code).toBe(0);
    // Within the limit: every running monitor listed and asked, as before; wait until visibility's totals by
    // health agree with what the monitors answer (the search attribute is written behind the report).
    const byHealth = (v: FleetStatus) => ({
      healthy: v.retailers.filter((r) => r.health === 'healthy').length,
      unhealthy: v.retailers.filter((r) => r.health === 'unhealthy').length,
      silenced: v.retailers.filter((r) => r.health === 'silenced').length,
      unknown: 0,
    });
    const all = await untilJson<FleetStatus>(
      ['status', '--limit', '1000'],
      (v) => ['big-a', 'big-bad-2'].every((r) => v.retailers.some((x) => x.retailer === r)) && v.running === v.retailers.length && JSON.stringify(v.health) === JSON.stringify(byHealth(v)),
    );
    expect(all).toMatchObject({ truncated: false, healthyNotListed: 0, unreadable: [] });
    const notHealthy = all.retailers.filter((r) => r.health !== 'healthy').map((r) => r.retailer);
    expect(notHealthy).toEqual(['big-bad-1', 'big-bad-2']); // checkers recovered in the test above
    const within = await cli(['status']);
    expect(within.stdout).toMatch(/big-a .*healthy/);
    expect(within.stdout).not.toMatch(/running:|counted, not listed/);

    // Over the limit: the two unhealthy monitors listed and asked, the healthy ones counted, not listed.
    const healthy = all.health!.healthy;
    const cut = await cliJson<FleetStatus>(['status', '--limit', '2']);
    expect(cut).toMatchObject({ truncated: true, running: all.running, health: all.health, healthyNotListed: healthy, unreadable: [] });
    expect(cut.retailers.map((r) => [r.retailer, r.health, r.consecutiveFailures])).toEqual([
      ['big-bad-1', 'unhealthy', 2],
      ['big-bad-2', 'unhealthy', 2],
    ]);
    expect(cut.counters.accepted).toBe(4); // over the monitors listed
    const table = await cli(['status', '--limit', '2']);
    expect(table.code).toBe(0);
    expect(table.stdout).toContain(`${all.running} running: ${healthy} healthy · 2 unhealthy · 0 silenced`);
    expect(table.stdout).toMatch(/big-bad-1 .*unhealthy/);
    expect(table.stdout).not.toContain('big-a');
    expect(table.stdout).toContain(`${healthy} healthy monitors are counted, not listed (more than --limit are running); \`retailer <r>\` shows one`);
    expect(table.stdout).toContain('reports, the 2 monitors listed: 4 accepted');
    // More monitors not healthy than the limit: the cut is said.
    const one = await cli(['status', '--limit', '1']);
    expect(one.stdout).toContain('only 1 of 2 monitors not healthy are shown, unhealthy first (--limit)');
  });

  it('maintenance add / list / remove, per retailer and fleet-wide; a bad spec is refused clearly', async () => {
    for (const [args, message] of [
      [['maintenance', 'add', 'every', 'sunday', '04:00-02:00', 'Africa/Johannesburg', '--retailer', 'checkers', '--reason', 'db'], /<spec>: end 02:00 is not after start 04:00/],
      [['maintenance', 'add', 'every sunday 02:00-04:00 Mars/Olympus', '--reason', 'db'], /unknown timezone "Mars\/Olympus"/],
      [['maintenance', 'add', 'every sunday 02:00-04:00 UTC'], /required option '--reason <text>'/],
      [['thresholds', '--retailer', 'checkers', '--flap-count', '1'], /--flap-count: flapCount must be 0 \(off\) or at least 2/],
    ] as Array<[string[], RegExp]>) {
      const r = await cli(args);
      expect({ args, code: r.code }).toEqual({ args, code: 2 });
      expect(r.stderr).toMatch(message);
      noStack(r);
    }
    const add = await cli(['maintenance', 'add', 'every Sunday 02:00–04:00 Africa/Johannesburg', '--retailer', 'checkers', '--reason', 'db upgrade', '--json']);
    expect(add.stderr).toBe('');
    expect(add.code).toBe(0);
    const id = JSON.parse(add.stdout).result.actionId as string;
    expect(id).toMatch(/^checkers\/action\/\d+$/);
    const fleet = await cli(['maintenance', 'add', 'every', 'day', '01:00-01:30', 'UTC', '--reason', 'backups']);
    expect(fleet.code).toBe(0);
    expect(fleet.stdout).toMatch(/fleet-wide maintenance window fleet\/action\/\d+: every day 01:00-01:30 UTC; pushed to \d+ retailer monitors/);
    const fleetId = /fleet\/action\/\d+/.exec(fleet.stdout)![0];

    // The retailer sees its own window and the fleet's (pushed like the fleet defaults).
    const listed = await untilJson<{ windows: Array<{ id: string; spec: string }> }>(['maintenance', 'list', '--retailer', 'checkers'], (v) => v.windows.length === 2);
    expect(listed.windows.map((w) => [w.id, w.spec])).toEqual([
      [id, 'every sunday 02:00-04:00 Africa/Johannesburg'],
      [fleetId, 'every day 01:00-01:30 UTC'],
    ]);
    const table = await cli(['maintenance', 'list', '--retailer', 'checkers']);
    expect(table.stdout).toContain(`${id}: every sunday 02:00-04:00 Africa/Johannesburg — db upgrade (by cli-tester@`);
    expect(table.stdout).toContain(`${fleetId}: every day 01:00-01:30 UTC (fleet-wide) — backups`);
    expect((await cli(['retailer', 'checkers'])).stdout).toMatch(/maintenance\s+.*every sunday 02:00-04:00 Africa\/Johannesburg/);

    const unknown = await cli(['maintenance', 'remove', 'checkers/action/99999']);
    expect(unknown.code).toBe(3);
    expect(unknown.stderr).toMatch(new RegExp(`no maintenance window checkers/action/99999 on checkers \\(its windows: ${id}\\)`));
    expect((await cli(['maintenance', 'remove', id])).code).toBe(0);
    expect((await cli(['maintenance', 'remove', fleetId])).stdout).toMatch(/removed fleet-wide maintenance window/);
    expect((await cli(['maintenance', 'list'])).stdout).toContain('no maintenance windows, fleet-wide');
    await untilJson<{ windows: unknown[] }>(['maintenance', 'list', '--retailer', 'checkers'], (v) => v.windows.length === 0);
    const actions = await until('the four actions recorded', async () => {
      const r = await tdb.db.selectFrom('operator_actions').select(['action', 'retailer']).where('action', 'like', 'maintenance%').orderBy('at').execute();
      return r.length === 4 && r;
    });
    expect(actions).toEqual([
      { action: 'maintenance_add', retailer: 'checkers' },
      { action: 'maintenance_add', retailer: null },
      { action: 'maintenance_remove', retailer: 'checkers' },
      { action: 'maintenance_remove', retailer: null },
    ]);
  });

  it('replay and reprocess validate, run and exit 0', async () => {
    const replay = await cli(['replay', 'checkers', '--json']);
    expect({ code: replay.code, stderr: replay.stderr }).toEqual({ code: 0, stderr: '' });
    expect(JSON.parse(replay.stdout)).toMatchObject({ ok: true, update: 'replay', args: { retailer: 'checkers', by: expect.stringMatching(/^cli-tester@/) } });
    expect((await cli(['replay', 'checkers'])).stdout).toContain('ingestion-monitor retailer checkers');

    const from = '2026-11-26T00:00:00Z';
    const to = '2026-11-27T00:00:00Z';
    const reprocess = await cli(['reprocess', 'checkers', '--from', from, '--to', to]);
    expect(reprocess.stderr).toBe('');
    expect(reprocess.code).toBe(0);
    expect(reprocess.stdout).toContain('reprocess checkers');
    const backwards = await cli(['reprocess', 'checkers', '--from', to, '--to', from]);
    expect(backwards.code).toBe(2);
    expect(backwards.stderr).toContain('from must be before to');
    expect((await cli(['reprocess', 'checkers', '--from', 'yesterday', '--to', to])).code).toBe(2);
  });

  it('unknown retailers exit 3 with the reason and create nothing; so does a fleet that is not running', async () => {
    const r = await cli(['retailer', 'nosuch']);
    expect(r.code).toBe(3);
    expect(r.stderr).toContain('unknown retailer "nosuch"');
    // Names that are object-prototype keys are just unknown retailers, never a crash.
    for (const name of ['constructor', 'toString', '__proto__', 'hasOwnProperty']) {
      const q = await cli(['retailer', name]);
      expect({ name, code: q.code }).toEqual({ name, code: 3 });
      expect(q.stderr).toContain(`unknown retailer "${name}"`);
      noStack(q);
    }
    // The typos of the issue: each is refused, and no phantom monitor is started.
    const typos: string[][] = [
      ['replay', 'sparr'],
      ['silence', 'sparr', '--for', '1h', '--reason', 'x'],
      ['unsilence', 'constructor'],
      ['reprocess', 'sparrow', '--from', '2026-11-26T00:00:00Z', '--to', '2026-11-27T00:00:00Z'],
      ['thresholds', '--retailer', 'sparrr', '--failure-streak', '2'],
    ];
    for (const args of typos) {
      const t = await cli(args);
      expect({ args, code: t.code }).toEqual({ args, code: 3 });
      expect(t.stderr).toMatch(/unknown retailer "(sparr|sparrow|sparrr|constructor)"/);
      noStack(t);
    }
    for (const name of ['sparr', 'sparrow', 'sparrr', 'constructor']) expect(await exists(retailerWorkflowId(name))).toBe(false);

    const gone = await cli(['status', '--workflow-id', 'no-such-monitor']);
    expect(gone.code).toBe(3);
    expect(gone.stderr).toContain('monitor workflow "no-such-monitor" is not running');
    const noFleet = await cli(['thresholds', '--failure-streak', '2', '--workflow-id', 'no-such-monitor']);
    expect(noFleet.code).toBe(3);
    expect(await exists('no-such-monitor')).toBe(false);
  });

  it('bad arguments exit 2 with a clear message and no stack trace', async () => {
    const cases: [string[], RegExp][] = [
      [['silence', 'r', '--for', 'banana', '--reason', 'x'], /--for: "banana" is not a duration/],
      [['report', '--status', 'maybe'], /status must be "success" or "failure"/],
      [['report', '--retailer', 'pnp', '--status', 'success', '--sku-count', 'lots'], /--sku-count: "lots" is not a number/],
      [['silence', 'r', '--rule', 'nope', '--for', '1h', '--reason', 'x'], /--rule/],
      [['thresholds', '--renotify-every', 'weekly'], /--renotify-every/],
      [['no-such-command'], /unknown command/],
    ];
    for (const [args, message] of cases) {
      const r = await cli(args);
      expect({ args, code: r.code }).toEqual({ args, code: 2 });
      expect(r.stderr).toMatch(message);
      noStack(r);
    }
  });

  it('help never prints the database password', async () => {
    const r = await cli(['migrate', '--help'], { env: { DATABASE_URL: 'postgres://monitor:s3cret-pw@127.0.0.1:5432/im' } });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('postgres://monitor:***@127.0.0.1:5432/im');
    expect(r.stdout + r.stderr).not.toContain('s3cret-pw');
  });

  it('no help text and no error prints a credential from the environment', async () => {
    const secrets = {
      DATABASE_URL: 'postgres://monitor:db-pw-4711@127.0.0.1:1/im',
      SMTP_URL: 'smtps://alerts:smtp-pw-4711@smtp.example.com:465',
      ALERT_EMAIL_TO: 'ops@example.com',
      SLACK_WEBHOOK_URL: 'https://hooks.slack.com/services/T000/B000/slack-token-4711',
      ALERT_WEBHOOK_URL: 'https://hooks.example.com/webhook-token-4711',
      TEMPORAL_API_KEY: 'api-key-4711',
    };
    const runs = [
      await cli(['--help'], { env: secrets }),
      await cli(['migrate', '--help'], { env: secrets }),
      // Connection failure with the password in DATABASE_URL.
      await cli(['migrate'], { env: secrets }),
      // Bad configuration: every problem named, no secret value echoed.
      await cli(['status'], { env: { ...secrets, SLACK_WEBHOOK_URL: 'slack-token-4711', DATABASE_URL: 'mysql://monitor:db-pw-4711@h/im', ALERT_HTTP_TIMEOUT_MS: 'abc' } }),
    ];
    expect(runs.map((r) => r.code)).toEqual([0, 0, 4, 2]);
    expect(runs[2]!.stderr).toMatch(/^error: cannot connect to the database at postgres:\/\/monitor:\*\*\*@127\.0\.0\.1:1\/im/);
    expect(runs[3]!.stderr).toMatch(/SLACK_WEBHOOK_URL: expected .*value not shown/);
    expect(runs[3]!.stderr).toMatch(/DATABASE_URL: expected a postgres:\/\/ URL/);
    expect(runs[3]!.stderr).toContain('ALERT_HTTP_TIMEOUT_MS: expected a positive whole number of milliseconds');
    for (const r of runs) {
      expect(r.stdout + r.stderr).not.toMatch(/4711/);
      noStack(r);
    }
  });

  it('an unreachable Temporal server exits 4 quickly with a clear message', async () => {
    const r = await cli(['status'], { env: { TEMPORAL_ADDRESS: '127.0.0.1:1' } });
    expect(r.code).toBe(4);
    expect(r.ms).toBeLessThan(15_000);
    expect(r.stderr.trim()).toBe('error: cannot reach Temporal at 127.0.0.1:1 — is the server running? (TEMPORAL_ADDRESS / --address)');
  });

  describe('migrate', () => {
    let fresh: TestDatabase;
    beforeAll(async () => {
      fresh = await createTestDatabase('im_cli', { migrate: false });
    });
    afterAll(() => fresh?.drop());

    it('applies migrations to a fresh database, then says it is up to date', async () => {
      const first = await cli(['migrate', '--database-url', fresh.url]);
      expect(first.stderr).toBe('');
      expect(first.code).toBe(0);
      expect(first.stdout).toMatch(/^applied: /m);
      const tables = await fresh.db.introspection.getTables();
      expect(tables.map((t) => t.name)).toEqual(expect.arrayContaining(['ingestion_runs', 'retailer_status', 'alert_events']));

      const second = await cli(['migrate', '--database-url', fresh.url, '--json']);
      expect(second.code).toBe(0);
      expect(JSON.parse(second.stdout)).toEqual({ ok: true, applied: [] });
      expect((await cli(['migrate'], { env: { DATABASE_URL: fresh.url } })).stdout.trim()).toBe('database is up to date');
    });

    it('an unreachable database exits 4, a malformed URL exits 2, neither prints the password', async () => {
      const r = await cli(['migrate', '--database-url', 'postgres://postgres:hunter2@127.0.0.1:1/nope']);
      expect(r.code).toBe(4);
      expect(r.stderr).toMatch(/^error: cannot connect to the database at postgres:\/\/postgres:\*\*\*@127\.0\.0\.1:1\/nope/);
      expect(r.stderr).not.toContain('hunter2');
      noStack(r);
      const bad = await cli(['migrate', '--database-url', 'not a url']);
      expect(bad.code).toBe(2);
      expect(bad.stderr).toContain('is not a URL');
    });
  });
});
