/**
 * One `npm start` per data folder, and nothing left over from a previous one: before anything starts, a
 * lock file in the data folder (`npm-start.lock`: pid of npm start and of the servers it runs) and a probe
 * of the ports npm start is about to use find a running or leftover stack; it is named with its PIDs and
 * ports and the command that stops it, instead of a server failing half-way with "address already in use".
 */
import { existsSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, writeFileSync, closeSync } from 'node:fs';
import { join } from 'node:path';
import { commandOf, isAlive, listenersOf, parentOf, portIsFree } from './port-holders';

export const LOCK_FILE = 'npm-start.lock';

/** A port npm start is about to listen on, and the variable that moves it. */
export interface PortUse {
  port: number;
  what: string;
  envVar: string;
}

interface LockContent {
  pid: number;
  startedAt: string;
  /** Server name → pid. */
  servers: Record<string, number>;
}

export interface RunLock {
  readonly file: string;
  /** Records a server's pid, so a later start can name it if it is left over. */
  recordServer(name: string, pid: number): void;
  /** Removes the lock file (after everything stopped). */
  release(): void;
}

/** Another npm start runs on this data folder, or its ports are taken; `message` says what and how to stop it. */
export class StackInUseError extends Error {
  override readonly name = 'StackInUseError';
  constructor(
    message: string,
    /** What `kill` should be given. */
    readonly pids: number[],
  ) {
    super(message);
  }
}

function readLock(file: string): LockContent | undefined {
  try {
    const v = JSON.parse(readFileSync(file, 'utf8')) as LockContent;
    return typeof v?.pid === 'number' ? { ...v, servers: v.servers ?? {} } : undefined;
  } catch {
    return undefined;
  }
}

function postmasterPid(dataDir: string): number | undefined {
  try {
    const pid = Number(readFileSync(join(dataDir, 'postgres', 'postmaster.pid'), 'utf8').split('\n')[0]);
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

const describe = (pid: number) => `pid ${pid} (${commandOf(pid, 80) ?? 'command unknown'})`;

/**
 * Claims `dataDir` for this process.
 * @throws StackInUseError if another npm start runs on it, a previous one's servers still run, or one of
 *   `ports` is taken
 */
export async function claimDataDir(dataDir: string, ports: PortUse[]): Promise<RunLock> {
  mkdirSync(dataDir, { recursive: true });
  const file = join(dataDir, LOCK_FILE);
  const lock = readLock(file);
  const lines: string[] = [];
  const owner = lock && lock.pid !== process.pid && isAlive(lock.pid) ? lock.pid : undefined;
  const ownerServers = new Set(owner ? Object.values(lock!.servers) : []);
  const kill = new Set<number>();
  if (owner) {
    lines.push(`  npm start ${describe(owner)} is running on this data folder (${dataDir})`);
    kill.add(owner);
  }
  const leftovers = new Map<number, string>();
  if (!owner) for (const [name, pid] of Object.entries(lock?.servers ?? {})) if (isAlive(pid)) leftovers.set(pid, name);
  const pg = postmasterPid(dataDir);
  if (pg && !ownerServers.has(pg) && !leftovers.has(pg) && isAlive(pg)) leftovers.set(pg, 'embedded Postgres');
  for (const [pid, name] of leftovers) {
    lines.push(`  ${name} ${describe(pid)} is left over from a previous npm start`);
    kill.add(pid);
  }
  for (const p of ports) {
    if (await portIsFree(p.port)) continue;
    const holders = listenersOf(p.port);
    const who = holders.length
      ? holders.map((h) => `pid ${h.pid} (${h.command})`).join(', ')
      : `a process this user cannot see (ss -ltnp 'sport = :${p.port}' or lsof -i :${p.port} names it)`;
    lines.push(`  port ${p.port} (${p.what}, ${p.envVar}) is in use by ${who}`);
    for (const h of holders) if (!(owner && (h.pid === owner || ownerServers.has(h.pid)))) kill.add(h.pid);
  }
  if (lines.length) {
    // A child goes with its parent (npm start stops its own servers): only the parent is named for `kill`.
    const pids = [...kill].filter((pid) => !kill.has(parentOf(pid) ?? -1));
    const parentStopsChildren = pids.length < kill.size || owner !== undefined;
    throw new StackInUseError(
      [
        `npm start: not starting, ${owner ? 'another npm start is running' : 'ports or the data folder are still in use'}:`,
        ...lines,
        ...(pids.length ? [`stop it with: kill ${pids.join(' ')}${parentStopsChildren ? '   (or Ctrl-C where it runs: npm start stops its own servers)' : ''}`] : []),
        `${pids.length ? 'or' : 'free the ports above, or'} run this one elsewhere: other ports (${ports.map((p) => p.envVar).join(', ')}) and another MONITOR_DATA_DIR`,
      ].join('\n'),
      pids,
    );
  }

  const content: LockContent = { pid: process.pid, startedAt: new Date().toISOString(), servers: {} };
  if (existsSync(file)) rmSync(file, { force: true }); // stale: its processes are gone
  let fd: number;
  try {
    fd = openSync(file, 'wx');
  } catch {
    throw new StackInUseError(`npm start: not starting, another npm start is starting on ${dataDir} right now`, []);
  }
  writeFileSync(fd, JSON.stringify(content));
  closeSync(fd);
  return {
    file,
    recordServer(name, pid) {
      content.servers[name] = pid;
      writeFileSync(`${file}.tmp`, JSON.stringify(content));
      renameSync(`${file}.tmp`, file);
    },
    release() {
      if (readLock(file)?.pid === process.pid) rmSync(file, { force: true });
    },
  };
}
