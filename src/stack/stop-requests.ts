/**
 * When `npm start` stops, whoever asks: SIGINT (Ctrl-C: the whole foreground process group gets it),
 * SIGTERM (to npm, which relays it, or to the node process), SIGHUP (the terminal closed), or the process
 * that started it going away (npm or its shell killed outright). The first request starts the orderly stop.
 * The same signal again within `repeatWindowMs` is that request relayed (npm forwards the terminal's Ctrl-C
 * to its child, which got it already) and is ignored; a later one forces the exit, as does a stop that
 * takes longer than `deadlineMs`: the servers get SIGKILL and the process exits with code 1.
 */
import { terminateAllServers } from './server-process';

export const STOP_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

export interface StopRequests {
  /** Resolves with the reason (e.g. "SIGINT") at the first request. */
  readonly requested: Promise<string>;
  /** The reason, once requested. */
  reason(): string | undefined;
  /** The stop has finished: no more forcing; signal handlers stay (ignoring late relays) until exit. */
  done(): void;
}

export interface StopRequestOptions {
  repeatWindowMs?: number;
  deadlineMs?: number;
  /** Prints the forcing line. */
  log?: (line: string) => void;
  /** How often the parent process is checked. */
  parentCheckMs?: number;
}

export function watchStopRequests(opts: StopRequestOptions = {}): StopRequests {
  const { repeatWindowMs = 2_000, deadlineMs = 12_000, log = (l: string) => console.error(l), parentCheckMs = 1_000 } = opts;
  let reason: string | undefined;
  let firstAt = 0;
  let finished = false;
  let deadline: NodeJS.Timeout | undefined;
  let resolveRequested!: (r: string) => void;
  const requested = new Promise<string>((resolve) => (resolveRequested = resolve));

  const force = (why: string) => {
    if (finished) return;
    log(`forcing exit: ${why}; the servers get SIGKILL`);
    terminateAllServers('SIGKILL');
    process.exit(1);
  };
  const request = (why: string) => {
    if (reason === undefined) {
      reason = why;
      firstAt = Date.now();
      deadline = setTimeout(() => force(`stopping took longer than ${Math.round(deadlineMs / 1000)} s`), deadlineMs);
      resolveRequested(why);
    } else if (Date.now() - firstAt > repeatWindowMs) {
      force(`${why} while stopping`);
    }
  };
  for (const sig of STOP_SIGNALS) process.on(sig, () => request(sig));
  const parent = process.ppid;
  if (parent > 1) {
    setInterval(() => {
      if (process.ppid !== parent) request(`its parent process ${parent} exited`);
    }, parentCheckMs).unref();
  }
  return {
    requested,
    reason: () => reason,
    done() {
      finished = true;
      clearTimeout(deadline);
    },
  };
}
