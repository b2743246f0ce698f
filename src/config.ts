/**
 * The one module that reads the environment. Everything else receives a typed config object, which keeps
 * tests explicit and keeps secrets (webhook URLs, SMTP credentials) inside the worker process: they are
 * read by activities, never passed through workflow input, history or queries.
 */
import { DEFAULTS, type Channel } from './shared/messages';

export interface MonitorConfig {
  /** The fleet workflow's id. */
  workflowId: string;
  /** Retailer monitors are `<prefix><retailer>`. */
  retailerWorkflowIdPrefix: string;
  taskQueue: string;
  databaseUrl: string;
  temporalUiUrl: string;
  namespace: string;
  dashboardUrl?: string;
  /** Command prefix printed in alerts so an on-call engineer can paste it. */
  cliCommand: string;
  statusPagePort?: number;
  /** How to re-run a retailer's ingestion (replay) and where to look for its runs (reconciler, diagnosis). */
  ingestion: {
    /** Workflow type of the ingestion runs, e.g. `ingestRetailer`. */
    workflowType?: string;
    taskQueue?: string;
    /** Schedule id of a retailer's ingestion; `{retailer}` is replaced. */
    scheduleIdTemplate: string;
  };
  alerts: {
    slackWebhookUrl?: string;
    webhookUrl?: string;
    email?: { smtpUrl: string; from: string; to: string[] };
    /** Per-attempt HTTP (and SMTP) timeout, at most ALERT_HTTP_TIMEOUT_MAX_MS. */
    httpTimeoutMs: number;
    /** ALERT_CONSOLE: print each alert as one line on the worker's stdout. */
    console: boolean;
    /** LOG_FORMAT: console alert lines as readable text or one JSON object per line. */
    consoleFormat: 'text' | 'json';
  };
}

/**
 * Upper bound on the per-attempt alert timeout: an attempt stuck longer only delays the retry (the activity
 * heartbeats, so a dead worker is noticed sooner anyway).
 */
export const ALERT_HTTP_TIMEOUT_MAX_MS = 10_000;

/** ALERT_HTTP_TIMEOUT_MS: a positive whole number of milliseconds, clamped to ALERT_HTTP_TIMEOUT_MAX_MS. */
export function parseAlertTimeout(v: string | undefined): number {
  if (v === undefined) return ALERT_HTTP_TIMEOUT_MAX_MS;
  if (!/^\d+$/.test(v) || Number(v) <= 0) {
    throw new Error(`ALERT_HTTP_TIMEOUT_MS must be a positive whole number of milliseconds (at most ${ALERT_HTTP_TIMEOUT_MAX_MS}), got "${v}"`);
  }
  return Math.min(Number(v), ALERT_HTTP_TIMEOUT_MAX_MS);
}

export const DEFAULT_DATABASE_URL = 'postgres://postgres@localhost:5432/postgres';

function optional(v: string | undefined): string | undefined {
  const t = v?.trim();
  return t ? t : undefined;
}

/** An enumerated variable: one of `allowed`'s names (case-insensitive), `fallback` when unset; throws naming the choices otherwise. */
function oneOf<T>(name: string, v: string | undefined, allowed: Array<[string, T]>, fallback: T): T {
  const key = optional(v)?.toLowerCase();
  if (key === undefined) return fallback;
  const choices = new Map(allowed);
  if (!choices.has(key)) throw new Error(`${name} must be one of ${[...choices.keys()].join(', ')}, got "${v}"`);
  return choices.get(key)!;
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): MonitorConfig {
  const smtpUrl = optional(env.SMTP_URL);
  const to = optional(env.ALERT_EMAIL_TO)?.split(',').map((s) => s.trim()).filter(Boolean) ?? [];
  const port = optional(env.STATUS_PAGE_PORT);
  if (port !== undefined && !/^\d+$/.test(port)) throw new Error(`STATUS_PAGE_PORT must be a port number, got "${port}"`);
  return {
    workflowId: optional(env.MONITOR_WORKFLOW_ID) ?? DEFAULTS.workflowId,
    retailerWorkflowIdPrefix: optional(env.MONITOR_RETAILER_ID_PREFIX) ?? DEFAULTS.retailerWorkflowIdPrefix,
    taskQueue: optional(env.MONITOR_TASK_QUEUE) ?? DEFAULTS.taskQueue,
    databaseUrl: optional(env.DATABASE_URL) ?? DEFAULT_DATABASE_URL,
    temporalUiUrl: (optional(env.TEMPORAL_UI_URL) ?? 'http://localhost:8233').replace(/\/$/, ''),
    namespace: optional(env.TEMPORAL_NAMESPACE) ?? 'default',
    dashboardUrl: optional(env.DASHBOARD_URL),
    cliCommand: optional(env.MONITOR_CLI) ?? 'npx ingestion-monitor',
    statusPagePort: port === undefined ? undefined : Number(port),
    ingestion: {
      workflowType: optional(env.INGESTION_WORKFLOW_TYPE),
      taskQueue: optional(env.INGESTION_TASK_QUEUE),
      scheduleIdTemplate: optional(env.INGESTION_SCHEDULE_ID_TEMPLATE) ?? 'ingest-{retailer}',
    },
    alerts: {
      slackWebhookUrl: optional(env.SLACK_WEBHOOK_URL),
      webhookUrl: optional(env.ALERT_WEBHOOK_URL),
      email:
        smtpUrl && to.length
          ? { smtpUrl, from: optional(env.ALERT_EMAIL_FROM) ?? 'ingestion-monitor@localhost', to }
          : undefined,
      httpTimeoutMs: parseAlertTimeout(optional(env.ALERT_HTTP_TIMEOUT_MS)),
      console: oneOf('ALERT_CONSOLE', env.ALERT_CONSOLE, [['true', true], ['1', true], ['false', false], ['0', false]], false),
      consoleFormat: oneOf<'text' | 'json'>('LOG_FORMAT', env.LOG_FORMAT, [['text', 'text'], ['json', 'json']], 'text'),
    },
  };
}

/** The alert channels that are configured (names only, never their URLs or credentials). */
export function configuredChannels(c: MonitorConfig): Channel[] {
  const on = new Map<Channel, boolean>([
    ['slack', !!c.alerts.slackWebhookUrl],
    ['webhook', !!c.alerts.webhookUrl],
    ['email', !!c.alerts.email],
    ['console', c.alerts.console],
  ]);
  return [...on].filter(([, yes]) => yes).map(([channel]) => channel);
}

/** For logs: which channels are on, never their URLs or credentials. */
export function describeChannels(c: MonitorConfig): string {
  const on = configuredChannels(c);
  return on.length ? on.join(', ') : 'none (alerts are recorded in Postgres only)';
}
