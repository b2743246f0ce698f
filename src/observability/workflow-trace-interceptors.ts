/**
 * Workflow interceptor module for tracing (bundled into the workflow code only when tracing is on):
 * the SDK's OpenTelemetry workflow interceptors, preceded by one of ours that puts alert delivery into the
 * trace of the report that caused it.
 *
 * Why: a retailer monitor hands its alert events to the fleet workflow from a loop started by the workflow
 * function, so by default the hand-over (`forwardAlerts`) and the delivery it leads to would belong to the
 * trace of whichever report *started* the monitor, not of the report that opened the incident. Ours keeps,
 * per monitor run, the trace context each report arrived with (Update `reportRun` or signal
 * `ingestionCompleted`, keyed by the report's runId, the last 200), and schedules `forwardAlerts` inside the
 * context of the first event's report. Alerts with no report behind them (stale, re-notify, a resolve after
 * an unsilence) keep the default parent. Only tracing context changes: the commands are the same.
 */
import * as otel from '@opentelemetry/api';
import { defaultPayloadConverter } from '@temporalio/common';
import {
  OpenTelemetryInboundInterceptor,
  OpenTelemetryInternalsInterceptor,
  OpenTelemetryOutboundInterceptor,
} from '@temporalio/interceptors-opentelemetry/lib/workflow';
import type { Headers } from '@temporalio/common';
import type { WorkflowInboundCallsInterceptor, WorkflowInterceptors, WorkflowOutboundCallsInterceptor } from '@temporalio/workflow';

/** The header the SDK's OpenTelemetry interceptors carry the W3C trace context in. */
export const TRACE_HEADER = '_tracer-data';
const REMEMBERED_REPORTS = 200;
const REPORT_UPDATE = 'reportRun';
const REPORT_SIGNAL = 'ingestionCompleted';
const HAND_OVER_ACTIVITY = 'forwardAlerts';

function contextFrom(headers: Headers): otel.Context | undefined {
  const payload = headers[TRACE_HEADER];
  if (payload === undefined) return undefined;
  const carrier = defaultPayloadConverter.fromPayload<Record<string, string>>(payload);
  const ctx = otel.propagation.extract(otel.ROOT_CONTEXT, carrier, otel.defaultTextMapGetter);
  return otel.trace.getSpanContext(ctx) ? ctx : undefined;
}

const runIdOf = (v: unknown): string | undefined => {
  const id = (v as { runId?: unknown } | null | undefined)?.runId;
  return typeof id === 'string' ? id : undefined;
};

function reportTraceInterceptors(): { inbound: WorkflowInboundCallsInterceptor; outbound: WorkflowOutboundCallsInterceptor } {
  const byRunId = new Map<string, otel.Context>();
  const remember = (payload: unknown, headers: Headers) => {
    const runId = runIdOf(payload);
    const ctx = runId === undefined ? undefined : contextFrom(headers);
    if (runId === undefined || ctx === undefined) return;
    byRunId.delete(runId);
    byRunId.set(runId, ctx);
    if (byRunId.size > REMEMBERED_REPORTS) byRunId.delete(byRunId.keys().next().value!);
  };
  return {
    inbound: {
      handleUpdate(input, next) {
        if (input.name === REPORT_UPDATE) remember(input.args[0], input.headers);
        return next(input);
      },
      handleSignal(input, next) {
        if (input.signalName === REPORT_SIGNAL) remember(input.args[0], input.headers);
        return next(input);
      },
    },
    outbound: {
      scheduleActivity(input, next) {
        if (input.activityType !== HAND_OVER_ACTIVITY) return next(input);
        const events = (input.args[0] as { events?: unknown } | undefined)?.events;
        for (const e of Array.isArray(events) ? events : []) {
          const id = runIdOf(e);
          const ctx = id === undefined ? undefined : byRunId.get(id);
          if (ctx) return otel.context.with(ctx, () => next(input));
        }
        return next(input);
      },
    },
  };
}

export const interceptors = (): WorkflowInterceptors => {
  const report = reportTraceInterceptors();
  // Ours outermost: the SDK's outbound interceptor then starts its span inside the report's context.
  return {
    inbound: [report.inbound, new OpenTelemetryInboundInterceptor()],
    outbound: [report.outbound, new OpenTelemetryOutboundInterceptor()],
    internals: [new OpenTelemetryInternalsInterceptor()],
  };
};
