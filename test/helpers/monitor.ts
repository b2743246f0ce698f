/** Runs the real monitor worker (real activities, real Postgres) inside a test environment. */
import type { Client } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { bundleWorkflowCode, Worker, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { createActivities } from '../../src/activities';
import { loadConfig, type MonitorConfig } from '../../src/config';
import type { FleetInput } from '../../src/shared/messages';
import { ensureFleet, workflowInterceptorModules, workflowPreloadModules } from '../../src/worker';
import type { TestDatabase } from './postgres';

let bundle: Promise<WorkflowBundleWithSourceMap> | undefined;
/**
 * Bundle the workflow code once per test file (webpack takes seconds), with the monitor's workflow
 * interceptor (messages of a run's first task in arrival order): a Worker given a pre-built bundle ignores
 * `interceptors.workflowModules`, so the module has to be compiled in here; zod preloaded once, as in the
 * worker's own bundle.
 */
export function workflowBundle(): Promise<WorkflowBundleWithSourceMap> {
  bundle ??= bundleWorkflowCode({
    workflowsPath: require.resolve('../../src/workflows'),
    workflowInterceptorModules,
    preloadModules: workflowPreloadModules,
    logger: quietLogger,
  });
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
    // The arrival-order interceptor is compiled into the bundle (with a bundle, the Worker would only warn
    // about and ignore `interceptors.workflowModules`).
    workflowBundle: await workflowBundle(),
    activities: createActivities(config, tdb.db, env.client),
  });
}

/** Start the fleet workflow (`config.workflowId`) as the worker does on boot; use-existing, so idempotent. */
export function startFleet(client: Client, config: Pick<MonitorConfig, 'workflowId' | 'taskQueue'>, input?: FleetInput): Promise<void> {
  return ensureFleet(client, config, input);
}
