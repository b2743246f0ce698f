/** Shared by the alert-channel tests: what an activity threw, and a logger that keeps every line. */
import { ApplicationFailure } from '@temporalio/common';
import type { LogLevel, LogMetadata, Logger } from '@temporalio/common';

/** The ApplicationFailure `p` rejects with (fails the test if it resolves or throws anything else). */
export async function thrown(p: Promise<unknown>): Promise<ApplicationFailure> {
  const err = await p.then(
    (v) => {
      throw new Error(`expected a throw, got ${JSON.stringify(v)}`);
    },
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ApplicationFailure);
  return err as ApplicationFailure;
}

/** A logger that keeps every line, to prove no secret is logged. */
export function capturingLogger(lines: string[]): Logger {
  const push = (level: string) => (message: string, meta?: LogMetadata) => void lines.push(`${level} ${message} ${JSON.stringify(meta ?? {})}`);
  return {
    log: (level: LogLevel, message: string, meta?: LogMetadata) => push(level)(message, meta),
    trace: push('TRACE'),
    debug: push('DEBUG'),
    info: push('INFO'),
    warn: push('WARN'),
    error: push('ERROR'),
  };
}
