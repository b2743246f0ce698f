/**
 * Workflow interceptor for the replay test: reports every activity the workflow schedules (type and
 * arguments) through a sink that also runs during replay, so replayed activity *inputs* can be compared
 * with the recorded ones (the SDK's own determinism check compares only types and ids). A local activity's
 * input is not in history at all: `npm run record-histories` records every input through the same sink into
 * test/histories/activity-inputs/, and the replay test compares against that.
 */
import { proxySinks, type Sinks, type WorkflowInterceptors } from '@temporalio/workflow';

export interface RecorderSinks extends Sinks {
  recorder: { activity(activityType: string, args: unknown[], kind: 'regular' | 'local'): void };
}

const { recorder } = proxySinks<RecorderSinks>();

export const interceptors = (): WorkflowInterceptors => ({
  outbound: [
    {
      scheduleActivity(input, next) {
        recorder.activity(input.activityType, input.args, 'regular');
        return next(input);
      },
      scheduleLocalActivity(input, next) {
        recorder.activity(input.activityType, input.args, 'local');
        return next(input);
      },
    },
  ],
});
