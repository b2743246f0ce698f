/**
 * Credentials never reach a terminal, a log line or an error message. Which environment variables hold
 * secrets, and which part of each:
 * - DATABASE_URL, SMTP_URL: the password in the URL (`postgres://user:***@host/db`).
 * - SLACK_WEBHOOK_URL, ALERT_WEBHOOK_URL: the path and query (the token is the path: `https://hooks.slack.com/***`).
 * - TEMPORAL_API_KEY, OTEL_EXPORTER_OTLP_HEADERS, SLACK_BOT_TOKEN, PAGERDUTY_ROUTING_KEY: the whole value.
 */

export const MASK = '***';

/** Which part of a secret-bearing value is secret. */
export type SecretPart = 'password' | 'path' | 'whole';

export const SECRET_ENV: ReadonlyMap<string, SecretPart> = new Map<string, SecretPart>([
  ['DATABASE_URL', 'password'],
  ['SMTP_URL', 'password'],
  ['SLACK_WEBHOOK_URL', 'path'],
  ['ALERT_WEBHOOK_URL', 'path'],
  ['TEMPORAL_API_KEY', 'whole'],
  ['SLACK_BOT_TOKEN', 'whole'],
  ['PAGERDUTY_ROUTING_KEY', 'whole'],
  ['OTEL_EXPORTER_OTLP_HEADERS', 'whole'],
]);

/** Query parameters that carry credentials (`?password=…`, `?sslkey=…`, `?token=…`). */
const SECRET_PARAM = /pass|secret|token|key|auth|signature|sig$/i;

/**
 * A URL as it may be printed. `password` (default) masks the password and credential-like query
 * parameters; `path` keeps only scheme and host. Never throws: an unparseable URL prints as a placeholder.
 */
export function redactUrl(url: string, part: Exclude<SecretPart, 'whole'> = 'password'): string {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return '(unparseable URL)';
  }
  if (part === 'path') return `${u.protocol}//${u.host}/${MASK}`;
  if (u.password) u.password = MASK;
  for (const k of [...u.searchParams.keys()]) if (SECRET_PARAM.test(k)) u.searchParams.set(k, MASK);
  return u.toString().replace(/%2A%2A%2A/g, MASK);
}

/** A secret as it may appear in text, and what replaces it. */
type Replacement = readonly [secret: string, replacement: string];

/**
 * Every form in which one secret value could show up in text: the whole value (replaced by its redacted
 * form, so a URL stays recognisable), and the secret part alone (replaced by the mask).
 */
function secretForms(value: string, part: SecretPart): Replacement[] {
  const forms = new Map<string, string>([[value, MASK]]);
  if (part !== 'whole') {
    try {
      const u = new URL(value);
      const printable = redactUrl(value, part);
      forms.set(value, printable).set(u.href, printable);
      if (part === 'password' && u.password) forms.set(u.password, MASK).set(decodeURIComponent(u.password), MASK);
      if (part === 'path') {
        forms.set(`${u.pathname}${u.search}`, MASK);
        if (u.pathname.length > 1) forms.set(u.pathname, MASK);
      }
      for (const [k, v] of u.searchParams) if (SECRET_PARAM.test(k) && v) forms.set(v, MASK);
    } catch {
      // An unparseable value is only masked as a whole.
    }
  }
  // Very short fragments ("/" or a one-letter password) would mask unrelated text and protect nothing.
  return [...forms].filter(([secret]) => secret.length >= 3);
}

/** The secrets of an environment (see SECRET_ENV) and their replacements, longest first, for redact(). */
export function secretsOf(env: NodeJS.ProcessEnv): Replacement[] {
  const out: Replacement[] = [];
  for (const [name, part] of SECRET_ENV) {
    const v = env[name]?.trim();
    if (v) out.push(...secretForms(v, part));
  }
  return out.sort((a, b) => b[0].length - a[0].length);
}

/** The password of any `scheme://user:password@` URL in free text. */
const URL_PASSWORD = /([a-z][a-z0-9+.-]*:\/\/[^\s:/@]*:)[^\s@/]+@/gi;

/**
 * Text safe to print: every secret of `env` (see SECRET_ENV) masked, and the password of any URL in it
 * (one given with --database-url, say). For error messages and log lines that may quote configuration.
 */
export function redact(text: string, env: NodeJS.ProcessEnv = process.env): string {
  let s = text;
  for (const [secret, replacement] of secretsOf(env)) s = s.split(secret).join(replacement);
  return s.replace(URL_PASSWORD, `$1${MASK}@`);
}

/** redact() for an error of any kind: its message, or its string form. */
export function redactError(err: unknown, env: NodeJS.ProcessEnv = process.env): string {
  return redact(err instanceof Error ? err.message : String(err), env);
}
