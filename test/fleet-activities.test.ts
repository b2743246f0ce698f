/**
 * Fleet activities against a real dev server (no monitor worker runs here, but in the memo test: the
 * workflows only need to exist and be Running for these activities).
 */
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { createFleetActivities } from '../src/activities/fleet';
import { loadConfig } from '../src/config';
import { DEFAULT_THRESHOLDS } from '../src/rules/thresholds';
import type { AlertEvent } from '../src/rules/types';
import { fleetHandle } from '../src/client';
import { addFleetMaintenanceUpdate, DEFAULTS, SEARCH_ATTRIBUTES, setFleetThresholdsUpdate } from '../src/shared/messages';
import { ensureFleet } from '../src/worker';
import { createTestMonitorWorker, testConfig } from './helpers/monitor';
import { createTestDatabase } from './helpers/postgres';
import { createDevServerEnv } from './helpers/temporal';
import { until } from './helpers/wait';

let env: TestWorkflowEnvironment;
beforeAll(async () => {
  env = await createDevServerEnv();
}, 120_000);
afterAll(() => env?.teardown());

const config = () => ({ ...loadConfig({}), taskQueue: 'fleet-activities-test' });
const event: AlertEvent = {
  eventId: 'spar/stale/1/fire/1',
  incidentId: 'spar/stale/1',
  kind: 'fire',
  retailer: 'spar',
  rule: 'stale',
  at: Date.now(),
  openedAt: Date.now(),
  summary: 'spar: no successful run for 5 h',
  figures: {},
};

it('forwardAlerts starts the fleet with the events as a signal when it is not running', async () => {
  const acts = createFleetActivities(config(), env.client);
  await acts.forwardAlerts({ fleetWorkflowId: 'fleet-a', events: [event] });
  await acts.forwardAlerts({ fleetWorkflowId: 'fleet-a', events: [event] });
  const d = await env.client.workflow.getHandle('fleet-a').describe();
  expect(d.type).toBe(DEFAULTS.fleetWorkflowType);
  expect(d.status.name).toBe('RUNNING');
  const history = await env.client.workflow.getHandle('fleet-a').fetchHistory();
  const signals = (history.events ?? []).filter((e) => e.workflowExecutionSignaledEventAttributes);
  expect(signals.map((e) => e.workflowExecutionSignaledEventAttributes!.signalName)).toEqual(['alertEvents', 'alertEvents']);
});

it('ensureRetailerMonitors starts only the monitors not running; pushFleetDefaults signals every running one', async () => {
  const acts = createFleetActivities(config(), env.client);
  const prefix = 'ensure-test/';
  await expect(acts.ensureRetailerMonitors({ retailers: ['a', 'b', 'a'], fleetWorkflowId: 'fleet-a', retailerWorkflowIdPrefix: prefix })).resolves.toEqual({ started: ['a', 'b'] });
  await expect(acts.ensureRetailerMonitors({ retailers: ['a', 'b', 'c'], fleetWorkflowId: 'fleet-a', retailerWorkflowIdPrefix: prefix })).resolves.toEqual({ started: ['c'] });
  const a = await env.client.workflow.getHandle(`${prefix}a`).describe();
  expect(a.type).toBe(DEFAULTS.retailerWorkflowType);

  // Visibility is eventually consistent: wait until all three are listed, then every one is signalled.
  const pushed = await until('three running monitors signalled', async () => {
    const r = await acts.pushFleetDefaults({ defaults: DEFAULT_THRESHOLDS, retailerWorkflowIdPrefix: prefix });
    return r.signalled === 3 ? r : undefined;
  });
  expect(pushed).toEqual({ signalled: 3 });
  const history = await env.client.workflow.getHandle(`${prefix}c`).fetchHistory();
  expect((history.events ?? []).some((e) => e.workflowExecutionSignaledEventAttributes?.signalName === 'fleetDefaults')).toBe(true);
});

it('monitorContext: no fleet is no defaults (not an error); the dev server has the search attributes registered', async () => {
  const { customAttributes } = await env.client.connection.operatorService.listSearchAttributes({ namespace: env.client.options.namespace });
  const registered = Object.values(SEARCH_ATTRIBUTES).every((name) => new Map(Object.entries(customAttributes ?? {})).has(name));
  const acts = createFleetActivities(config(), env.client);
  await expect(acts.monitorContext({ fleetWorkflowId: 'no-such-fleet' })).resolves.toEqual({ searchAttributes: registered });
});

it('monitorContext: a burst of monitor starts shares one read of the fleet while it is in flight, and later calls ask again', async () => {
  const acts = createFleetActivities(config(), env.client);
  const getHandle = env.client.workflow.getHandle.bind(env.client.workflow);
  const read: string[] = [];
  const spy = jest.spyOn(env.client.workflow, 'getHandle').mockImplementation((...args: Parameters<typeof getHandle>) => {
    const handle = getHandle(...args);
    return Object.assign(Object.create(handle), { describe: () => (read.push(args[0]), handle.describe()) });
  });
  try {
    const burst = await Promise.all(Array.from({ length: 20 }, () => acts.monitorContext({ fleetWorkflowId: 'no-such-fleet-2' })));
    expect(new Set(burst.map((c) => JSON.stringify(c))).size).toBe(1);
    expect(read).toEqual(['no-such-fleet-2']);
    await acts.monitorContext({ fleetWorkflowId: 'no-such-fleet-2' });
    expect(read).toHaveLength(2); // nothing is cached once the read has answered
  } finally {
    spy.mockRestore();
  }
});

it("monitorContext reads the fleet's defaults and windows from its memo: a monitor starting while no worker can run the fleet still gets them", async () => {
  const tdb = await createTestDatabase('im_fleet_memo');
  const target = { workflowId: `fleet-memo-${Date.now()}`, taskQueue: 'fleet-memo-test' };
  const worker = await createTestMonitorWorker(env, testConfig({ taskQueue: target.taskQueue, databaseUrl: tdb.url }), tdb);
  const running = worker.run();
  let stopped = false;
  try {
    await ensureFleet(env.client, target, { thresholds: { skuDropPct: 45 } });
    const fleet = fleetHandle(env.client, target);
    await fleet.executeUpdate(setFleetThresholdsUpdate, { args: [{ thresholds: { failureStreak: 3 } }] });
    const added = await fleet.executeUpdate(addFleetMaintenanceUpdate, { args: [{ spec: 'every day 02:00-03:00 UTC', reason: 'vendor window', by: 'sam' }] });
    // The worker stops: a query would now wait for a worker that never comes (as it waits, under a burst of
    // starts, for a workflow-task slot that every starting monitor holds).
    worker.shutdown();
    await running;
    stopped = true;
    const t0 = Date.now();
    const context = await createFleetActivities(config(), env.client).monitorContext({ fleetWorkflowId: target.workflowId });
    expect(Date.now() - t0).toBeLessThan(3_000);
    expect(context.defaults).toEqual({ ...DEFAULT_THRESHOLDS, skuDropPct: 45, failureStreak: 3 });
    expect(context.maintenance).toEqual(added.maintenance);
    expect(context.maintenance).toEqual([expect.objectContaining({ spec: 'every day 02:00-03:00 UTC', reason: 'vendor window' })]);
  } finally {
    if (!stopped) {
      worker.shutdown();
      await running;
    }
    await tdb.drop();
  }
}, 120_000);
