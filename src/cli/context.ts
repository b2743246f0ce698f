/**
 * What every command shares: global options, output (human or --json), and a Temporal client that fails
 * fast. Connection settings come from envconfig (TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, TEMPORAL_API_KEY,
 * profiles…) exactly like the worker; --address / --namespace override them.
 */
import { Client, Connection } from '@temporalio/client';
import { fleetHandle, retailerHandle, type MonitorTarget } from '../client';
import { resolveConnection } from '../connection';
import { CliError, EXIT, type TemporalTarget } from './errors';
import { type GlobalOptions } from './output';
import { credentialsRefused, temporalError } from './temporal-errors';

// Defined in ./output (which --help loads without the client); the commands import them from here.
export { type GlobalOptions, Output } from './output';

/** A CLI must not hang on a dead server: give up connecting after this long. */
export const CONNECT_TIMEOUT_MS = 4_000;
/** Queries need a worker; without one the server waits, so every call gets a deadline. */
export const RPC_TIMEOUT_MS = 10_000;

export interface Temporal {
  client: Client;
  target: TemporalTarget;
  /** Where the monitors are (fleet workflow id); for the client helpers in src/client.ts. */
  monitors: MonitorTarget;
  /** Run one RPC under the deadline, translating SDK errors into CliErrors. */
  call<T>(fn: () => Promise<T>): Promise<T>;
  /** The fleet workflow (fleet thresholds, expected retailers, incidents and alerts across retailers). */
  fleet(): ReturnType<typeof fleetHandle>;
  /** One retailer's monitor (`ingestion-monitor/<retailer>`). */
  retailer(retailer: string): ReturnType<typeof retailerHandle>;
  close(): Promise<void>;
}

export async function connectTemporal(g: GlobalOptions): Promise<Temporal> {
  const env = { ...process.env };
  if (g.address) env.TEMPORAL_ADDRESS = g.address;
  if (g.namespace) env.TEMPORAL_NAMESPACE = g.namespace;
  let resolved: ReturnType<typeof resolveConnection>;
  try {
    resolved = resolveConnection(env);
  } catch (err) {
    // A broken profile file or TLS setting is a configuration mistake, not a network failure.
    throw new CliError(`bad Temporal connection settings: ${(err as Error).message}`, EXIT.usage);
  }
  const target: TemporalTarget = { address: resolved.address, namespace: resolved.namespace, workflowId: g.workflowId };
  let connection: Connection;
  try {
    connection = await Connection.connect({ ...resolved.options, connectTimeout: CONNECT_TIMEOUT_MS });
  } catch (err) {
    throw credentialsRefused(err, target) ?? new CliError(`cannot reach Temporal at ${target.address} — is the server running? (TEMPORAL_ADDRESS / --address)`, EXIT.unreachable);
  }
  const client = new Client({ connection, namespace: target.namespace });
  const monitors: MonitorTarget = { workflowId: g.workflowId, retailerWorkflowIdPrefix: g.retailerPrefix };
  return {
    client,
    target,
    monitors,
    async call(fn) {
      try {
        return await client.withDeadline(Date.now() + RPC_TIMEOUT_MS, fn);
      } catch (err) {
        throw temporalError(err, target, RPC_TIMEOUT_MS);
      }
    },
    fleet: () => fleetHandle(client, monitors),
    retailer: (retailer) => retailerHandle(client, retailer, monitors),
    close: () => connection.close(),
  };
}

/** Connect, run, always close (an open gRPC channel would keep the process alive). */
export async function withTemporal<T>(g: GlobalOptions, fn: (t: Temporal) => Promise<T>): Promise<T> {
  const t = await connectTemporal(g);
  try {
    return await fn(t);
  } finally {
    await t.close().catch(() => undefined);
  }
}
