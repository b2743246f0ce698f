/**
 * The demo's knobs (`npm run demo -- break <retailer> <mode>`): only the demo's own retailers can be broken,
 * whatever name is typed — `constructor` or `toString` are names every plain object already has.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { readKnobs } from '../src/demo/knobs';

const root = join(__dirname, '..');
const dataDir = mkdtempSync(join(tmpdir(), 'im-demo-cli-'));
const knobsFile = join(dataDir, 'demo-knobs.json');
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

async function demo(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, ['--import', 'tsx', 'src/demo/cli.ts', ...args], {
      cwd: root,
      env: { ...process.env, MONITOR_DATA_DIR: dataDir },
    });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

it('refuses a retailer the demo does not have, even one named like an Object.prototype property', async () => {
  for (const name of ['constructor', 'toString', 'metro']) {
    const r = await demo('break', name, 'fail');
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('retailers: checkers, pick-n-pay, woolworths, spar');
  }
  expect(existsSync(knobsFile)).toBe(false);
});

it('breaks and fixes a demo retailer through the knobs file', async () => {
  expect(await demo('break', 'spar', 'fail')).toMatchObject({ code: 0, stdout: 'spar: next runs will fail\n' });
  expect(readKnobs(knobsFile)).toEqual(new Map([['spar', 'fail']]));
  expect(await demo('fix', 'spar')).toMatchObject({ code: 0, stdout: 'spar: back to normal\n' });
  expect(JSON.parse(readFileSync(knobsFile, 'utf8'))).toEqual({ spar: 'ok' });
  expect(readKnobs(knobsFile).get('constructor')).toBeUndefined();
});
