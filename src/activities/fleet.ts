/**
 * Fleet activities: how retailer monitors and the fleet workflow reach each other through Temporal (alert
 * hand-over, fleet defaults, starting expected retailers' monitors). "Not found" is an answer, never an
 * error; connection errors throw and Temporal retries them.
 */
import { type Client, WorkflowExecutionAlreadyStartedError, WorkflowNotFoundError } from '@temporalio/client';
import { configuredChannels, type MonitorConfig } from '../config';
import { runningRetailerMonitorsQuery } from '../shared/visibility';
import type { MaintenanceWindow } from '../rules/maintenance';
import type { Thresholds } from '../rules/thresholds';
import type { AlertEvent } from '../rules/types';
import type { SignalDefinition } from '@temporalio/client';
import { alertEventsSignal, DEFAULTS, FLEET_CONFIG_MEMO, fleetConfigQuery, fleetDefaultsSignal, fleetMaintenanceSignal, SEARCH_ATTRIBUTES, type FleetStartConfig } from '../shared/messages';
import { currentContext } from './http';
import type { FleetActivities } from './types';
import { isUnavailableHere } from './grpc';

/** Concurrent starts / signals: enough for hundreds of retailers, gentle on the frontend. */
export const FLEET_CONCURRENCY = 16;

/** Namespaces whose custom search attributes were found registered (a registration is not taken back). */
const searchAttributesRegistered = new Set<string>();

/** `fn` over `items`, at most `limit` at a time, results in order. */
async function mapBounded<T, R>(items: T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const lane = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, lane));
  return out;
}

