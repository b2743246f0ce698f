/** All activities of the monitor worker, built from one config and one database handle. */
import type { Kysely } from 'kysely';
import type { MonitorConfig } from '../config';
import type { Database } from '../db/schema';
import { createEmailActivities } from './email';
import { createPostgresActivities } from './postgres';
import { createSlackActivities } from './slack';
import type { MonitorActivities } from './types';
import { createWebhookActivities } from './webhook';

export function createActivities(config: MonitorConfig, db: Kysely<Database>): MonitorActivities {
  return {
    ...createPostgresActivities(db),
    ...createSlackActivities(config),
    ...createWebhookActivities(config),
    ...createEmailActivities(config),
  };
}
