/**
 * The one module that reads the environment. Everything else receives a typed config object, which keeps
 * tests explicit and keeps secrets (webhook URLs, SMTP credentials) inside the worker process: they are
 * read by activities, never passed through workflow input, history or queries.
 */
import { ALERT_HTTP_TIMEOUT_MAX_MS, checkEnv, type CheckedEnv, type LogFormat } from './config-env';
import { DEFAULTS, type Channel } from './shared/messages';
import { HEAP_GROWING_PERCENT_DEFAULT, WORKER_TUNING_DEFAULTS, type WorkerTuning } from './worker-tuning';

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
  /** STATUS_PAGE_ALLOWED_HOSTS: Host names besides loopback the status page answers to (a reverse proxy's). */
  statusPageAllowedHosts?: string[];
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
    /**
     * SLACK_BOT_TOKEN + SLACK_CHANNEL: post with chat.postMessage and update the same message (chat.update,
     * thread replies) for re-notify / acknowledge / resolve. Wins over slackWebhookUrl when both are set.
     */
    slackBot?: { token: string; channel: string; apiUrl: string };
    /** PAGERDUTY_ROUTING_KEY (+ PAGERDUTY_EVENTS_URL): Events API v2, dedup_key = incident id. */
    pagerDuty?: { routingKey: string; eventsUrl: string };
    webhookUrl?: string;
    email?: { smtpUrl: string; from: string; to: string[] };
    /** Per-attempt HTTP (and SMTP) timeout, at most ALERT_HTTP_TIMEOUT_MAX_MS. */
    httpTimeoutMs: number;
    /** ALERT_CONSOLE: print each alert as one line on the worker's stdout. */
    console: boolean;
    /** LOG_FORMAT: console alert lines as readable text or one JSON object per line. */
    consoleFormat: LogFormat;
  };
  /** EXPECTED_RETAILERS: slugs watched before their first report. */
  expectedRetailers?: string[];
  /** RUN_RETENTION_DAYS: prune runs (and closed incidents' alert events) older than this; unset keeps all. */
  runRetentionDays?: number;
  /** LOG_FORMAT: one readable line per event (text, the default) or one JSON object per line. */
  logFormat?: LogFormat;
  /** METRICS_PORT / METRICS_HOST: Prometheus /metrics; off without a port. */
  metrics?: { port?: number; host?: string };
  /** OTEL_EXPORTER_OTLP_ENDPOINT / OTEL_SERVICE_NAME: tracing; off without an endpoint. */
  otel?: { endpoint?: string; tracesEndpoint?: string; serviceName: string };
  /** TEMPORAL_PORT, TEMPORAL_UI_PORT, EMBEDDED_PG_PORT, DEMO_EVERY_SECONDS (npm start's local stack). */
  local?: LocalStackSettings;
  /** WORKER_MAX_*: the monitor worker's workflow cache and task slots; the SDK's own defaults when absent. */
  worker?: WorkerTuning;
  /** WORKER_HEAP_GROWING_PERCENT: V8's heap growth in the worker process (src/worker-tuning.ts); 0: V8's own. */
  heapGrowingPercent?: number;
}

export { ALERT_HTTP_TIMEOUT_MAX_MS, ConfigError, LOG_FORMATS, type LogFormat } from './config-env';

/** ALERT_HTTP_TIMEOUT_MS: a positive whole number of milliseconds, clamped to ALERT_HTTP_TIMEOUT_MAX_MS. */
export function parseAlertTimeout(v: string | undefined): number {
  return checkEnv({ ALERT_HTTP_TIMEOUT_MS: v }).ALERT_HTTP_TIMEOUT_MS ?? ALERT_HTTP_TIMEOUT_MAX_MS;
}

export const DEFAULT_DATABASE_URL = 'postgres://postgres@localhost:5432/postgres';

/** Ports and pace of `npm start`'s local stack (Temporal dev server, embedded Postgres, demo). */
export interface LocalStackSettings {
  temporalPort: number;
  temporalUiPort: number;
  embeddedPgPort: number;
  demoEverySeconds: number;
}

/** What loadConfig returns: MonitorConfig with every setting filled in. */
export type LoadedConfig = MonitorConfig & Required<Pick<MonitorConfig, 'logFormat' | 'metrics' | 'otel' | 'local' | 'worker'>>;

function optional(v: string | undefined): string | undefined {
  const t = v?.trim();
  return t ? t : undefined;
}

