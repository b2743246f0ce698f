/**
 * The environment is checked at start (issue 10): a wrong value is a clear error naming the variable and
 * what is expected, all problems at once, never quoting a secret; and redact() masks every credential the
 * environment holds wherever it shows up in text.
 */
import { ALERT_HTTP_TIMEOUT_MAX_MS, ConfigError, loadConfig } from '../src/config';
import { redact, redactUrl } from '../src/shared/redact';
import { applyHeapGrowth, describeTuning } from '../src/worker-tuning';

function problems(env: NodeJS.ProcessEnv): string[] {
  try {
    loadConfig(env);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return [...(err as ConfigError).problems];
  }
  throw new Error('loadConfig accepted the environment');
}

describe('loadConfig', () => {
  it('ALERT_HTTP_TIMEOUT_MS=abc is an error, not NaN', () => {
    expect(problems({ ALERT_HTTP_TIMEOUT_MS: 'abc' })).toEqual([
      `ALERT_HTTP_TIMEOUT_MS: expected a positive whole number of milliseconds (at most ${ALERT_HTTP_TIMEOUT_MAX_MS} is used), got "abc"`,
    ]);
    expect(problems({ ALERT_HTTP_TIMEOUT_MS: '0' })).toHaveLength(1);
    expect(loadConfig({ ALERT_HTTP_TIMEOUT_MS: '2500' }).alerts.httpTimeoutMs).toBe(2500);
    expect(loadConfig({ ALERT_HTTP_TIMEOUT_MS: '60000' }).alerts.httpTimeoutMs).toBe(ALERT_HTTP_TIMEOUT_MAX_MS);
  });

  it('reports every problem at once, each naming its variable and what it expects', () => {
    const found = problems({
      STATUS_PAGE_PORT: '80a',
      METRICS_PORT: '70000',
      TEMPORAL_PORT: '0',
      TEMPORAL_UI_PORT: '-1',
      EMBEDDED_PG_PORT: 'five',
      DEMO_EVERY_SECONDS: '0',
      TEMPORAL_UI_URL: 'localhost:8233',
      DASHBOARD_URL: 'ftp://grafana',
      OTEL_EXPORTER_OTLP_ENDPOINT: 'collector:4318',
      TEMPORAL_ADDRESS: 'localhost',
      ALERT_EMAIL_TO: 'ops@example.com, not-an-address',
      SMTP_URL: 'smtp://mail.example.com',
      ALERT_EMAIL_FROM: 'nobody',
      EXPECTED_RETAILERS: 'pnp,Spar Online',
      ALERT_CONSOLE: 'sometimes',
      LOG_FORMAT: 'xml',
      METRICS_HOST: 'http://0.0.0.0',
      STATUS_PAGE_ALLOWED_HOSTS: 'status.example.com,https://evil.example',
    });
    const byName = new Map(found.map((p) => [p.slice(0, p.indexOf(':')), p]));
    expect([...byName.keys()].sort()).toEqual(
      [
        'STATUS_PAGE_PORT', 'METRICS_PORT', 'TEMPORAL_PORT', 'TEMPORAL_UI_PORT', 'EMBEDDED_PG_PORT', 'DEMO_EVERY_SECONDS',
        'TEMPORAL_UI_URL', 'DASHBOARD_URL', 'OTEL_EXPORTER_OTLP_ENDPOINT', 'TEMPORAL_ADDRESS', 'ALERT_EMAIL_TO',
        'ALERT_EMAIL_FROM', 'EXPECTED_RETAILERS', 'ALERT_CONSOLE', 'LOG_FORMAT', 'METRICS_HOST',
        'STATUS_PAGE_ALLOWED_HOSTS',
      ].sort(),
    );
    expect(byName.get('STATUS_PAGE_PORT')).toBe('STATUS_PAGE_PORT: expected a port number 0–65535 (0: any free port), got "80a"');
    expect(byName.get('TEMPORAL_PORT')).toBe('TEMPORAL_PORT: expected a port number 1–65535, got "0"');
    expect(byName.get('LOG_FORMAT')).toBe('LOG_FORMAT: expected text or json, got "xml"');
    expect(byName.get('EXPECTED_RETAILERS')).toContain('retailer slugs');
    expect(loadConfig({ STATUS_PAGE_ALLOWED_HOSTS: 'status.example.com, proxy:8443' }).statusPageAllowedHosts).toEqual(['status.example.com', 'proxy:8443']);
    expect(byName.get('TEMPORAL_UI_URL')).toContain('an http:// or https:// URL');
  });

  it('never quotes a secret in an error', () => {
    const found = problems({
      DATABASE_URL: 'mysql://monitor:pw-4711@db/im',
      SMTP_URL: 'http://alerts:pw-4711@smtp.example.com',
      ALERT_EMAIL_TO: 'ops@example.com',
      SLACK_WEBHOOK_URL: 'hooks.slack.com/services/token-4711',
      ALERT_WEBHOOK_URL: 'token-4711',
      DASHBOARD_URL: 'ftp://viewer:pw-4711@grafana.example.com',
    });
    expect(found).toHaveLength(5);
    expect(found.join('\n')).not.toContain('4711');
    expect(found.join('\n')).toContain('DATABASE_URL: expected a postgres:// URL');
    expect(found.join('\n')).toContain('value not shown');
  });

  it('email alerts need both SMTP_URL and ALERT_EMAIL_TO', () => {
    expect(problems({ SMTP_URL: 'smtp://mail.example.com:25' })).toEqual([
      'ALERT_EMAIL_TO: expected the recipients, because SMTP_URL is set (email alerts need both)',
    ]);
    expect(problems({ ALERT_EMAIL_TO: 'ops@example.com' })[0]).toMatch(/^SMTP_URL: /);
  });

  it('parses a valid environment into typed settings; blank means unset', () => {
    const c = loadConfig({
      DATABASE_URL: 'postgresql://monitor:pw@db.internal:5432/im',
      STATUS_PAGE_PORT: '0',
      METRICS_PORT: '9464',
      METRICS_HOST: '0.0.0.0',
      TEMPORAL_PORT: '17233',
      TEMPORAL_UI_PORT: '18233',
      EMBEDDED_PG_PORT: '15433',
      DEMO_EVERY_SECONDS: '5',
      OTEL_EXPORTER_OTLP_ENDPOINT: 'http://localhost:4318',
      OTEL_SERVICE_NAME: 'monitor-eu',
      SMTP_URL: 'smtps://u:p@smtp.example.com:465',
      ALERT_EMAIL_TO: 'ops@example.com, oncall@localhost',
      ALERT_EMAIL_FROM: 'Ingestion monitor <monitor@example.com>',
      EXPECTED_RETAILERS: ' pnp, spar ,',
      ALERT_CONSOLE: 'off',
      LOG_FORMAT: 'JSON',
      TEMPORAL_UI_URL: 'http://temporal.internal:8233/',
      SLACK_WEBHOOK_URL: '   ',
    });
    expect(c.statusPagePort).toBe(0);
    expect(c.metrics).toEqual({ port: 9464, host: '0.0.0.0' });
    expect(c.local).toEqual({ temporalPort: 17233, temporalUiPort: 18233, embeddedPgPort: 15433, demoEverySeconds: 5 });
    expect(c.otel).toEqual({ endpoint: 'http://localhost:4318', serviceName: 'monitor-eu' });
    expect(c.alerts.email).toEqual({ smtpUrl: 'smtps://u:p@smtp.example.com:465', from: 'Ingestion monitor <monitor@example.com>', to: ['ops@example.com', 'oncall@localhost'] });
    expect(c.alerts.console).toBe(false);
    expect(c.alerts.slackWebhookUrl).toBeUndefined();
    expect(c.expectedRetailers).toEqual(['pnp', 'spar']);
    expect(c.logFormat).toBe('json');
    expect(c.temporalUiUrl).toBe('http://temporal.internal:8233');
  });

  it('defaults when nothing is set', () => {
    const c = loadConfig({});
    expect(c.local).toEqual({ temporalPort: 7233, temporalUiPort: 8233, embeddedPgPort: 5433, demoEverySeconds: 60 });
    expect(c.logFormat).toBe('text');
    expect(c.metrics).toEqual({ port: undefined, host: undefined });
    expect(c.otel).toEqual({ endpoint: undefined, serviceName: 'ingestion-monitor' });
    expect(c.alerts.console).toBe(false);
    expect(c.alerts.consoleFormat).toBe('text');
    expect(c.alerts.httpTimeoutMs).toBe(ALERT_HTTP_TIMEOUT_MAX_MS);
    expect(c.worker).toEqual({ maxCachedWorkflows: 50, maxConcurrentWorkflowTaskExecutions: 40, maxConcurrentActivityTaskExecutions: 100, maxConcurrentLocalActivityExecutions: 100, workflowThreadPoolSize: 1 });
  });

  it('WORKER_MAX_*: the worker cache and slots, checked as the SDK needs them', () => {
    expect(
      loadConfig({ WORKER_MAX_CACHED_WORKFLOWS: '5000', WORKER_MAX_CONCURRENT_WORKFLOW_TASKS: '80', WORKER_MAX_CONCURRENT_ACTIVITIES: '20', WORKER_MAX_CONCURRENT_LOCAL_ACTIVITIES: '30', WORKER_WORKFLOW_THREADS: '2' }).worker,
    ).toEqual({
      maxCachedWorkflows: 5000,
      maxConcurrentWorkflowTaskExecutions: 80,
      maxConcurrentActivityTaskExecutions: 20,
      maxConcurrentLocalActivityExecutions: 30,
      workflowThreadPoolSize: 2,
    });
    expect(problems({ WORKER_WORKFLOW_THREADS: '0' })).toEqual(['WORKER_WORKFLOW_THREADS: expected a whole number of threads, 1–16, got "0"']);
    // A cache smaller than the default slots lowers the default slots with it; 0 (no cache) keeps them.
    expect(loadConfig({ WORKER_MAX_CACHED_WORKFLOWS: '20' }).worker.maxConcurrentWorkflowTaskExecutions).toBe(20);
    expect(loadConfig({ WORKER_MAX_CACHED_WORKFLOWS: '0' }).worker).toMatchObject({ maxCachedWorkflows: 0, maxConcurrentWorkflowTaskExecutions: 40 });
    expect(problems({ WORKER_MAX_CACHED_WORKFLOWS: '1', WORKER_MAX_CONCURRENT_WORKFLOW_TASKS: '1', WORKER_MAX_CONCURRENT_ACTIVITIES: 'many' })).toEqual([
      'WORKER_MAX_CACHED_WORKFLOWS: expected 0 (no cache) or a whole number of workflows, 2–100000, got "1"',
      'WORKER_MAX_CONCURRENT_WORKFLOW_TASKS: expected a whole number, 2–10000, got "1"',
      'WORKER_MAX_CONCURRENT_ACTIVITIES: expected a whole number, 1–10000, got "many"',
    ]);
    expect(problems({ WORKER_MAX_CACHED_WORKFLOWS: '10', WORKER_MAX_CONCURRENT_WORKFLOW_TASKS: '11' })).toEqual([
      'WORKER_MAX_CONCURRENT_WORKFLOW_TASKS: expected at most WORKER_MAX_CACHED_WORKFLOWS (10), got "11" (a task needs a cache slot)',
    ]);
  });

  it("WORKER_HEAP_GROWING_PERCENT: V8's heap growth for the worker, 20 unless set, 0 leaves V8's own", () => {
    expect(loadConfig({}).heapGrowingPercent).toBe(20);
    expect(loadConfig({ WORKER_HEAP_GROWING_PERCENT: '50' }).heapGrowingPercent).toBe(50);
    expect(loadConfig({ WORKER_HEAP_GROWING_PERCENT: '0' }).heapGrowingPercent).toBe(0);
    expect(problems({ WORKER_HEAP_GROWING_PERCENT: '2' })).toEqual([`WORKER_HEAP_GROWING_PERCENT: expected 0 (V8's own heap growth) or a whole number of percent, 5–400, got "2"`]);
    expect(problems({ WORKER_HEAP_GROWING_PERCENT: '20%' })).toHaveLength(1);
    const set: string[] = [];
    applyHeapGrowth(20, (f) => set.push(f));
    applyHeapGrowth(0, (f) => set.push(f));
    expect(set).toEqual(['--heap-growing-percent=20']);
    expect(describeTuning(loadConfig({}).worker, 20)).toMatch(/; 1 workflow thread; V8 heap growth 20%$/);
    expect(describeTuning(loadConfig({}).worker, 0)).not.toMatch(/heap growth/);
  });
});

