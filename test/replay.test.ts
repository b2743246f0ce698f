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

it('has recorded histories to replay, including a continue-as-new chain', () => {
  expect(files.length).toBeGreaterThanOrEqual(2);
  const first = JSON.parse(readFileSync(join(dir, files[0]!), 'utf8'));
  expect(first.events.at(-1).eventType).toMatch(/CONTINUED_AS_NEW/);
});

it.each(files)('%s replays deterministically', async (file) => {
  const history = JSON.parse(readFileSync(join(dir, file), 'utf8'));
  await Worker.runReplayHistory({ workflowBundle: await workflowBundle() }, history, `replay-${file}`);
});
