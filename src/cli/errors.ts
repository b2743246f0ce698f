/**
 * Exit codes and the translation of SDK / driver errors into one readable line each.
 * Scripts branch on the exit code, people read the line; neither should ever see a stack trace.
 */
import { NamespaceNotFoundError, ServiceError, WorkflowNotFoundError, WorkflowUpdateFailedError } from '@temporalio/client';
import { CommandRejectedError, UnknownRetailerError } from '../client';
import { InvalidRunReportError } from '../shared/report';

export const EXIT = { ok: 0, unexpected: 1, usage: 2, notFound: 3, unreachable: 4 } as const;

export const EXIT_CODES_HELP = `
Exit codes:
  0  ok
  1  unexpected error (including a monitor that did not answer in time)
  2  bad arguments or usage
  3  not found or refused: unknown retailer or incident, a command the monitor refused,
     or the fleet workflow is not running (nothing was changed or created)
  4  cannot connect to Temporal (or, for migrate, to the database)`;

export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: number,
  ) {
    super(message);
    this.name = 'CliError';
  }
}

export const usageError = (message: string) => new CliError(message, EXIT.usage);
export const notFound = (message: string) => new CliError(message, EXIT.notFound);

/** What the error messages need to name the thing that went wrong. */
export interface TemporalTarget {
  address: string;
  namespace: string;
  workflowId: string;
}

/** gRPC status codes we give their own message (https://grpc.github.io/grpc/core/md_doc_statuscodes.html). */
const GRPC = { deadlineExceeded: 4, permissionDenied: 7, unavailable: 14, unauthenticated: 16 } as const;

function grpcCode(err: unknown): number | undefined {
  const cause = err instanceof ServiceError ? err.cause : err;
  const code = (cause as { code?: unknown } | undefined)?.code;
  return typeof code === 'number' ? code : undefined;
}

export function temporalError(err: unknown, t: TemporalTarget, rpcTimeoutMs: number): CliError {
  if (err instanceof CliError) return err;
  if (err instanceof InvalidRunReportError) return usageError(err.message);
  // A retailer with no running monitor: commandRetailer checked before sending, so nothing was created.
  if (err instanceof UnknownRetailerError) return notFound(`${err.message}; see \`status\` for the retailers`);
  // The monitor's validator (or handler) said no: unknown incident, bad arguments …
  if (err instanceof CommandRejectedError) return notFound(err.message);
  if (err instanceof WorkflowUpdateFailedError) return notFound(`refused: ${err.cause?.message ?? err.message}`);
  if (err instanceof WorkflowNotFoundError) {
    return notFound(
      `monitor workflow "${t.workflowId}" is not running in namespace "${t.namespace}" ` +
        '(check --workflow-id / MONITOR_WORKFLOW_ID, or start the monitor worker: `npm run worker` or `npm start`)',
    );
  }
  if (err instanceof NamespaceNotFoundError) return notFound(`namespace "${t.namespace}" does not exist on Temporal at ${t.address}`);
  switch (grpcCode(err)) {
    case GRPC.deadlineExceeded:
      return new CliError(
        `the monitor did not answer within ${rpcTimeoutMs / 1000} s — is its worker running (MONITOR_TASK_QUEUE)?`,
        EXIT.unexpected,
      );
    case GRPC.unavailable:
      return new CliError(`lost the connection to Temporal at ${t.address}`, EXIT.unreachable);
  }
  return credentialsRefused(err, t) ?? unexpected(err);
}

/** Wrong API key / mTLS identity: still "cannot connect" (4), but with a message that says why. */
export function credentialsRefused(err: unknown, t: TemporalTarget): CliError | undefined {
  const code = grpcCode(err);
  if (code !== GRPC.unauthenticated && code !== GRPC.permissionDenied) return undefined;
  return new CliError(
    `Temporal at ${t.address} refused the credentials for namespace "${t.namespace}" (TEMPORAL_API_KEY / TEMPORAL_TLS_*)`,
    EXIT.unreachable,
  );
}

export function unexpected(err: unknown): CliError {
  if (err instanceof CliError) return err;
  return new CliError(`unexpected error: ${err instanceof Error ? err.message : String(err)}`, EXIT.unexpected);
}

/** Node socket errors and Postgres SQLSTATE classes that mean "could not get a usable connection". */
const NET_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ECONNRESET']);
const isPgConnectionState = (code: string) => code.startsWith('08') || code.startsWith('28') || code === '3D000' || code === '57P03';

/** The deepest cause that explains a database failure, and whether it is a connection problem. */
export function databaseFailure(err: unknown): { connection: boolean; message: string } {
  for (let e: unknown = err, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth++) {
    const code = (e as { code?: unknown }).code;
    // `connect ECONNREFUSED` arrives as an AggregateError (one per resolved address) with an empty message.
    const message = e.message || (e instanceof AggregateError ? String(e.errors[0]?.message ?? code) : String(code));
    if (typeof code === 'string' && (NET_CODES.has(code) || isPgConnectionState(code))) return { connection: true, message };
    if (/timeout|terminated unexpectedly|ECONNREFUSED/i.test(message)) return { connection: true, message };
  }
  return { connection: false, message: err instanceof Error ? err.message : String(err) };
}
