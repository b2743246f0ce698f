/**
 * OpenTelemetry tracing with @temporalio/interceptors-opentelemetry: a client span for each call to the
 * monitors (a report's Update-with-Start …), the workflow's spans (run, update and signal handlers,
 * activity starts; exported through a sink, since workflow code cannot do I/O), and a span per activity
 * execution. Context travels in Temporal headers, so report → retailer monitor → hand-over activity →
 * (signal-with-start) fleet workflow → alert delivery activity is one trace.
 *
 * Off unless OTEL_EXPORTER_OTLP_ENDPOINT is set; then spans go to `<endpoint>/v1/traces` over OTLP/HTTP.
 * When off nothing here is loaded into the worker: the workflow bundle and its commands are unchanged.
 */
import { context, propagation, type Tracer } from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { Resource } from '@opentelemetry/resources';
import { BasicTracerProvider, BatchSpanProcessor, type SpanProcessor } from '@opentelemetry/sdk-trace-base';
import type { ClientInterceptors } from '@temporalio/client';
import {
  makeWorkflowExporter,
  OpenTelemetryActivityInboundInterceptor,
  OpenTelemetryActivityOutboundInterceptor,
  OpenTelemetryWorkflowClientInterceptor,
} from '@temporalio/interceptors-opentelemetry';
import type { ActivityInterceptorsFactory, InjectedSinks } from '@temporalio/worker';
import { AsyncLocalStorageContextManager } from './context-manager';
import type { TracingSettings } from './settings';

/** The workflow interceptor module the worker bundles when tracing is on. */
export const TRACING_WORKFLOW_MODULE = require.resolve('./workflow-trace-interceptors');

export interface Tracing {
  readonly tracer: Tracer;
  /** For `new Client({ connection, namespace, interceptors })`: every client that talks to the monitors. */
  readonly clientInterceptors: ClientInterceptors;
  /** For the monitor worker (createMonitorWorker does this). */
  readonly workflowModules: string[];
  readonly activityInterceptors: ActivityInterceptorsFactory[];
  readonly sinks: InjectedSinks<any>;
  /** Export what is buffered (call before exit). */
  flush(): Promise<void>;
  shutdown(): Promise<void>;
}

export interface TracingOptions {
  serviceName: string;
  /** Where spans go: an OTLP/HTTP URL (batched), or a processor of your own (tests: SimpleSpanProcessor + InMemorySpanExporter). */
  tracesUrl?: string;
  spanProcessor?: SpanProcessor;
}

let contextInstalled = false;
/**
 * The process-wide pieces the interceptors rely on: an async context manager (without one, the active span
 * is lost at the first await and nothing propagates) and the W3C trace-context propagator.
 */
function installGlobalContext(): void {
  if (contextInstalled) return;
  context.setGlobalContextManager(new AsyncLocalStorageContextManager());
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  contextInstalled = true;
}

/** @throws Error when neither `tracesUrl` nor `spanProcessor` is given. */
export function createTracing(opts: TracingOptions): Tracing {
  const spanProcessor = opts.spanProcessor ?? (opts.tracesUrl ? new BatchSpanProcessor(new OTLPTraceExporter({ url: opts.tracesUrl })) : undefined);
  if (!spanProcessor) throw new Error('createTracing: give tracesUrl or spanProcessor');
  installGlobalContext();
  const resource = new Resource({ 'service.name': opts.serviceName });
  const provider = new BasicTracerProvider({ resource, spanProcessors: [spanProcessor] });
  const tracer = provider.getTracer('ingestion-monitor');
  const options = { tracer };
  return {
    tracer,
    clientInterceptors: { workflow: [new OpenTelemetryWorkflowClientInterceptor(options)] },
    workflowModules: [TRACING_WORKFLOW_MODULE],
    activityInterceptors: [
      (ctx) => ({ inbound: new OpenTelemetryActivityInboundInterceptor(ctx, options), outbound: new OpenTelemetryActivityOutboundInterceptor(ctx) }),
    ],
    sinks: { exporter: makeWorkflowExporter(spanProcessor, resource) },
    flush: () => provider.forceFlush(),
    shutdown: () => provider.shutdown(),
  };
}

/** Tracing from parsed settings; undefined when OTEL_EXPORTER_OTLP_ENDPOINT is unset. */
export function tracingFromSettings(settings: TracingSettings | undefined): Tracing | undefined {
  return settings ? createTracing({ serviceName: settings.serviceName, tracesUrl: settings.tracesUrl }) : undefined;
}
