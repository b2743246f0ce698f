/**
 * `npm start` as a user runs it: a real process that starts a dev server, an embedded Postgres, the monitor,
 * the status page and the demo; a knob breaks a retailer and the alert's incident appears; Ctrl-C stops it
 * all cleanly; a restart on the same data folder keeps the monitor's state. Then `npm start` itself (npm, its
 * shell, node) stopped each way a user or a process manager stops it, and a second one refused.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { RECONCILER } from '../src/reconciler/types';
import { SEARCH_ATTRIBUTES } from '../src/shared/messages';
import { isAlive, portIsFree } from '../src/stack/port-holders';
import { temporalCliPath } from './helpers/temporal';
import { until } from './helpers/wait';

const root = join(__dirname, '..');
const dataDir = mkdtempSync(join(tmpdir(), 'im-start-'));

/** Distinct free ports: all listeners stay open until every port is known, so none is handed out twice. */
async function freePorts(n: number): Promise<number[]> {
  const servers = await Promise.all(
    Array.from({ length: n }, () => new Promise<Server>((resolve, reject) => {
      const s = createServer();
      s.once('error', reject);
      s.listen(0, '127.0.0.1', () => resolve(s));
    })),
  );
  const ports = servers.map((s) => (s.address() as { port: number }).port);
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  return ports;
}

interface Started {
  proc: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
}

let ports: Record<string, number>;
const env = () => {
  const e: NodeJS.ProcessEnv = {
    ...process.env,
    MONITOR_DATA_DIR: dataDir,
    TEMPORAL_CLI_PATH: temporalCliPath(),
    TEMPORAL_PORT: String(ports.temporal),
    TEMPORAL_UI_PORT: String(ports.ui),
    STATUS_PAGE_PORT: String(ports.page),
    EMBEDDED_PG_PORT: String(ports.pg),
    DEMO_EVERY_SECONDS: '5',
  };
  delete e.TEMPORAL_ADDRESS;
  delete e.DATABASE_URL;
  return e;
};

function start(): Started {
  const proc = spawn(process.execPath, ['-r', 'tsx/cjs', 'src/start.ts'], { cwd: root, env: env(), stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  proc.stdout!.on('data', (d) => (out += d));
  proc.stderr!.on('data', (d) => (out += d));
  const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));
  return { proc, output: () => out, exited };
}

function cli(...args: string[]): Promise<{ code: number | null; stdout: string }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, ['-r', 'tsx/cjs', 'src/cli/index.ts', ...args], {
      cwd: root,
      env: { ...process.env, TEMPORAL_ADDRESS: `127.0.0.1:${ports.temporal}` },
    });
    let stdout = '';
    p.stdout.on('data', (d) => (stdout += d));
    p.once('exit', (code) => resolve({ code, stdout }));
  });
}

async function statusJson(): Promise<any | undefined> {
  const r = await cli('status', '--json');
  return r.code === 0 ? JSON.parse(r.stdout) : undefined;
}

async function stop(s: Started): Promise<number | null> {
  s.proc.kill('SIGINT');
  const timer = setTimeout(() => s.proc.kill('SIGKILL'), 60_000);
  const code = await s.exited;
  clearTimeout(timer);
  return code;
}

beforeAll(async () => {
  const [temporal, ui, page, pg] = await freePorts(4);
  ports = { temporal: temporal!, ui: ui!, page: page!, pg: pg! };
});

afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

jest.setTimeout(300_000);