export function createFleetActivities(config: MonitorConfig, client: Client): FleetActivities {
  const namespace = client.options.namespace;

  async function searchAttributesReady(): Promise<boolean> {
    if (searchAttributesRegistered.has(namespace)) return true;
    let res;
    try {
      res = await client.connection.operatorService.listSearchAttributes({ namespace });
    } catch (err) {
      // A server without the operator API (the time-skipping test server) or a role without access: no
      // search attributes, and the monitors run without them.
      if (isUnavailableHere(err)) return false;
      throw err;
    }
    const custom = new Map(Object.entries(res.customAttributes ?? {}));
    const ready = Object.values(SEARCH_ATTRIBUTES).every((name) => custom.has(name));
    if (ready) searchAttributesRegistered.add(namespace);
    return ready;
  }

  /**
   * The fleet's thresholds and windows, one read for all callers that ask while it is in flight (a burst of
   * monitor starts would otherwise send one each). A caller never gets an answer older than the read in
   * flight when it asked; anything the fleet changes later it pushes to the running monitors itself.
   *
   * Read from the fleet's memo (FLEET_CONFIG_MEMO), which the server answers without a worker. A query would
   * need a workflow task of the fleet on these same workers, while the asking monitor holds a workflow-task
   * slot for its whole start-up: under a burst of starts every slot can be held by monitors waiting for that
   * query, which then fails after seconds and leaves them on the built-in thresholds (docs/benchmarks.md,
   * "Round 7"). A fleet from before the memo (CONFIG_MEMO_PATCH, until its first change) is still queried.
   */
  const inFlight = new Map<string, Promise<Partial<FleetStartConfig>>>();
  async function readFleetConfig(fleetWorkflowId: string): Promise<Partial<FleetStartConfig>> {
    const handle = client.workflow.getHandle(fleetWorkflowId);
    let described;
    try {
      described = await handle.describe();
    } catch (err) {
      // No fleet (yet): the monitor starts on the built-in defaults and the fleet pushes its own when it
      // runs. Anything else (the server unreachable) throws, and the local activity is retried.
      if (err instanceof WorkflowNotFoundError) return {};
      throw err;
    }
    const memo = described.memo?.[FLEET_CONFIG_MEMO] as FleetStartConfig | undefined;
    if (memo && typeof memo === 'object' && memo.defaults) return memo;
    try {
      return await handle.query(fleetConfigQuery);
    } catch (err) {
      // A fleet from before the memo that cannot answer (no worker runs it): the built-in defaults.
      currentContext()?.log.warn('Fleet config query failed; using built-in thresholds', { fleetWorkflowId, error: (err as Error).message });
      return {};
    }
  }
  function fleetConfig(fleetWorkflowId: string) {
    let pending = inFlight.get(fleetWorkflowId);
    if (!pending) {
      pending = readFleetConfig(fleetWorkflowId).finally(() => inFlight.delete(fleetWorkflowId));
      inFlight.set(fleetWorkflowId, pending);
    }
    return pending;
  }

  return {
    async alertChannels() {
      return configuredChannels(config);
    },

    async forwardAlerts({ fleetWorkflowId, events }: { fleetWorkflowId: string; events: AlertEvent[] }): Promise<void> {
      // Signal-with-start: a terminated (or not yet started) fleet comes back and takes the events.
      await client.workflow.signalWithStart(DEFAULTS.fleetWorkflowType, {
        workflowId: fleetWorkflowId,
        taskQueue: config.taskQueue,
        args: [{}],
        signal: alertEventsSignal,
        signalArgs: [events],
      });
    },

    async monitorContext({ fleetWorkflowId }: { fleetWorkflowId: string }): Promise<{ defaults?: Thresholds; maintenance?: MaintenanceWindow[]; searchAttributes: boolean }> {
      const { defaults, maintenance } = await fleetConfig(fleetWorkflowId);
      return { ...(defaults ? { defaults } : {}), ...(maintenance?.length ? { maintenance } : {}), searchAttributes: await searchAttributesReady() };
    },

    async ensureRetailerMonitors({ retailers, fleetWorkflowId, retailerWorkflowIdPrefix }): Promise<{ started: string[] }> {
      const unique = [...new Set(retailers)];
      let done = 0;
      const results = await mapBounded(unique, FLEET_CONCURRENCY, async (retailer) => {
        try {
          // FAIL rather than USE_EXISTING: the same effect (a running monitor is left alone) and the error
          // says which ones were already running. A closed monitor is started again.
          await client.workflow.start(DEFAULTS.retailerWorkflowType, {
            workflowId: `${retailerWorkflowIdPrefix}${retailer}`,
            taskQueue: config.taskQueue,
            args: [{ retailer, fleetWorkflowId }],
            workflowIdConflictPolicy: 'FAIL',
          });
          return retailer;
        } catch (err) {
          if (err instanceof WorkflowExecutionAlreadyStartedError) return undefined;
          throw err;
        } finally {
          currentContext()?.heartbeat({ done: ++done });
        }
      });
      return { started: results.filter((r): r is string => r !== undefined) };
    },

    async pushFleetDefaults({ defaults, retailerWorkflowIdPrefix }: { defaults: Thresholds; retailerWorkflowIdPrefix: string }): Promise<{ signalled: number }> {
      return signalEveryMonitor(retailerWorkflowIdPrefix, fleetDefaultsSignal, defaults);
    },

    async pushFleetMaintenance({ maintenance, retailerWorkflowIdPrefix }: { maintenance: MaintenanceWindow[]; retailerWorkflowIdPrefix: string }): Promise<{ signalled: number }> {
      return signalEveryMonitor(retailerWorkflowIdPrefix, fleetMaintenanceSignal, maintenance);
    },
  };

  /** Signal every running retailer monitor (listed through visibility); one closed meanwhile is skipped. */
  async function signalEveryMonitor<T>(retailerWorkflowIdPrefix: string, signal: SignalDefinition<[T]>, arg: T): Promise<{ signalled: number }> {
    const ids: string[] = [];
    for await (const wf of client.workflow.list({ query: runningRetailerMonitorsQuery(retailerWorkflowIdPrefix) })) {
      ids.push(wf.workflowId);
      if (ids.length % 100 === 0) currentContext()?.heartbeat({ listed: ids.length });
    }
    let signalled = 0;
    await mapBounded(ids, FLEET_CONCURRENCY, async (workflowId) => {
      try {
        await client.workflow.getHandle(workflowId).signal(signal, arg);
        signalled++;
      } catch (err) {
        if (!(err instanceof WorkflowNotFoundError)) throw err; // closed since it was listed: nothing to tell
      } finally {
        currentContext()?.heartbeat({ listed: ids.length, signalled });
      }
    });
    return { signalled };
  }
}
