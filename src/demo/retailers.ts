/** The demo's retailers and their normal catalogue sizes (a Map: names typed by a user are looked up in it). */
export const DEMO_RETAILERS: ReadonlyMap<string, { skus: number; promos: number }> = new Map([
  ['checkers', { skus: 12_000, promos: 800 }],
  ['pick-n-pay', { skus: 9_000, promos: 620 }],
  ['woolworths', { skus: 7_500, promos: 465 }],
  ['spar', { skus: 5_000, promos: 300 }],
]);

export const DEMO_TASK_QUEUE_PREFIX = 'demo-ingest-';
export const demoTaskQueue = (retailer: string) => `${DEMO_TASK_QUEUE_PREFIX}${retailer}`;