it('comes up, reports demo runs, alerts on a broken retailer, and goes down cleanly; state survives a restart', async () => {
  let s = start();
  try {
    await until('the "is up" banner', async () => {
      if (s.proc.exitCode !== null) throw new Error(`npm start exited early:\n${s.output()}`);
      return s.output().includes('ingestion monitor is up');
    }, 150_000);
    expect(s.output()).toContain(`status page     : http://127.0.0.1:${ports.page}/`);
    expect(s.output()).toContain(`Temporal Web UI : http://127.0.0.1:${ports.ui}/namespaces/default/workflows/ingestion-monitor`);
    expect(s.output()).toContain(`unhealthy       : http://127.0.0.1:${ports.ui}/namespaces/default/workflows?query=`);

    const health = await fetch(`http://127.0.0.1:${ports.page}/healthz`);
    expect(health.status).toBe(200);

    // The demo's scheduled runs report through the interceptor: every demo retailer shows up with counts.
    const status = await until('reports from all four demo retailers', async () => {
      const st = await statusJson();
      return st?.retailers.length === 4 && st.retailers.every((r: any) => r.lastRun?.skuCount > 0) && st;
    }, 90_000);
    expect(status.retailers.map((r: any) => r.retailer)).toEqual(['checkers', 'pick-n-pay', 'spar', 'woolworths']);

    // Break a retailer with the demo knob: two failed runs → a consecutive-failures incident.
    const knob = spawn(process.execPath, ['-r', 'tsx/cjs', 'src/demo/cli.ts', 'break', 'spar', 'fail'], { cwd: root, env: env() });
    expect(await new Promise((r) => knob.once('exit', r))).toBe(0);
    const incidents = await until('the spar incident', async () => {
      const r = await cli('incidents', '--json');
      const list = r.code === 0 ? JSON.parse(r.stdout) : [];
      return list.some((i: any) => i.retailer === 'spar' && i.rule === 'consecutive_failures') && list;
    }, 90_000);
    expect(incidents.find((i: any) => i.retailer === 'spar').figures.lastError).toMatch(/HTTP 503/);

    // The demo's Schedules and the reconciler's Schedule exist on the dev server npm start runs.
    const connection = await Connection.connect({ address: `127.0.0.1:${ports.temporal}` });
    try {
      const client = new Client({ connection });
      const reconciler = await client.schedule.getHandle(RECONCILER.scheduleId).describe();
      expect(reconciler.action).toMatchObject({ type: 'startWorkflow', workflowType: RECONCILER.workflowType });
      expect((await client.schedule.getHandle('ingest-spar').describe()).action).toMatchObject({ workflowType: 'ingestRetailer' });
      // The retailer monitors' search attributes are registered, so the Web UI can list the unhealthy ones.
      const { customAttributes } = await client.connection.operatorService.listSearchAttributes({ namespace: 'default' });
      expect(Object.keys(customAttributes ?? {})).toEqual(expect.arrayContaining(Object.values(SEARCH_ATTRIBUTES)));
      const unhealthy = await until('spar listed as unhealthy by search attribute', async () => {
        const ids: string[] = [];
        for await (const wf of client.workflow.list({ query: `${SEARCH_ATTRIBUTES.health} = 'unhealthy'` })) ids.push(wf.workflowId);
        return ids.includes('ingestion-monitor/spar') && ids;
      }, 30_000);
      expect(unhealthy).not.toContain('ingestion-monitor/checkers');
    } finally {
      await connection.close();
    }
  } finally {
    await stop(s);
  }
  expect(s.proc.exitCode).toBe(0);
  expect(s.output()).toMatch(/stopped Temporal dev server\n {2}stopped embedded Postgres\nstopped\n/);
  // Ports are free again: nothing was left running.
  await expect(fetch(`http://127.0.0.1:${ports.page}/healthz`)).rejects.toThrow();

  // Restart on the same data folder: the monitor's state (and its incident) is still there.
  const before = await (async () => s.output())();
  expect(before).toContain('stopped embedded Postgres');
  s = start();
  try {
    await until('the banner after restart', async () => s.output().includes('ingestion monitor is up'), 150_000);
    const st = await until('status after restart', statusJson, 30_000);
    expect(st.retailers.find((r: any) => r.retailer === 'spar').openIncidents.map((i: any) => i.rule)).toContain('consecutive_failures');
  } finally {
    expect(await stop(s)).toBe(0);
  }
});

const npmStarts: Started[] = [];

/** `npm start` as a user runs it, in its own process group (as a terminal's foreground job is). */
function npmStart(): Started {
  const proc = spawn('npm', ['start'], { cwd: root, env: env(), stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  let out = '';
  proc.stdout!.on('data', (d) => (out += d));
  proc.stderr!.on('data', (d) => (out += d));
  const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));
  const started = { proc, output: () => out, exited };
  npmStarts.push(started);
  return started;
}

/** `pid` and every process below it, with their command lines (from /proc). */
function processTree(pid: number): Map<number, string> {
  const children = new Map<number, number[]>();
  for (const d of readdirSync('/proc').filter((x) => /^\d+$/.test(x))) {
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      children.set(ppid, [...(children.get(ppid) ?? []), Number(d)]);
    } catch {
      // gone meanwhile
    }
  }
  const tree = new Map<number, string>();
  const visit = (p: number) => {
    let cmd = '';
    try {
      cmd = readFileSync(`/proc/${p}/cmdline`, 'utf8').split('\0').join(' ');
    } catch {
      // gone meanwhile
    }
    tree.set(p, cmd);
    for (const c of children.get(p) ?? []) visit(c);
  };
  visit(pid);
  return tree;
}

