/**
 * The monitor workflow: thin glue around the pure rule engine (src/rules).
 *
 * - Signal handlers validate and apply synchronously; they never throw, so a bad payload can't fail a
 *   workflow task, and they queue what must leave the workflow (run rows, status rows, alert events).
 * - Three loops run side by side so a slow outside system can't hold up the others:
 *     the timer loop sleeps on one durable timer until the earliest deadline (stale / re-notify);
 *     the delivery loop sends alerts (Slack, webhook, email) and hands the outcomes to persistence;
 *     the persistence loop writes everything queued in one batched activity.
 * - Continue-as-new when the server suggests it or after `maxReportsPerRun` reports, after draining.
 */
import {
  ActivityFailure,
  allHandlersFinished,
  condition,
  continueAsNew,
  log,
  patched,
  proxyActivities,
  setHandler,
  setCurrentDetails,
  workflowInfo,
} from '@temporalio/workflow';
import type {
  AlertActivities,
  AlertRecord,
  Channel,
  DeliveryOutcome,
  OperatorAction,
  PostgresActivities,
  TemporalActivities,
} from '../activities/types';
import { MonitorState } from '../rules/monitor-state';
import type { AlertEvent, RunSummary } from '../rules/types';
import {
  acknowledgeSignal,
  type PendingWork,
  alertsQuery,
  DEFAULTS,
  incidentsQuery,
  ingestionCompletedSignal,
  type MonitorInput,
  replaySignal,
  reprocessSignal,
  retailerQuery,
  setThresholdsSignal,
  silenceSignal,
  statusQuery,
  unsilenceSignal,
} from '../shared/messages';
import {
  acknowledgeArgsSchema,
  describeZodError,
  replayArgsSchema,
  reprocessArgsSchema,
  setThresholdsArgsSchema,
  silenceArgsSchema,
  unsilenceArgsSchema,
} from '../shared/operator';
import { parseRunReport } from '../shared/report';
import { healthMarkdown } from './health-summary';
import { applyStartOptions } from './start-options';

// Persistence must not lose data while Postgres is down: retry without a limit, backing off to a minute.
const { persistBatch, loadRuns } = proxyActivities<PostgresActivities>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute' },
});

// Alerts retry 429/5xx/network errors a few times (honouring Retry-After via nextRetryDelay), then the
// delivery is recorded as failed: an alert hours late is worse than a recorded failure.
const alertActivities = proxyActivities<AlertActivities>({
  startToCloseTimeout: '30 seconds', // longer than one HTTP/SMTP attempt (ALERT_HTTP_TIMEOUT_MS, 10 s)
  scheduleToCloseTimeout: '5 minutes',
  retry: { initialInterval: '2 seconds', backoffCoefficient: 2, maximumInterval: '1 minute', maximumAttempts: 5 },
});

// Operator actions and diagnosis talk to Temporal itself; a slow answer must not hold up an alert for long.
const temporalActivities = proxyActivities<TemporalActivities>({
  startToCloseTimeout: '20 seconds',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumAttempts: 3 },
});

const LIMITS = {
  /** Run rows per persistBatch (~400 bytes each). */
  runsPerBatch: 500,
  alertsPerBatch: 100,
  /** At most this many queued runs are carried through continue-as-new; more are written first. */
  carryRuns: 500,
  /** The state snapshot carried through continue-as-new is trimmed to this (Temporal's limit is 2 MiB). */
  carryStateBytes: 1_200_000,
};

const CHANNELS: Array<[Channel, keyof AlertActivities]> = [
  ['slack', 'sendSlackAlert'],
  ['webhook', 'sendWebhookAlert'],
  ['email', 'sendEmailAlert'],
];

/** What is waiting to leave the workflow. Whatever is still queued at continue-as-new is carried over. */
class Outbox {
  runs: RunSummary[];
  dirtyRetailers: Set<string>;
  alertsToSend: AlertEvent[];
  alertRecords: AlertRecord[];
  actions: OperatorAction[];
  delivering = false;
  persisting = false;
  /** Set when continue-as-new is due: the loops finish what is in flight and start nothing new. */
  draining = false;

  constructor(carried?: PendingWork) {
    this.runs = carried?.runs ?? [];
    this.dirtyRetailers = new Set(carried?.dirtyRetailers ?? []);
    this.alertsToSend = carried?.alertsToSend ?? [];
    this.alertRecords = carried?.alertRecords ?? [];
    this.actions = carried?.actions ?? [];
  }

  get persistPending(): boolean {
    return this.runs.length > 0 || this.dirtyRetailers.size > 0 || this.alertRecords.length > 0 || this.actions.length > 0;
  }

