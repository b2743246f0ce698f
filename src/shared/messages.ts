/**
 * Every message the monitor workflows understand, as typed constants shared by the workflows, the client
 * helper, the CLI and tests (the samples-typescript `safe-message-handlers` layout).
 *
 * Two workflow types (Temporal's entity-workflow pattern):
 * - one **retailer monitor** per retailer (`ingestion-monitor/<retailer>`): rules, incidents, silences,
 *   thresholds, its own stale timer and recent runs. Reports and operator commands are Updates that answer;
 *   the signal forms stay for fire-and-forget callers and are applied exactly like the Updates.
 * - one **fleet workflow** (`ingestion-monitor`): fleet default thresholds, expected retailers, and alert
 *   delivery with grouping. Its state grows with open incidents, never with healthy retailers.
 */
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { MaintenanceWindow } from '../rules/maintenance';
import type { AddMaintenanceArgs, RemoveMaintenanceArgs } from './operator';
import type { ThresholdOverrides, Thresholds } from '../rules/thresholds';
import type {
  AlertEvent,
  Health,
  Incident,
  IsoTimes,
  RetailerDetail,
  RetailerSnapshot,
  RuleId,
  RunSummary,
} from '../rules/types';

export const DEFAULTS = {
  /** The fleet workflow's id (the single monitor of earlier versions had this id too). */
  workflowId: 'ingestion-monitor',
  /** Retailer monitors are `<prefix><retailer>`. */
  retailerWorkflowIdPrefix: 'ingestion-monitor/',
  taskQueue: 'ingestion-monitor',
  fleetWorkflowType: 'fleetMonitorWorkflow',
  retailerWorkflowType: 'retailerMonitorWorkflow',
  /** The single-monitor workflow type of v0.1, replaced on first boot of this version. */
  legacyWorkflowType: 'ingestionMonitorWorkflow',
  /** More retailers firing the same rule within this window go out as one follow-up message per channel. */
  groupWindowMs: 30_000,
} as const;

/** Search attributes each retailer monitor keeps current (registered on the server as Keyword). */
export const SEARCH_ATTRIBUTES = { health: 'RetailerHealth', openRules: 'OpenRules' } as const;

export function retailerWorkflowId(retailer: string, prefix: string = DEFAULTS.retailerWorkflowIdPrefix): string {
  return `${prefix}${retailer}`;
}

/** The retailer slug an incident id (`<retailer>/<rule>/<seq>`) belongs to. */
export function retailerOfIncident(incidentId: string): string {
  return incidentId.split('/')[0] ?? '';
}

// ---- retailer monitor -------------------------------------------------------------------------------

export interface RetailerMonitorInput {
  retailer: string;
  /** Where alerts are handed for delivery; default DEFAULTS.workflowId. */
  fleetWorkflowId?: string;
  /** Fleet default thresholds at start (the fleet pushes later changes). */
  defaults?: ThresholdOverrides;
  /** Carried across continue-as-new; not for callers. */
  carried?: RetailerCarry;
}

/** What one run of a retailer monitor hands to the next (continue-as-new). */
export interface RetailerCarry {
  snapshot: RetailerSnapshot;
  /** Rows and events queued but not yet written / handed to the fleet. */
  pendingRuns: RunSummary[];
  pendingAlerts: AlertEvent[];
  pendingActions: OperatorActionInput[];
  /** Alert events fired but not yet recorded in alert_events (absent in runs before ALERT_AT_FIRE_PATCH). */
  pendingAlertRows?: AlertEvent[];
  statusDirty: boolean;
  searchAttributes: boolean;
}

/** An operator action as the retailer monitor records it (`operator_actions`). */
export interface OperatorActionInput {
  actionId: string;
  at: number;
  action: 'silence' | 'unsilence' | 'acknowledge' | 'replay' | 'reprocess' | 'set_thresholds' | 'maintenance_add' | 'maintenance_remove';
  retailer?: string;
  rule?: string;
  incidentId?: string;
  by: string;
  reason?: string;
  until?: number;
  outcome?: string;
}

/**
 * Alert channels, in the order the fleet schedules them. `console`: one line per alert on the worker's stdout;
 * `pagerduty`: Events API v2 (runs before the `pagerduty-channel` patch never schedule it).
 */
export const ALERT_CHANNELS = ['slack', 'webhook', 'email', 'console', 'pagerduty'] as const;
export type Channel = (typeof ALERT_CHANNELS)[number];

