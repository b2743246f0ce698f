/**
 * The fleet workflow (`ingestion-monitor`, started by the worker on boot): fleet default thresholds
 * (pushed to every retailer monitor), expected retailers (their monitors are kept running, so one that
 * never reports still goes stale), and alert delivery.
 *
 * Delivery: per incident strictly in order (fire → re-notify → resolve), across incidents concurrent.
 * Grouping: the first event of a (rule, kind) goes out at once and opens a window; more retailers with
 * the same (rule, kind) within the window go out as one follow-up message per channel at its end.
 * Its state grows with open incidents, never with healthy retailers.
 */
import {
  ActivityFailure,
  ApplicationFailure,
  allHandlersFinished,
  condition,
  continueAsNew,
  log,
  patched,
  proxyActivities,
  setCurrentDetails,
  setHandler,
  sleep,
  TimeoutFailure,
  upsertMemo,
  workflowInfo,
} from '@temporalio/workflow';
import type { AlertActivities, FleetActivities, PostgresActivities } from '../activities/types';
import { MAX_WINDOWS, windowOver, type MaintenanceWindow } from '../rules/maintenance';
import { DEFAULT_THRESHOLDS, resolveThresholds, type Thresholds } from '../rules/thresholds';
import { isoTimes, RULES, type AlertEvent } from '../rules/types';
import {
  addFleetMaintenanceUpdate,
  alertEventsSignal,
  DEFAULTS,
  FLEET_CONFIG_MEMO,
  removeFleetMaintenanceUpdate,
  fleetAlertsQuery,
  fleetConfigQuery,
  fleetIncidentsQuery,
  setExpectedRetailersUpdate,
  setFleetThresholdsUpdate,
  type AlertRecord,
  type Channel,
  type DeliveryOutcome,
  type FleetCarry,
  type FleetIncident,
  type FleetInput,
  type FleetMaintenanceResult,
  type FleetResult,
  type FleetStartConfig,
  type OperatorActionInput,
} from '../shared/messages';
import { addMaintenanceArgsSchema, describeZodError, removeMaintenanceArgsSchema, setThresholdsArgsSchema, slugSchema } from '../shared/operator';

const alerts = proxyActivities<AlertActivities>({
  // A dead worker is noticed by the missed heartbeat (5 s), so an alert in flight is retried within ~7 s (measured).
  startToCloseTimeout: '15 seconds',
  heartbeatTimeout: '5 seconds',
  scheduleToCloseTimeout: '1 hour',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute' },
});
const postgres = proxyActivities<PostgresActivities>({
  // A batch takes well under a second; a worker that dies mid-write is retried after this, not a minute later.
  startToCloseTimeout: '20 seconds',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '30 seconds' },
});
const fleetOps = proxyActivities<FleetActivities>({
  startToCloseTimeout: '5 minutes',
  heartbeatTimeout: '30 seconds',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute', maximumAttempts: 10 },
});

type ChannelActivity = 'sendSlackAlert' | 'sendWebhookAlert' | 'sendEmailAlert' | 'sendConsoleAlert' | 'sendPagerDutyAlert';

/** The channels of runs started before the console channel (their histories must replay unchanged). */
const CHANNELS_V1: Array<[Channel, ChannelActivity]> = [
  ['slack', 'sendSlackAlert'],
  ['webhook', 'sendWebhookAlert'],
  ['email', 'sendEmailAlert'],
];
const CHANNELS_V2: Array<[Channel, ChannelActivity]> = [...CHANNELS_V1, ['console', 'sendConsoleAlert']];
const CHANNELS_V3: Array<[Channel, ChannelActivity]> = [...CHANNELS_V2, ['pagerduty', 'sendPagerDutyAlert']];

/**
 * patched(): adds the console channel (one more activity, one more outcome per alert record) and the
 * fuller failure reason below. Runs that started before it keep the old commands.
 */
export const CONSOLE_CHANNEL_PATCH = 'console-channel';

/**
 * patched(): adds the PagerDuty channel (one more activity, one more outcome per alert record). Runs that
 * started before it keep their channels. (Acknowledgement events need no patch here: old histories hold none.)
 */
export const PAGERDUTY_CHANNEL_PATCH = 'pagerduty-channel';

