/**
 * The environment the monitor reads, checked in one pass: every problem is reported at once, each naming
 * its variable and what is expected. Secret values (see src/shared/redact.ts) are never echoed.
 * Only src/config.ts uses this; everything else receives the typed config.
 */
import { z } from 'zod';
import { slugSchema } from './shared/operator';
import { redactUrl, SECRET_ENV } from './shared/redact';

/** Thrown by loadConfig: one line per problem, never a secret value. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  constructor(readonly problems: readonly string[]) {
    super(`invalid environment:\n  ${problems.join('\n  ')}`);
  }
}

export const LOG_FORMATS = ['text', 'json'] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];

/**
 * Upper bound on the per-attempt alert timeout: an attempt stuck longer only delays the retry (the activity
 * heartbeats, so a dead worker is noticed sooner anyway).
 */
export const ALERT_HTTP_TIMEOUT_MAX_MS = 10_000;

/** How a rejected value is quoted: secrets not at all, URLs without their password, long values cut. */
function shown(name: string, v: string, url: boolean): string {
  if (SECRET_ENV.has(name)) return ' (value not shown: it holds a secret)';
  const text = url ? redactUrl(v) : v;
  return `, got "${text.length > 80 ? `${text.slice(0, 80)}…` : text}"`;
}

/**
 * A variable whose raw text `parse` turns into a value, or undefined when it is not what `expected` says.
 * The issue message is filled in by checkEnv (it needs the variable's name to decide what may be shown).
 */
function field<T>(expected: string, parse: (v: string) => T | undefined, opts: { url?: boolean } = {}) {
  return z
    .string()
    .transform((v, ctx) => {
      const out = parse(v);
      if (out !== undefined) return out;
      ctx.addIssue({ code: 'custom', message: expected, params: { url: !!opts.url, value: v } });
      return z.NEVER;
    })
    .optional();
}

const whole = (v: string) => (/^\d+$/.test(v) ? Number(v) : undefined);
const inRange = (min: number, max: number) => (v: string) => {
  const n = whole(v);
  return n !== undefined && n >= min && n <= max ? n : undefined;
};
const port = (min: 0 | 1) => field(min === 0 ? 'a port number 0–65535 (0: any free port)' : 'a port number 1–65535', inRange(min, 65535));

function urlWith(protocols: readonly string[]) {
  return (v: string) => {
    try {
      const u = new URL(v);
      return protocols.includes(u.protocol) && (u.host || u.protocol.startsWith('postgres')) ? v : undefined;
    } catch {
      return undefined;
    }
  };
}
const httpUrl = (what = 'an http:// or https:// URL') => field(what, urlWith(['http:', 'https:']), { url: true });

const BOOLEANS = new Map<string, boolean>([
  ['1', true], ['true', true], ['yes', true], ['on', true],
  ['0', false], ['false', false], ['no', false], ['off', false],
]);
const bool = () => field('true or false (also 1/0, yes/no, on/off)', (v) => BOOLEANS.get(v.toLowerCase()));

const EMAIL = /^[^\s@<>,;"]+@[^\s@<>,;"]+$/;
/** `a@b` or `Name <a@b>`, as nodemailer takes them. */
const mailbox = (v: string) => EMAIL.test(v) || /^[^<>]*<[^\s@<>,;"]+@[^\s@<>,;"]+>$/.test(v);

/** A comma-separated list where every item must pass `ok`; empty items are ignored. */
const list = (ok: (item: string) => boolean) => (v: string) => {
  const items = v.split(',').map((s) => s.trim()).filter(Boolean);
  return items.length && items.every(ok) ? items : undefined;
};

/** host:port, [ipv6]:port. */
const hostPort = (v: string) => {
  const m = /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):(\d+)$/.exec(v);
  return m && Number(m[2]) >= 1 && Number(m[2]) <= 65535 ? v : undefined;
};

