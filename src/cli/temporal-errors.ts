/**
 * The Temporal SDK's errors translated into one readable CliError each (exit codes in ./errors). Loaded only
 * by the commands that talk to Temporal.
 */
import { NamespaceNotFoundError, ServiceError, WorkflowNotFoundError, WorkflowUpdateFailedError } from '@temporalio/client';
import { CommandRejectedError, UnknownRetailerError } from '../client';
import { InvalidRunReportError } from '../shared/report';
import { CliError, EXIT, notFound, type TemporalTarget, unexpected, usageError } from './errors';

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
