/**
 * Exit codes and the translation of driver errors into one readable line each (Temporal's: ./temporal-errors).
 * Scripts branch on the exit code, people read the line; neither should ever see a stack trace.
 */
// The Temporal client's errors are translated in ./temporal-errors, so that this file (every command's,
// --help's) does not load the client.

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