export interface DeliveryOutcome {
  channel: Channel;
  /**
   * not_configured: the channel has no URL/SMTP set (or ALERT_CONSOLE is off); silenced: a silence covered the alert;
   * grouped: sent as part of a grouped follow-up message (`detail` names it).
   */
  status: 'delivered' | 'failed' | 'not_configured' | 'silenced' | 'grouped';
  attempts?: number;
  /** Why a delivery failed (HTTP status and body excerpt, SMTP reply …); never the secret URL. */
  detail?: string;
}

/** One alert event with how each channel took it: a row of `alert_events`. */
export interface AlertRecord {
  event: AlertEvent;
  delivery: DeliveryOutcome[];
}

export interface IncidentRef {
  id: string;
  rule: RuleId;
}

/** What `reportIngestionRun` answers once the report is applied. */
export interface RunVerdict {
  outcome: 'accepted' | 'duplicate' | 'out_of_order';
  runId: string;
  retailer: string;
  health: Health;
  opened: IncidentRef[];
  resolved: IncidentRef[];
}

/** The Update every ingestion run sends (Update-with-Start); the payload is validated before it is accepted. */
export const reportRunUpdate = defineUpdate<RunVerdict, [unknown]>('reportIngestionRun');
/** Fire-and-forget form of the same report (signal-with-start), applied exactly like the Update. */
export const ingestionCompletedSignal = defineSignal<[unknown]>('ingestionCompleted');

export interface SetThresholdsArgs {
  /** Omit (fleet workflow) to change the defaults for every retailer. */
  retailer?: string;
  thresholds: ThresholdOverrides;
}
export interface SilenceArgs {
  retailer: string;
  /** One rule, or omit / '*' for all of the retailer's rules. */
  rule?: RuleId | '*';
  /** ISO-8601 end of the silence. */
  until: string;
  reason: string;
  by?: string;
}
export interface UnsilenceArgs {
  retailer: string;
  rule?: RuleId | '*';
}
export interface AcknowledgeArgs {
  incidentId: string;
  by?: string;
  note?: string;
}
/** Re-run a retailer's ingestion now (Schedule trigger where it has one, else start the ingestion workflow). */
export interface ReplayArgs {
  retailer: string;
  by?: string;
}
/**
 * Rebuild a retailer's state from `ingestion_runs` over [from, to] (ISO-8601), e.g. after an outage or a
 * threshold change. Incidents already notified are not notified again; "latest" fields never move back.
 */
export interface ReprocessArgs {
  retailer: string;
  from: string;
  to: string;
  by?: string;
}

/** What an operator Update answers. */
export interface OperatorResult {
  retailer: string;
  /** One line for the CLI. */
  message: string;
  actionId: string;
  health: Health;
}

// Updates (answer; validators reject before anything enters history) and signals (same names, same payloads).
export const setThresholdsUpdate = defineUpdate<OperatorResult, [SetThresholdsArgs]>('setThresholds');
export const silenceUpdate = defineUpdate<OperatorResult, [SilenceArgs]>('silence');
export const unsilenceUpdate = defineUpdate<OperatorResult, [UnsilenceArgs]>('unsilence');
export const acknowledgeUpdate = defineUpdate<OperatorResult, [AcknowledgeArgs]>('acknowledge');
export const replayUpdate = defineUpdate<OperatorResult, [ReplayArgs]>('replay');
export const reprocessUpdate = defineUpdate<OperatorResult, [ReprocessArgs]>('reprocess');

export const setThresholdsSignal = defineSignal<[SetThresholdsArgs]>('setThresholds');
export const silenceSignal = defineSignal<[SilenceArgs]>('silence');
export const unsilenceSignal = defineSignal<[UnsilenceArgs]>('unsilence');
export const acknowledgeSignal = defineSignal<[AcknowledgeArgs]>('acknowledge');
export const replaySignal = defineSignal<[ReplayArgs]>('replay');
export const reprocessSignal = defineSignal<[ReprocessArgs]>('reprocess');

/** Pushed by the fleet workflow when the fleet defaults change. */
export const fleetDefaultsSignal = defineSignal<[Thresholds]>('fleetDefaults');

/**
 * Maintenance windows (src/rules/maintenance.ts): alerts inside are recorded silenced and announced at the
 * window's end if still open; runs inside never enter a baseline. `spec` is e.g.
 * `every sunday 02:00-04:00 Africa/Johannesburg`. The same Update names on the fleet workflow (no retailer)
 * add / remove fleet-wide windows, which the fleet pushes to every retailer monitor.
 */
