/**
 * The pollers answer is shared: 1,000 stale diagnoses at once ask the server about their queue once per
 * POLLERS_TTL_MS, not twice each. The client here only counts DescribeTaskQueue calls (the caching is what is
 * under test; the real request is covered by the stale-diagnosis tests on a dev server).
 */
import type { Client } from '@temporalio/client';
import { pollersOf, POLLERS_TTL_MS } from '../src/activities/task-queue-pollers';

function countingClient(fail = () => false) {
  const calls: string[] = [];
  const client = {
    options: { namespace: 'default' },
    workflowService: {
      async describeTaskQueue(req: { taskQueue: { name: string } }) {
        calls.push(req.taskQueue.name);
        if (fail()) throw new Error('unavailable');
        return { pollers: [{ identity: 'w1', lastAccessTime: { seconds: 1_700_000_000, nanos: 0 } }] };
      },
    },
  } as unknown as Client;
  return { client, calls };
}

it('concurrent and recent callers share one answer per queue; a later caller asks again', async () => {
  const { client, calls } = countingClient();
  const t0 = 1_000_000;
  const burst = await Promise.all(Array.from({ length: 100 }, () => pollersOf(client, 'ingestion', t0)));
  expect(calls).toEqual(['ingestion', 'ingestion']); // workflow and activity pollers, once
  expect(burst.every((b) => b === burst[0])).toBe(true);
  expect(burst[0]).toEqual([
    { identity: 'w1', lastAccessTime: 1_700_000_000_000 },
    { identity: 'w1', lastAccessTime: 1_700_000_000_000 },
  ]);
  await pollersOf(client, 'other', t0 + 1);
  expect(calls).toHaveLength(4); // another queue is its own question
  await pollersOf(client, 'ingestion', t0 + POLLERS_TTL_MS - 1);
  expect(calls).toHaveLength(4);
  await pollersOf(client, 'ingestion', t0 + POLLERS_TTL_MS);
  expect(calls).toHaveLength(6);
});

it('a failed request is not kept: the next caller asks again', async () => {
  let failing = true;
  const { client, calls } = countingClient(() => failing);
  await expect(pollersOf(client, 'ingestion', 5)).rejects.toThrow('unavailable');
  failing = false;
  await expect(pollersOf(client, 'ingestion', 6)).resolves.toHaveLength(2);
  expect(calls.length).toBe(3); // the failed workflow-pollers request, then both again
});
