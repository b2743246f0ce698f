/**
 * The modules the workflow context shares between workflows (src/workflows/preloaded.ts). The SDK
 * deep-freezes what each of them exports before any workflow runs; a zod schema among those exports would
 * be frozen too and then fail on its first use in a workflow (zod adds methods to a schema as they are
 * first read). Here: the modules the preload pulls in are found by following their imports, none of them
 * exports a schema, and after the same freeze every schema the workflows use still parses.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

const ROOT = join(__dirname, '..');
const ENTRY = join(ROOT, 'src', 'workflows', 'preloaded.ts');

/** Our modules reachable from `file` through value imports and re-exports (type-only imports load nothing). */
function sharedModules(file: string, seen = new Set<string>()): Set<string> {
  if (seen.has(file)) return seen;
  seen.add(file);
  const text = readFileSync(file, 'utf8');
  for (const m of text.matchAll(/^(import|export)\s+(type\s+)?[^;]*?\sfrom\s+'(\.[^']+)'/gms)) {
    if (m[2]) continue;
    const base = resolve(dirname(file), m[3]);
    const target = [`${base}.ts`, join(base, 'index.ts')].find(existsSync);
    if (!target) throw new Error(`${relative(ROOT, file)} imports ${m[3]}, which is not a module of ours`);
    sharedModules(target, seen);
  }
  return seen;
}

const isSchema = (v: unknown): boolean => typeof v === 'object' && v !== null && '_zod' in v;

/** Where under `value` (own properties, as the SDK's freeze walks them) a zod schema sits. */
function schemasIn(value: unknown, path: string, seen = new WeakSet<object>()): string[] {
  if (value === null || (typeof value !== 'object' && typeof value !== 'function')) return [];
  if (seen.has(value)) return [];
  seen.add(value);
  if (isSchema(value)) return [path];
  return Reflect.ownKeys(value).flatMap((key) => {
    const d = Object.getOwnPropertyDescriptor(value, key);
    const v = d && 'value' in d ? d.value : d?.get ? (value as Record<string | symbol, unknown>)[key] : undefined;
    return schemasIn(v, `${path}.${String(key)}`, seen);
  });
}

/** The SDK's freeze of a preloaded module (deepFreeze in @temporalio/worker's lib/workflow/reusable-vm.js). */
function deepFreeze(object: unknown, visited = new WeakSet<object>()): unknown {
  if (object === null || (typeof object !== 'object' && typeof object !== 'function')) return object;
  if (visited.has(object) || Object.isFrozen(object)) return object;
  visited.add(object);
  if (typeof object === 'object') {
    for (const key of Reflect.ownKeys(object)) {
      const value = (object as Record<string | symbol, unknown>)[key];
      try {
        deepFreeze(value, visited);
      } catch {
        // as the SDK: some objects cannot be frozen
      }
    }
  }
  return Object.freeze(object);
}

const modules = [...sharedModules(ENTRY)];

it('the preload shares zod and the modules that build our schemas', () => {
  const names = modules.map((f) => relative(join(ROOT, 'src'), f));
  expect(names).toEqual(expect.arrayContaining(['workflows/preloaded.ts', 'shared/operator.ts', 'shared/report.ts', 'rules/thresholds.ts', 'rules/maintenance.ts']));
  // Nothing with Temporal imports or workflow state: the rules' engine and the workflows stay per workflow.
  expect(names.filter((n) => n.startsWith('workflows/') && n !== 'workflows/preloaded.ts' && n !== 'workflows/zod-config.ts')).toEqual([]);
  expect(names).not.toContain('rules/retailer-monitor.ts');
  for (const file of modules) expect({ file: relative(ROOT, file), temporal: /from '@temporalio\//.test(readFileSync(file, 'utf8')) }).toEqual({ file: relative(ROOT, file), temporal: false });
});

it('no shared module exports a zod schema (only functions that return one)', async () => {
  const offenders: string[] = [];
  for (const file of modules) {
    const exports = (await import(file)) as Record<string, unknown>;
    for (const [name, value] of Object.entries(exports)) {
      if (name === 'z') continue; // zod itself: configured before the freeze (src/workflows/zod-config.ts)
      offenders.push(...schemasIn(value, `${relative(ROOT, file)}: ${name}`));
    }
  }
  expect(offenders).toEqual([]);
});

it('after the SDK-style freeze of every shared module, the schemas the workflows use still parse', async () => {
  for (const file of modules) {
    const exports = (await import(file)) as Record<string, unknown>;
    // zod is frozen by the SDK as well; its own config is set first, as in the sandbox.
    for (const [name, value] of Object.entries(exports)) if (name !== 'z') deepFreeze(value);
  }
  const report = await import('../src/shared/report');
  const operator = await import('../src/shared/operator');
  const thresholds = await import('../src/rules/thresholds');
  const ok = report.parseRunReport({ runId: 'r1', retailer: 'spar', status: 'success', startedAt: '2026-11-28T10:00:00Z', finishedAt: '2026-11-28T10:05:00Z', skuCount: 120, error: 'x\u0000y' });
  expect(ok).toMatchObject({ ok: true, report: { retailer: 'spar', skuCount: 120, error: 'xy' } });
  expect(report.parseRunReport({ runId: 'r2', retailer: 'Spar', status: 'success' })).toMatchObject({ ok: false, reason: expect.stringContaining('retailer') });
  expect(operator.slugSchema().safeParse('constructor').success).toBe(true);
  expect(operator.silenceArgsSchema().parse({ retailer: 'spar', until: '2026-11-29T00:00:00Z', reason: ' db work ', by: 'sam' })).toMatchObject({ reason: 'db work' });
  expect(operator.setThresholdsArgsSchema().safeParse({ thresholds: { staleAfterMs: 1 } }).success).toBe(false);
  expect(operator.addMaintenanceArgsSchema().parse({ retailer: 'spar', spec: 'every sun 02:00-04:00 UTC', reason: 'upgrade' }).spec).toMatchObject({ startMin: 120, endMin: 240 });
  expect(operator.reprocessArgsSchema().safeParse({ retailer: 'spar', from: '2026-11-28T00:00:00Z', to: '2026-11-27T00:00:00Z' }).success).toBe(false);
  expect(operator.acknowledgeArgsSchema().parse({ incidentId: 'spar/stale/1' })).toEqual({ incidentId: 'spar/stale/1' });
  expect(operator.unsilenceArgsSchema().parse({ retailer: 'spar', rule: '*' })).toEqual({ retailer: 'spar', rule: '*' });
  expect(operator.replayArgsSchema().parse({ retailer: 'spar' })).toEqual({ retailer: 'spar' });
  expect(operator.removeMaintenanceArgsSchema().parse({ id: 'fleet/action/3' })).toEqual({ id: 'fleet/action/3' });
  expect(thresholds.thresholdsSchema().safeParse({ ...thresholds.DEFAULT_THRESHOLDS, timezone: 'Africa/Johannesburg' }).success).toBe(true);
  expect(thresholds.thresholdOverridesSchema().safeParse({ timezone: 'Mars/Olympus' }).success).toBe(false);
});
