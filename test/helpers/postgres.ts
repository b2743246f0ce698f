/**
 * A fresh, migrated database per test file on the real Postgres server (TEST_DATABASE_URL, default the
 * machine's local server), dropped afterwards. Separate databases keep test files independent.
 */
import type { Kysely } from 'kysely';
import { Client } from 'pg';
import { createDb, migrateToLatest } from '../../src/db/database';
import type { Database } from '../../src/db/schema';

export const ADMIN_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

export interface TestDatabase {
  url: string;
  name: string;
  db: Kysely<Database>;
  drop(): Promise<void>;
}

function withDatabase(url: string, name: string): string {
  const u = new URL(url);
  u.pathname = `/${name}`;
  return u.toString();
}

/** Run `fn` on a connection to the admin database (TEST_DATABASE_URL). */
export async function admin<T>(fn: (c: Client) => Promise<T>): Promise<T> {
  const c = new Client({ connectionString: ADMIN_URL });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

export async function createTestDatabase(prefix = 'im_test', opts: { migrate?: boolean } = {}): Promise<TestDatabase> {
  const name = `${prefix}_${process.pid}_${Date.now().toString(36)}_${Math.floor(Math.random() * 1e6)}`;
  await admin((c) => c.query(`CREATE DATABASE ${name}`));
  const url = withDatabase(ADMIN_URL, name);
  const db = createDb(url);
  if (opts.migrate !== false) await migrateToLatest(db);
  return {
    url,
    name,
    db,
    async drop() {
      await db.destroy();
      await admin((c) => c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`));
    },
  };
}

/**
 * An `alert_events` row the fleet has completed with its channels' outcomes. The monitor that fires an alert
 * writes its row first, delivery pending (an empty list), so a test that waits for rows must wait for this.
 */
export const deliveryRecorded = (row: { delivery: unknown }): boolean => Array.isArray(row.delivery) && row.delivery.length > 0;
