/**
 * The console channel (`ALERT_CONSOLE=true`): each alert as one line on the worker's stdout, readable text or
 * JSON (`LOG_FORMAT=json`), so alerts are seen locally with nothing else configured. A real channel: the fleet
 * schedules it like Slack, records its outcome, and a group (retailers firing the same rule within the
 * grouping window) prints one line per event, so every line names exactly one retailer and incident.
 * Writing to a stream cannot fail permanently, so the outcome is always `delivered` (or not_configured /
 * silenced); the output goes to a sink so tests (and embedders) can capture it.
 */
import type { MonitorConfig } from '../config';
import { formatContextFrom } from '../alerts/format';
import { toConsoleLine } from '../alerts/console-format';
import type { AlertEvent } from '../rules/types';
import { currentAttempt } from './http';
import type { AlertActivities, DeliveryOutcome } from './types';

/** Where console alert lines go: anything with `write`, e.g. process.stdout or a PassThrough in a test. */
export interface ConsoleSink {
  write(chunk: string): unknown;
}

/** Console delivery of one event or of a group; the activity below and grouped.ts share it. */
export function createConsoleDelivery(config: MonitorConfig, out: ConsoleSink = process.stdout) {
  const ctx = formatContextFrom(config);
  const { console: on, consoleFormat } = config.alerts;
  const print = (events: AlertEvent[]): DeliveryOutcome => {
    out.write(events.map((e) => `${toConsoleLine(e, ctx, consoleFormat)}\n`).join(''));
    return { channel: 'console', status: 'delivered', attempts: currentAttempt() };
  };
  return {
    async one(event: AlertEvent): Promise<DeliveryOutcome> {
      if (!on) return { channel: 'console', status: 'not_configured' };
      if (event.silenced) return { channel: 'console', status: 'silenced' };
      return print([event]);
    },
    /** `events` already filtered of silenced ones and non-empty. */
    async group(events: AlertEvent[]): Promise<DeliveryOutcome> {
      if (!on) return { channel: 'console', status: 'not_configured' };
      return print(events);
    },
  };
}

export function createConsoleActivities(config: MonitorConfig, out?: ConsoleSink): Pick<AlertActivities, 'sendConsoleAlert'> {
  const delivery = createConsoleDelivery(config, out);
  return { sendConsoleAlert: (event: AlertEvent) => delivery.one(event) };
}
