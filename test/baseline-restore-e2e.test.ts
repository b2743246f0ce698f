/**
 * End to end on the real dev server + real Postgres (loopback Slack): a retailer monitor terminated and
 * started fresh by the next report rebuilds its robust baselines from Postgres. Two retailers get the same
 * five weeks of back-dated daily runs (an SKU drop that fired on the weekday under test, a run inside a
 * maintenance window); one is terminated. The next report, the same SKU drop for both, is judged against
 * the same baseline ("median of 4 <weekday>s") by the restarted monitor as by the one that kept running,
 * and the excluded points stay excluded.
 */
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Worker } from '@temporalio/worker';
import { commandRetailer, reportIngestionRun, retailerHandle } from '../src/client';
import type { BaselineView } from '../src/rules/types';
import { addMaintenanceUpdate, retailerAlertsQuery, retailerQuery } from '../src/shared/messages';
import { ensureFleet } from '../src/worker';
import { type CaptureServer, startCaptureServer } from './helpers/capture-server';
import { createTestMonitorWorker, testConfig } from './helpers/monitor';
import { createTestDatabase, type TestDatabase } from './helpers/postgres';
import { createDevServerEnv } from './helpers/temporal';
import { until } from './helpers/wait';

let env: TestWorkflowEnvironment;
let tdb: TestDatabase;
let slack: CaptureServer;
let worker: Worker;
let running: Promise<void>;
const taskQueue = 'monitor-baseline-restore-e2e';
const workflowId = `ingestion-monitor-baseline-restore-${Date.now()}`;
const target = { workflowId, taskQueue };
const MIN = 60_000;
const DAY = 24 * 60 * MIN;
const ZONE = 'Africa/Johannesburg';

beforeAll(async () => {
  [env, tdb, slack] = await Promise.all([createDevServerEnv(), createTestDatabase('im_base_restore'), startCaptureServer()]);
  const config = testConfig({ taskQueue, databaseUrl: tdb.url, slackWebhookUrl: `${slack.url}/services/T000/B000/SECRETrestore` });
  worker = await createTestMonitorWorker(env, config, tdb);
  running = worker.run();
  // Back-dated runs must not trip the stale rule; weekdays are Johannesburg's (a fleet default the restore reads).
  await ensureFleet(env.client, target, { groupWindowMs: 500, thresholds: { staleAfterMs: 90 * DAY, timezone: ZONE } });
}, 120_000);

afterAll(async () => {
  worker?.shutdown();
  await running;
  await Promise.all([env?.teardown(), tdb?.drop(), slack?.close()]);
});

const weekdayOf = (t: number) => new Intl.DateTimeFormat('en-US', { timeZone: ZONE, weekday: 'long' }).format(t);

it('a monitor terminated and restarted from Postgres judges with the same baselines; excluded points stay out', async () => {
  const anchor = Date.now() - 10 * MIN;
  // Day 13's run finishes at 12:00 UTC (14:00 in Johannesburg), inside a weekly window that is never active now.
  const d13 = anchor - 13 * DAY;
  const maintenanceAt = Date.UTC(new Date(d13).getUTCFullYear(), new Date(d13).getUTCMonth(), new Date(d13).getUTCDate(), 12);
  const spec = `every ${weekdayOf(maintenanceAt)} 13:50-14:10 ${ZONE}`;

  const send = (retailer: string, runId: string, finishedAt: number, o: { sku?: number; promo?: number } = {}) =>
    reportIngestionRun(
      env.client,
      {
        runId: `${retailer}-${runId}`,
        retailer,
        status: 'success',
        startedAt: new Date(finishedAt - 10 * MIN).toISOString(),
        finishedAt: new Date(finishedAt).toISOString(),
        skuCount: o.sku ?? 5000,
        promoCount: o.promo ?? 800,
      },
      target,
    );
  /** Five weeks of daily runs, oldest first: day 7 (the weekday under test) an SKU drop, day 13 in maintenance. */
  const feed = async (retailer: string) => {
    await send(retailer, 'd35', anchor - 35 * DAY);
    await commandRetailer(env.client, retailer, addMaintenanceUpdate, [{ retailer, spec, reason: 'weekly db vacuum', by: 'e2e' }], target);
    for (let k = 34; k >= 1; k--) {
      const v = await send(retailer, `d${k}`, k === 13 ? maintenanceAt : anchor - k * DAY, k === 7 ? { sku: 2000 } : k === 13 ? { promo: 5 } : {});
      if (k === 7) expect(v.opened.map((o) => o.rule)).toEqual(['sku_drop']);
      if (k === 6) expect(v.resolved.map((o) => o.rule)).toEqual(['sku_drop']);
    }
  };
  await Promise.all([feed('keeps-running'), feed('restarted')]);

  const handle = retailerHandle(env.client, 'restarted', target);
  const before = await handle.query(retailerQuery);
  const sku = (views: BaselineView[] | undefined) => views!.find((b) => b.metric === 'sku')!;
  const weekday = weekdayOf(anchor);
  expect(sku(before.baselines)).toMatchObject({ typical: 5000, basis: `median of 4 ${weekday}s`, excluded: 2 });
  // Everything the monitor knows is in Postgres before it goes: its 35 runs and the drop's fire and resolve.
  await until('the runs and the sku_drop events are in Postgres', async () => {
    const runs = await tdb.db.selectFrom('ingestion_runs').select((eb) => eb.fn.countAll<string>().as('n')).where('retailer', '=', 'restarted').executeTakeFirstOrThrow();
    const events = await tdb.db.selectFrom('alert_events').select((eb) => eb.fn.countAll<string>().as('n')).where('retailer', '=', 'restarted').executeTakeFirstOrThrow();
    return Number(runs.n) === 35 && Number(events.n) === 2;
  });
  const firstRun = (await handle.describe()).runId;
  await handle.terminate('baseline restore e2e');

  // The next report (the same SKU drop for both) starts the terminated monitor afresh.
  const dropAt = anchor + 30_000;
  const [kept, restarted] = await Promise.all([send('keeps-running', 'now', dropAt, { sku: 2000 }), send('restarted', 'now', dropAt, { sku: 2000 })]);
  expect((await handle.describe()).runId).not.toBe(firstRun);
  expect(kept.opened.map((o) => o.rule)).toEqual(['sku_drop']);
  expect(restarted.opened.map((o) => o.rule)).toEqual(['sku_drop']);

  const fireText = async (retailer: string) => {
    const alerts = await retailerHandle(env.client, retailer, target).query(retailerAlertsQuery);
    return alerts.filter((a) => a.kind === 'fire' && a.rule === 'sku_drop').at(-1)!.summary.replace(retailer, '<retailer>');
  };
  const text = await fireText('restarted');
  expect(text).toContain(`2,000 SKUs vs typical 5,000 (median of 4 ${weekday}s), −60%, 12 MADs`);
  expect(text).toBe(await fireText('keeps-running'));

  const after = await handle.query(retailerQuery);
  const control = await retailerHandle(env.client, 'keeps-running', target).query(retailerQuery);
  expect(after.baselines).toEqual(control.baselines);
  expect(after.totals.runs).toBe(36);
  // The drop joined the excluded points; the day-7 drop and the maintenance run are still out.
  expect(sku(after.baselines)).toMatchObject({ typical: 5000, mad: sku(before.baselines).mad, basis: `median of 4 ${weekday}s`, samples: 36, excluded: 3 });
  expect(after.baselines!.find((b) => b.metric === 'promo')).toMatchObject({ typical: 800, excluded: 1 });
}, 180_000);
