/**
 * The monitor worker as its own process (test/fixtures/monitor-worker-process.ts, through tsx), for tests
 * that SIGKILL it: crash-safe delivery, two workers sharing a task queue.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { until } from './wait';

export interface ChildWorker {
  proc: ChildProcess;
  /** stdout and stderr, interleaved; printed only when the test fails. */
  output: () => string;
  exited: () => boolean;
}

export function spawnWorkerProcess(env: Record<string, string>): ChildWorker {
  const fixture = path.join(__dirname, '..', 'fixtures', 'monitor-worker-process.ts');
  const proc = spawn(process.execPath, ['--import', 'tsx', fixture], {
    cwd: path.join(__dirname, '..', '..'),
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  proc.stdout!.on('data', (c: Buffer) => (out += c.toString('utf8')));
  proc.stderr!.on('data', (c: Buffer) => (out += c.toString('utf8')));
  return { proc, output: () => out, exited: () => proc.exitCode !== null || proc.signalCode !== null };
}

/** Resolves once the child printed `monitor-worker-ready`; throws if it exits first or takes over `timeoutMs`. */
export function workerReady(c: ChildWorker, timeoutMs = 90_000): Promise<true> {
  return until('the child monitor worker to be ready', async () => {
    if (c.exited()) throw new Error(`the child monitor worker exited early (code ${c.proc.exitCode}, signal ${c.proc.signalCode}):\n${c.output()}`);
    return c.output().includes('monitor-worker-ready');
  }, timeoutMs, 100);
}