  get inFlight(): boolean {
    return this.delivering || this.persisting;
  }

  carry(): PendingWork {
    return {
      runs: this.runs,
      dirtyRetailers: [...this.dirtyRetailers],
      alertsToSend: this.alertsToSend,
      alertRecords: this.alertRecords,
      actions: this.actions,
    };
  }
}

export async function ingestionMonitorWorkflow(input: MonitorInput = {}): Promise<void> {
  const state = new MonitorState(input.state);
  const outbox = new Outbox(input.pending);
  const maxReports = input.maxReportsPerRun ?? DEFAULTS.maxReportsPerRun;
  let reportsThisRun = 0;
  let wakeTimerLoop = false;
  let armedDeadline: number | undefined;

  if (!input.state) {
    // First run: apply the configured thresholds and watch expected retailers from now on.
    for (const problem of applyStartOptions(state, input, Date.now())) {
      log.warn(`ignored start option: ${problem}`);
      state.recordRejection({ at: Date.now(), reason: `start option: ${problem}` });
    }
    for (const id of state.retailerIds()) outbox.dirtyRetailers.add(id);
  }

  const queueAlerts = (alerts: AlertEvent[]) => {
    if (alerts.length === 0) return;
    outbox.alertsToSend.push(...alerts);
    for (const a of alerts) outbox.dirtyRetailers.add(a.retailer);
  };
  /** Wake the timer loop only if the earliest deadline moved earlier than the armed timer. */
  const deadlineMayHaveMoved = () => {
    const next = state.nextDeadline();
    if (next !== undefined && (armedDeadline === undefined || next < armedDeadline)) wakeTimerLoop = true;
  };
  const reject = (what: string, reason: string, ids: { runId?: string; retailer?: string } = {}) => {
    log.warn(`rejected ${what}: ${reason}`, ids);
    state.recordRejection({ at: Date.now(), reason: `${what}: ${reason}`, ...ids });
  };

  // ---- handlers first, so nothing that arrives with the first task is missed -------------------------

  setHandler(ingestionCompletedSignal, (payload: unknown) => {
    const parsed = parseRunReport(payload);
    if (!parsed.ok) return reject('run report', parsed.reason, { runId: parsed.runId, retailer: parsed.retailer });
    const now = Date.now();
    const result = state.applyReport(parsed.report, now);
    if (result.outcome === 'duplicate') {
      log.info('duplicate run report ignored', { runId: parsed.report.runId });
      return;
    }
    reportsThisRun++;
    if (result.run) outbox.runs.push(result.run);
    outbox.dirtyRetailers.add(parsed.report.retailer);
    queueAlerts(result.alerts);
    deadlineMayHaveMoved();
  });

  // Before this patch an operator action on a never-seen retailer started its stale clock (a CLI typo
  // could page someone hours later); recorded histories must keep that behaviour on replay.
  const watchOperatorRetailers = () => !patched('operator-actions-do-not-watch');

  const recordAction = (a: Omit<OperatorAction, 'actionId' | 'at'>) => {
    outbox.actions.push({ actionId: state.nextId('action'), at: Date.now(), ...a });
  };

  setHandler(setThresholdsSignal, (args: unknown) => {
    const parsed = setThresholdsArgsSchema.safeParse(args);
    if (!parsed.success) return reject('setThresholds', describeZodError(parsed.error));
    state.setThresholds(parsed.data.retailer, parsed.data.thresholds, Date.now(), watchOperatorRetailers());
    for (const id of parsed.data.retailer ? [parsed.data.retailer] : state.retailerIds()) outbox.dirtyRetailers.add(id);
    recordAction({ action: 'set_thresholds', retailer: parsed.data.retailer, by: 'signal', reason: JSON.stringify(parsed.data.thresholds) });
    wakeTimerLoop = true; // a shorter stale threshold may already be due
  });

  setHandler(silenceSignal, (args: unknown) => {
    const parsed = silenceArgsSchema.safeParse(args);
    if (!parsed.success) return reject('silence', describeZodError(parsed.error));
    const now = Date.now();
    const { retailer, rule = '*', until, reason, by = 'unknown' } = parsed.data;
    state.silence(retailer, { rule, until: Date.parse(until), reason, by, createdAt: now }, now, watchOperatorRetailers());
    outbox.dirtyRetailers.add(retailer);
    recordAction({ action: 'silence', retailer, rule, by, reason, until: Date.parse(until) });
    deadlineMayHaveMoved();
  });

  setHandler(unsilenceSignal, (args: unknown) => {
    const parsed = unsilenceArgsSchema.safeParse(args);
    if (!parsed.success) return reject('unsilence', describeZodError(parsed.error));
    const { retailer, rule = '*' } = parsed.data;
    const removed = state.unsilence(retailer, rule);
    outbox.dirtyRetailers.add(retailer);
    recordAction({ action: 'unsilence', retailer, rule, by: 'signal', outcome: removed ? 'removed' : 'no such silence' });
  });

  setHandler(acknowledgeSignal, (args: unknown) => {
    const parsed = acknowledgeArgsSchema.safeParse(args);
    if (!parsed.success) return reject('acknowledge', describeZodError(parsed.error));
    const { incidentId, by = 'unknown', note } = parsed.data;
    if (!state.acknowledge(incidentId, { by, note }, Date.now())) return reject('acknowledge', `no open incident ${incidentId}`);
    const retailer = incidentId.split('/')[0]!;
    outbox.dirtyRetailers.add(retailer);
    recordAction({ action: 'acknowledge', retailer, incidentId, rule: incidentId.split('/')[1], by, reason: note });
  });

  // Re-run a retailer's ingestion now; the result comes back through normal reporting.
  setHandler(replaySignal, async (args: unknown) => {
    const parsed = replayArgsSchema.safeParse(args);
    if (!parsed.success) return reject('replay', describeZodError(parsed.error));
    const { retailer, by = 'unknown' } = parsed.data;
    const schedule = state.retailerStatus(retailer, Date.now())?.lastRun?.schedule;
    let outcome: string;
    try {
      const res = await temporalActivities.triggerIngestion({ retailer, schedule });
      outcome = `${res.how}${res.id ? ` ${res.id}` : ''}: ${res.detail}`;
    } catch (err) {
      outcome = `failed: ${err instanceof ActivityFailure && err.cause ? err.cause.message : String(err)}`;
    }
    log.info('replay requested', { retailer, by, outcome });
    recordAction({ action: 'replay', retailer, by, outcome });
  });

  // Rebuild a retailer's state from what Postgres recorded, without re-notifying open incidents.
  setHandler(reprocessSignal, async (args: unknown) => {
    const parsed = reprocessArgsSchema.safeParse(args);
    if (!parsed.success) return reject('reprocess', describeZodError(parsed.error));
    const { retailer, from, to, by = 'unknown' } = parsed.data;
    // Runs still queued for Postgres would be missing from what we load: wait for them to be written.
    await condition(() => !outbox.persisting && !outbox.runs.some((r) => r.retailer === retailer));
    const loadedAt = Date.now();
    let outcome: string;
    try {
      const stored = await loadRuns({ retailer, from: Date.parse(from), to: Date.parse(to) });
      // Reports that arrived while loading are part of the truth too.
      const known = new Set(stored.map((r) => r.runId));
      const arrived = (state.retailerDetail(retailer, Date.now())?.recentRuns ?? [])
        .filter((r) => r.receivedAt >= loadedAt && !known.has(r.runId) && !r.outOfOrder)
        .reverse();
      const { alerts, applied } = state.reprocess(retailer, [...stored, ...arrived], Date.now());
      queueAlerts(alerts);
      outbox.dirtyRetailers.add(retailer);
      deadlineMayHaveMoved();
      outcome = `rebuilt from ${applied} runs; ${alerts.length} notification(s)`;
    } catch (err) {
      outcome = `failed: ${err instanceof ActivityFailure && err.cause ? err.cause.message : String(err)}`;
    }
    log.info('reprocess', { retailer, from, to, by, outcome });
    recordAction({ action: 'reprocess', retailer, by, reason: `${from} .. ${to}`, outcome });
  });

  setHandler(statusQuery, () => state.status(Date.now()), {
    description: 'Every retailer: last run, last success, failure streak, trailing SKU average, open incidents; plus report counters',
  });
  setHandler(retailerQuery, (retailer: string) => state.retailerDetail(retailer, Date.now()) ?? null, {
    description: 'One retailer (argument: its slug) with its recent runs and SKU baseline',
  });
  setHandler(incidentsQuery, () => state.openIncidents(), { description: 'Open incidents across all retailers' });
  setHandler(alertsQuery, () => state.recentAlerts(), { description: 'The most recent alert events (fire / re-notify / resolve)' });

  const shouldContinueAsNew = () => workflowInfo().continueAsNewSuggested || reportsThisRun >= maxReports;

  // ---- delivery loop -------------------------------------------------------------------------------

  const diagnose = async (event: AlertEvent): Promise<void> => {
    const detail = state.retailerDetail(event.retailer, Date.now());
    const durations = (detail?.recentRuns ?? []).filter((r) => r.status === 'success').map((r) => r.finishedAt - r.startedAt);
    durations.sort((a, b) => a - b);
    try {
      event.diagnosis = await temporalActivities.diagnoseStale({
        retailer: event.retailer,
        schedule: detail?.lastRun?.schedule,
        lastRunAt: detail?.lastRun?.finishedAt,
        typicalDurationMs: durations.length ? durations[Math.floor(durations.length / 2)] : undefined,
      });
    } catch (err) {
      log.warn('stale diagnosis failed; alerting without it', { retailer: event.retailer, error: String(err) });
    }
  };

  const deliver = async (event: AlertEvent): Promise<AlertRecord> => {
    // patched: histories recorded before diagnosis existed have no activity here.
    if (event.kind === 'fire' && event.rule === 'stale' && !event.silenced && patched('stale-diagnosis')) await diagnose(event);
    const delivery = await Promise.all(
      CHANNELS.map(async ([channel, activity]): Promise<DeliveryOutcome> => {
        if (event.silenced) return { channel, status: 'silenced' };
        try {
          return await alertActivities[activity](event);
        } catch (err) {
          const cause = err instanceof ActivityFailure && err.cause ? err.cause.message : String(err);
          log.error('alert delivery failed', { channel, eventId: event.eventId, cause });
          return { channel, status: 'failed', detail: cause };
        }
      }),
    );
    return { event, delivery };
  };

  const deliveryLoop = async () => {
    for (;;) {
      await condition(() => outbox.alertsToSend.length > 0 && !outbox.draining);
      outbox.delivering = true;
      // Events in one batch go out concurrently; batches stay in order, so a resolve never overtakes its fire.
      const batch = outbox.alertsToSend.splice(0);
      outbox.alertRecords.push(...(await Promise.all(batch.map(deliver))));
      outbox.delivering = false;
    }
  };

  // ---- persistence loop ------------------------------------------------------------------------------

  const persistLoop = async () => {
    for (;;) {
      // While draining for continue-as-new, keep writing only until the backlog is small enough to carry.
      await condition(() => outbox.persistPending && (!outbox.draining || outbox.runs.length > LIMITS.carryRuns));
      outbox.persisting = true;
      const now = Date.now();
      // Bounded batches keep each activity's input well under Temporal's payload limit after a burst.
      const runs = outbox.runs.splice(0, LIMITS.runsPerBatch);
      const alerts = outbox.alertRecords.splice(0, LIMITS.alertsPerBatch);
      const actions = outbox.actions.splice(0);
      const statuses = [...outbox.dirtyRetailers].sort().flatMap((id) => state.retailerStatus(id, now) ?? []);
      outbox.dirtyRetailers.clear();
      // `actions` only when there are some, so batches look as they did before operator actions existed.
      await persistBatch({ runs, statuses, alerts, ...(actions.length ? { actions } : {}) });
      outbox.persisting = false;
      setCurrentDetails(healthMarkdown(state.status(Date.now())));
    }
  };

  // ---- timer loop ------------------------------------------------------------------------------------

  const timerLoop = async () => {
    for (;;) {
      queueAlerts(state.evaluateTimers(Date.now()));
      armedDeadline = state.nextDeadline();
      wakeTimerLoop = false;
      const wait = armedDeadline === undefined ? undefined : Math.max(armedDeadline - Date.now(), 1);
      if (wait === undefined) await condition(() => wakeTimerLoop || shouldContinueAsNew());
      else await condition(() => wakeTimerLoop || shouldContinueAsNew(), wait);
      if (shouldContinueAsNew()) return;
    }
  };

  // The loops only end with the workflow; an unexpected throw fails the workflow task, which Temporal retries.
  void deliveryLoop();
  void persistLoop();
  setCurrentDetails(healthMarkdown(state.status(Date.now())));

  await timerLoop();

  // Drain: let handlers and in-flight activities finish (an alert half-sent must not be sent twice), then
  // hand the state and whatever is still queued to the next run. Under a steady stream of reports the
  // queues are never empty, so waiting for them to empty could postpone continue-as-new forever.
  outbox.draining = true;
  await condition(() => allHandlersFinished() && !outbox.inFlight && outbox.runs.length <= LIMITS.carryRuns);
  log.info('continuing as new', { reportsThisRun, retailers: state.retailerIds().length, queuedRuns: outbox.runs.length });
  await continueAsNew<typeof ingestionMonitorWorkflow>({
    maxReportsPerRun: input.maxReportsPerRun,
    state: state.snapshot(LIMITS.carryStateBytes),
    pending: outbox.carry(),
  });
}
