/**
 * The servers `npm start` runs itself (Temporal dev server, Postgres), as detached children: each in its own
 * session and process group, so Ctrl-C in the terminal (SIGINT to the foreground process group) reaches only
 * npm start, which stops them itself, after the workers that talk to them. They never outlive it: when the
 * process exits, whatever still runs gets SIGTERM to its group; on Linux `setpriv --pdeathsig TERM` also
 * has the kernel send SIGTERM should npm start die without running exit handlers (SIGKILL).
 * Their output goes to a log file (the tail is shown if a server does not come up).
 */
import { spawn } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync } from 'node:fs';

export interface ServerProcess {
  readonly name: string;
  readonly pid: number;
  readonly logFile: string;
  /** Settles when the process has exited. */
  readonly exited: Promise<void>;
  isRunning(): boolean;
  /** The last lines of its log file. */
  logTail(lines?: number): string;
  /**
   * Sends `signal` to the process and waits for it to exit; after `graceMs`, SIGKILL to its process group.
   * Never throws.
   */
  stop(opts?: { signal?: NodeJS.Signals; graceMs?: number }): Promise<void>;
}

export interface ServerProcessOptions {
  logFile: string;
  env?: NodeJS.ProcessEnv;
  /** Run as this user / group (Postgres refuses to run as root). */
  uid?: number;
  gid?: number;
}

const running = new Set<ServerProcess>();
let exitHookInstalled = false;

/** SIGTERM to the process group of every server still running; safe in an 'exit' handler (synchronous). */
export function terminateAllServers(signal: NodeJS.Signals = 'SIGTERM'): void {
  for (const s of running) killGroup(s.pid, signal);
}

function killGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // already gone
  }
}

const SETPRIV = '/usr/bin/setpriv';

/** Starts `command` detached, its output appended to `opts.logFile`. Throws if it cannot be spawned. */
export function startServerProcess(name: string, command: string, args: string[], opts: ServerProcessOptions): ServerProcess {
  if (!exitHookInstalled) {
    process.on('exit', () => terminateAllServers());
    exitHookInstalled = true;
  }
  const withDeathSignal = process.platform === 'linux' && existsSync(SETPRIV);
  const [file, argv] = withDeathSignal ? [SETPRIV, ['--pdeathsig', 'TERM', '--', command, ...args]] : [command, args];
  const out = openSync(opts.logFile, 'a');
  let child;
  try {
    child = spawn(file, argv, { detached: true, stdio: ['ignore', out, out], env: opts.env ?? process.env, uid: opts.uid, gid: opts.gid });
  } finally {
    closeSync(out);
  }
  let alive = true;
  const exited = new Promise<void>((resolve) => {
    child.once('exit', () => resolve());
    child.once('error', () => resolve());
  }).then(() => {
    alive = false;
    running.delete(server);
  });
  if (child.pid === undefined) throw new Error(`could not start ${name} (${command})`);
  const pid = child.pid;
  const server: ServerProcess = {
    name,
    pid,
    logFile: opts.logFile,
    exited,
    isRunning: () => alive,
    logTail(lines = 40) {
      try {
        return readFileSync(opts.logFile, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
      } catch {
        return '';
      }
    },
    async stop({ signal = 'SIGTERM', graceMs = 8_000 } = {}) {
      if (!alive) return;
      try {
        process.kill(pid, signal);
      } catch {
        // already gone
      }
      let timer: NodeJS.Timeout | undefined;
      const timedOut = await Promise.race([
        exited.then(() => false),
        new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(true), graceMs))),
      ]);
      clearTimeout(timer);
      if (timedOut) {
        killGroup(pid, 'SIGKILL');
        await exited;
      }
    },
  };
  running.add(server);
  return server;
}

/**
 * Waits until `ready()` resolves true, polling every 250 ms. Throws if the server exits first or after
 * `timeoutMs`, with the tail of its log.
 */
export async function waitUntilReady(server: ServerProcess, ready: () => Promise<boolean>, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (!server.isRunning()) throw new ServerStartError(server, 'exited while starting');
    if (await ready().catch(() => false)) return;
    if (Date.now() > deadline) throw new ServerStartError(server, `did not come up within ${Math.round(timeoutMs / 1000)} s`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** A server that exited while starting or never became ready; the message ends with its log's tail. */
export class ServerStartError extends Error {
  override readonly name = 'ServerStartError';
  constructor(server: ServerProcess, what: string) {
    const tail = server.logTail();
    super(`${server.name} ${what}${tail ? `; the end of ${server.logFile}:\n${tail}` : ` (log: ${server.logFile})`}`);
  }
}
