/** Runs the real monitor worker (real activities, real Postgres) inside a test environment. */
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { bundleWorkflowCode, Worker, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { createActivities } from '../../src/activities';
import { loadConfig, type MonitorConfig } from '../../src/config';
import type { TestDatabase } from './postgres';

let bundle: Promise<WorkflowBundleWithSourceMap> | undefined;
/** Bundle the workflow code once per test file (webpack takes seconds). */
export function workflowBundle(): Promise<WorkflowBundleWithSourceMap> {
  bundle ??= bundleWorkflowCode({ workflowsPath: require.resolve('../../src/workflows'), logger: quietLogger });
  return bundle;
}

const quietLogger = {
  log() {},
  trace() {},
  debug() {},
  info() {},
  warn() {},
  error(message: string, meta?: Record<string, unknown>) {
    console.error(message, meta);
  },
};

export function testConfig(overrides: { taskQueue: string; webhookUrl?: string; slackWebhookUrl?: string; databaseUrl: string }): MonitorConfig {
  const base = loadConfig({});
  return {
    ...base,
    taskQueue: overrides.taskQueue,
    databaseUrl: overrides.databaseUrl,
    alerts: { ...base.alerts, webhookUrl: overrides.webhookUrl, slackWebhookUrl: overrides.slackWebhookUrl, httpTimeoutMs: 5000 },
  };
}

export async function createTestMonitorWorker(env: TestWorkflowEnvironment, config: MonitorConfig, tdb: TestDatabase): Promise<Worker> {
  return Worker.create({
    connection: env.nativeConnection,
    namespace: env.namespace ?? 'default',
    taskQueue: config.taskQueue,
    workflowBundle: await workflowBundle(),
    activities: createActivities(config, tdb.db, env.client),
  });
}
