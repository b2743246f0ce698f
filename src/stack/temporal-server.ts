/**
 * A local Temporal dev server (`temporal server start-dev`, the successor of Temporalite) for `npm start`,
 * persisted in a SQLite file so the monitor's state survives restarts. The CLI comes from
 * TEMPORAL_CLI_PATH or PATH; only where neither has it does the SDK download one (needs the internet).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { TestWorkflowEnvironment } from '@temporalio/testing';

export interface LocalTemporal {
  address: string;
  uiUrl: string;
  cli: string;
  env: TestWorkflowEnvironment;
  stop(): Promise<void>;
}

/** TEMPORAL_CLI_PATH, else `temporal` on PATH (pyenv shims resolved to the real file), else undefined. */
export function findTemporalCli(env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (env.TEMPORAL_CLI_PATH) {
    if (!existsSync(env.TEMPORAL_CLI_PATH)) throw new Error(`TEMPORAL_CLI_PATH=${env.TEMPORAL_CLI_PATH} does not exist`);
    return env.TEMPORAL_CLI_PATH;
  }
  for (const [cmd, ...args] of [['pyenv', 'which', 'temporal'], ['which', 'temporal']]) {
    try {
      const p = execFileSync(cmd!, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
      if (p && existsSync(p)) return p;
    } catch {
      // not this way
    }
  }
  return undefined;
}

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
