/**
 * The CLI as a user runs it: a real child process against the live monitor on the real dev server and
 * real Postgres. Plus unit tests of the pure formatting and argument validation.
 */
import { spawn } from 'node:child_process';
import { resolve } from 'node:path';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Worker } from '@temporalio/worker';
import { reportFromOptions, silenceArgs, thresholdsArgs } from '../src/cli/args';
import { formatAge, formatDuration, parseDuration, renderStatus } from '../src/cli/format';
import type { Incident, MonitorStatus, RetailerDetail } from '../src/rules/types';
import { createTestMonitorWorker, testConfig } from './helpers/monitor';
import { createTestDatabase, type TestDatabase } from './helpers/postgres';
import { createDevServerEnv } from './helpers/temporal';

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
    const status: MonitorStatus = {
      retailers: [],
      counters: { accepted: 3, rejected: 1, duplicates: 0, outOfOrder: 2 },
      recentRejections: [{ at: 0, reason: 'run report: status: bad' }],
      defaults: { failureStreak: 2, staleAfterMs: 1, skuDropPct: 30, skuWindow: 7, skuMinSamples: 3, renotifyEveryMs: 0 },
    };
    const plain = renderStatus(status, 1000, false);
    expect(plain).toContain('3 accepted · 1 rejected · 0 duplicates · 2 out of order');
    expect(plain).not.toContain('\x1b[');
    expect(renderStatus(status, 1000, true)).toContain('\x1b[');
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