/**
 * patched(): the fleet keeps its defaults and maintenance windows in its memo (FLEET_CONFIG_MEMO), set at
 * the start of each run and after each change, so a starting retailer monitor reads them from the server
 * instead of querying this workflow (one more command at start and per change). A run that predates it
 * takes it at its first change; until then monitors query it as before.
 */
export const CONFIG_MEMO_PATCH = 'fleet-config-memo';

export const FLEET_LIMITS = {
  recentEventIds: 5000,
  recentAlerts: 50,
  alertsPerBatch: 100,
  /** Expected retailers' monitors are re-checked this often (one terminated by hand comes back). */
  ensureEveryMs: 60 * 60_000,
  maxExpected: 10_000,
};

function causeOf(err: unknown): string {
  return err instanceof ActivityFailure && err.cause ? err.cause.message : String(err);
}

/**
 * Why a delivery failed, for a person reading alert_events: the channel's own words (HTTP status and body
 * excerpt, SMTP reply, "Slack unreachable (ECONNREFUSED)"). An alert retried until its schedule-to-close
 * timeout ends in a TimeoutFailure whose cause is the last attempt's error: that error is the reason.
 */
function failureReason(err: unknown): string {
  if (!(err instanceof ActivityFailure) || !err.cause) return String(err);
  const cause = err.cause;
  if (cause instanceof TimeoutFailure) return cause.cause ? `gave up retrying: ${cause.cause.message}` : `timed out (${cause.timeoutType})`;
  return cause.message;
}

/** A light shape check of events handed over by retailer monitors (they come from our own workflows). */
function isAlertEvent(v: unknown): v is AlertEvent {
  const e = v as Partial<AlertEvent> | null;
  return (
    !!e &&
    typeof e.eventId === 'string' &&
    typeof e.incidentId === 'string' &&
    typeof e.retailer === 'string' &&
    (e.kind === 'fire' || e.kind === 'renotify' || e.kind === 'resolve' || e.kind === 'acknowledge') &&
    (RULES as readonly string[]).includes(e.rule as string) &&
    typeof e.at === 'number' &&
    typeof e.summary === 'string'
  );
}

interface Group {
  key: string;
  followers: AlertEvent[];
  /** Resolves when the follow-up message has gone out. */
  sent: Promise<void>;
}

