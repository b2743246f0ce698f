/** One test file's stand: dev server, test database, loopback Slack, the real monitor worker and its fleet. */
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Worker } from '@temporalio/worker';
import type { FleetInput } from '../../src/shared/messages';
import { ensureFleet } from '../../src/worker';
import { type CaptureServer, startCaptureServer } from './capture-server';
import { createTestMonitorWorker, testConfig } from './monitor';
import { createTestDatabase, type TestDatabase } from './postgres';
import { createDevServerEnv } from './temporal';

export interface MonitorBed {
  env: TestWorkflowEnvironment;
  tdb: TestDatabase;
  slack: CaptureServer;
  /** The fleet workflow id and the monitor's task queue (`monitor-<name>`). */
  target: { workflowId: string; taskQueue: string };
}

/**
 * Registers beforeAll / afterAll that set the stand up (database `im_<name>`, fleet thresholds as given) and
 * tear it down; the returned object is filled in by beforeAll.
 */
export function useMonitorBed(name: string, thresholds: FleetInput['thresholds']): MonitorBed {
  const bed = { target: { workflowId: `ingestion-monitor-${name}-${Date.now()}`, taskQueue: `monitor-${name}` } } as MonitorBed;
  let worker: Worker | undefined;
  let running: Promise<void> | undefined;
  beforeAll(async () => {
    [bed.env, bed.tdb, bed.slack] = await Promise.all([createDevServerEnv(), createTestDatabase(`im_${name.replace(/-/g, '_')}`), startCaptureServer()]);
    const config = testConfig({ taskQueue: bed.target.taskQueue, databaseUrl: bed.tdb.url, slackWebhookUrl: `${bed.slack.url}/services/T000/B000/${name}` });
    worker = await createTestMonitorWorker(bed.env, config, bed.tdb);
    running = worker.run();
    await ensureFleet(bed.env.client, bed.target, { thresholds });
  }, 120_000);
  afterAll(async () => {
    worker?.shutdown();
    await running;
    await Promise.all([bed.env?.teardown(), bed.tdb?.drop(), bed.slack?.close()]);
  });
  return bed;
}
