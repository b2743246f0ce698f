/**
 * Temporal connection settings the Temporal way: `@temporalio/envconfig` reads the profile file
 * (TEMPORAL_CONFIG_FILE / ~/.config/temporalio/temporal.toml) and TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE,
 * TEMPORAL_API_KEY, TEMPORAL_TLS_* … so the same worker runs against the dev server, a self-hosted cluster
 * or Temporal Cloud.
 */
import { Client, Connection, type ClientInterceptors } from '@temporalio/client';
import { loadClientConnectConfig } from '@temporalio/envconfig';
// Only the worker needs @temporalio/worker (the Rust core, about half a second to load): the CLI, which
// imports this file for its client connection, never loads it.
import type { NativeConnection } from '@temporalio/worker';

export interface ResolvedConnection {
  address: string;
  namespace: string;
  options: ReturnType<typeof loadClientConnectConfig>['connectionOptions'];
}

export function resolveConnection(env: NodeJS.ProcessEnv = process.env): ResolvedConnection {
  const { connectionOptions, namespace } = loadClientConnectConfig({ overrideEnvVars: env as Record<string, string> });
  const address = connectionOptions.address ?? 'localhost:7233';
  return { address, namespace: namespace ?? 'default', options: { ...connectionOptions, address } };
}

/** `interceptors`: e.g. the tracing client interceptors (src/observability/tracing.ts) when tracing is on. */
export async function connectClient(env: NodeJS.ProcessEnv = process.env, opts: { interceptors?: ClientInterceptors } = {}): Promise<Client> {
  const c = resolveConnection(env);
  const connection = await Connection.connect(c.options);
  return new Client({ connection, namespace: c.namespace, ...(opts.interceptors ? { interceptors: opts.interceptors } : {}) });
}

export async function connectWorker(env: NodeJS.ProcessEnv = process.env): Promise<{ connection: NativeConnection; namespace: string }> {
  const c = resolveConnection(env);
  const { NativeConnection: Native } = require('@temporalio/worker') as typeof import('@temporalio/worker');
  return { connection: await Native.connect(c.options), namespace: c.namespace };
}
