/**
 * Smoke check of `npm run bench -- --quick` (issue 8): the benchmark runs end to end on a real dev server and
 * Postgres and prints figures for both kinds, the real monitors and the no-op baseline, in every cell.
 * Figures only: nothing here asserts a timing.
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import type { E2eFigures } from '../scripts/bench-e2e';

const root = path.join(__dirname, '..');

function runQuickBench(): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['-r', 'tsx/cjs', 'scripts/bench.ts', '--quick'], {
      cwd: root,
      env: { ...process.env, FORCE_COLOR: '0' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString('utf8')));
    child.stderr.on('data', (c: Buffer) => (out += c.toString('utf8')));
    const timer = setTimeout(() => child.kill('SIGINT'), 280_000);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, out });
    });
  });
}

test('npm run bench -- --quick prints real and no-op figures for every cell', async () => {
  const { code, out } = await runQuickBench();
  if (code !== 0) throw new Error(`bench exited ${code}:\n${out.slice(-4000)}`);
  const json = /^bench figures \(JSON\): (.*)$/m.exec(out);
  expect(json).not.toBeNull();
  const figures = JSON.parse(json![1]!) as E2eFigures;
  // Every cell, 2 retailer counts × 4 concurrencies, has figures for both kinds (real and the no-op baseline).
  expect(figures.cells.map((c) => `${c.retailers}/${c.inFlight}`)).toEqual(['10/1', '10/4', '10/16', '10/64', '40/1', '40/4', '40/16', '40/64']);
  for (const c of figures.cells) {
    for (const k of [c.real, c.noop]) {
      expect(k.reports).toBeGreaterThan(0);
      expect(k.errors).toBe(0);
      for (const v of [k.reportsPerSecond, k.p50Ms, k.p99Ms]) expect(Number.isFinite(v) && v > 0).toBe(true);
    }
  }
  expect(figures.eventsPerReport.real).toBeGreaterThan(0);
  expect(figures.eventsPerReport.noop).toBeGreaterThan(0);
  // The printed tables: ratios per cell and the absolute figures.
  expect(out).toMatch(/│ 40 retailers, 16 in flight\s+│ \d+\.\d\d×; p50 \d+\.\d\d×; p99 \d+\.\d\d×/);
  expect(out).toMatch(/history events per report \(real \/ no-op\)\s*│\s*\d+\.\d\d \/ \d+\.\d\d/);
  expect(out).toMatch(/worker RSS idle\s*│\s*[\d.]+ MiB \(no-op [\d.]+ MiB\)/);
  expect(out).toMatch(/load average at start \(1\/5\/15 min\): [\d.]+ \/ [\d.]+ \/ [\d.]+/);
  expect(out).toMatch(/applied → row in Postgres at 16 in flight, p50 \//);
}, 300_000);
