/**
 * Credentials never reach a terminal, a log line or an error message. Which environment variables hold
 * secrets, and which part of each:
 * - DATABASE_URL, SMTP_URL: the password in the URL (`postgres://user:***@host/db`).
 * - SLACK_WEBHOOK_URL, ALERT_WEBHOOK_URL: the path and query (the token is the path: `https://hooks.slack.com/***`).
 * - TEMPORAL_API_KEY, OTEL_EXPORTER_OTLP_HEADERS: the whole value.
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

/** Every form in which one secret value could show up in text, longest first. */
function secretForms(value: string, part: SecretPart): string[] {
  const forms = new Set<string>([value]);
  if (part !== 'whole') {
    try {
      const u = new URL(value);
      forms.add(u.href);
      if (part === 'password' && u.password) {
        forms.add(u.password);
        forms.add(decodeURIComponent(u.password));
      }
      if (part === 'path') {
        forms.add(`${u.pathname}${u.search}`);
        if (u.pathname.length > 1) forms.add(u.pathname);
      }
      for (const [k, v] of u.searchParams) if (SECRET_PARAM.test(k) && v) forms.add(v);
    } catch {
      // An unparseable value is only masked as a whole.
    }
  }
  // Very short fragments ("/" or a one-letter password) would mask unrelated text and protect nothing.
  return [...forms].filter((s) => s.length >= 3).sort((a, b) => b.length - a.length);
}

/** The secret strings of an environment (see SECRET_ENV), for redact(). */
export function secretsOf(env: NodeJS.ProcessEnv): string[] {
  const out: string[] = [];
  for (const [name, part] of SECRET_ENV) {
    const v = env[name]?.trim();
    if (v) out.push(...secretForms(v, part));
  }
  return out.sort((a, b) => b.length - a.length);
}

/** The password of any `scheme://user:password@` URL in free text. */
const URL_PASSWORD = /([a-z][a-z0-9+.-]*:\/\/[^\s:/@]*:)[^\s@/]+@/gi;

/**
 * Text safe to print: every secret of `env` (see SECRET_ENV) masked, and the password of any URL in it
 * (one given with --database-url, say). For error messages and log lines that may quote configuration.
 */
export function redact(text: string, env: NodeJS.ProcessEnv = process.env): string {
  let s = text;
  for (const secret of secretsOf(env)) s = s.split(secret).join(MASK);
  return s.replace(URL_PASSWORD, `$1${MASK}@`);
}

/** redact() for an error of any kind: its message, or its string form. */
export function redactError(err: unknown, env: NodeJS.ProcessEnv = process.env): string {
  return redact(err instanceof Error ? err.message : String(err), env);
}
