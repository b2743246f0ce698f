/**
 * Recorded histories (test/histories/, made by `npm run record-histories`) must replay against the current
 * workflow code without nondeterminism errors. A change that alters history needs `patched()`.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Worker } from '@temporalio/worker';
import { workflowBundle } from './helpers/monitor';

const dir = join(__dirname, 'histories');
const files = readdirSync(dir).filter((f) => f.endsWith('.json')).sort();

it('has recorded histories of every version to replay, each a continue-as-new chain', () => {
  const versions = new Set(files.map((f) => f.split('-run-')[0]));
  expect([...versions].sort()).toEqual(['monitor-v1', 'monitor-v2']);
  for (const v of versions) {
    const first = JSON.parse(readFileSync(join(dir, `${v}-run-1.json`), 'utf8'));
    expect(first.events.at(-1).eventType).toMatch(/CONTINUED_AS_NEW/);
  }
});

it('the v2 histories exercise the patched paths (stale diagnosis, operator actions)', () => {
  const events = files
    .filter((f) => f.startsWith('monitor-v2'))
    .flatMap((f) => JSON.parse(readFileSync(join(dir, f), 'utf8')).events as any[]);
  const activities = new Set(events.map((e) => e.activityTaskScheduledEventAttributes?.activityType?.name).filter(Boolean));
  expect([...activities]).toEqual(expect.arrayContaining(['diagnoseStale', 'triggerIngestion', 'loadRuns', 'persistBatch', 'sendSlackAlert']));
  const patches = events
    .flatMap((e) => e.markerRecordedEventAttributes?.details?.['patch-data']?.payloads ?? [])
    .map((p: { data: string }) => JSON.parse(Buffer.from(p.data, 'base64').toString('utf8')).id);
  expect(patches.sort()).toEqual(['operator-actions-do-not-watch', 'stale-diagnosis']);
});

it.each(files)('%s replays deterministically', async (file) => {
  const history = JSON.parse(readFileSync(join(dir, file), 'utf8'));
  await Worker.runReplayHistory({ workflowBundle: await workflowBundle() }, history, `replay-${file}`);
});
