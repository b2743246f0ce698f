/**
 * npm start's Runtime logger: the demo's deliberately failing ingestion runs print one short line each
 * instead of the SDK's stack traces; every other warning and error reaches the SDK's logger unchanged.
 */
import { ApplicationFailure, ActivityFailure, RetryState } from '@temporalio/common';
import type { Logger, LogLevel, LogMetadata } from '@temporalio/worker';
import { ExpectedFailureLogger } from '../src/stack/runtime-logger';

function setup() {
  const passed: Array<[LogLevel, string, LogMetadata | undefined]> = [];
  const printed: string[] = [];
  const inner = { log: (level: LogLevel, message: string, meta?: LogMetadata) => passed.push([level, message, meta]) } as Logger;
  return { logger: new ExpectedFailureLogger(['ingestRetailer'], inner, (l) => printed.push(l)), passed, printed };
}

const scrapeFailed = ApplicationFailure.nonRetryable('demo: spar answered HTTP 503 (knob "fail")', 'ScrapeFailed');
const demoRun = { workflowType: 'ingestRetailer', workflowId: 'ingest-spar-2026-01-01T00:00:00Z' };

it('prints a failed demo run as one line with the cause, once (its workflow failure only repeats it)', () => {
  const { logger, passed, printed } = setup();
  logger.warn('Activity failed', { ...demoRun, activityType: 'scrapeRetailer', error: scrapeFailed });
  // As it arrives from the workflow thread: a plain Error with the ActivityFailure's message and cause.
  logger.warn('Workflow failed', { ...demoRun, error: Object.assign(new Error('Activity task failed'), { cause: scrapeFailed }) });
  const typed = new ActivityFailure('Activity task failed', 'scrapeRetailer', '1', RetryState.NON_RETRYABLE_FAILURE, undefined, scrapeFailed);
  logger.warn('Workflow failed', { ...demoRun, error: typed });

  expect(printed).toHaveLength(1);
  expect(printed[0]).toMatch(/^\d\d:\d\d:\d\d ingestRetailer run ingest-spar-2026-01-01T00:00:00Z failed: demo: spar answered HTTP 503 \(knob "fail"\)$/);
  expect(passed).toEqual([]);
});

it('still prints a demo run that fails for another reason, as one line', () => {
  const { logger, printed } = setup();
  logger.warn('Workflow failed', { ...demoRun, error: new TypeError('x is not a function') });
  expect(printed).toEqual([expect.stringMatching(/ingestRetailer run ingest-spar-\S+ failed: x is not a function$/)]);
});

it("leaves other workflows' failures and every other warning and error to the SDK's logger", () => {
  const { logger, passed, printed } = setup();
  logger.warn('Activity failed', { workflowType: 'retailerMonitorWorkflow', error: scrapeFailed });
  logger.warn('Workflow failed', { workflowType: 'fleetMonitorWorkflow', error: new Error('boom') });
  logger.error('Activity failed', { ...demoRun, error: scrapeFailed });
  logger.warn('Failed to encode heartbeat details, cancelling Activity', { ...demoRun });
  expect(printed).toEqual([]);
  expect(passed.map(([level, message]) => `${level} ${message}`)).toEqual([
    'WARN Activity failed',
    'WARN Workflow failed',
    'ERROR Activity failed',
    'WARN Failed to encode heartbeat details, cancelling Activity',
  ]);
});
