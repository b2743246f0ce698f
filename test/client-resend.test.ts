/**
 * `reportIngestionRun` against the real monitor on a dev server when the server refuses the report's Update
 * before any handler saw it ("wasn't processed by worker", seen at 64 reports in flight on 10 monitors): the
 * report is sent again and applied once. A refusal with any other reason reaches the caller at once.
 * The refusal itself cannot be provoked on demand, so a client interceptor stands in for the server's answer
 * on the first attempts; everything after it is real.
 */
import { Client, WorkflowUpdateFailedError, type WorkflowClientInterceptor } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { CommandRejectedError, reportIngestionRun, retailerHandle } from '../src/client';
import { retailerQuery } from '../src/shared/messages';
import { useMonitorBed } from './helpers/monitor-bed';

const bed = useMonitorBed('client-resend', {});

const UNPROCESSED = "Workflow Update is rejected because it wasn't processed by worker. Probably, Workflow Update is not supported by the worker.";

/** A client whose first `refusals` report Updates come back refused with `message`; counts every attempt. */
function refusingClient(refusals: number, message: string) {
  const seen = { attempts: 0 };
  const interceptor: WorkflowClientInterceptor = {
    async startUpdateWithStart(input, next) {
      seen.attempts++;
      if (seen.attempts <= refusals) throw new WorkflowUpdateFailedError('Workflow Update failed', ApplicationFailure.create({ message, nonRetryable: true }));
      return next(input);
    },
  };
  return { client: new Client({ connection: bed.env.client.connection, interceptors: { workflow: [interceptor] } }), seen };
}

const report = (retailer: string, runId: string) => ({
  runId,
  retailer,
  status: 'success' as const,
  startedAt: new Date(Date.now() - 60_000).toISOString(),
  finishedAt: new Date().toISOString(),
  skuCount: 4_200,
});

it('a report refused unprocessed is sent again and applied once', async () => {
  const { client, seen } = refusingClient(2, UNPROCESSED);
  const verdict = await reportIngestionRun(client, report('resend-a', 'resend-a-1'), bed.target);
  expect(seen.attempts).toBe(3);
  expect(verdict).toMatchObject({ outcome: 'accepted', runId: 'resend-a-1' });
  const detail = await retailerHandle(bed.env.client, 'resend-a', bed.target).query(retailerQuery);
  expect(detail.recentRuns.map((r: { runId: string }) => r.runId)).toEqual(['resend-a-1']);
});

it('a refusal for any other reason reaches the caller at once', async () => {
  const { client, seen } = refusingClient(1, 'report for other sent to the monitor of resend-b');
  await expect(reportIngestionRun(client, report('resend-b', 'resend-b-1'), bed.target)).rejects.toThrow(CommandRejectedError);
  expect(seen.attempts).toBe(1);
});

it('the resends are bounded: a server that keeps refusing gets a CommandRejectedError', async () => {
  const { client, seen } = refusingClient(100, UNPROCESSED);
  await expect(reportIngestionRun(client, report('resend-c', 'resend-c-1'), bed.target)).rejects.toThrow(/wasn't processed by worker/);
  expect(seen.attempts).toBe(6);
});
