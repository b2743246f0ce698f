/** The demo scraper: pretends to scrape, obeying the knobs (fail, drop SKUs). */
import { ApplicationFailure } from '@temporalio/common';
import { readKnobs } from './knobs';
import { DEMO_RETAILERS } from './retailers';

export function createDemoActivities(knobsFile: string) {
  return {
    async scrapeRetailer(retailer: string): Promise<{ retailer: string; skuCount: number; promoCount: number }> {
      const base = DEMO_RETAILERS.get(retailer) ?? { skus: 1000, promos: 50 };
      const mode = readKnobs(knobsFile).get(retailer) ?? 'ok';
      await new Promise((r) => setTimeout(r, 200 + Math.random() * 800));
      if (mode === 'fail') {
        throw ApplicationFailure.nonRetryable(`demo: ${retailer} answered HTTP 503 (knob "fail")`, 'ScrapeFailed');
      }
      const jitter = 1 + (Math.random() - 0.5) * 0.04;
      const skuCount = Math.round(base.skus * jitter * (mode === 'drop' ? 0.5 : 1));
      return { retailer, skuCount, promoCount: Math.round(base.promos * jitter) };
    },
  };
}