const STOP_ORDER = [
  'demo workers',
  'monitor worker',
  'metrics and tracing',
  'status page',
  'status page database pool',
  'client connection',
  'worker connection',
  'database pool',
  'Temporal dev server',
  'embedded Postgres',
];

describe('npm start stops', () => {
  // npm start runs the build (dist/) with plain node.
  const nodeOf = (tree: Map<number, string>) => [...tree].find(([, cmd]) => cmd.includes('dist/src/start.js') && cmd.startsWith('node'))![0];

  async function upAndRunning(): Promise<{ s: Started; tree: Map<number, string> }> {
    const s = npmStart();
    await until('the "is up" banner', async () => {
      if (s.proc.exitCode !== null) throw new Error(`npm start exited early:\n${s.output()}`);
      return s.output().includes('ingestion monitor is up');
    }, 150_000);
    const tree = processTree(s.proc.pid!);
    const commands = [...tree.values()];
    // What runs: npm, node, and the two servers (Postgres with its own helper processes).
    expect(commands.some((c) => c.includes('temporal') && c.includes('start-dev'))).toBe(true);
    expect(commands.some((c) => c.includes('postgres') && c.includes(`-p ${ports.pg}`))).toBe(true);
    return { s, tree };
  }

  /** Everything it ran is gone, its ports are free, and the stop went in order with nothing else said. */
  async function expectStoppedCleanly(s: Started, tree: Map<number, string>, reason: string): Promise<void> {
    try {
      await until('every process of npm start to exit', async () => [...tree.keys()].every((pid) => !isAlive(pid)), 60_000, 250);
    } finally {
      for (const pid of tree.keys()) if (isAlive(pid)) process.kill(pid, 'SIGKILL');
    }
    expect(await s.exited).toBe(0);
    for (const port of Object.values(ports)) expect(await portIsFree(port)).toBe(true);
    const out = s.output();
    const stopping = out.slice(out.indexOf(`shutting down (${reason})`));
    expect(stopping).not.toBe(out); // "shutting down (<reason>)" was printed
    const stopped = stopping.split('\n').filter((l) => /^\s*stopped/.test(l)).map((l) => l.trim());
    expect(stopped).toEqual([...STOP_ORDER.map((w) => `stopped ${w}`), 'stopped']);
    // No error spam: no dial errors from workers whose server went first, no forced exit, no failed step.
    expect(stopping).not.toMatch(/dial error|rpc errored|forcing exit|shutdown of |\[ERROR\]|\[WARN\]|npm error/i);
  }

  beforeAll(() => rmSync(join(dataDir, 'demo-knobs.json'), { force: true }));
  // npm start builds dist/ first when it is missing or stale: done here, so the "is up" wait is for starting only.
  beforeAll(async () => {
    const build = spawn(process.execPath, ['scripts/build-if-stale.js'], { cwd: root, stdio: 'ignore' });
    expect(await new Promise((resolve) => build.once('exit', resolve))).toBe(0);
  }, 300_000);
  // A failed test leaves nothing running: npm start's group goes (its servers follow it, see server-process.ts).
  afterEach(() => {
    for (const s of npmStarts.splice(0)) {
      if (s.proc.exitCode === null && s.proc.signalCode === null) process.kill(-s.proc.pid!, 'SIGKILL');
    }
  });

  it('on Ctrl-C (SIGINT to the process group); a second npm start meanwhile is refused, naming the first', async () => {
    const { s, tree } = await upAndRunning();
    const node = nodeOf(tree);
    const second = npmStart();
    await until('the second npm start to exit', async () => second.proc.exitCode !== null, 120_000);
    expect(second.proc.exitCode).not.toBe(0);
    expect(second.output()).toContain(`npm start pid ${node} (node dist/src/start.js) is running on this data folder (${dataDir})`);
    expect(second.output()).toContain(`port ${ports.temporal} (Temporal dev server, TEMPORAL_PORT) is in use by pid`);
    expect(second.output()).toContain(`stop it with: kill ${node}`);
    expect(second.output()).not.toContain('ingestion monitor is up');

    process.kill(-s.proc.pid!, 'SIGINT');
    await expectStoppedCleanly(s, tree, 'SIGINT');
  });

  it('on SIGTERM to the npm process', async () => {
    const { s, tree } = await upAndRunning();
    s.proc.kill('SIGTERM');
    await expectStoppedCleanly(s, tree, 'SIGTERM');
  });

  it('on SIGTERM to the node process', async () => {
    const { s, tree } = await upAndRunning();
    process.kill(nodeOf(tree), 'SIGTERM');
    await expectStoppedCleanly(s, tree, 'SIGTERM');
  });
});
