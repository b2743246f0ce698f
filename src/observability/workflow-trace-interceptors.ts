/**
 * Workflow interceptor module for tracing (bundled into the workflow code only when tracing is on): the
 * SDK's OpenTelemetry workflow interceptors, made safe to switch on for running workflows, preceded by one
 * of ours that puts alert delivery into the trace of the report that caused it.
 *
 * Switching on: the SDK's interceptors are `async` methods, so even where they only call `next` they add
 * promise hops to every Update handler and activity result. That moved an Update's completion after an
 * activity scheduled by a loop: the recorded retailer-monitor histories (test/histories, recorded with
 * tracing off) failed replay with a nondeterminism error under the SDK's interceptors, i.e. a running
 * monitor would break when its worker restarted with tracing on. The subclasses below keep the SDK's spans
 * but hand back the very promise `next` returns: the workflow emits the same commands in the same order as
 * without tracing, whichever way its history was recorded.
 *
 * The report's trace: a retailer monitor hands its alert events to the fleet from a loop started by the
 * workflow function, so by default the hand-over (`forwardAlerts`) and the delivery it leads to would
 * belong to the trace of whichever report *started* the monitor. Ours keeps, per monitor run, the trace
 * context each report arrived with (Update `reportIngestionRun` or signal `ingestionCompleted`, keyed by
 * the report's runId, the last 200), and schedules `forwardAlerts` inside the context of the first event's
 * report. Alerts with no report behind them (stale, re-notify, announced by an unsilence) keep the default
 * parent. Only tracing context changes: the commands are the same.
 */
import * as otel from '@opentelemetry/api';
import { defaultPayloadConverter } from '@temporalio/common';
import {
  OpenTelemetryInboundInterceptor,
  OpenTelemetryInternalsInterceptor,
  OpenTelemetryOutboundInterceptor,
} from '@temporalio/interceptors-opentelemetry/lib/workflow';
import type { Headers } from '@temporalio/common';
import {
  ContinueAsNew,
  workflowInfo,
  type ActivityInput,
  type ContinueAsNewInput,
  type LocalActivityInput,
  type Next,
  type SignalInput,
  type SignalWorkflowInput,
  type StartChildWorkflowExecutionInput,
  type UpdateInput,
  type WorkflowExecuteInput,
  type WorkflowInboundCallsInterceptor,
  type WorkflowInterceptors,
  type WorkflowOutboundCallsInterceptor,
} from '@temporalio/workflow';
import type { FleetActivities } from '../activities/types';
import { ingestionCompletedSignal, reportRunUpdate } from '../shared/messages';

/** The header the SDK's OpenTelemetry interceptors carry the W3C trace context in. */
export const TRACE_HEADER = '_tracer-data';
const REMEMBERED_REPORTS = 200;
const REPORT_UPDATE = reportRunUpdate.name;
const REPORT_SIGNAL = ingestionCompletedSignal.name;
const HAND_OVER_ACTIVITY: keyof FleetActivities = 'forwardAlerts';

function contextFrom(headers: Headers): otel.Context | undefined {
  const payload = headers[TRACE_HEADER];
  if (payload === undefined) return undefined;
  const carrier = defaultPayloadConverter.fromPayload<Record<string, string>>(payload);
  const ctx = otel.propagation.extract(otel.ROOT_CONTEXT, carrier, otel.defaultTextMapGetter);
  return otel.trace.getSpanContext(ctx) ? ctx : undefined;
}

function headersWithContext(headers: Headers): Headers {
  const carrier: Record<string, string> = {};
  otel.propagation.inject(otel.context.active(), carrier, otel.defaultTextMapSetter);
  return { ...headers, [TRACE_HEADER]: defaultPayloadConverter.toPayload(carrier) };
}

function fail(span: otel.Span, err: unknown, acceptable?: (err: unknown) => boolean): void {
  if (acceptable?.(err)) {
    span.setStatus({ code: otel.SpanStatusCode.OK });
    return;
  }
  span.setStatus({ code: otel.SpanStatusCode.ERROR, message: err instanceof Error ? err.message : String(err) });
  if (err instanceof Error) span.recordException(err);
}

/**
 * A span around `fn` (the SDK's span names and statuses) that hands back `fn`'s own promise: no yield
 * before `fn` runs and no extra promise hops after it settles, so handlers complete and activities resolve
 * on the same microtask as without tracing (the SDK's async wrappers add hops, which reordered an Update's
 * completion against an activity scheduled by a loop).
 */
