/**
 * Every migration, in order. A static list (rather than a folder scan) so migrations run the same under
 * tsx, ts-jest and compiled JavaScript. Add new files here with a name that sorts after the last one.
 * A new table the dashboards or the status page read needs `GRANT SELECT … TO grafana_reader` in its
 * migration: since 005 there are no default privileges.
 */
import type { Migration } from 'kysely';
import * as initial from './2026-11-27-001-initial';
import * as grafanaReader from './2026-11-27-002-grafana-reader';
import * as operatorActions from './2026-11-27-003-operator-actions';
import * as perRetailer from './2026-11-27-004-per-retailer';
import * as leastPrivilege from './2026-11-27-005-least-privilege';
import * as runTimeCoveringIndex from './2026-11-27-006-run-time-covering-index';
import * as hourlyRunRollup from './2026-11-27-009-hourly-run-rollup';
import * as runInMaintenance from './2026-11-27-010-run-in-maintenance';
import * as slackMessages from './2026-11-27-011-slack-messages';
import * as runBaselineFlags from './2026-11-27-012-run-baseline-flags';

export const migrations: Record<string, Migration> = {
  '2026-11-27-001-initial': initial,
  '2026-11-27-002-grafana-reader': grafanaReader,
  '2026-11-27-003-operator-actions': operatorActions,
  '2026-11-27-004-per-retailer': perRetailer,
  '2026-11-27-005-least-privilege': leastPrivilege,
  '2026-11-27-006-run-time-covering-index': runTimeCoveringIndex,
  '2026-11-27-009-hourly-run-rollup': hourlyRunRollup,
  '2026-11-27-010-run-in-maintenance': runInMaintenance,
  '2026-11-27-011-slack-messages': slackMessages,
  '2026-11-27-012-run-baseline-flags': runBaselineFlags,
};
