/**
 * Alert delivery metrics, observed from outside the alert activities by an activity interceptor: it
 * recognises the activities that send alerts (`send<Channel>Alert`, and `sendGroupedAlert` whose input names
 * the channel), and counts from each attempt's outcome (`{channel, status, detail}`) or thrown error.
 *
 * - `ingestion_monitor_alerts_fired_total{channel}`: alerts handed to a channel (an activity's first attempt).
 * - `ingestion_monitor_alerts_delivered_total{channel}`: attempts that delivered.
 * - `ingestion_monitor_alerts_failed_total{channel}`: attempts that failed, by a permanent refusal (returned
 *   `failed`) or a thrown error (Temporal retries those, so one alert can count several times).
 * - `ingestion_monitor_alerts_skipped_total{channel,status}`: not sent (not_configured, silenced, grouped …).
 * - `ingestion_monitor_alert_delivery_duration_seconds{channel,outcome}`: each attempt's duration
 *   (outcome delivered / failed).
 * Counters are this worker process's own: sum them across workers in PromQL.
 */
import { Context } from '@temporalio/activity';
import type { ActivityExecuteInput, ActivityInboundCallsInterceptor, ActivityInterceptorsFactory, Next } from '@temporalio/worker';
import { Counter, Histogram, type Registry } from 'prom-client';

export const ALERT_METRIC_NAMES = {
  fired: 'ingestion_monitor_alerts_fired_total',
  delivered: 'ingestion_monitor_alerts_delivered_total',
  failed: 'ingestion_monitor_alerts_failed_total',
  skipped: 'ingestion_monitor_alerts_skipped_total',
  duration: 'ingestion_monitor_alert_delivery_duration_seconds',
} as const;

/** Seconds; alert sends are HTTP/SMTP calls with a per-attempt timeout of at most 10 s. */
export const DELIVERY_BUCKETS = [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30] as const;

const ALERT_ACTIVITY = /^send([A-Z][A-Za-z0-9]*)Alert$/;
const GROUPED_ACTIVITY = 'sendGroupedAlert';
/** Label values come from our own code, but stay bounded whatever an activity returns. */
const CHANNEL_LABEL = /^[a-z][a-z0-9_]{0,31}$/;
const STATUS_LABEL = CHANNEL_LABEL;

const label = (v: unknown, pattern: RegExp): string | undefined => (typeof v === 'string' && pattern.test(v) ? v : undefined);

/**
 * The channel an alert activity sends to, from its name or (grouped sends) its input; undefined for any
 * other activity.
 */
export function alertChannelOf(activityType: string, args: readonly unknown[]): string | undefined {
  if (activityType === GROUPED_ACTIVITY) return label((args[0] as { channel?: unknown } | undefined)?.channel, CHANNEL_LABEL) ?? 'other';
  const m = ALERT_ACTIVITY.exec(activityType);
  if (!m) return undefined;
  return label(m[1]!.toLowerCase(), CHANNEL_LABEL) ?? 'other';
}

export class AlertMetrics {
  readonly fired: Counter<'channel'>;
  readonly delivered: Counter<'channel'>;
  readonly failed: Counter<'channel'>;
  readonly skipped: Counter<'channel' | 'status'>;
  readonly duration: Histogram<'channel' | 'outcome'>;

  constructor(registry: Registry) {
    const registers = [registry];
    // prom-client appends `_total` to counter names itself in the exposition text only for OpenMetrics;
    // the names here are the full Prometheus names.
    this.fired = new Counter({ name: ALERT_METRIC_NAMES.fired, help: 'Alerts handed to a channel (first attempt of an alert activity)', labelNames: ['channel'], registers });
    this.delivered = new Counter({ name: ALERT_METRIC_NAMES.delivered, help: 'Alert delivery attempts that delivered', labelNames: ['channel'], registers });
    this.failed = new Counter({ name: ALERT_METRIC_NAMES.failed, help: 'Alert delivery attempts that failed (refused, or an error Temporal retries)', labelNames: ['channel'], registers });
    this.skipped = new Counter({ name: ALERT_METRIC_NAMES.skipped, help: 'Alerts not sent on a channel, by status (not_configured, silenced, grouped)', labelNames: ['channel', 'status'], registers });
    this.duration = new Histogram({
      name: ALERT_METRIC_NAMES.duration,
      help: 'Duration of each alert delivery attempt, by channel and outcome (delivered / failed)',
      labelNames: ['channel', 'outcome'],
      buckets: [...DELIVERY_BUCKETS],
      registers,
    });
  }

  /** Record one finished attempt: `result` is the activity's return value, or `error` what it threw. */
  record(channel: string, firstAttempt: boolean, seconds: number, outcome: { result: unknown } | { error: unknown }): void {
    if (firstAttempt) this.fired.inc({ channel });
    const status = 'result' in outcome ? label((outcome.result as { status?: unknown } | null)?.status, STATUS_LABEL) ?? 'unknown' : 'error';
    if (status === 'delivered') {
      this.delivered.inc({ channel });
      this.duration.observe({ channel, outcome: 'delivered' }, seconds);
    } else if (status === 'failed' || status === 'error' || status === 'unknown') {
      this.failed.inc({ channel });
      this.duration.observe({ channel, outcome: 'failed' }, seconds);
    } else {
      this.skipped.inc({ channel, status });
    }
  }

  /** The activity interceptor factory for `Worker.create({ interceptors: { activity: [...] } })`. */
  interceptor(): ActivityInterceptorsFactory {
    return (ctx: Context) => ({ inbound: new AlertMetricsInterceptor(this, ctx) });
  }
}

class AlertMetricsInterceptor implements ActivityInboundCallsInterceptor {
  constructor(
    private readonly metrics: AlertMetrics,
    private readonly ctx: Context,
  ) {}

  async execute(input: ActivityExecuteInput, next: Next<ActivityInboundCallsInterceptor, 'execute'>): Promise<unknown> {
    const { activityType, attempt } = this.ctx.info;
    const channel = alertChannelOf(activityType, input.args);
    if (channel === undefined) return next(input);
    const started = process.hrtime.bigint();
    const seconds = () => Number(process.hrtime.bigint() - started) / 1e9;
    try {
      const result = await next(input);
      this.metrics.record(channel, attempt === 1, seconds(), { result });
      return result;
    } catch (error) {
      this.metrics.record(channel, attempt === 1, seconds(), { error });
      throw error;
    }
  }
}
