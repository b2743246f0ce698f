/** The demo's ingestion workflow: what a TillLess scrape looks like to Temporal. */
import { proxyActivities } from '@temporalio/workflow';
import type { createDemoActivities } from './activities';

const { scrapeRetailer } = proxyActivities<ReturnType<typeof createDemoActivities>>({
  startToCloseTimeout: '30 seconds',
  retry: { maximumAttempts: 1 }, // let a failure show as a failed run, which is what the demo is for
});

export interface IngestRetailerInput {
  retailer: string;
}

/** Returns the documented result shape the reporting interceptor reads counts from. */
export async function ingestRetailer(input: IngestRetailerInput): Promise<{ retailer: string; skuCount: number; promoCount: number }> {
  return scrapeRetailer(input.retailer);
}