/** Signals are applied asynchronously; poll a --json query until it shows what we expect. */
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
    worker = await createTestMonitorWorker(env, testConfig({ taskQueue, databaseUrl: tdb.url }), tdb);
    running = worker.run();
  });

  afterAll(async () => {
    worker?.shutdown();
    await running;
    await Promise.all([env?.teardown(), tdb?.drop()]);
  });

  it('report twice (failures) → status shows the retailer unhealthy, with counters', async () => {
    for (const [runId, m] of [['cli-1', 20], ['cli-2', 10]] as const) {
      const r = await cli(['report', '--retailer', 'checkers', '--status', 'failure', '--run-id', runId, '--finished-at', minutesAgo(m), '--error', 'HTTP 503']);
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      expect(r.stdout).toContain(`reported failure run ${runId} for checkers`);
    }
    const status = await untilJson<MonitorStatus>(['status'], (s) => s.counters.accepted >= 2);
    expect(status.counters).toEqual({ accepted: 2, rejected: 0, duplicates: 0, outOfOrder: 0 });
    expect(status.retailers).toEqual([expect.objectContaining({ retailer: 'checkers', health: 'unhealthy', consecutiveFailures: 2 })]);

    const table = await cli(['status']);
    expect(table.code).toBe(0);
    expect(table.stdout).toMatch(/checkers.*unhealthy.*failure · 10 min ago.*never.*2.*consecutive_failures/);
    expect(table.stdout).toContain('2 accepted · 0 rejected · 0 duplicates · 0 out of order');
    expect(table.stdout).not.toContain('\x1b['); // stdout is a pipe, not a terminal: no colour codes
  });

  it('incidents --json lists the consecutive_failures incident; ack acknowledges it (confirmed)', async () => {
    const incidents = await cliJson<Incident[]>(['incidents']);
    expect(incidents).toEqual([expect.objectContaining({ retailer: 'checkers', rule: 'consecutive_failures', notifyCount: 1 })]);
    const id = incidents[0]!.id;
    expect((await cli(['incidents'])).stdout).toMatch(new RegExp(`${id}.*checkers.*consecutive_failures`));

    const ack = await cli(['ack', id, '--note', 'looking into the 503s']);
    expect(ack.stderr).toBe('');
    expect(ack.code).toBe(0);
    expect(ack.stdout).toContain(`acknowledged ${id}`);
    const [after] = await cliJson<Incident[]>(['incidents']);
    expect(after!.acknowledged).toMatchObject({ by: expect.stringMatching(/^cli-tester@/), note: 'looking into the 503s' });

    const missing = await cli(['ack', 'checkers/stale/99']);
    expect(missing.code).toBe(3);
    expect(missing.stderr).toContain('no open incident "checkers/stale/99"');
  });

  it('silence --for 1h shows in retailer --json; unsilence removes it', async () => {
    const r = await cli(['silence', 'checkers', '--for', '1h', '--reason', 'deploy window']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('silenced all rules of checkers until');
    const d = await untilJson<RetailerDetail>(['retailer', 'checkers'], (v) => v.silences.length > 0);
    expect(d.silences).toEqual([expect.objectContaining({ rule: '*', reason: 'deploy window', by: expect.stringMatching(/^cli-tester@/) })]);
    expect(Math.abs(d.silences[0]!.until - (Date.now() + 3_600_000))).toBeLessThan(60_000);
    expect(d.health).toBe('silenced');

    expect((await cli(['unsilence', 'checkers'])).code).toBe(0);
    await untilJson<RetailerDetail>(['retailer', 'checkers'], (v) => v.silences.length === 0);
  });

  it('thresholds --retailer r --failure-streak 3 shows in the retailer thresholds', async () => {
    const r = await cli(['thresholds', '--retailer', 'checkers', '--failure-streak', '3', '--json']);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({ ok: true, sent: { signal: 'setThresholds', retailer: 'checkers', thresholds: { failureStreak: 3 } } });
    const d = await untilJson<RetailerDetail>(['retailer', 'checkers'], (v) => v.thresholds.failureStreak === 3);
    expect(d.thresholds.staleAfterMs).toBe(4 * 3_600_000); // the others are untouched
    expect((await cli(['retailer', 'checkers'])).stdout).toMatch(/thresholds\s+failure streak 3 · stale after 4h/);
  });

  it('report --file - reads a report from stdin', async () => {
    const report = { runId: 'cli-3', retailer: 'checkers', status: 'success', skuCount: 15_000, finishedAt: minutesAgo(1) };
    const r = await cli(['report', '--file', '-'], { stdin: JSON.stringify(report) });
    expect(r.code).toBe(0);
    const d = await untilJson<RetailerDetail>(['retailer', 'checkers'], (v) => v.lastRun?.runId === 'cli-3');
    expect(d).toMatchObject({ health: 'healthy', consecutiveFailures: 0, lastRun: { status: 'success', skuCount: 15_000 } });
  });

  it('replay and reprocess validate, send and exit 0', async () => {
    const replay = await cli(['replay', 'checkers', '--json']);
    expect(replay.code).toBe(0);
    expect(JSON.parse(replay.stdout)).toEqual({ ok: true, sent: { signal: 'replay', retailer: 'checkers', by: expect.stringMatching(/^cli-tester@/) } });
    expect((await cli(['replay', 'checkers'])).stdout).toContain('ingestion-monitor retailer checkers');

    const from = '2026-11-26T00:00:00Z';
    const to = '2026-11-27T00:00:00Z';
    expect((await cli(['reprocess', 'checkers', '--from', from, '--to', to])).code).toBe(0);
    const backwards = await cli(['reprocess', 'checkers', '--from', to, '--to', from]);
    expect(backwards.code).toBe(2);
    expect(backwards.stderr).toContain('from must be before to');
    expect((await cli(['reprocess', 'checkers', '--from', 'yesterday', '--to', to])).code).toBe(2);
  });

  it('unknown retailer and a monitor that is not running exit 3', async () => {
    const r = await cli(['retailer', 'nosuch']);
    expect(r.code).toBe(3);
    expect(r.stderr).toContain('unknown retailer "nosuch"');
    const gone = await cli(['status', '--workflow-id', 'no-such-monitor']);
    expect(gone.code).toBe(3);
    expect(gone.stderr).toContain('monitor workflow "no-such-monitor" is not running');
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
