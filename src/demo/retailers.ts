/** The demo's retailers and their normal catalogue sizes. */
export const DEMO_RETAILERS: Record<string, { skus: number; promos: number }> = {
  checkers: { skus: 12_000, promos: 800 },
  'pick-n-pay': { skus: 9_000, promos: 620 },
  woolworths: { skus: 7_500, promos: 465 },
  spar: { skus: 5_000, promos: 300 },
};

export const DEMO_TASK_QUEUE_PREFIX = 'demo-ingest-';
export const demoTaskQueue = (retailer: string) => `${DEMO_TASK_QUEUE_PREFIX}${retailer}`;
