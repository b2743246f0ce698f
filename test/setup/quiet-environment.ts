/**
 * Quiet tests: jest's node environment, but everything a test file logs — console.log/info/warn/error/debug
 * and writes to process.stderr (where the SDK's Runtime logger and DefaultLogger write, see
 * test/helpers/logs.ts) — is held back and shown only when it matters:
 *
 * - logged while a test runs (its beforeEach/afterEach included): printed when that test fails, dropped
 *   when it passes;
 * - logged outside a test (beforeAll/afterAll, between tests): printed at the end of the file if anything
 *   in it failed (a test or a hook), dropped otherwise.
 *
 * Printed logs go through jest's own console for the file, so they appear under the file's FAIL header.
 * TEST_LOGS=live turns buffering off (everything printed as it happens), e.g. to watch a test that hangs.
 * process.stdout is left alone: writing there is a test's deliberate report.
 */
import { relative } from 'node:path';
import { format } from 'node:util';
import type { EnvironmentContext, JestEnvironmentConfig } from '@jest/environment';
import type { Circus } from '@jest/types';
import NodeEnvironment from 'jest-environment-node';

const CONSOLE_METHODS = ['log', 'info', 'warn', 'error', 'debug', 'trace'] as const;
/** Per buffer; past it the oldest output is dropped (a runaway log should not take the runner down). */
const MAX_BUFFER_CHARS = 4 * 1024 * 1024;

class LogBuffer {
  private chunks: string[] = [];
  private chars = 0;
  private dropped = 0;

  push(text: string): void {
    this.chunks.push(text);
    this.chars += text.length;
    while (this.chars > MAX_BUFFER_CHARS && this.chunks.length > 1) {
      const old = this.chunks.shift()!;
      this.chars -= old.length;
      this.dropped += old.length;
    }
  }

  take(): string {
    const text = (this.dropped ? `[… ${this.dropped} earlier characters dropped …]\n` : '') + this.chunks.join('');
    this.chunks = [];
    this.chars = 0;
    this.dropped = 0;
    return text;
  }
}

/**
 * The SDK's Runtime logger forwards through a collector that orders entries by time and emits them ~0.1-0.2 s
 * late, so a failed test's last lines can arrive after it ends: wait for them before printing (only when
 * something is printed). A passed test's late lines land in the next test's logs; their timestamps say so.
 */
const settle = () => new Promise<void>((resolve) => setTimeout(resolve, 300));

function testName(test: Circus.TestEntry): string {
  const names: string[] = [];
  for (let block: Circus.DescribeBlock | Circus.TestEntry | undefined = test; block; block = block.parent) {
    if (block.name !== 'ROOT_DESCRIBE_BLOCK') names.unshift(block.name);
  }
  return names.join(' › ');
}

export default class QuietEnvironment extends NodeEnvironment {
  private readonly live = process.env.TEST_LOGS === 'live';
  private readonly testPath: string;
  private readonly fileLogs = new LogBuffer();
  private testLogs: LogBuffer | undefined;
  private fileFailed = false;
  private finished = false;
  /** jest's console for this file (set by jest-runner before setup()). */
  private jestConsole: Console | undefined;

  constructor(config: JestEnvironmentConfig, context: EnvironmentContext) {
    super(config, context);
    this.testPath = relative(process.cwd(), context.testPath);
  }

  override async setup(): Promise<void> {
    await super.setup();
    if (this.live) return;
    const jestConsole = this.global.console as Console;
    this.jestConsole = jestConsole;

    const quietConsole = Object.create(jestConsole) as Console;
    for (const method of CONSOLE_METHODS) {
      quietConsole[method] = (...args: unknown[]) => {
        const text = method === 'trace' ? `${format(...args)}\n${new Error().stack?.split('\n').slice(2).join('\n')}` : format(...args);
        this.record(`[console.${method}] ${text}\n`);
      };
    }
    this.global.console = quietConsole;

    // The test file's `process` is jest's copy of the real one; give it a stderr whose write() is buffered
    // (everything else — fd, isTTY, columns, events — is the real stream's).
    const realStderr = process.stderr;
    const quietStderr = Object.create(realStderr) as NodeJS.WriteStream;
    quietStderr.write = ((chunk: string | Uint8Array, encodingOrCb?: unknown, cb?: unknown) => {
      this.record(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString(typeof encodingOrCb === 'string' ? (encodingOrCb as BufferEncoding) : 'utf8'));
      const done = typeof encodingOrCb === 'function' ? encodingOrCb : cb;
      if (typeof done === 'function') queueMicrotask(() => done());
      return true;
    }) as NodeJS.WriteStream['write'];
    Object.defineProperty(this.global.process, 'stderr', { value: quietStderr, configurable: true, writable: true, enumerable: true });
  }

  private record(text: string): void {
    if (this.finished) {
      // After the run (late worker or server shutdown logs): only worth showing for a file that failed.
      if (this.fileFailed) process.stderr.write(text);
      return;
    }
    (this.testLogs ?? this.fileLogs).push(text);
  }

  private print(title: string, text: string): void {
    if (!text) return;
    const out = `${title}\n${text.replace(/\n$/, '')}`;
    if (this.jestConsole) this.jestConsole.log(out);
    else process.stderr.write(`${out}\n`);
  }

  async handleTestEvent(event: Circus.Event, state: Circus.State): Promise<void> {
    if (this.live) return;
    switch (event.name) {
      case 'test_start':
        this.testLogs = new LogBuffer();
        break;
      case 'test_skip':
      case 'test_todo':
        this.testLogs = undefined;
        break;
      case 'test_done': {
        if (event.test.errors.length > 0) {
          this.fileFailed = true;
          await settle();
          this.print(`── logs of the failed test "${testName(event.test)}" ──`, this.testLogs?.take() ?? '');
        }
        this.testLogs = undefined;
        break;
      }
      case 'hook_failure':
        this.fileFailed = true;
        break;
      case 'run_finish':
        if (state.unhandledErrors.length > 0) this.fileFailed = true;
        if (this.fileFailed) await settle();
        if (this.fileFailed) this.print(`── logs outside tests (beforeAll/afterAll, between tests) of ${this.testPath} ──`, this.fileLogs.take());
        else this.fileLogs.take();
        this.finished = true;
        break;
      default:
        break;
    }
  }
}
