/**
 * Every migration, in order. A static list (rather than a folder scan) so migrations run the same under
 * tsx, ts-jest and compiled JavaScript. Add new files here with a name that sorts after the last one.
 */
import type { Migration } from 'kysely';
import * as initial from './2026-11-27-001-initial';

export const migrations: Record<string, Migration> = {
  '2026-11-27-001-initial': initial,
};
