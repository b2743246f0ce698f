/** The Postgres activity on real Postgres: idempotent, and a burst bigger than one statement's parameter limit is written whole. */
import { createPostgresActivities } from '../src/activities/postgres';
import type { AlertEvent, RunSummary } from '../src/rules/types';
import type { DeliveryOutcome } from '../src/shared/messages';
import { createTestDatabase, type TestDatabase } from './helpers/postgres';

let tdb: TestDatabase;
beforeAll(async () => {
  tdb = await createTestDatabase('im_pg');
});
afterAll(() => tdb?.drop());

const T0 = Date.parse('2026-11-01T00:00:00Z');
const runs = (n: number, prefix: string): RunSummary[] =>
  Array.from({ length: n }, (_, i) => ({
    runId: `${prefix}-${i}`,
    retailer: `r${i % 20}`,
    status: i % 10 === 0 ? 'failure' : 'success',
    startedAt: T0 + i * 1000,
    finishedAt: T0 + i * 1000 + 500,
    receivedAt: T0 + i * 1000 + 600,
    skuCount: i % 10 === 0 ? undefined : 1000 + i,
    error: i % 10 === 0 ? 'boom' : undefined,
  }));

it('writes 5,000 runs in one batch (more than 65,535 bind parameters) and is idempotent on retry', async () => {
  const { persistBatch } = createPostgresActivities(tdb.db);
  const batch = { runs: runs(5000, 'burst'), statuses: [], alerts: [] };
  await expect(persistBatch(batch)).resolves.toEqual({ runs: 5000, statuses: 0, alerts: 0, quarantined: [] });
  await persistBatch(batch); // a retried activity must not duplicate anything
  const { n } = await tdb.db.selectFrom('ingestion_runs').select((eb) => eb.fn.countAll<string>().as('n')).executeTakeFirstOrThrow();
  expect(Number(n)).toBe(5000);
});

it('loadRuns returns a retailer’s in-order runs in a range, oldest first', async () => {
  const { persistBatch, loadRuns } = createPostgresActivities(tdb.db);
  const mine = runs(30, 'load').map((r) => ({ ...r, retailer: 'loader' }));
  mine[5]!.outOfOrder = true;
  await persistBatch({ runs: mine, statuses: [], alerts: [] });
  const loaded = await loadRuns({ retailer: 'loader', from: T0 + 10_000, to: T0 + 20_000 });
  expect(loaded.map((r) => r.runId)).toEqual(Array.from({ length: 10 }, (_, i) => `load-${i + 10}`));
  expect(loaded[0]).toMatchObject({ status: 'failure', error: 'boom', startedAt: T0 + 10_000, finishedAt: T0 + 10_500 });
});

it('an alert recorded as it fires (delivery pending) and again once delivered ends delivered, whichever write lands last', async () => {
  const { persistBatch } = createPostgresActivities(tdb.db);
  const event = (id: string): AlertEvent => ({
    eventId: id,
    incidentId: `pend/stale/${id}`,
    retailer: 'pend',
    rule: 'stale',
    kind: 'fire',
    at: T0,
    openedAt: T0,
    summary: 'no successful run for 4 h',
    figures: {},
  });
  const delivered: DeliveryOutcome[] = [{ channel: 'slack', status: 'delivered', attempts: 1 }];
  const row = (id: string) => tdb.db.selectFrom('alert_events').select(['delivered', 'delivery', 'diagnosis']).where('event_id', '=', id).executeTakeFirstOrThrow();

  // The usual order: the monitor's pending write, then the fleet's (with the diagnosis it added).
  await persistBatch({ runs: [], statuses: [], alerts: [{ event: event('a'), delivery: [] }] });
  expect(await row('a')).toEqual({ delivered: false, delivery: [], diagnosis: null });
  await persistBatch({ runs: [], statuses: [], alerts: [{ event: { ...event('a'), diagnosis: 'no worker polls' }, delivery: delivered }] });
  expect(await row('a')).toEqual({ delivered: true, delivery: delivered, diagnosis: 'no worker polls' });

  // The monitor's write retried after the fleet's (Postgres was down for the monitor): the delivery stays.
  await persistBatch({ runs: [], statuses: [], alerts: [{ event: { ...event('b'), diagnosis: 'no worker polls' }, delivery: delivered }] });
  await persistBatch({ runs: [], statuses: [], alerts: [{ event: event('b'), delivery: [] }] });
  expect(await row('b')).toEqual({ delivered: true, delivery: delivered, diagnosis: 'no worker polls' });
});
