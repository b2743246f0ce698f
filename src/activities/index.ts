/** All activities of the monitor worker, built from one config, one database handle and one Temporal client. */
import type { Client } from '@temporalio/client';
import type { Kysely } from 'kysely';
import type { MonitorConfig } from '../config';
import type { Database } from '../db/schema';
import { createConsoleActivities, type ConsoleSink } from './console';
import { createEmailActivities } from './email';
import { createFleetActivities } from './fleet';
import { createRetentionActivities } from '../retention/prune';
import { createGroupedAlertActivities } from './grouped';
import { createPostgresActivities } from './postgres';
import { createPagerDutyActivities } from './pagerduty';
import { createSlackActivities } from './slack';
import { createSlackMessageStore } from './slack-messages';
import { currentContext } from './http';
import { createTemporalActivities } from './temporal';
import type { MonitorActivities } from './types';
import { createWebhookActivities } from './webhook';

export interface ActivityOptions {
  /** Where the console alert channel prints (ALERT_CONSOLE); default process.stdout. */
  consoleOut?: ConsoleSink;
}

export function createActivities(config: MonitorConfig, db: Kysely<Database>, client: Client, options: ActivityOptions = {}): MonitorActivities {
  const slackMessages = createSlackMessageStore(db);
  return {
    ...createPostgresActivities(db),
    ...createSlackActivities(config, slackMessages),
    ...createWebhookActivities(config),
    ...createEmailActivities(config),
    ...createConsoleActivities(config, options.consoleOut),
    ...createPagerDutyActivities(config),
    ...createGroupedAlertActivities(config, options.consoleOut, slackMessages),
    ...createTemporalActivities(config, client),
    ...createFleetActivities(config, client),
    ...createRetentionActivities(db, (progress) => currentContext()?.heartbeat(progress)),
  };
}
