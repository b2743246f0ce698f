/**
 * The one SDK module used that is not public API: `@temporalio/common/lib/proto-utils`, whose historyToJSON
 * scripts/record-histories.ts needs to write test/histories/ (the SDK has no public way to write Temporal's
 * JSON history format; protobufjs' own toJSON writes timestamps the replayer cannot read). Under a caret
 * range a minor upgrade may move or change it: this fails loudly when it does, before anyone re-records.
 * Everything else uses public API (src/shared/duration.ts, src/reconciler/decode.ts).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const PIN = '@temporalio/common/lib/proto-utils';
/**
 * Deep paths that are the package's documented entry, not internals: the OpenTelemetry interceptors'
 * workflow side is imported from `lib/workflow` in the SDK's README and samples (the package root pulls
 * in Node-only code the workflow sandbox cannot load). test/tracing.test.ts fails loudly if it changes.
 */
const DOCUMENTED = new Map([['@temporalio/interceptors-opentelemetry/lib/workflow', 'src/observability/workflow-trace-interceptors.ts']]);
const dir = join(__dirname, 'histories');

function protoUtils(): { historyToJSON(h: unknown): string; historyFromJSON(j: unknown): unknown } {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return require(PIN);
  } catch (err) {
    throw new Error(
      `${PIN} is gone after an SDK upgrade (${(err as Error).message}). scripts/record-histories.ts imports historyToJSON from it: ` +
        'find where the SDK moved it, or write the history with `temporal workflow show --output json` instead.',
    );
  }
}

it(`${PIN} still writes the recorded histories byte for byte`, () => {
  const { historyToJSON, historyFromJSON } = protoUtils();
  expect(typeof historyToJSON).toBe('function');
  const files = readdirSync(dir).filter((f) => f.endsWith('.json'));
  expect(files.length).toBeGreaterThan(0);
  for (const file of files) {
    const text = readFileSync(join(dir, file), 'utf8');
    // A difference here means re-recording would write a different format than the committed histories.
    expect({ file, json: historyToJSON(historyFromJSON(JSON.parse(text))) }).toEqual({ file, json: text.trimEnd() });
  }
});

it('no source file imports another SDK-internal path', () => {
  const root = join(__dirname, '..');
  const offenders: string[] = [];
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (/\.ts$/.test(e.name)) {
        for (const m of readFileSync(p, 'utf8').matchAll(/from '(@temporalio\/[^']+\/lib\/[^']+)'/g)) {
          const allowedIn = m[1] === PIN ? join('scripts', 'record-histories.ts') : DOCUMENTED.get(m[1]);
          if (!allowedIn || !p.endsWith(allowedIn)) offenders.push(`${p.slice(root.length + 1)}: ${m[1]}`);
        }
      }
    }
  };
  for (const d of ['src', 'scripts', 'migrations']) walk(join(root, d));
  expect(offenders).toEqual([]);
});
