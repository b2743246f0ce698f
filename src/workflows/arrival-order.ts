/**
 * Workflow interceptor: messages in a run's first activation are applied in arrival order.
 *
 * The SDK processes the signal and update jobs of a workflow's first activation *before* it starts the
 * workflow function, buffering each until a handler for its name is registered, so they end up applied
 * in handler-registration order (a `silence` sent before two failures was applied after them). This
 * interceptor runs the workflow function first (it registers every handler synchronously), then hands
 * over the messages in the order the server delivered them. Deterministic: it depends only on the
 * activation's own job list, the same on replay.
 */
import type { WorkflowInterceptors } from '@temporalio/workflow';

const MESSAGE_JOBS = new Set(['signalWorkflow', 'doUpdate']);

export const interceptors = (): WorkflowInterceptors => ({
  internals: [
    {
      activate(input, next) {
        const jobs = input.activation.jobs ?? [];
        const first = jobs[0] as { variant?: string } | undefined;
        const isMessage = (j: unknown) => MESSAGE_JOBS.has((j as { variant?: string }).variant ?? '');
        if (first?.variant !== 'initializeWorkflow' || !jobs.some(isMessage)) return next(input);
        // Copies keep the activation's prototype (proto defaults live there), with a subset of its jobs.
        const withJobs = (subset: typeof jobs) =>
          Object.assign(Object.create(Object.getPrototypeOf(input.activation) as object) as typeof input.activation, input.activation, { jobs: subset });
        // Start the workflow (handlers registered), then deliver the messages in arrival order.
        next({ ...input, activation: withJobs(jobs.filter((j) => !isMessage(j))) });
        next({ ...input, activation: withJobs(jobs.filter(isMessage)) });
      },
    },
  ],
});
