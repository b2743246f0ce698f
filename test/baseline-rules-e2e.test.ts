/**
 * End to end on the real dev server + real Postgres + a loopback HTTP server standing in for Slack: the
 * rules judged against robust baselines. A promo drop and a run far longer than usual fire and resolve
 * through the usual incident and alert machinery, the SKU drop's Slack message quotes the robust figures,
 * and acknowledging an incident keeps its run out of the baselines (shown by the `retailer` query).
 */
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Worker } from '@temporalio/worker';
import { commandRetailer, reportIngestionRun, retailerHandle } from '../src/client';
import { acknowledgeUpdate, retailerQuery, setThresholdsUpdate } from '../src/shared/messages';
import { ensureFleet } from '../src/worker';
import { type CaptureServer, startCaptureServer } from './helpers/capture-server';
import { createTestMonitorWorker, testConfig } from './helpers/monitor';
import { createTestDatabase, deliveryRecorded, type TestDatabase } from './helpers/postgres';
import { createDevServerEnv } from './helpers/temporal';
import { until } from './helpers/wait';

let env: TestWorkflowEnvironment;
let tdb: TestDatabase;
let slack: CaptureServer;
let worker: Worker;
let running: Promise<void>;
const taskQueue = 'monitor-baselines-e2e';
const workflowId = `ingestion-monitor-baselines-${Date.now()}`;
const target = { workflowId, taskQueue };
const MIN = 60_000;

beforeAll(async () => {
  [env, tdb, slack] = await Promise.all([createDevServerEnv(), createTestDatabase('im_baselines'), startCaptureServer()]);
  const config = testConfig({ taskQueue, databaseUrl: tdb.url, slackWebhookUrl: `${slack.url}/services/T000/B000/SECRETbase` });
  worker = await createTestMonitorWorker(env, config, tdb);
  running = worker.run();
  await ensureFleet(env.client, target, { groupWindowMs: 500 });
});

afterAll(async () => {
  worker?.shutdown();
  await running;
  await Promise.all([env?.teardown(), tdb?.drop(), slack?.close()]);
});

/** Slack messages (their text) of one rule and kind, e.g. ('promo_drop', 'FIRING'). */
const messages = (label: RegExp) => slack.received.map((r) => JSON.stringify(r.body)).filter((t) => label.test(t));

it('promo drop and run duration fire and resolve; the SKU drop quotes the robust baseline; an acknowledged run stays out', async () => {
  const now = Date.now();
  let n = 0;
  /** A success that finished `minutesAgo` minutes ago and took `tookMin` minutes. */
  const send = (minutesAgo: number, o: { sku?: number; promo?: number; tookMin?: number } = {}) =>
    reportIngestionRun(
      env.client,
      {
        runId: `base-${++n}`,
        retailer: 'shoprite',
        status: 'success',
        startedAt: new Date(now - (minutesAgo + (o.tookMin ?? 10)) * MIN).toISOString(),
        finishedAt: new Date(now - minutesAgo * MIN).toISOString(),
        skuCount: o.sku ?? 5000,
        promoCount: o.promo ?? 800,
        workflowId: `ingest-shoprite-${n}`,
      },
      target,
    );

  await send(230); // all within the stale threshold (4 h), so only the rules under test fire
  // promo_drop is off by default: turn it on for this retailer (run_duration is on by default); weekdays are
  // Johannesburg's (the timezone is checked and used inside the workflow sandbox).
  await expect(commandRetailer(env.client, 'shoprite', setThresholdsUpdate, [{ retailer: 'shoprite', thresholds: { timezone: 'Mars/Olympus' } }], target)).rejects.toThrow(/IANA timezone/);
  await commandRetailer(env.client, 'shoprite', setThresholdsUpdate, [{ retailer: 'shoprite', thresholds: { promoDrop: true, timezone: 'Africa/Johannesburg' } }], target);
  for (const ago of [200, 170, 140]) expect(await send(ago)).toMatchObject({ outcome: 'accepted', opened: [] });

  const dropped = await send(110, { promo: 100, sku: 2487 });
  expect(dropped.opened.map((o) => o.rule).sort()).toEqual(['promo_drop', 'sku_drop']);
  const slow = await send(60, { tookMin: 60 });
  expect(slow.opened.map((o) => o.rule)).toEqual(['run_duration']);
  expect(slow.resolved.map((o) => o.rule).sort()).toEqual(['promo_drop', 'sku_drop']);

  await until('Slack has the fires and the resolves', async () => messages(/RESOLVED/).length >= 2 && messages(/FIRING/).length >= 3);
  const [skuFire] = messages(/FIRING: SKU count drop/);
  expect(skuFire).toMatch(/below the trailing average of 5000 \(threshold 30%\); 2,487 SKUs vs typical 5,000 \(median of [^)]+\), −50%, \d+(\.\d)? MADs/);
  expect(skuFire).toContain('Robust score');
  const [promoFire] = messages(/FIRING: Promo count drop/);
  // The runs of the last 4 hours: "median of 4 Friday runs" (or the last 4 runs when they span midnight UTC).
  expect(promoFire).toMatch(/promo count drop — 100 promos vs typical 800 \(median of (\d \w+ runs|the last 4 runs)\), −88%/);
  const [durationFire] = messages(/FIRING: Run duration far above usual/);
  expect(durationFire).toMatch(/run base-6 took 1 h vs typical 10 min \(median of [^)]+\), \+500%/);
  expect(durationFire).toContain('ingest-shoprite-6'); // link to the slow run

  // Acknowledge the open run_duration incident: that run never enters a baseline.
  await commandRetailer(env.client, 'shoprite', acknowledgeUpdate, [{ incidentId: slow.opened[0]!.id, by: 'e2e' }], target);
  const back = await send(5, { tookMin: 11 });
  expect(back.resolved.map((o) => o.rule)).toEqual(['run_duration']);
  await until('Slack has the run_duration resolve', async () => messages(/RESOLVED: Run duration far above usual/).length === 1);

  const detail = await retailerHandle(env.client, 'shoprite', target).query(retailerQuery);
  const views = new Map(detail.baselines!.map((b) => [b.metric, b]));
  expect(views.get('durationMs')).toMatchObject({ samples: 7, excluded: 1, typical: 10 * MIN });
  // promo: run 5 fired promo_drop; run 6 was acknowledged as bad, which keeps all its figures out.
  expect(views.get('promo')).toMatchObject({ samples: 7, excluded: 2, typical: 800 });
  expect(detail.openIncidents).toEqual([]);

  // Three fires, three resolves, and the acknowledgement of the run_duration incident (announced to the channels).
  const events = await until('7 alert rows', async () => {
    const rows = await tdb.db.selectFrom('alert_events').select(['kind', 'rule', 'delivered', 'delivery']).orderBy('id').execute();
    return rows.length === 7 && rows.every(deliveryRecorded) && rows;
  });
  expect(events.map((e) => `${e.kind}:${e.rule}:${e.delivered}`).sort()).toEqual([
    'acknowledge:run_duration:true',
    'fire:promo_drop:true',
    'fire:run_duration:true',
    'fire:sku_drop:true',
    'resolve:promo_drop:true',
    'resolve:run_duration:true',
    'resolve:sku_drop:true',
  ]);
});
