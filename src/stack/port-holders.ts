/**
 * Who holds a TCP port: a bind probe says whether it is free; on Linux, /proc says which process listens
 * on it (the socket's inode in /proc/net/tcp{,6} matched against /proc/<pid>/fd links), without extra
 * tools. Processes whose /proc entries this user may not read stay unnamed.
 */
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { createServer } from 'node:net';
import { basename } from 'node:path';

export interface ProcessInfo {
  pid: number;
  /** The command line, shortened. */
  command: string;
}

/** True if nothing listens on 127.0.0.1:`port` (a listener on every interface counts as listening). */
export function portIsFree(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createServer();
    s.once('error', () => resolve(false));
    s.listen({ port, host, exclusive: true }, () => s.close(() => resolve(true)));
  });
}

/** Inodes of the sockets listening on `port` (IPv4 and IPv6). */
function listeningInodes(port: number): Set<string> {
  const inodes = new Set<string>();
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text: string;
    try {
      text = readFileSync(table, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      const local = f[1];
      if (!local || f[3] !== '0A') continue; // 0A: LISTEN
      if (parseInt(local.slice(local.lastIndexOf(':') + 1), 16) === port && f[9] && f[9] !== '0') inodes.add(f[9]);
    }
  }
  return inodes;
}

/** The command line of `pid` (its program without the directory), or undefined if gone or not readable. */
export function commandOf(pid: number, max = 90): string | undefined {
  try {
    const [program, ...args] = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
    if (!program) return undefined;
    const cmd = [basename(program), ...args].join(' ');
    return cmd.length > max ? `${cmd.slice(0, max - 1)}…` : cmd;
  } catch {
    return undefined;
  }
}

/** The parent pid of `pid`, or undefined (gone, or no /proc). */
export function parentOf(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
  } catch {
    return undefined;
  }
}

/** The processes listening on `port`, as far as /proc tells (empty off Linux or without permission). */
export function listenersOf(port: number): ProcessInfo[] {
  const inodes = listeningInodes(port);
  if (inodes.size === 0) return [];
  const found: ProcessInfo[] = [];
  let pids: string[];
  try {
    pids = readdirSync('/proc').filter((d) => /^\d+$/.test(d));
  } catch {
    return [];
  }
  for (const p of pids) {
    let fds: string[];
    try {
      fds = readdirSync(`/proc/${p}/fd`);
    } catch {
      continue;
    }
    for (const fd of fds) {
      let link: string;
      try {
        link = readlinkSync(`/proc/${p}/fd/${fd}`);
      } catch {
        continue;
      }
      const m = /^socket:\[(\d+)\]$/.exec(link);
      if (m && inodes.has(m[1]!)) {
        const pid = Number(p);
        found.push({ pid, command: commandOf(pid) ?? '?' });
        break;
      }
    }
  }
  return found;
}

/** True if `pid` is a live process (a zombie counts as gone). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return true; // no /proc (not Linux): kill(0) said it exists
  }
}
