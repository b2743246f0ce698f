/**
 * The Temporal Runtime logger of `npm start`: warnings and errors as the SDK prints them, except the
 * expected failures of the demo's ingestion runs (a retailer broken on purpose with
 * `npm run demo -- break <retailer> fail`), which the SDK would print as ~50 lines of stack trace each:
 * those become one short line per failed run. The run's workflow failure only repeats its activity's
 * failure, so it is left out (a run failing for another reason still gets its one line).
 */
import { DefaultLogger, type Logger, type LogLevel, type LogMetadata } from '@temporalio/worker';

const FAILURE_MESSAGES = new Set(['Activity failed', 'Workflow failed']);

/** The innermost `cause`'s message: what actually went wrong. */
function rootMessage(error: unknown): string {
  let e = error as { message?: unknown; cause?: unknown } | undefined;
  for (let depth = 0; e?.cause && depth < 10; depth++) e = e.cause as typeof e;
  return typeof e?.message === 'string' ? e.message : String(error);
}

/**
 * A workflow's error that is its activity's failure. Workflow log entries cross from the workflow thread
 * as plain Errors: the class name is lost, the message and cause are kept.
 */
function isActivityFailure(error: unknown): boolean {
  const e = error as { name?: unknown; message?: unknown } | undefined;
  return e?.name === 'ActivityFailure' || e?.message === 'Activity task failed';
}

/** An SDK failure log entry of one of `workflowTypes`' runs. */
function isExpectedFailure(level: LogLevel, message: string, meta: LogMetadata | undefined, workflowTypes: ReadonlySet<string>): boolean {
  return level === 'WARN' && FAILURE_MESSAGES.has(message) && typeof meta?.workflowType === 'string' && workflowTypes.has(meta.workflowType);
}

export class ExpectedFailureLogger implements Logger {
  private readonly workflowTypes: ReadonlySet<string>;
  constructor(
    workflowTypes: Iterable<string>,
    private readonly inner: Logger = new DefaultLogger('WARN'),
    private readonly print: (line: string) => void = (line) => console.log(line),
  ) {
    this.workflowTypes = new Set(workflowTypes);
  }

  log(level: LogLevel, message: string, meta?: LogMetadata): void {
    if (!isExpectedFailure(level, message, meta, this.workflowTypes)) {
      this.inner.log(level, message, meta);
      return;
    }
    if (message === 'Workflow failed' && isActivityFailure(meta?.error)) return;
    const time = new Date().toISOString().slice(11, 19);
    this.print(`${time} ${meta!.workflowType} run ${meta!.workflowId ?? '?'} failed: ${rootMessage(meta!.error)}`);
  }

  trace(message: string, meta?: LogMetadata): void {
    this.log('TRACE', message, meta);
  }
  debug(message: string, meta?: LogMetadata): void {
    this.log('DEBUG', message, meta);
  }
  info(message: string, meta?: LogMetadata): void {
    this.log('INFO', message, meta);
  }
  warn(message: string, meta?: LogMetadata): void {
    this.log('WARN', message, meta);
  }
  error(message: string, meta?: LogMetadata): void {
    this.log('ERROR', message, meta);
  }
}