export async function fleetMonitorWorkflow(input: FleetInput = {}): Promise<void> {
  const carried: FleetCarry | undefined = input.carried;
  // Carried defaults from before a setting existed take its built-in value (resolveThresholds fills it in).
  let defaults: Thresholds = resolveThresholds(carried?.defaults ?? DEFAULT_THRESHOLDS, {});
  let maintenance: MaintenanceWindow[] = [...(carried?.maintenance ?? [])];
  const expected = new Set<string>(carried?.expectedRetailers ?? []);
  const groupWindowMs = carried?.groupWindowMs ?? input.groupWindowMs ?? DEFAULTS.groupWindowMs;
  const prefix = carried?.retailerWorkflowIdPrefix ?? input.retailerWorkflowIdPrefix ?? DEFAULTS.retailerWorkflowIdPrefix;
  const openIncidents = new Map<string, FleetIncident>((carried?.openIncidents ?? []).map((i) => [i.incidentId, i]));
  const recentEventIds: string[] = [...(carried?.recentEventIds ?? [])];
  const seenEvents = new Set(recentEventIds);
  const recentAlerts: AlertEvent[] = [...(carried?.recentAlerts ?? [])];
  const records: AlertRecord[] = [...(carried?.pendingRecords ?? [])];
  const actions: OperatorActionInput[] = [...(carried?.pendingActions ?? [])];
  const waiting: AlertEvent[] = [...(carried?.pendingEvents ?? [])];
  let actionSeq = carried?.actionSeq ?? 0;
  let draining = false;
  let persisting = false;
  let ensureNow = false;
  /** Per incident: the promise of its last event's delivery, so the next one waits for it. */
  const chains = new Map<string, Promise<void>>();
  const groups = new Map<string, Group>();

  if (!carried) {
    const start = setThresholdsArgsSchema().safeParse({ thresholds: input.thresholds ?? {} });
    if (start.success) defaults = resolveThresholds(DEFAULT_THRESHOLDS, start.data.thresholds);
    else log.warn(`ignored start thresholds: ${describeZodError(start.error)}`);
    for (const r of input.expectedRetailers ?? []) {
      const slug = slugSchema().safeParse(r);
      if (slug.success) expected.add(slug.data);
      else log.warn('ignored expected retailer: not a lower-case slug', { retailer: String(r).slice(0, 80) });
    }
    ensureNow = expected.size > 0;
  }

  const recordAction = (a: Omit<OperatorActionInput, 'actionId' | 'at'>) => {
    actions.push({ actionId: `fleet/action/${++actionSeq}`, at: Date.now(), ...a });
  };
  const view = (): FleetResult => ({ message: '', defaults: { ...defaults }, expectedRetailers: [...expected].sort() });
  // Evaluated once per run, before any delivery: a run either has the console channel throughout or not.
  const consolePatch = patched(CONSOLE_CHANNEL_PATCH);
  const pagerDutyPatch = patched(PAGERDUTY_CHANNEL_PATCH);
  const CHANNELS = consolePatch ? (pagerDutyPatch ? CHANNELS_V3 : CHANNELS_V2) : CHANNELS_V1;
  const reasonOf = consolePatch ? failureReason : causeOf;
  /** What a starting retailer monitor reads (src/activities/fleet.ts): set now and after every change. */
  const publishConfig = () => {
    if (!patched(CONFIG_MEMO_PATCH)) return;
    const config: FleetStartConfig = { defaults: { ...defaults }, ...(maintenance.length ? { maintenance: [...maintenance] } : {}) };
    upsertMemo({ [FLEET_CONFIG_MEMO]: config });
  };
  publishConfig();

  // ---- delivery ----------------------------------------------------------------------------------------

  /** The channels the workers have configured (read at start and hourly): no activity for the others. */
  let channels: Set<Channel> | undefined;
  const readChannels = async () => {
    try {
      channels = new Set(await fleetOps.alertChannels());
    } catch (err) {
      log.warn('could not read the configured alert channels; trying all of them', { error: causeOf(err) });
      channels = new Set(CHANNELS.map(([c]) => c));
    }
  };
  const configured = async (channel: Channel): Promise<boolean> => {
    if (!channels) await condition(() => channels !== undefined);
    return channels!.has(channel);
  };
  const notConfigured = (channel: Channel): DeliveryOutcome => ({ channel, status: 'not_configured' });

  const sendOne = async (event: AlertEvent): Promise<DeliveryOutcome[]> =>
    Promise.all(
      CHANNELS.map(async ([channel, activity]): Promise<DeliveryOutcome> => {
        if (!(await configured(channel))) return notConfigured(channel);
        try {
          return await alerts[activity](event);
        } catch (err) {
          log.error('alert delivery failed', { channel, eventId: event.eventId, cause: reasonOf(err) });
          return { channel, status: 'failed', detail: reasonOf(err) };
        }
      }),
    );

  const sendGroup = async (events: AlertEvent[]): Promise<DeliveryOutcome[]> =>
    Promise.all(
      CHANNELS.map(async ([channel]): Promise<DeliveryOutcome> => {
        if (!(await configured(channel))) return notConfigured(channel);
        try {
          const out = await alerts.sendGroupedAlert({ channel, events });
          return out.status === 'delivered' ? { ...out, detail: `in one message naming ${events.length} retailers` } : out;
        } catch (err) {
          log.error('grouped alert delivery failed', { channel, events: events.length, cause: reasonOf(err) });
          return { channel, status: 'failed', detail: reasonOf(err) };
        }
      }),
    );

  /** Send now and open a window, or join the open window's follow-up message. */
  const dispatch = async (event: AlertEvent): Promise<void> => {
    const key = `${event.kind}:${event.rule}`;
    const open = groups.get(key);
    if (open) {
      open.followers.push(event);
      return open.sent;
    }
    const group: Group = { key, followers: [], sent: Promise.resolve() };
    group.sent = (async () => {
      await sleep(groupWindowMs);
      groups.delete(key);
      const followers = group.followers;
      if (followers.length === 0) return;
      const delivery = followers.length === 1 ? await sendOne(followers[0]!) : await sendGroup(followers);
      for (const e of followers) records.push({ event: e, delivery });
    })();
    groups.set(key, group);
    records.push({ event, delivery: await sendOne(event) });
  };

  const accept = (event: AlertEvent) => {
    if (event.kind === 'resolve') openIncidents.delete(event.incidentId);
    else {
      openIncidents.set(event.incidentId, {
        incidentId: event.incidentId,
        retailer: event.retailer,
        rule: event.rule,
        openedAt: event.openedAt,
        summary: event.summary,
        silenced: event.silenced === true,
        lastKind: event.kind,
      });
    }
    recentAlerts.push(event);
    if (recentAlerts.length > FLEET_LIMITS.recentAlerts) recentAlerts.splice(0, recentAlerts.length - FLEET_LIMITS.recentAlerts);
    if (event.silenced) {
      records.push({ event, delivery: CHANNELS.map(([channel]) => ({ channel, status: 'silenced' as const })) });
      return;
    }
    const previous = chains.get(event.incidentId) ?? Promise.resolve();
    const next = previous.then(() => dispatch(event));
    chains.set(event.incidentId, next);
    void next.then(() => {
      if (chains.get(event.incidentId) === next) chains.delete(event.incidentId);
    });
  };

  // ---- handlers ----------------------------------------------------------------------------------------

  setHandler(alertEventsSignal, (events: unknown) => {
    if (!Array.isArray(events)) return log.warn('ignored alertEvents: not a list');
    for (const e of events) {
      if (!isAlertEvent(e)) {
        log.warn('ignored malformed alert event');
        continue;
      }
      if (seenEvents.has(e.eventId)) continue; // a retried hand-over
      seenEvents.add(e.eventId);
      recentEventIds.push(e.eventId);
      if (recentEventIds.length > FLEET_LIMITS.recentEventIds) for (const gone of recentEventIds.splice(0, 1000)) seenEvents.delete(gone);
      if (draining) waiting.push(e);
      else accept(e);
    }
  });

  const validFleetThresholds = (args: unknown) => {
    const parsed = setThresholdsArgsSchema().safeParse(args);
    if (!parsed.success) throw ApplicationFailure.create({ type: 'InvalidCommand', message: describeZodError(parsed.error), nonRetryable: true });
    if (parsed.data.retailer !== undefined) {
      throw ApplicationFailure.create({ type: 'InvalidCommand', message: 'per-retailer thresholds go to that retailer\'s monitor', nonRetryable: true });
    }
    return parsed.data;
  };
  setHandler(
    setFleetThresholdsUpdate,
    async (args) => {
      const { thresholds } = validFleetThresholds(args);
      defaults = resolveThresholds({ ...defaults, ...thresholds }, {});
      publishConfig();
      recordAction({ action: 'set_thresholds', by: 'operator', reason: JSON.stringify(thresholds) });
      let pushed = 'not pushed';
      try {
        const res = await fleetOps.pushFleetDefaults({ defaults, retailerWorkflowIdPrefix: prefix });
        pushed = `pushed to ${res.signalled} retailer monitors`;
      } catch (err) {
        pushed = `push failed: ${causeOf(err)} (monitors pick the defaults up when they next start)`;
      }
      return { ...view(), message: `fleet defaults now ${JSON.stringify(defaults)}; ${pushed}` };
    },
    { validator: (a) => void validFleetThresholds(a), description: 'Change the default thresholds of every retailer' },
  );

  const validExpected = (args: unknown) => {
    const a = (args ?? {}) as { add?: unknown; remove?: unknown; by?: unknown };
    const list = (v: unknown, what: string): string[] => {
      if (v === undefined) return [];
      if (!Array.isArray(v)) throw ApplicationFailure.create({ type: 'InvalidCommand', message: `${what} must be a list of retailer slugs`, nonRetryable: true });
      return v.map((r) => {
        const slug = slugSchema().safeParse(r);
        if (!slug.success) throw ApplicationFailure.create({ type: 'InvalidCommand', message: `${what}: ${JSON.stringify(String(r).slice(0, 80))} is not a lower-case slug`, nonRetryable: true });
        return slug.data;
      });
    };
    const add = list(a.add, 'add');
    const remove = list(a.remove, 'remove');
    if (expected.size + add.length > FLEET_LIMITS.maxExpected) {
      throw ApplicationFailure.create({ type: 'InvalidCommand', message: `at most ${FLEET_LIMITS.maxExpected} expected retailers`, nonRetryable: true });
    }
    return { add, remove, by: typeof a.by === 'string' ? a.by.slice(0, 100) : 'operator' };
  };
  setHandler(
    setExpectedRetailersUpdate,
    async (args) => {
      const { add, remove, by } = validExpected(args);
      for (const r of remove) expected.delete(r);
      for (const r of add) expected.add(r);
      if (add.length || remove.length) recordAction({ action: 'set_thresholds', by, reason: `expected retailers: +${add.join(',')} -${remove.join(',')}` });
      let started: string[] = [];
      if (add.length) started = (await fleetOps.ensureRetailerMonitors({ retailers: add, fleetWorkflowId: workflowInfo().workflowId, retailerWorkflowIdPrefix: prefix })).started;
      return { ...view(), message: `${expected.size} expected retailers; started ${started.length} monitor(s)` };
    },
    { validator: (a) => void validExpected(a), description: 'Add or remove expected retailers (their monitors watch for staleness even before a first report)' },
  );

  // ---- fleet-wide maintenance windows (pushed to every retailer monitor, like the defaults) -----------------

  const refuseCommand = (message: string, type = 'InvalidCommand') => ApplicationFailure.create({ type, message, nonRetryable: true });
  const validAddMaintenance = (args: unknown) => {
    const parsed = addMaintenanceArgsSchema().safeParse(args);
    if (!parsed.success) throw refuseCommand(describeZodError(parsed.error));
    if (parsed.data.retailer !== undefined) throw refuseCommand("a retailer's maintenance windows go to that retailer's monitor");
    if (maintenance.length >= MAX_WINDOWS) throw refuseCommand(`the fleet already has ${MAX_WINDOWS} maintenance windows; remove one first`);
    return parsed.data;
  };
  const validRemoveMaintenance = (args: unknown) => {
    const parsed = removeMaintenanceArgsSchema().safeParse(args);
    if (!parsed.success) throw refuseCommand(describeZodError(parsed.error));
    if (!maintenance.some((w) => w.id === parsed.data.id)) {
      const ids = maintenance.map((w) => w.id);
      throw refuseCommand(`no fleet-wide maintenance window ${parsed.data.id} (${ids.length ? `fleet windows: ${ids.join(', ')}` : 'there are none'})`, 'UnknownMaintenanceWindow');
    }
    return parsed.data;
  };
  const pushMaintenance = async (): Promise<string> => {
    try {
      const res = await fleetOps.pushFleetMaintenance({ maintenance, retailerWorkflowIdPrefix: prefix });
      return `pushed to ${res.signalled} retailer monitors`;
    } catch (err) {
      return `push failed: ${causeOf(err)} (monitors pick the windows up when they next start)`;
    }
  };
  setHandler(
    addFleetMaintenanceUpdate,
    async (args): Promise<FleetMaintenanceResult> => {
      const { spec, reason, by = 'operator' } = validAddMaintenance(args);
      const id = `fleet/action/${actionSeq + 1}`;
      const now = Date.now();
      // One-off windows that are over go when the next one is added.
      maintenance = [...maintenance.filter((w) => !windowOver(w, now)), { ...spec, id, reason, by, createdAt: now }];
      publishConfig();
      recordAction({ action: 'maintenance_add', by, reason: `${spec.spec}: ${reason}` });
      return { message: `fleet-wide maintenance window ${id}: ${spec.spec}; ${await pushMaintenance()}`, actionId: id, maintenance: [...maintenance] };
    },
    { validator: (a) => void validAddMaintenance(a), description: 'Add a fleet-wide maintenance window (pushed to every retailer monitor)' },
  );
  setHandler(
    removeFleetMaintenanceUpdate,
    async (args): Promise<FleetMaintenanceResult> => {
      const { id, by = 'operator' } = validRemoveMaintenance(args);
      const removed = maintenance.find((w) => w.id === id);
      if (!removed) throw refuseCommand(`no fleet-wide maintenance window ${id}`, 'UnknownMaintenanceWindow');
      maintenance = maintenance.filter((w) => w !== removed);
      publishConfig();
      recordAction({ action: 'maintenance_remove', by, reason: `${id}: ${removed.spec}` });
      return { message: `removed fleet-wide maintenance window ${id} (${removed.spec}); ${await pushMaintenance()}`, actionId: `fleet/action/${actionSeq}`, maintenance: [...maintenance] };
    },
    { validator: (a) => void validRemoveMaintenance(a), description: 'Remove a fleet-wide maintenance window by id' },
  );

  setHandler(fleetConfigQuery, () => ({ defaults: { ...defaults }, expectedRetailers: [...expected].sort(), groupWindowMs, ...(maintenance.length ? { maintenance: [...maintenance] } : {}) }), {
    description: 'Fleet default thresholds, expected retailers and the alert grouping window',
  });
  setHandler(fleetIncidentsQuery, () => isoTimes([...openIncidents.values()].sort((a, b) => a.openedAt - b.openedAt)), {
    description: 'Open incidents across all retailers (as the fleet last heard of them)',
  });
  setHandler(fleetAlertsQuery, () => isoTimes([...recentAlerts]), { description: 'The most recent alert events across all retailers' });

  for (const e of waiting.splice(0)) accept(e);

  // ---- persistence: alert records and actions -----------------------------------------------------------

  const showDetails = () => {
    const open = [...openIncidents.values()];
    const lines = [`**Fleet** — ${open.length} open incident(s), ${expected.size} expected retailer(s)`, ''];
    for (const i of open.slice(0, 30)) lines.push(`- ${i.silenced ? '🔕' : '🔴'} \`${i.incidentId}\` ${i.rule} since ${new Date(i.openedAt).toISOString()}`);
    if (open.length > 30) lines.push(`- … ${open.length - 30} more`);
    setCurrentDetails(lines.join('\n'));
  };

  const persistLoop = async () => {
    for (;;) {
      await condition(() => records.length > 0 || actions.length > 0);
      persisting = true;
      const batch = records.slice(0, FLEET_LIMITS.alertsPerBatch);
      const acts = actions.slice(0);
      const res = await postgres.persistBatch({ runs: [], statuses: [], alerts: batch, ...(acts.length ? { actions: acts } : {}) });
      for (const q of res.quarantined) log.warn('alert row quarantined', { key: q.key, reason: q.reason });
      records.splice(0, batch.length);
      actions.splice(0, acts.length);
      persisting = false;
      showDetails();
    }
  };

  const ensureLoop = async () => {
    for (;;) {
      await readChannels();
      if (ensureNow && expected.size) {
        try {
          const { started } = await fleetOps.ensureRetailerMonitors({ retailers: [...expected].sort(), fleetWorkflowId: workflowInfo().workflowId, retailerWorkflowIdPrefix: prefix });
          if (started.length) log.info('started retailer monitors', { started: started.length });
        } catch (err) {
          log.warn('could not ensure expected retailer monitors', { error: causeOf(err) });
        }
      }
      ensureNow = true;
      await condition(() => workflowInfo().continueAsNewSuggested, FLEET_LIMITS.ensureEveryMs);
      if (workflowInfo().continueAsNewSuggested) return;
    }
  };

  void persistLoop();
  showDetails();
  await ensureLoop();

  // Drain: new events wait (carried over); deliveries in flight finish, records are written.
  draining = true;
  await condition(() => allHandlersFinished() && chains.size === 0 && groups.size === 0 && !persisting && records.length === 0);
  await continueAsNew<typeof fleetMonitorWorkflow>({
    carried: {
      defaults,
      expectedRetailers: [...expected].sort(),
      groupWindowMs,
      retailerWorkflowIdPrefix: prefix,
      openIncidents: [...openIncidents.values()],
      pendingEvents: waiting,
      pendingRecords: records,
      recentEventIds,
      recentAlerts,
      actionSeq,
      pendingActions: actions,
      ...(maintenance.length ? { maintenance } : {}),
    },
  });
}