/** Every variable the monitor reads (src/config.ts, npm start, observability), and what it must look like. */
export const envSchema = z.object({
  DATABASE_URL: field('a postgres:// URL (postgres://user:password@host:5432/database)', urlWith(['postgres:', 'postgresql:'])),
  TEMPORAL_ADDRESS: field('host:port (e.g. localhost:7233)', hostPort),
  TEMPORAL_UI_URL: httpUrl(),
  DASHBOARD_URL: httpUrl(),
  STATUS_PAGE_PORT: port(0),
  STATUS_PAGE_ALLOWED_HOSTS: field(
    'comma-separated host names the status page answers to, each `name` or `name:port` (e.g. status.example.com)',
    list((s) => /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+)(:\d{1,5})?$/.test(s)),
  ),
  METRICS_PORT: port(0),
  METRICS_HOST: field('a host name or IP address to listen on (e.g. 127.0.0.1)', (v) => (/^[A-Za-z0-9.:-]+$|^\[[0-9a-fA-F:.]+\]$/.test(v) ? v : undefined)),
  OTEL_EXPORTER_OTLP_ENDPOINT: httpUrl('an http:// or https:// URL of an OTLP/HTTP collector (e.g. http://localhost:4318)'),
  OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: httpUrl('the full http:// or https:// URL of an OTLP/HTTP traces endpoint (e.g. http://localhost:4318/v1/traces)'),
  OTEL_SERVICE_NAME: field('a service name of at most 200 characters', (v) => (v.length <= 200 ? v : undefined)),
  TEMPORAL_PORT: port(1),
  TEMPORAL_UI_PORT: port(1),
  EMBEDDED_PG_PORT: port(1),
  DEMO_EVERY_SECONDS: field('a whole number of seconds, 1–86400', inRange(1, 86_400)),
  SLACK_WEBHOOK_URL: httpUrl('a Slack incoming-webhook URL (https://hooks.slack.com/services/…)'),
  ALERT_WEBHOOK_URL: httpUrl(),
  SLACK_BOT_TOKEN: field('a Slack bot token (xoxb-…)', (v) => (/^xox[a-z]-[\w-]+$/.test(v) ? v : undefined)),
  SLACK_CHANNEL: field('a Slack channel id (C0123ABCD) or #name', (v) => (/^(#[\w.-]{1,80}|[CGD][A-Z0-9]{6,})$/.test(v) ? v : undefined)),
  SLACK_API_URL: httpUrl('the Slack Web API base URL (https://slack.com/api)'),
  PAGERDUTY_ROUTING_KEY: field('a PagerDuty Events API v2 integration (routing) key of 32 characters', (v) => (/^[\w-]{20,64}$/.test(v) ? v : undefined)),
  PAGERDUTY_EVENTS_URL: httpUrl('the PagerDuty Events API v2 URL (https://events.pagerduty.com/v2/enqueue)'),
  SMTP_URL: field('an smtp:// or smtps:// URL (smtps://user:password@smtp.example.com:465)', urlWith(['smtp:', 'smtps:'])),
  ALERT_EMAIL_TO: field('comma-separated email addresses (ops@example.com,oncall@example.com)', list((s) => EMAIL.test(s))),
  ALERT_EMAIL_FROM: field('an email address, or Name <address>', (v) => (mailbox(v) ? v : undefined)),
  ALERT_HTTP_TIMEOUT_MS: field(
    `a positive whole number of milliseconds (at most ${ALERT_HTTP_TIMEOUT_MAX_MS} is used)`,
    (v) => (whole(v) ? Math.min(Number(v), ALERT_HTTP_TIMEOUT_MAX_MS) : undefined),
  ),
  ALERT_CONSOLE: bool(),
  LOG_FORMAT: field(LOG_FORMATS.join(' or '), (v) => LOG_FORMATS.find((f) => f === v.toLowerCase())),
  RUN_RETENTION_DAYS: field('a whole number of days, 1–3650 (unset: keep every run)', inRange(1, 3650)),
  EXPECTED_RETAILERS: field('comma-separated retailer slugs (lower-case letters, digits, - and _; e.g. pnp,spar)', list((s) => slugSchema().safeParse(s).success)),
  WORKER_MAX_CACHED_WORKFLOWS: field('0 (no cache) or a whole number of workflows, 2–100000', (v) => (v === '1' ? undefined : inRange(0, 100_000)(v))),
  WORKER_MAX_CONCURRENT_WORKFLOW_TASKS: field('a whole number, 2–10000', inRange(2, 10_000)),
  WORKER_MAX_CONCURRENT_ACTIVITIES: field('a whole number, 1–10000', inRange(1, 10_000)),
  WORKER_MAX_CONCURRENT_LOCAL_ACTIVITIES: field('a whole number, 1–10000', inRange(1, 10_000)),
  WORKER_WORKFLOW_THREADS: field('a whole number of threads, 1–16', inRange(1, 16)),
  WORKER_HEAP_GROWING_PERCENT: field("0 (V8's own heap growth) or a whole number of percent, 5–400", (v) => (v === '0' ? 0 : inRange(5, 400)(v))),
});

export type CheckedEnv = z.output<typeof envSchema>;

/**
 * Check every variable of envSchema (blank counts as unset) plus the pairs that only work together.
 * @throws ConfigError listing every problem.
 */
export function checkEnv(env: NodeJS.ProcessEnv): CheckedEnv {
  const input = new Map<string, string>();
  for (const name of Object.keys(envSchema.shape)) {
    const v = env[name]?.trim();
    if (v) input.set(name, v);
  }
  const result = envSchema.safeParse(Object.fromEntries(input));
  const problems = result.success
    ? []
    : result.error.issues.map((i) => {
        const name = String(i.path[0]);
        const params = (i as { params?: { url?: boolean; value?: string } }).params;
        return `${name}: expected ${i.message}${params?.value === undefined ? '' : shown(name, params.value, !!params.url)}`;
      });
  if (input.has('SMTP_URL') !== input.has('ALERT_EMAIL_TO')) {
    problems.push(input.has('SMTP_URL') ? 'ALERT_EMAIL_TO: expected the recipients, because SMTP_URL is set (email alerts need both)' : 'SMTP_URL: expected the SMTP server, because ALERT_EMAIL_TO is set (email alerts need both)');
  }
  if (input.has('SLACK_BOT_TOKEN') !== input.has('SLACK_CHANNEL')) {
    problems.push(input.has('SLACK_BOT_TOKEN') ? 'SLACK_CHANNEL: expected the channel to post in, because SLACK_BOT_TOKEN is set (Slack bot mode needs both)' : 'SLACK_BOT_TOKEN: expected the bot token, because SLACK_CHANNEL is set (Slack bot mode needs both)');
  }
  if (input.has('METRICS_HOST') && !input.has('METRICS_PORT')) {
    problems.push('METRICS_HOST: expected METRICS_PORT too (METRICS_HOST only says where /metrics listens)');
  }
  const cache = result.data?.WORKER_MAX_CACHED_WORKFLOWS;
  const slots = result.data?.WORKER_MAX_CONCURRENT_WORKFLOW_TASKS;
  if (cache && slots && slots > cache) {
    problems.push(`WORKER_MAX_CONCURRENT_WORKFLOW_TASKS: expected at most WORKER_MAX_CACHED_WORKFLOWS (${cache}), got "${slots}" (a task needs a cache slot)`);
  }
  if (problems.length) throw new ConfigError(problems);
  return result.data!;
}
