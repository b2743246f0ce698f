/** All activities of the monitor worker, built from one config, one database handle and one Temporal client. */
import type { Client } from '@temporalio/client';
import type { Kysely } from 'kysely';
import type { MonitorConfig } from '../config';
import type { Database } from '../db/schema';
import { createEmailActivities } from './email';
import { createFleetActivities } from './fleet';
import { createGroupedAlertActivities } from './grouped';
import { createPostgresActivities } from './postgres';
import { createSlackActivities } from './slack';
import { createTemporalActivities } from './temporal';
import type { MonitorActivities } from './types';
import { createWebhookActivities } from './webhook';

export function createActivities(config: MonitorConfig, db: Kysely<Database>, client: Client): MonitorActivities {
  return {
    ...createPostgresActivities(db),
    ...createSlackActivities(config),
    ...createWebhookActivities(config),
    ...createEmailActivities(config),
    ...createGroupedAlertActivities(config),
    ...createTemporalActivities(config, client),
    ...createFleetActivities(config, client),
  };
}
