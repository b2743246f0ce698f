/**
 * Recorded histories (test/histories/, made by `npm run record-histories`) must replay against the current
 * workflow code: same commands (the SDK's determinism check) and the same activity inputs (compared here,
 * through a recording interceptor). A change that alters either needs `patched()`.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { bundleWorkflowCode, Worker, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { workflowInterceptorModules, workflowPreloadModules } from '../src/worker';
import { quietRuntime } from './helpers/temporal';
import { CONFIG_MEMO_PATCH, CONSOLE_CHANNEL_PATCH, PAGERDUTY_CHANNEL_PATCH } from '../src/workflows/fleet-monitor';
import { ACK_NOTICE_PATCH, ALERT_AT_FIRE_ENABLED, ALERT_AT_FIRE_PATCH, BASELINES_PATCH, FLAP_CONTROL_PATCH, LOCAL_ACTIVITIES_PATCH, MISSED_RUN_PATCH, RUN_OPEN_PATCH } from '../src/workflows/retailer-monitor';

quietRuntime(); // quiet: replay workers log their state at INFO

const dir = join(__dirname, 'histories');
const files = readdirSync(dir).filter((f) => f.endsWith('.json')).sort();

let bundle: Promise<WorkflowBundleWithSourceMap> | undefined;
function replayBundle() {
  bundle ??= bundleWorkflowCode({
    workflowsPath: require.resolve('../src/workflows'),
    workflowInterceptorModules: [...workflowInterceptorModules, require.resolve('./helpers/activity-input-recorder')],
    preloadModules: workflowPreloadModules,
    logger: { log() {}, trace() {}, debug() {}, info() {}, warn() {}, error() {} },
  });
  return bundle;
}

const decode = (p: { data?: string }) => JSON.parse(Buffer.from(p.data ?? '', 'base64').toString('utf8'));

type Scheduled = [string, unknown, 'regular' | 'local'];

/** Activity type and decoded input of every ActivityTaskScheduled event, in order. */
function scheduledActivities(history: any): Scheduled[] {
  return (history.events as any[])
    .map((e) => e.activityTaskScheduledEventAttributes)
    .filter(Boolean)
    .map((a) => [a.activityType.name, (a.input?.payloads ?? []).map(decode), 'regular']);
}

/** Local activities recorded in a history (their markers; the input is not in history). */
const localActivityMarkers = (history: any) => (history.events as any[]).filter((e) => e.markerRecordedEventAttributes?.markerName === 'core_local_activity').length;

/**
 * Every activity the recorded run scheduled, regular and local, in order, as `npm run record-histories`
 * captured them (test/histories/activity-inputs/<file>); undefined for sets recorded before it did.
 */
function recordedInputs(file: string): Scheduled[] | undefined {
  try {
    return JSON.parse(readFileSync(join(dir, 'activity-inputs', file), 'utf8'));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

it('has recorded histories of both workflows, each crossing a continue-as-new', () => {
  for (const name of ['retailer-v3', 'fleet-v3']) {
    const runs = files.filter((f) => f.startsWith(`${name}-run-`));
    expect(runs.length).toBeGreaterThanOrEqual(1);
    if (name.startsWith('retailer')) {
      expect(runs.length).toBeGreaterThanOrEqual(2);
      const first = JSON.parse(readFileSync(join(dir, runs[0]!), 'utf8'));
      expect(first.events.at(-1).eventType).toMatch(/CONTINUED_AS_NEW/);
    }
  }
  const activities = new Set(
    files.filter((f) => f.startsWith('retailer')).flatMap((f) => scheduledActivities(JSON.parse(readFileSync(join(dir, f), 'utf8'))).map(([t]) => t)),
  );
  expect([...activities]).toEqual(expect.arrayContaining(['monitorContext', 'restoreRetailer', 'persistBatch', 'forwardAlerts', 'triggerIngestion', 'loadRuns']));
});

/** Patch ids recorded (core_patch markers) in the histories whose file name starts with `prefix`. */
function patchIds(prefix: string): string[] {
  const ids = new Set<string>();
  for (const f of files.filter((x) => x.startsWith(prefix))) {
    for (const e of JSON.parse(readFileSync(join(dir, f), 'utf8')).events as any[]) {
      const m = e.markerRecordedEventAttributes;
      if (m?.markerName !== 'core_patch') continue;
      for (const v of Object.values(m.details ?? {}) as any[]) for (const p of v.payloads ?? []) ids.add(decode(p)?.id ?? decode(p));
    }
  }
  return [...ids].sort();
}

it('the newest recorded histories take every patch the workflows have, so each patched branch is replayed', () => {
  // ALERT_AT_FIRE_ENABLED is the switch for ALERT_AT_FIRE_PATCH: on, the newest set must take it.
  expect(ALERT_AT_FIRE_ENABLED).toBe(true);
  // v8 changed the fleet only (CONFIG_MEMO_PATCH); the retailer's newest set is v7.
  expect(patchIds('retailer-v7')).toEqual(
    [BASELINES_PATCH, FLAP_CONTROL_PATCH, ACK_NOTICE_PATCH, MISSED_RUN_PATCH, LOCAL_ACTIVITIES_PATCH, RUN_OPEN_PATCH, ALERT_AT_FIRE_PATCH].sort(),
  );
  expect(patchIds('fleet-v8')).toEqual([CONSOLE_CHANNEL_PATCH, PAGERDUTY_CHANNEL_PATCH, CONFIG_MEMO_PATCH].sort());
});

it.each(files)('%s replays with the same commands and the same activity inputs', async (file) => {
  const history = JSON.parse(readFileSync(join(dir, file), 'utf8'));
  const recorded = recordedInputs(file);
  if (recorded) {
    // The side file belongs to this history: its regular activities are the history's, and it has one local
    // activity per marker.
    expect(recorded.filter(([, , kind]) => kind === 'regular')).toEqual(scheduledActivities(history));
    expect(recorded.filter(([, , kind]) => kind === 'local')).toHaveLength(localActivityMarkers(history));
  } else {
    expect(localActivityMarkers(history)).toBe(0);
  }
  const replayed: Scheduled[] = [];
  await Worker.runReplayHistory(
    {
      workflowBundle: await replayBundle(),
      sinks: {
        recorder: {
          activity: {
            fn: (_info: unknown, activityType: string, args: unknown[], kind: 'regular' | 'local') => void replayed.push([activityType, JSON.parse(JSON.stringify(args)), kind]),
            callDuringReplay: true,
          },
        },
      } as any,
    },
    history,
    `replay-${file}`,
  );
  expect(replayed).toEqual(recorded ?? scheduledActivities(history));
});
