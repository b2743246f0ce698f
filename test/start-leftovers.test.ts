/**
 * `npm start` refuses to start over a running or left-over stack, before starting anything: the data
 * folder's lock file and a probe of its ports name the processes (PIDs, ports) and the `kill` that stops
 * them. A lock file whose processes are gone is taken over. (The refusal of a second real `npm start` is
 * in start.test.ts.)
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { claimDataDir, LOCK_FILE, StackInUseError } from '../src/stack/run-lock';
import { until } from './helpers/wait';

const dataDir = mkdtempSync(join(tmpdir(), 'im-leftovers-'));
const children: ChildProcess[] = [];

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const { port } = s.address() as { port: number };
  await new Promise((r) => s.close(r));
  return port;
}

/** A process of its own that listens on `port` (a server left over by an npm start that died). */
async function leftoverListener(port: number): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['-e', `require('net').createServer().listen(${port}, '127.0.0.1', () => console.log('up'))`], {
    detached: true,
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  children.push(child);
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  await until('the leftover listener', async () => out.includes('up'), 30_000);
  return child;
}

/** The pid of a process that has exited. */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', '']);
  await new Promise((r) => child.once('exit', r));
  return child.pid!;
}

afterEach(() => {
  for (const c of children.splice(0)) c.kill('SIGKILL');
  rmSync(join(dataDir, LOCK_FILE), { force: true });
});
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

it('names a server left over by an npm start that died, with its port and the kill that stops it', async () => {
  const port = await freePort();
  const server = await leftoverListener(port);
  writeFileSync(join(dataDir, LOCK_FILE), JSON.stringify({ pid: await deadPid(), startedAt: '', servers: { 'Temporal dev server': server.pid } }));

  const err = await claimDataDir(dataDir, [{ port, what: 'Temporal dev server', envVar: 'TEMPORAL_PORT' }]).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(StackInUseError);
  const message = (err as StackInUseError).message;
  expect(message).toContain(`Temporal dev server pid ${server.pid} (node -e`);
  expect(message).toContain('is left over from a previous npm start');
  expect(message).toContain(`port ${port} (Temporal dev server, TEMPORAL_PORT) is in use by pid ${server.pid}`);
  expect(message).toContain(`stop it with: kill ${server.pid}\n`);
  expect((err as StackInUseError).pids).toEqual([server.pid]);
});

it('names whatever else holds one of its ports, and which variable moves it', async () => {
  const port = await freePort();
  const other: Server = createServer();
  await new Promise<void>((r) => other.listen(port, '127.0.0.1', r));
  try {
    const err = await claimDataDir(dataDir, [{ port, what: 'status page', envVar: 'STATUS_PAGE_PORT' }]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StackInUseError);
    expect((err as Error).message).toContain(`port ${port} (status page, STATUS_PAGE_PORT) is in use by pid ${process.pid}`);
    expect((err as Error).message).toContain('run this one elsewhere: other ports (STATUS_PAGE_PORT) and another MONITOR_DATA_DIR');
    expect(existsSync(join(dataDir, LOCK_FILE))).toBe(false); // nothing claimed
  } finally {
    await new Promise((r) => other.close(r));
  }
});

it('takes over a lock file whose processes are gone, records its servers, and releases it', async () => {
  writeFileSync(join(dataDir, LOCK_FILE), JSON.stringify({ pid: await deadPid(), startedAt: '', servers: { 'embedded Postgres': await deadPid() } }));
  const lock = await claimDataDir(dataDir, [{ port: await freePort(), what: 'status page', envVar: 'STATUS_PAGE_PORT' }]);
  lock.recordServer('Temporal dev server', 4242);
  expect(JSON.parse(readFileSync(lock.file, 'utf8'))).toMatchObject({ pid: process.pid, servers: { 'Temporal dev server': 4242 } });

  lock.release();
  expect(existsSync(lock.file)).toBe(false);
});

it('names a running npm start on the data folder, and only it for kill (it stops its own servers)', async () => {
  const port = await freePort();
  const owner = await leftoverListener(port); // stands in for a running npm start holding its status page port
  const server = await leftoverListener(await freePort());
  writeFileSync(join(dataDir, LOCK_FILE), JSON.stringify({ pid: owner.pid, startedAt: '', servers: { 'Temporal dev server': server.pid } }));
  const err = await claimDataDir(dataDir, [{ port, what: 'status page', envVar: 'STATUS_PAGE_PORT' }]).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(StackInUseError);
  const message = (err as Error).message;
  expect(message).toMatch(/^npm start: not starting, another npm start is running:\n/);
  expect(message).toContain(`npm start pid ${owner.pid} (node -e`);
  expect(message).toContain(`is running on this data folder (${dataDir})`);
  expect(message).toContain(`port ${port} (status page, STATUS_PAGE_PORT) is in use by pid ${owner.pid}`);
  expect(message).toContain(`stop it with: kill ${owner.pid}   (or Ctrl-C where it runs: npm start stops its own servers)`);
  expect((err as StackInUseError).pids).toEqual([owner.pid]);
});
