/**
 * End to end on the real dev server (`temporal server start-dev`) + real Postgres + a loopback HTTP
 * server standing in for Slack: reports in → rows in all three tables → Slack-shaped POSTs for fire and resolve.
 */
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Worker } from '@temporalio/worker';
import { fleetHandle, reportIngestionRun, retailerHandle } from '../src/client';
import { fleetIncidentsQuery, retailerQuery } from '../src/shared/messages';
import { ensureFleet } from '../src/worker';
import { type CaptureServer, startCaptureServer } from './helpers/capture-server';
import { createTestMonitorWorker, testConfig } from './helpers/monitor';
import { until } from './helpers/wait';
import { createTestDatabase, deliveryRecorded, type TestDatabase } from './helpers/postgres';
import { createDevServerEnv } from './helpers/temporal';

let env: TestWorkflowEnvironment;
let tdb: TestDatabase;
let slack: CaptureServer;
let worker: Worker;
let running: Promise<void>;
const taskQueue = 'monitor-e2e';
const workflowId = `ingestion-monitor-e2e-${Date.now()}`;

beforeAll(async () => {
  [env, tdb, slack] = await Promise.all([createDevServerEnv(), createTestDatabase('im_e2e'), startCaptureServer()]);
  const config = testConfig({ taskQueue, databaseUrl: tdb.url, slackWebhookUrl: `${slack.url}/services/T000/B000/SECRETxyz` });
  worker = await createTestMonitorWorker(env, config, tdb);
  running = worker.run();
  await ensureFleet(env.client, { workflowId, taskQueue });
});

afterAll(async () => {
  worker?.shutdown();
  await running;
  await Promise.all([env?.teardown(), tdb?.drop(), slack?.close()]);
});


it('reports in → runs, status and alert rows in Postgres → Slack messages for fire and resolve', async () => {
  const target = { workflowId, taskQueue };
  const now = Date.now();
  const send = (runId: string, status: 'success' | 'failure', minutesAgo: number, extra = {}) =>
    reportIngestionRun(
      env.client,
      {
        runId,
        retailer: 'woolies',
        schedule: 'woolies-hourly',
        status,
        startedAt: new Date(now - (minutesAgo + 5) * 60_000).toISOString(),
        finishedAt: new Date(now - minutesAgo * 60_000).toISOString(),
        ...(status === 'success' ? { skuCount: 15_000, promoCount: 800 } : { error: 'Navigation timeout of 30000 ms exceeded' }),
        workflowId: `ingest-woolies-${runId}`,
        workflowRunId: '0194c0de-0000-7000-8000-000000000001',
        ...extra,
      },
      target,
    );

  expect(await send('e2e-1', 'success', 30)).toMatchObject({ outcome: 'accepted', retailer: 'woolies', health: 'healthy', opened: [], resolved: [] });
  expect(await send('e2e-1', 'success', 30)).toMatchObject({ outcome: 'duplicate' });
  await send('e2e-2', 'failure', 20);
  // The verdict comes back once the report is applied: the incident it opened is named.
  const third = await send('e2e-3', 'failure', 10);
  expect(third).toMatchObject({ outcome: 'accepted', health: 'unhealthy', opened: [{ rule: 'consecutive_failures' }] });

  const handle = retailerHandle(env.client, 'woolies');
  const [incident] = await until('the incident at the fleet', async () => {
    const open = await fleetHandle(env.client, target).query(fleetIncidentsQuery);
    return open.length > 0 && open;
  });
  expect(incident).toMatchObject({ retailer: 'woolies', rule: 'consecutive_failures', incidentId: third.opened[0]!.id });
  expect(typeof incident!.openedAt).toBe('string'); // ISO times in query results

  const [fire] = await slack.waitFor((r) => r.length >= 1);
  expect(fire!.path).toBe('/services/T000/B000/SECRETxyz');
  expect(typeof fire!.body.text).toBe('string');
  expect(Array.isArray(fire!.body.blocks)).toBe(true);
  const fireText = JSON.stringify(fire!.body);
  expect(fireText).toContain('woolies');
  expect(fireText).toMatch(/consecutive/i);
  expect(fireText).toContain('ingest-woolies-e2e-3'); // link to the failing run in the Web UI

  expect(await send('e2e-4', 'success', 1)).toMatchObject({ health: 'healthy', resolved: [{ id: third.opened[0]!.id }] });
  const msgs = await slack.waitFor((r) => r.length >= 2);
  expect(JSON.stringify(msgs[1]!.body)).toMatch(/resolved/i);

  const runs = await until('4 run rows', async () => {
    const rows = await tdb.db.selectFrom('ingestion_runs').selectAll().orderBy('finished_at').execute();
    return rows.length === 4 && rows;
  });
  expect(runs.map((r) => [r.run_id, r.status, r.sku_count])).toEqual([
    ['e2e-1', 'success', 15_000],
    ['e2e-2', 'failure', null],
    ['e2e-3', 'failure', null],
    ['e2e-4', 'success', 15_000],
  ]);
  expect(Number(runs[0]!.duration_ms)).toBe(5 * 60_000);

  const alerts = await until('2 alert rows', async () => {
    const rows = await tdb.db.selectFrom('alert_events').selectAll().orderBy('id').execute();
    return rows.length === 2 && rows.every(deliveryRecorded) && rows;
  });
  expect(alerts.map((a) => [a.kind, a.rule, a.delivered])).toEqual([
    ['fire', 'consecutive_failures', true],
    ['resolve', 'consecutive_failures', true],
  ]);

  const status = await until('a healthy status row', async () => {
    const row = await tdb.db.selectFrom('retailer_status').selectAll().where('retailer', '=', 'woolies').executeTakeFirst();
    return row?.health === 'healthy' && row.last_run_id === 'e2e-4' && row;
  });
  expect(status).toMatchObject({ consecutive_failures: 0, open_incidents: 0, last_sku_count: 15_000, last_promo_count: 800 });

  // The secret webhook URL is nowhere in what the workflow exposes: queries or history.
  // Payload bytes decoded as text, so a secret inside any payload would be visible to the check.
  const history = JSON.stringify(await handle.fetchHistory(), (k, v) =>
    k === 'data' && typeof v === 'string' ? Buffer.from(v, 'base64').toString('utf8') : v,
  );
  expect(history).toContain('e2e-3'); // the decoding works: report payloads are readable
  const detail = await handle.query(retailerQuery);
  expect(detail.lastSuccessAt).toMatch(/^\d{4}-\d\d-\d\dT/);
  const query = JSON.stringify(detail);
  expect(history).not.toContain('SECRETxyz');
  expect(query).not.toContain('SECRETxyz');
  expect(JSON.stringify(alerts)).not.toContain('SECRETxyz');
});