describe('redact', () => {
  const env = {
    DATABASE_URL: 'postgres://monitor:p%40ss-4711@db:5432/im',
    SMTP_URL: 'smtps://alerts:smtp-4711@smtp.example.com:465',
    SLACK_WEBHOOK_URL: 'https://hooks.slack.com/services/T0/B0/slack-4711',
    ALERT_WEBHOOK_URL: 'https://hooks.example.com/in/hook-4711?sig=sig-4711',
    TEMPORAL_API_KEY: 'key-4711',
  };

  it("masks every secret of the environment in free text, in each form it may take", () => {
    const text = [
      `connect to ${env.DATABASE_URL} failed`,
      'password p@ss-4711 rejected',
      'auth smtp-4711 failed',
      'POST /services/T0/B0/slack-4711 returned 404',
      `webhook ${env.ALERT_WEBHOOK_URL} timed out`,
      'Authorization: Bearer key-4711',
    ].join('\n');
    const out = redact(text, env);
    expect(out).not.toContain('4711');
    expect(out).toContain('connect to postgres://monitor:***@db:5432/im failed');
    expect(out).toContain('POST *** returned 404');
  });

  it('masks the password of any URL in the text, even one not from the environment', () => {
    expect(redact('cannot reach postgres://admin:other-secret@10.0.0.1/db', {})).toBe('cannot reach postgres://admin:***@10.0.0.1/db');
  });

  it('redactUrl keeps what helps (host, user, database) and masks the secret part', () => {
    expect(redactUrl('postgres://monitor:pw@db:5432/im?sslmode=require&password=pw2')).toBe('postgres://monitor:***@db:5432/im?sslmode=require&password=***');
    expect(redactUrl(env.SLACK_WEBHOOK_URL, 'path')).toBe('https://hooks.slack.com/***');
    expect(redactUrl('not a url')).toBe('(unparseable URL)');
  });
});
