/**
 * Workflow interceptor for the replay test: reports every activity the workflow schedules (type and
 * arguments) through a sink that also runs during replay, so replayed activity *inputs* can be compared
 * with the recorded ones (the SDK's own determinism check compares only types and ids).
 */
import { proxySinks, type Sinks, type WorkflowInterceptors } from '@temporalio/workflow';

export interface RecorderSinks extends Sinks {
  recorder: { activity(activityType: string, args: unknown[]): void };
}

const { recorder } = proxySinks<RecorderSinks>();

export const interceptors = (): WorkflowInterceptors => ({
  outbound: [
    {
      scheduleActivity(input, next) {
        recorder.activity(input.activityType, input.args);
        return next(input);
      },
      scheduleLocalActivity(input, next) {
        recorder.activity(input.activityType, input.args);
        return next(input);
      },
    },
  ],
});