function instrument<T>(tracer: otel.Tracer, name: string, fn: () => Promise<T>, parent?: otel.Context, acceptable?: (err: unknown) => boolean): Promise<T> {
  const run = () =>
    tracer.startActiveSpan(name, (span) => {
      let result: Promise<T>;
      try {
        result = fn();
      } catch (err) {
        fail(span, err, acceptable);
        span.end();
        throw err;
      }
      result.then(
        () => {
          span.setStatus({ code: otel.SpanStatusCode.OK });
          span.end();
        },
        (err: unknown) => {
          fail(span, err, acceptable);
          span.end();
        },
      );
      return result;
    });
  return parent ? otel.context.with(parent, run) : run();
}

/** The SDK's inbound interceptor, tick-neutral (queries and update validators are the SDK's: they emit no commands). */
class InboundTracing extends OpenTelemetryInboundInterceptor {
  override handleUpdate(input: UpdateInput, next: Next<WorkflowInboundCallsInterceptor, 'handleUpdate'>): Promise<unknown> {
    return instrument(this.tracer, `HandleUpdate:${input.name}`, () => next(input), contextFrom(input.headers));
  }

  override execute(input: WorkflowExecuteInput, next: Next<WorkflowInboundCallsInterceptor, 'execute'>): Promise<unknown> {
    return instrument(this.tracer, `RunWorkflow:${workflowInfo().workflowType}`, () => next(input), contextFrom(input.headers), (err) => err instanceof ContinueAsNew);
  }

  override handleSignal(input: SignalInput, next: Next<WorkflowInboundCallsInterceptor, 'handleSignal'>): Promise<void> {
    return instrument(this.tracer, `HandleSignal:${input.signalName}`, () => next(input), contextFrom(input.headers));
  }
}

/** The SDK's outbound interceptor, tick-neutral. */
class OutboundTracing extends OpenTelemetryOutboundInterceptor {
  override scheduleActivity(input: ActivityInput, next: Next<WorkflowOutboundCallsInterceptor, 'scheduleActivity'>): Promise<unknown> {
    return instrument(this.tracer, `StartActivity:${input.activityType}`, () => next({ ...input, headers: headersWithContext(input.headers) }));
  }

  override scheduleLocalActivity(input: LocalActivityInput, next: Next<WorkflowOutboundCallsInterceptor, 'scheduleLocalActivity'>): Promise<unknown> {
    return instrument(this.tracer, `StartActivity:${input.activityType}`, () => next({ ...input, headers: headersWithContext(input.headers) }));
  }

  override startChildWorkflowExecution(
    input: StartChildWorkflowExecutionInput,
    next: Next<WorkflowOutboundCallsInterceptor, 'startChildWorkflowExecution'>,
  ): Promise<[Promise<string>, Promise<unknown>]> {
    return instrument(this.tracer, `StartChildWorkflow:${input.workflowType}`, () => next({ ...input, headers: headersWithContext(input.headers) }));
  }

  override continueAsNew(input: ContinueAsNewInput, next: Next<WorkflowOutboundCallsInterceptor, 'continueAsNew'>): Promise<never> {
    return instrument(
      this.tracer,
      `ContinueAsNew:${input.options.workflowType}`,
      () => next({ ...input, headers: headersWithContext(input.headers) }),
      undefined,
      (err) => err instanceof ContinueAsNew,
    );
  }

  override signalWorkflow(input: SignalWorkflowInput, next: Next<WorkflowOutboundCallsInterceptor, 'signalWorkflow'>): Promise<void> {
    return instrument(this.tracer, `SignalWorkflow:${input.signalName}`, () => next({ ...input, headers: headersWithContext(input.headers) }));
  }
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
  /** Run `schedule` inside the trace of the first event's report, when it is a hand-over and one is known. */
  const inReportContext = <T>(input: { activityType: string; args: unknown[] }, schedule: () => T): T => {
    if (input.activityType !== HAND_OVER_ACTIVITY) return schedule();
    const events = (input.args[0] as { events?: unknown } | undefined)?.events;
    for (const e of Array.isArray(events) ? events : []) {
      const id = runIdOf(e);
      const ctx = id === undefined ? undefined : byRunId.get(id);
      if (ctx) return otel.context.with(ctx, schedule);
    }
    return schedule();
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
      // The hand-over is a regular activity in older histories and a local one since alert-rows-at-fire-v1.
      scheduleActivity: (input, next) => inReportContext(input, () => next(input)),
      scheduleLocalActivity: (input, next) => inReportContext(input, () => next(input)),
    },
  };
}

export const interceptors = (): WorkflowInterceptors => {
  const report = reportTraceInterceptors();
  // Ours outermost: the SDK's outbound interceptor then starts its span inside the report's context.
  return {
    inbound: [report.inbound, new InboundTracing()],
    outbound: [report.outbound, new OutboundTracing()],
    internals: [new OpenTelemetryInternalsInterceptor()],
  };
};