/**
 * The monitor's configuration from the environment; every variable is checked first (see src/config-env.ts).
 * @throws ConfigError naming each variable that is not what it should be (never quoting a secret).
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): LoadedConfig {
  const e = checkEnv(env);
  return {
    workflowId: optional(env.MONITOR_WORKFLOW_ID) ?? DEFAULTS.workflowId,
    retailerWorkflowIdPrefix: optional(env.MONITOR_RETAILER_ID_PREFIX) ?? DEFAULTS.retailerWorkflowIdPrefix,
    taskQueue: optional(env.MONITOR_TASK_QUEUE) ?? DEFAULTS.taskQueue,
    databaseUrl: e.DATABASE_URL ?? DEFAULT_DATABASE_URL,
    temporalUiUrl: (e.TEMPORAL_UI_URL ?? 'http://localhost:8233').replace(/\/$/, ''),
    namespace: optional(env.TEMPORAL_NAMESPACE) ?? 'default',
    dashboardUrl: e.DASHBOARD_URL,
    cliCommand: optional(env.MONITOR_CLI) ?? 'npx ingestion-monitor',
    statusPagePort: e.STATUS_PAGE_PORT,
    statusPageAllowedHosts: e.STATUS_PAGE_ALLOWED_HOSTS,
    ingestion: {
      workflowType: optional(env.INGESTION_WORKFLOW_TYPE),
      taskQueue: optional(env.INGESTION_TASK_QUEUE),
      scheduleIdTemplate: optional(env.INGESTION_SCHEDULE_ID_TEMPLATE) ?? 'ingest-{retailer}',
    },
    alerts: {
      slackWebhookUrl: e.SLACK_WEBHOOK_URL,
      slackBot:
        e.SLACK_BOT_TOKEN && e.SLACK_CHANNEL
          ? { token: e.SLACK_BOT_TOKEN, channel: e.SLACK_CHANNEL, apiUrl: (e.SLACK_API_URL ?? 'https://slack.com/api').replace(/\/+$/, '') }
          : undefined,
      pagerDuty: e.PAGERDUTY_ROUTING_KEY
        ? { routingKey: e.PAGERDUTY_ROUTING_KEY, eventsUrl: e.PAGERDUTY_EVENTS_URL ?? 'https://events.pagerduty.com/v2/enqueue' }
        : undefined,
      webhookUrl: e.ALERT_WEBHOOK_URL,
      email:
        e.SMTP_URL && e.ALERT_EMAIL_TO
          ? { smtpUrl: e.SMTP_URL, from: e.ALERT_EMAIL_FROM ?? 'ingestion-monitor@localhost', to: e.ALERT_EMAIL_TO }
          : undefined,
      httpTimeoutMs: e.ALERT_HTTP_TIMEOUT_MS ?? ALERT_HTTP_TIMEOUT_MAX_MS,
      console: e.ALERT_CONSOLE ?? false,
      consoleFormat: e.LOG_FORMAT ?? 'text',
    },
    expectedRetailers: e.EXPECTED_RETAILERS,
    runRetentionDays: e.RUN_RETENTION_DAYS,
    logFormat: e.LOG_FORMAT ?? 'text',
    metrics: { port: e.METRICS_PORT, host: e.METRICS_HOST },
    otel: { endpoint: e.OTEL_EXPORTER_OTLP_ENDPOINT, tracesEndpoint: e.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT, serviceName: e.OTEL_SERVICE_NAME ?? 'ingestion-monitor' },
    local: {
      temporalPort: e.TEMPORAL_PORT ?? 7233,
      temporalUiPort: e.TEMPORAL_UI_PORT ?? 8233,
      embeddedPgPort: e.EMBEDDED_PG_PORT ?? 5433,
      demoEverySeconds: e.DEMO_EVERY_SECONDS ?? 60,
    },
    worker: workerTuning(e),
    heapGrowingPercent: e.WORKER_HEAP_GROWING_PERCENT ?? HEAP_GROWING_PERCENT_DEFAULT,
  };
}

/** WORKER_MAX_* and WORKER_WORKFLOW_THREADS, each defaulted; the default task slots never exceed a smaller cache (the SDK requires it). */
function workerTuning(e: CheckedEnv): WorkerTuning {
  const d = WORKER_TUNING_DEFAULTS;
  const maxCachedWorkflows = e.WORKER_MAX_CACHED_WORKFLOWS ?? d.maxCachedWorkflows;
  const slots = maxCachedWorkflows === 0 ? d.maxConcurrentWorkflowTaskExecutions : Math.min(d.maxConcurrentWorkflowTaskExecutions, maxCachedWorkflows);
  return {
    maxCachedWorkflows,
    maxConcurrentWorkflowTaskExecutions: e.WORKER_MAX_CONCURRENT_WORKFLOW_TASKS ?? slots,
    maxConcurrentActivityTaskExecutions: e.WORKER_MAX_CONCURRENT_ACTIVITIES ?? d.maxConcurrentActivityTaskExecutions,
    maxConcurrentLocalActivityExecutions: e.WORKER_MAX_CONCURRENT_LOCAL_ACTIVITIES ?? d.maxConcurrentLocalActivityExecutions,
    workflowThreadPoolSize: e.WORKER_WORKFLOW_THREADS ?? d.workflowThreadPoolSize,
  };
}

/** The alert channels that are configured (names only, never their URLs or credentials). */
export function configuredChannels(c: MonitorConfig): Channel[] {
  const on = new Map<Channel, boolean>([
    ['slack', !!(c.alerts.slackWebhookUrl || c.alerts.slackBot)],
    ['webhook', !!c.alerts.webhookUrl],
    ['email', !!c.alerts.email],
    ['console', c.alerts.console],
    ['pagerduty', !!c.alerts.pagerDuty],
  ]);
  return [...on].filter(([, yes]) => yes).map(([channel]) => channel);
}

/** For logs: which channels are on, never their URLs or credentials. */
export function describeChannels(c: MonitorConfig): string {
  // Which Slack mode is used, since both may be set (the bot wins); never the token or URL.
  const on = configuredChannels(c).map((ch) => (ch === 'slack' ? (c.alerts.slackBot ? 'slack (bot, updated in place)' : 'slack (incoming webhook)') : ch));
  return on.length ? on.join(', ') : 'none (alerts are recorded in Postgres only)';
}
