/**
 * One retailer's monitor (`ingestion-monitor/<retailer>`): thin glue around the pure rule engine
 * (src/rules/retailer-monitor.ts).
 *
 * - Handlers are registered first. Reports and operator commands are Updates whose validators reject a
 *   malformed message before it enters history, and whose handlers answer; the signal forms of the same
 *   messages are applied by the same code (a rejection is logged and counted, never thrown).
 * - Started fresh (first report, expected retailer, or after a termination), it rebuilds from Postgres
 *   before applying anything: open incidents keep their ids and are not announced again.
 * - Three loops: the timer loop sleeps on one durable timer until the next deadline (stale, re-notify,
 *   silence end); the hand-over loop gives alert events to the fleet workflow, which delivers them; the
 *   persistence loop writes runs, the status row and operator actions (refused rows are quarantined).
 * - Continue-as-new on the server's suggestion, after the queues are written down.
 */
import { SearchAttributeType, defineSearchAttributeKey } from '@temporalio/common';
import {
  ActivityFailure,
  ApplicationFailure,
  allHandlersFinished,
  condition,
  continueAsNew,
  log,
  patched,
  proxyActivities,
  proxyLocalActivities,
  setCurrentDetails,
  setDefaultSignalHandler,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { FleetActivities, PostgresActivities, TemporalActivities } from '../activities/types';
import { isStoredWindow, MAX_WINDOWS } from '../rules/maintenance';
import { KEEP, RetailerMonitor } from '../rules/retailer-monitor';
import { DEFAULT_THRESHOLDS, resolveThresholds, thresholdOverridesSchema, thresholdsSchema, type Thresholds } from '../rules/thresholds';
import { isoTimes, type AlertEvent, type RunSummary } from '../rules/types';
import {
  acknowledgeUpdate,
  addMaintenanceUpdate,
  DEFAULTS,
  removeMaintenanceUpdate,
  replayUpdate,
  reportRunUpdate,
  reprocessUpdate,
  retailerAlertsQuery,
  retailerIncidentsQuery,
  retailerQuery,
  SEARCH_ATTRIBUTES,
  setThresholdsUpdate,
  silenceUpdate,
  unsilenceUpdate,
  type OperatorActionInput,
  type OperatorResult,
  type RetailerCarry,
  type RetailerMonitorInput,
  type RunVerdict,
} from '../shared/messages';
import {
  acknowledgeArgsSchema,
  addMaintenanceArgsSchema,
  describeZodError,
  removeMaintenanceArgsSchema,
  replayArgsSchema,
  reprocessArgsSchema,
  setThresholdsArgsSchema,
  silenceArgsSchema,
  slugSchema,
  unsilenceArgsSchema,
} from '../shared/operator';
import { parseRunReport, type RunReport } from '../shared/report';
import type { z } from 'zod';
import { retailerMarkdown } from './health-summary';

/** Backoff shared by every activity here; connection errors retry until the service is back. */
const BACKOFF = { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '30 seconds' } as const;
const OPTIONS = {
  // A batch takes well under a second; a worker that dies mid-write is retried after this, not a minute later.
  // Data errors are quarantined inside the activity.
  postgres: { startToCloseTimeout: '20 seconds', retry: BACKOFF },
  temporal: { startToCloseTimeout: '30 seconds', retry: { ...BACKOFF, maximumAttempts: 5 } },
  fleet: { startToCloseTimeout: '30 seconds', retry: BACKOFF },
} as const;
const postgres = proxyActivities<PostgresActivities>(OPTIONS.postgres);
const temporal = proxyActivities<TemporalActivities>(OPTIONS.temporal);
const fleet = proxyActivities<FleetActivities>(OPTIONS.fleet);
/**
 * The same activities as local activities (behind LOCAL_ACTIVITIES_PATCH): they run in the workflow task that
 * asked for them, so a report's row is written before its task completes and costs no activity task and no
 * second workflow task. After one quick retry (`localRetryThreshold` 1 s) each retry waits on a durable timer
 * instead of holding the task open, so during a Postgres outage reports still get their verdicts within ~1 s.
 */
const LOCAL = { localRetryThreshold: '1 second' } as const;
const postgresLocal = proxyLocalActivities<PostgresActivities>({ ...OPTIONS.postgres, ...LOCAL });
const temporalLocal = proxyLocalActivities<TemporalActivities>({ ...OPTIONS.temporal, ...LOCAL });
const fleetLocal = proxyLocalActivities<FleetActivities>({ ...OPTIONS.fleet, ...LOCAL });

const HEALTH_KEY = defineSearchAttributeKey(SEARCH_ATTRIBUTES.health, SearchAttributeType.KEYWORD);
const OPEN_RULES_KEY = defineSearchAttributeKey(SEARCH_ATTRIBUTES.openRules, SearchAttributeType.KEYWORD);

/**
 * patched(): the rules judged against robust baselines (promo_drop, run_duration, the SKU rule's warm-up
 * hold and robust figures, src/rules/baseline-rules.ts) fire new alerts and change sku_drop's text. A run
 * whose history began before them keeps the old rules until its next continue-as-new.
 */
export const BASELINES_PATCH = 'robust-baselines';

/**
 * patched(): an acknowledgement is handed to the fleet as an alert event (kind `acknowledge`), so Slack
 * updates the incident's message and PagerDuty acknowledges. Histories recorded before it replay unchanged.
 */
export const ACK_NOTICE_PATCH = 'ack-notice';

export const LIMITS = {
  /** Run rows per persistBatch. */
  runsPerBatch: 500,
  /** Alert events per hand-over to the fleet. */
  alertsPerHandOver: 50,
  /** While draining for continue-as-new, wait this long for Postgres before carrying the queue over. */
  drainWaitMs: 5 * 60_000,
  /** A hand-over waits this long for the monitor's local-activity lane, then goes as regular activities. */
  laneWaitMs: 2_000,
};

/**
 * patched(): flap control (src/rules/flapping.ts) holds a flapping incident open instead of sending every
 * resolve and re-fire, which changes the alert hand-overs of recorded histories; runs started before it
 * keep sending the stream.
 */
export const FLAP_CONTROL_PATCH = 'flap-control';
/** The missed-run rule (Schedule describes, its deadline on the timer): new commands, so behind a patch. */
export const MISSED_RUN_PATCH = 'missed-run-rule-v1';
/**
 * patched(): the start-up reads (fleet context, restore from Postgres), the Schedule describes and the
 * persistence batches run as local activities, in the workflow task that needs them (issue 8: one workflow
 * task per report instead of two plus an activity task). Histories recorded before keep regular activities.
 */
export const LOCAL_ACTIVITIES_PATCH = 'local-activities-v1';
/**
 * patched(): run_duration also fires for a run still open past its limit (src/rules/open-run.ts): a
 * deadline on the timer and Schedule describes at it, so new commands. Needs the missed-run rule's patch.
 */
export const RUN_OPEN_PATCH = 'run-open-duration-v1';
/**
 * patched(): an alert event is recorded in `alert_events` by the monitor that fires it, in the same persistence
 * batch as its status (delivery still pending: the fleet completes the row when it has delivered), and the
 * stale diagnosis and the hand-over to the fleet run as local activities. Issue 8: 1,000 retailers going stale
 * together are each recorded within seconds of the deadline, not after the fleet's 30 s group window, and an
 * alert reaches the fleet without two activity tasks. Needs LOCAL_ACTIVITIES_PATCH.
 */
export const ALERT_AT_FIRE_PATCH = 'alert-rows-at-fire-v1';
/** Whether new runs take ALERT_AT_FIRE_PATCH (a switch: false makes new runs behave as before it). */
export const ALERT_AT_FIRE_ENABLED = true;

/** Why an operator command was refused (thrown from an Update handler; the validator catches most earlier). */
function refuse(message: string, type = 'InvalidCommand'): ApplicationFailure {
  return ApplicationFailure.create({ type, message, nonRetryable: true });
}

function causeOf(err: unknown): string {
  return err instanceof ActivityFailure && err.cause ? err.cause.message : String(err);
}

export async function retailerMonitorWorkflow(input: RetailerMonitorInput): Promise<void> {
  const slug = slugSchema().safeParse(input?.retailer);
  if (!slug.success) throw ApplicationFailure.create({ type: 'InvalidRetailer', message: `retailer: ${describeZodError(slug.error)}`, nonRetryable: true });
  const retailer = slug.data;
  const fleetWorkflowId = input.fleetWorkflowId ?? DEFAULTS.workflowId;
  const carried: RetailerCarry | undefined = input.carried;
  const startDefaults = thresholdOverridesSchema().safeParse(input.defaults ?? {});
  const monitor = carried
    ? new RetailerMonitor(carried.snapshot)
    : RetailerMonitor.fresh(retailer, Date.now(), resolveThresholds(DEFAULT_THRESHOLDS, startDefaults.success ? startDefaults.data : {}));
  if (!patched(BASELINES_PATCH)) monitor.useLegacyRules();
  monitor.setFlapControl(patched(FLAP_CONTROL_PATCH));
  const missedRunOn = patched(MISSED_RUN_PATCH);
  // Started fresh: look the retailer's Schedule up at once; carried over from a run without the rule: on its next report.
  if (missedRunOn) monitor.enableMissedRun(!carried);
  const local = patched(LOCAL_ACTIVITIES_PATCH);
  const db = local ? postgresLocal : postgres;
  const startUp = local ? fleetLocal : fleet;
  const schedules = local ? temporalLocal : temporal;
  if (missedRunOn && patched(RUN_OPEN_PATCH)) monitor.enableOpenRunCheck();
  // Once switched off (stop 15): a full test run found a nondeterminism replaying a monitor after a restart
  // ("UpsertWorkflowSearchAttributesMachine does not handle TimerStarted") with the hand-over as a local
  // activity beside persistBatch. Now the local activities take turns (inLane below), and the bench replays
  // every history it produced (scripts/replay-check.ts). ALERT_AT_FIRE_ENABLED stays as the switch.
  const alertAtFire = ALERT_AT_FIRE_ENABLED && local && patched(ALERT_AT_FIRE_PATCH);
  /**
   * With ALERT_AT_FIRE_PATCH the monitor has three loops that call local activities; they take turns (one
   * local activity of this monitor at a time, in the order asked), so a replay never depends on which of
   * two concurrent local activities finished first. Usually the wait is one short Postgres write; while
   * Postgres is down a persistBatch holds the lane, so the hand-over does not queue behind it (handOverRoute).
   */
  let lane: Promise<unknown> = Promise.resolve();
  let laneBusy = false;
  const inLane = <T>(call: () => Promise<T>): Promise<T> => {
    if (!alertAtFire) return call();
    const turn = lane.then(async () => {
      laneBusy = true;
      try {
        return await call();
      } finally {
        laneBusy = false;
      }
    });
    lane = turn.catch(() => undefined);
    return turn;
  };
  /**
   * How the next hand-over goes: as local activities in the lane, or, when the lane has been held for
   * LIMITS.laneWaitMs (a persistBatch retrying while Postgres is down), as regular activities, so an alert
   * never waits for Postgres.
   */
  const handOverRoute = async (): Promise<{ handOver: Pick<FleetActivities, 'forwardAlerts'>; diagnosis: Pick<TemporalActivities, 'diagnoseStale'> }> => {
    if (laneBusy) await condition(() => !laneBusy, LIMITS.laneWaitMs);
    if (laneBusy) return { handOver: fleet, diagnosis: temporal };
    return {
      handOver: { forwardAlerts: (req) => inLane(() => fleetLocal.forwardAlerts(req)) },
      diagnosis: { diagnoseStale: (req) => inLane(() => temporalLocal.diagnoseStale(req)) },
    };
  };

  const pendingRuns: RunSummary[] = carried?.pendingRuns ?? [];
  const pendingAlerts: AlertEvent[] = carried?.pendingAlerts ?? [];
  const pendingActions: OperatorActionInput[] = carried?.pendingActions ?? [];
  /** Alert events not yet recorded in alert_events (behind ALERT_AT_FIRE_PATCH; the fleet completes each row). */
  const pendingAlertRows: AlertEvent[] = carried?.pendingAlertRows ?? [];
  let statusDirty = carried?.statusDirty ?? true;
  let settingsDirty = false;
  let searchAttributes = carried?.searchAttributes ?? false;
  let ready = carried !== undefined;
  let persisting = false;
  let forwarding = false;
  /** Set once the drain has written what was queued when it began: the loops start no new batch. */
  let frozen = false;
  /** How much was ever queued / written (this run), so a waiter can wait for "what was queued when I came". */
  const queued = { runs: pendingRuns.length, alerts: pendingAlerts.length, actions: pendingActions.length, alertRows: pendingAlertRows.length };
  const done = { runs: 0, alerts: 0, actions: 0, alertRows: 0 };
  let wakeTimer = false;
  let armedDeadline: number | undefined;

  const queueAlerts = (alerts: AlertEvent[]) => {
    if (alerts.length === 0) return;
    pendingAlerts.push(...alerts);
    queued.alerts += alerts.length;
    if (alertAtFire) {
      pendingAlertRows.push(...alerts);
      queued.alertRows += alerts.length;
    }
    statusDirty = true;
  };
  const changed = () => {
    statusDirty = true;
    const next = monitor.nextDeadline();
    if (next !== undefined && (armedDeadline === undefined || next < armedDeadline)) wakeTimer = true;
  };
  const recordAction = (a: Omit<OperatorActionInput, 'actionId' | 'at' | 'retailer'>): string => {
    const actionId = monitor.nextActionId();
    pendingActions.push({ actionId, at: Date.now(), retailer, ...a });
    queued.actions++;
    return actionId;
  };
  const result = (message: string, actionId: string): OperatorResult => ({ retailer, message, actionId, health: monitor.health(Date.now()) });
  const rejectSignal = (what: string, reason: string, runId?: string) => {
    log.warn(`rejected ${what}: ${reason}`, { retailer, runId });
    monitor.recordRejection({ at: Date.now(), reason: `${what}: ${reason}`, runId, retailer });
  };

  // ---- what each message does (shared by the Update and the signal form) -----------------------------

  const sameRetailer = (r: string | undefined, what: string) => {
    if (r !== undefined && r !== retailer) throw refuse(`${what} for ${r} sent to the monitor of ${retailer}`);
  };

  /** Validate a report; throws with the reason (the Update validator and the signal both use it). */
  const validReport = (payload: unknown) => {
    const parsed = parseRunReport(payload);
    if (!parsed.ok) throw refuse(parsed.reason, 'InvalidRunReport');
    sameRetailer(parsed.report.retailer, 'report');
    return parsed.report;
  };

  /**
   * Reports the Update validator has just parsed, by their JSON text: the handler that follows takes that parse
   * instead of repeating it (zod is most of a report's CPU in here). Parsing is pure, so a handler that finds
   * nothing (a replay runs no validator; a signal has none) parses again and gets the same report. Bounded.
   */
  const validated = new Map<string, RunReport>();
  const rememberValid = (payload: unknown) => {
    const report = validReport(payload); // throws for a refused report, before any work on its text
    if (validated.size >= 64) validated.delete(validated.keys().next().value!);
    validated.set(JSON.stringify(payload), report);
  };
  const takeValid = (payload: unknown): RunReport => {
    if (validated.size === 0) return validReport(payload);
    const key = JSON.stringify(payload);
    const report = validated.get(key);
    if (!report) return validReport(payload);
    validated.delete(key);
    return report;
  };

  const applyReport = (payload: unknown): RunVerdict => {
    const report = takeValid(payload);
    const now = Date.now();
    const applied = monitor.applyReport(report, now);
    if (applied.run) {
      pendingRuns.push(applied.run);
      queued.runs++;
    }
    queueAlerts(applied.alerts);
    if (applied.outcome !== 'duplicate') changed();
    return {
      outcome: applied.outcome,
      runId: report.runId,
      retailer,
      health: monitor.health(now),
      opened: applied.alerts.filter((a) => a.kind === 'fire').map((a) => ({ id: a.incidentId, rule: a.rule })),
      resolved: applied.alerts.filter((a) => a.kind === 'resolve').map((a) => ({ id: a.incidentId, rule: a.rule })),
    };
  };

  /** Parse an operator command's arguments with its shared schema; it must name this monitor's retailer. */
  const commandArgs =
    <S extends z.ZodType<{ retailer?: string }>>(schema: S, what: string) =>
    (args: unknown): z.output<S> => {
      const parsed = schema.safeParse(args);
      if (!parsed.success) throw refuse(describeZodError(parsed.error));
      sameRetailer(parsed.data.retailer, what);
      return parsed.data;
    };

  const validThresholds = (args: unknown) => {
    const a = commandArgs(setThresholdsArgsSchema(), 'thresholds')(args);
    if (a.retailer === undefined) throw refuse('fleet-wide thresholds go to the fleet workflow; name a retailer here');
    return a;
  };
  const setThresholds = (args: unknown): OperatorResult => {
    const { thresholds } = validThresholds(args);
    monitor.setOverrides(thresholds);
    settingsDirty = true;
    wakeTimer = true; // a shorter stale threshold may already be due
    changed();
    return result(`thresholds of ${retailer} now ${JSON.stringify(monitor.thresholds)}`, recordAction({ action: 'set_thresholds', by: 'operator', reason: JSON.stringify(thresholds) }));
  };

  const validSilence = (args: unknown) => {
    const a = commandArgs(silenceArgsSchema(), 'silence')(args);
    if (Date.parse(a.until) <= Date.now()) throw refuse(`until ${a.until} is in the past`);
    return a;
  };
  const silence = (args: unknown): OperatorResult => {
    const { rule = '*', until, reason, by = 'unknown' } = validSilence(args);
    const now = Date.now();
    monitor.silence({ rule, until: Date.parse(until), reason, by, createdAt: now }, now);
    settingsDirty = true;
    changed();
    const id = recordAction({ action: 'silence', rule, by, reason, until: Date.parse(until) });
    return result(`silenced ${retailer} ${rule === '*' ? 'all rules' : rule} until ${until}`, id);
  };

  const validUnsilence = commandArgs(unsilenceArgsSchema(), 'unsilence');
  const unsilence = (args: unknown): OperatorResult => {
    const { rule = '*' } = validUnsilence(args);
    const { removed, alerts } = monitor.unsilence(rule, Date.now());
    queueAlerts(alerts);
    settingsDirty = true;
    changed();
    const outcome = removed ? `removed${alerts.length ? `; ${alerts.length} open incident(s) announced` : ''}` : 'no such silence';
    return result(`unsilence ${retailer} ${rule}: ${outcome}`, recordAction({ action: 'unsilence', rule, by: 'operator', outcome }));
  };

  const validAcknowledge = (args: unknown) => {
    const parsed = acknowledgeArgsSchema().safeParse(args);
    if (!parsed.success) throw refuse(describeZodError(parsed.error));
    // Before the restore finishes the incidents are not known yet; the handler checks again.
    if (ready && !monitor.hasOpenIncident(parsed.data.incidentId)) throw refuse(`no open incident ${parsed.data.incidentId}`, 'UnknownIncident');
    return parsed.data;
  };
  const acknowledge = (args: unknown): OperatorResult => {
    const { incidentId, by = 'unknown', note } = validAcknowledge(args);
    if (!monitor.acknowledge(incidentId, { by, note }, Date.now())) throw refuse(`no open incident ${incidentId}`, 'UnknownIncident');
    if (patched(ACK_NOTICE_PATCH)) {
      const notice = monitor.acknowledgementEvent(incidentId, Date.now());
      if (notice) queueAlerts([notice]);
    }
    changed();
    const rule = monitor.openIncidents().find((i) => i.id === incidentId)?.rule;
    return result(`acknowledged ${incidentId}`, recordAction({ action: 'acknowledge', incidentId, rule, by, reason: note }));
  };

  const validReplay = commandArgs(replayArgsSchema(), 'replay');
  const replay = async (args: unknown): Promise<OperatorResult> => {
    const { by = 'unknown' } = validReplay(args);
    let outcome: string;
    try {
      const res = await temporal.triggerIngestion({ retailer, schedule: monitor.status(Date.now()).lastRun?.schedule });
      outcome = `${res.how}${res.id ? ` ${res.id}` : ''}: ${res.detail}`;
    } catch (err) {
      outcome = `failed: ${causeOf(err)}`;
    }
    log.info('replay requested', { retailer, by, outcome });
    return result(`replay ${retailer}: ${outcome}`, recordAction({ action: 'replay', by, outcome }));
  };

  const validReprocess = commandArgs(reprocessArgsSchema(), 'reprocess');
  const reprocess = async (args: unknown): Promise<OperatorResult> => {
    const { from, to, by = 'unknown' } = validReprocess(args);
    // Runs queued before this command would be missing from what we load: wait until *they* are written
    // (not for an empty queue, which a steady stream of reports never gives). If continue-as-new froze the
    // queues meanwhile, go ahead: "latest" fields never move backwards, whatever the window holds.
    const target = queued.runs;
    await condition(() => done.runs >= target || frozen);
    let outcome: string;
    try {
      const stored = await postgres.loadRuns({ retailer, from: Date.parse(from), to: Date.parse(to) });
      const { alerts, applied, newest } = monitor.reprocess(stored, Date.now());
      queueAlerts(alerts);
      changed();
      outcome = newest
        ? `rebuilt from ${applied} runs; ${alerts.length} notification(s)`
        : `window ends before the latest run; ${applied} runs read, state kept (nothing moves backwards)`;
    } catch (err) {
      outcome = `failed: ${causeOf(err)}`;
    }
    log.info('reprocess', { retailer, from, to, by, outcome });
    return result(`reprocess ${retailer}: ${outcome}`, recordAction({ action: 'reprocess', by, reason: `${from} .. ${to}`, outcome }));
  };

  const tooManyWindows = () => refuse(`${retailer} already has ${MAX_WINDOWS} maintenance windows; remove one first`);
  const validAddMaintenance = (args: unknown) => {
    const a = commandArgs(addMaintenanceArgsSchema(), 'maintenance window')(args);
    if (a.retailer === undefined) throw refuse('fleet-wide maintenance windows go to the fleet workflow; name a retailer here');
    if (ready && !monitor.canAddMaintenance()) throw tooManyWindows();
    return a;
  };
  const addMaintenance = (args: unknown): OperatorResult => {
    const { spec, reason, by = 'unknown' } = validAddMaintenance(args);
    const now = Date.now();
    const id = monitor.nextActionId();
    if (!monitor.addMaintenance({ ...spec, id, retailer, reason, by, createdAt: now })) throw tooManyWindows();
    pendingActions.push({ actionId: id, at: now, retailer, action: 'maintenance_add', by, reason: `${spec.spec}: ${reason}` });
    queued.actions++;
    settingsDirty = true;
    wakeTimer = true; // the window may be on now, or its boundary earlier than the armed timer
    changed();
    const active = monitor.inMaintenance(now) ? ' (in effect now)' : '';
    return result(`maintenance window ${id} for ${retailer}: ${spec.spec}${active}`, id);
  };

  const validRemoveMaintenance = (args: unknown) => {
    const a = commandArgs(removeMaintenanceArgsSchema(), 'maintenance window')(args);
    if (ready && !monitor.ownMaintenanceWindows().some((w) => w.id === a.id)) {
      const ids = monitor.ownMaintenanceWindows().map((w) => w.id);
      throw refuse(`no maintenance window ${a.id} on ${retailer} (${ids.length ? `its windows: ${ids.join(', ')}` : 'it has none'})`, 'UnknownMaintenanceWindow');
    }
    return a;
  };
  const removeMaintenance = (args: unknown): OperatorResult => {
    const { id, by = 'unknown' } = validRemoveMaintenance(args);
    const removed = monitor.removeMaintenance(id);
    if (!removed) throw refuse(`no maintenance window ${id} on ${retailer}`, 'UnknownMaintenanceWindow');
    settingsDirty = true;
    wakeTimer = true; // incidents the window kept quiet are announced by the timer loop now
    changed();
    return result(`removed maintenance window ${id} (${removed.spec}) from ${retailer}`, recordAction({ action: 'maintenance_remove', by, reason: `${id}: ${removed.spec}` }));
  };

  const fleetMaintenance = (payload: unknown) => {
    if (!Array.isArray(payload) || payload.length > MAX_WINDOWS || !payload.every(isStoredWindow)) {
      return rejectSignal('fleetMaintenance', `not a list of at most ${MAX_WINDOWS} maintenance windows`);
    }
    monitor.setFleetMaintenance(payload);
    wakeTimer = true;
    changed();
  };

  const fleetDefaults = (payload: unknown) => {
    const parsed = thresholdsSchema().safeParse(payload);
    if (!parsed.success) return rejectSignal('fleetDefaults', describeZodError(parsed.error));
    monitor.setDefaults(parsed.data);
    wakeTimer = true;
    changed();
  };

  // ---- handlers first: nothing that arrives with the first task is missed ----------------------------

  /** Every handler waits for the restore, so messages apply in arrival order onto the rebuilt state. */
  const whenReady = <T>(fn: () => T | Promise<T>): T | Promise<T> => (ready ? fn() : untilReady(fn));
  const untilReady = async <T>(fn: () => T | Promise<T>): Promise<T> => {
    await condition(() => ready);
    return fn();
  };
  /** Update validators: schema and identity checks only (pure, synchronous). */
  const validator = (check: (args: unknown) => unknown) => (args: unknown) => void check(args);

  setHandler(reportRunUpdate, (payload) => whenReady(() => applyReport(payload)), {
    validator: rememberValid,
    description: 'Report one ingestion run; answers with the verdict (accepted / duplicate / out_of_order), health and incidents opened or resolved',
  });
  setHandler(setThresholdsUpdate, (a) => whenReady(() => setThresholds(a)), { validator: validator(validThresholds), description: 'Override thresholds for this retailer' });
  setHandler(silenceUpdate, (a) => whenReady(() => silence(a)), { validator: validator(validSilence), description: 'Silence one rule or all rules until a time' });
  setHandler(unsilenceUpdate, (a) => whenReady(() => unsilence(a)), { validator: validator(validUnsilence), description: 'End a silence; incidents it kept quiet are announced' });
  setHandler(acknowledgeUpdate, (a) => whenReady(() => acknowledge(a)), { validator: validator(validAcknowledge), description: 'Acknowledge an open incident (stops re-notifications)' });
  setHandler(replayUpdate, (a) => whenReady(() => replay(a)), { validator: validator(validReplay), description: "Re-run this retailer's ingestion now" });
  setHandler(reprocessUpdate, (a) => whenReady(() => reprocess(a)), { validator: validator(validReprocess), description: 'Rebuild state from stored runs over [from, to]' });
  setHandler(addMaintenanceUpdate, (a) => whenReady(() => addMaintenance(a)), {
    validator: validator(validAddMaintenance),
    description: "Add a maintenance window (e.g. 'every sunday 02:00-04:00 Africa/Johannesburg'): alerts inside are recorded silenced",
  });
  setHandler(removeMaintenanceUpdate, (a) => whenReady(() => removeMaintenance(a)), { validator: validator(validRemoveMaintenance), description: 'Remove a maintenance window by id' });

  // One handler for every signal, so signals buffered before the workflow started apply in arrival order.
  const signals = new Map<string, (payload: unknown) => unknown>([
    ['ingestionCompleted', applyReport],
    ['setThresholds', setThresholds],
    ['silence', silence],
    ['unsilence', unsilence],
    ['acknowledge', acknowledge],
    ['replay', replay],
    ['reprocess', reprocess],
    ['fleetDefaults', fleetDefaults],
    ['addMaintenance', addMaintenance],
    ['removeMaintenance', removeMaintenance],
    ['fleetMaintenance', fleetMaintenance],
  ]);
  setDefaultSignalHandler(async (name: string, ...args: unknown[]) => {
    const handler = signals.get(name);
    if (!handler) return rejectSignal('signal', `unknown signal ${JSON.stringify(name.slice(0, 80))}`);
    try {
      await whenReady(() => handler(args[0]));
    } catch (err) {
      rejectSignal(name, err instanceof ApplicationFailure ? err.message : String(err), (args[0] as { runId?: unknown } | undefined)?.runId as string | undefined);
    }
  });

  /** Before the restore from Postgres finishes, the state would read as a fresh, healthy retailer: say so instead. */
  const whenRestored = <T>(view: () => T): T => {
    if (!ready) throw new Error(`the monitor of ${retailer} is rebuilding its state from Postgres; ask again in a moment`);
    return view();
  };
  setHandler(retailerQuery, () => whenRestored(() => isoTimes(monitor.detail(Date.now()))), {
    description: 'This retailer: health, last run, last success, failure streak, trailing SKU average, open incidents, silences, thresholds, recent runs (ISO times)',
  });
  setHandler(retailerIncidentsQuery, () => whenRestored(() => isoTimes(monitor.openIncidents())), { description: 'Open incidents of this retailer' });
  setHandler(retailerAlertsQuery, () => whenRestored(() => isoTimes(monitor.recentAlerts())), { description: 'The most recent alert events of this retailer' });

  // ---- start: rebuild from Postgres when started fresh ------------------------------------------------

  if (!carried) {
    const context = await startUp.monitorContext({ fleetWorkflowId });
    searchAttributes = context.searchAttributes;
    if (context.defaults) monitor.setDefaults(context.defaults);
    if (context.maintenance) monitor.setFleetMaintenance(context.maintenance.filter(isStoredWindow));
    const restored = await db.restoreRetailer({
      retailer,
      keepRuns: KEEP.recentRuns,
      keepRunIds: KEEP.recentRunIds,
      skuWindow: monitor.thresholds.skuWindow,
      ...(monitor.thresholds.timezone ? { timeZone: monitor.thresholds.timezone } : {}),
    });
    if (restored) {
      monitor.restore(restored);
      log.info('restored from Postgres', { retailer, openIncidents: restored.openIncidents.length, runs: restored.totals.runs });
    }
    settingsDirty = false;
    ready = true;
  }

  // ---- search attributes and Web UI details ----------------------------------------------------------

  let shownHealth = '';
  let shownRules = '';
  const showState = () => {
    const now = Date.now();
    const health = monitor.health(now);
    const rules = monitor.openRules().join(',') || 'none';
    setCurrentDetails(retailerMarkdown(monitor.status(now), now));
    if (searchAttributes && (health !== shownHealth || rules !== shownRules)) {
      upsertSearchAttributes([
        { key: HEALTH_KEY, value: health },
        { key: OPEN_RULES_KEY, value: rules },
      ]);
    }
    shownHealth = health;
    shownRules = rules;
  };

  const shouldContinueAsNew = () => workflowInfo().continueAsNewSuggested;

  // ---- hand-over loop: alert events to the fleet workflow, in order ---------------------------------

  const diagnose = async (event: AlertEvent, diagnosis: Pick<TemporalActivities, 'diagnoseStale'>) => {
    const runs = monitor.recentRuns().filter((r) => r.status === 'success');
    const durations = runs.map((r) => r.finishedAt - r.startedAt).sort((a, b) => a - b);
    const lastRun = monitor.status(Date.now()).lastRun;
    try {
      event.diagnosis = await diagnosis.diagnoseStale({
        retailer,
        schedule: lastRun?.schedule,
        lastRunAt: lastRun?.finishedAt,
        typicalDurationMs: durations.length ? durations[Math.floor(durations.length / 2)] : undefined,
      });
    } catch (err) {
      log.warn('stale diagnosis failed; alerting without it', { retailer, error: causeOf(err) });
    }
  };

  const handOverLoop = async () => {
    for (;;) {
      await condition(() => pendingAlerts.length > 0 && !frozen);
      forwarding = true;
      // Without the patch: no await here, so the commands keep the order recorded histories have.
      const { handOver, diagnosis } = alertAtFire ? await handOverRoute() : { handOver: fleet, diagnosis: temporal };
      const batch = pendingAlerts.slice(0, LIMITS.alertsPerHandOver);
      for (const event of batch) if (event.kind === 'fire' && event.rule === 'stale' && !event.silenced && event.diagnosis === undefined) await diagnose(event, diagnosis);
      await handOver.forwardAlerts({ fleetWorkflowId, events: batch });
      pendingAlerts.splice(0, batch.length);
      done.alerts += batch.length;
      forwarding = false;
    }
  };

  // ---- schedule loop: Schedule describes, only when the missed-run rule (or an open run's limit) asks ---

  const scheduleLoop = async () => {
    for (;;) {
      await condition(() => !frozen && monitor.scheduleRequest() !== undefined);
      const req = monitor.scheduleRequest()!;
      try {
        const facts = await inLane(() => schedules.describeIngestionSchedule({ retailer, ...(req.scheduleId ? { schedule: req.scheduleId } : {}), ...(req.kind === 'check' ? { check: true } : {}) }));
        queueAlerts(monitor.applyScheduleFacts(req, facts, Date.now()));
      } catch (err) {
        log.warn('could not describe the Schedule; the missed-run check is retried later', { retailer, error: causeOf(err) });
        monitor.scheduleFactsFailed(Date.now());
      }
      wakeTimer = true; // the rule's next deadline changed
    }
  };

  // ---- persistence loop ------------------------------------------------------------------------------

  const persistLoop = async () => {
    for (;;) {
      await condition(() => !frozen && (pendingRuns.length > 0 || pendingActions.length > 0 || pendingAlertRows.length > 0 || statusDirty || settingsDirty));
      persisting = true;
      const runs = pendingRuns.slice(0, LIMITS.runsPerBatch);
      const alertRows = pendingAlertRows.slice(0, LIMITS.alertsPerHandOver);
      const actions = pendingActions.slice(0);
      const withSettings = settingsDirty;
      statusDirty = false;
      settingsDirty = false;
      const now = Date.now();
      try {
        const written = await inLane(() => db.persistBatch({
          runs,
          statuses: [monitor.status(now)],
          // Recorded as fired, delivery pending (an empty list); the fleet's write of the same event completes it.
          alerts: alertRows.map((event) => ({ event, delivery: [] })),
          ...(actions.length ? { actions } : {}),
          ...(withSettings ? { settings: [{ retailer, ...monitor.settings() }] } : {}),
        }));
        for (const q of written.quarantined) monitor.recordRejection({ at: Date.now(), reason: `quarantined ${q.table} row ${q.key}: ${q.reason}`, retailer });
        pendingRuns.splice(0, runs.length);
        pendingActions.splice(0, actions.length);
        pendingAlertRows.splice(0, alertRows.length);
        done.alertRows += alertRows.length;
        done.runs += runs.length;
        done.actions += actions.length;
      } catch (err) {
        // Retries are unlimited for connection errors; anything else ends up here: keep the rows for later.
        log.error('persist failed; will retry', { retailer, error: causeOf(err) });
        statusDirty = true;
        settingsDirty ||= withSettings;
        await condition(() => false, '1 minute');
      }
      persisting = false;
      showState();
    }
  };

  // ---- timer loop ------------------------------------------------------------------------------------

  const timerLoop = async () => {
    for (;;) {
      const now = Date.now();
      const due = monitor.evaluateTimers(now);
      queueAlerts(due);
      // A deadline passed (a silence ended, the stale clock ran out …): the status row may read differently.
      if (due.length || (armedDeadline !== undefined && now >= armedDeadline)) statusDirty = true;
      armedDeadline = monitor.nextDeadline(now);
      wakeTimer = false;
      const wait = armedDeadline === undefined ? undefined : Math.max(armedDeadline - Date.now(), 1);
      if (wait === undefined) await condition(() => wakeTimer || shouldContinueAsNew());
      else await condition(() => wakeTimer || shouldContinueAsNew(), wait);
      if (shouldContinueAsNew()) return;
    }
  };

  void handOverLoop();
  void persistLoop();
  if (missedRunOn) void scheduleLoop();
  showState();
  await timerLoop();

  // Drain: what was queued when the drain began is written and handed over (for a while, if Postgres is
  // down); then no new batch starts, handlers and in-flight activities finish, and whatever arrived since
  // is carried to the next run. Waiting for empty queues instead would never end under a steady stream.
  const targets = { ...queued };
  await condition(() => done.runs >= targets.runs && done.alerts >= targets.alerts && done.actions >= targets.actions && done.alertRows >= targets.alertRows, LIMITS.drainWaitMs);
  frozen = true;
  await condition(() => allHandlersFinished() && !persisting && !forwarding);
  log.info('continuing as new', { retailer, carriedRuns: pendingRuns.length, carriedAlerts: pendingAlerts.length });
  await continueAsNew<typeof retailerMonitorWorkflow>({
    retailer,
    fleetWorkflowId: input.fleetWorkflowId,
    carried: {
      snapshot: monitor.snapshot(),
      pendingRuns,
      pendingAlerts,
      pendingActions,
      ...(pendingAlertRows.length ? { pendingAlertRows } : {}),
      statusDirty,
      searchAttributes,
    },
  });
}

export type { Thresholds };