export type { AddMaintenanceArgs, MaintenanceWindow, RemoveMaintenanceArgs };
export const addMaintenanceUpdate = defineUpdate<OperatorResult, [AddMaintenanceArgs]>('addMaintenance');
export const removeMaintenanceUpdate = defineUpdate<OperatorResult, [RemoveMaintenanceArgs]>('removeMaintenance');
/** Pushed by the fleet workflow when the fleet-wide maintenance windows change. */
export const fleetMaintenanceSignal = defineSignal<[MaintenanceWindow[]]>('fleetMaintenance');

/** The retailer view with ISO times. */
export type RetailerView = IsoTimes<RetailerDetail>;
export const retailerQuery = defineQuery<RetailerView>('retailer');
export const retailerIncidentsQuery = defineQuery<IsoTimes<Incident>[]>('incidents');
export const retailerAlertsQuery = defineQuery<IsoTimes<AlertEvent>[]>('alerts');

// ---- fleet workflow ---------------------------------------------------------------------------------

export interface FleetInput {
  /** Default thresholds for every retailer (merged over the built-in defaults). */
  thresholds?: ThresholdOverrides;
  /** Retailers to watch from the start, so one that never reports still goes stale. */
  expectedRetailers?: string[];
  groupWindowMs?: number;
  retailerWorkflowIdPrefix?: string;
  /** Carried across continue-as-new; not for callers. */
  carried?: FleetCarry;
}

/** An incident as the fleet knows it: from its latest event. */
export interface FleetIncident {
  incidentId: string;
  retailer: string;
  rule: RuleId;
  openedAt: number;
  summary: string;
  silenced: boolean;
  lastKind: AlertEvent['kind'];
}

export interface FleetCarry {
  defaults: Thresholds;
  expectedRetailers: string[];
  groupWindowMs: number;
  retailerWorkflowIdPrefix: string;
  openIncidents: FleetIncident[];
  /** Events received, not yet delivered / recorded. */
  pendingEvents: AlertEvent[];
  pendingRecords: AlertRecord[];
  recentEventIds: string[];
  recentAlerts: AlertEvent[];
  actionSeq: number;
  pendingActions: OperatorActionInput[];
  /** Fleet-wide maintenance windows (absent when there are none, and in runs from before they existed). */
  maintenance?: MaintenanceWindow[];
}

/** Alert events handed over by retailer monitors (through an activity: signal-with-start of the fleet). */
export const alertEventsSignal = defineSignal<[AlertEvent[]]>('alertEvents');

export interface ExpectedRetailersArgs {
  add?: string[];
  remove?: string[];
  by?: string;
}
export interface FleetResult {
  message: string;
  defaults: Thresholds;
  expectedRetailers: string[];
}
export const setFleetThresholdsUpdate = defineUpdate<FleetResult, [SetThresholdsArgs]>('setThresholds');
export const setExpectedRetailersUpdate = defineUpdate<FleetResult, [ExpectedRetailersArgs]>('setExpectedRetailers');
export interface FleetMaintenanceResult {
  message: string;
  actionId: string;
  maintenance: MaintenanceWindow[];
}
export const addFleetMaintenanceUpdate = defineUpdate<FleetMaintenanceResult, [AddMaintenanceArgs]>('addMaintenance');
export const removeFleetMaintenanceUpdate = defineUpdate<FleetMaintenanceResult, [RemoveMaintenanceArgs]>('removeMaintenance');

export interface FleetConfigView {
  defaults: Thresholds;
  expectedRetailers: string[];
  groupWindowMs: number;
  /** Fleet-wide maintenance windows (absent from fleets that predate them). */
  maintenance?: MaintenanceWindow[];
}
export const fleetConfigQuery = defineQuery<FleetConfigView>('config');

/**
 * The fleet workflow's memo key for what a retailer monitor starts with: the fleet's default thresholds and
 * its maintenance windows (FleetStartConfig). The server answers a describe of the fleet from its own
 * record, with no worker involved, so a monitor starting during a burst never waits for the fleet's turn on
 * a busy worker (src/activities/fleet.ts `monitorContext`). Shown in the Web UI as the fleet's memo.
 */
export const FLEET_CONFIG_MEMO = 'monitorStartConfig';
export interface FleetStartConfig {
  defaults: Thresholds;
  maintenance?: MaintenanceWindow[];
}
export const fleetIncidentsQuery = defineQuery<IsoTimes<FleetIncident>[]>('incidents');
export const fleetAlertsQuery = defineQuery<IsoTimes<AlertEvent>[]>('alerts');

export type { Thresholds };
