/**
 * The report schema cleans strings before it checks or cuts them, so nothing it accepts can be refused by
 * Postgres (NUL → 22021, year 0 → 22008) or turn into invalid JSON (a surrogate pair split by a cut).
 */
import { cutCodePoints, LIMITS, parseRunReport, sanitizeText } from '../src/shared/report';
import { acknowledgeArgsSchema, silenceArgsSchema } from '../src/shared/operator';

const base = {
  runId: 'checkers-2026-11-27T10:00',
  retailer: 'checkers',
  status: 'failure',
  startedAt: '2026-11-27T10:00:00Z',
  finishedAt: '2026-11-27T10:07:12Z',
};

/** True when `s` has no unpaired surrogate (what encodeURIComponent refuses). */
const wellFormed = (s: string) => {
  try {
    encodeURIComponent(s);
    return true;
  } catch {
    return false;
  }
};

function accepted(input: Record<string, unknown>) {
  const r = parseRunReport(input);
  if (!r.ok) throw new Error(`expected the report to be accepted, got: ${r.reason}`);
  return r.report;
}

describe('report sanitising', () => {
  it('strips NUL and other control characters from runId and error (keeping newline and tab in error)', () => {
    const report = accepted({ ...base, runId: 'run\u0000-1\u001b', error: 'boom\u0000\r\n\tat x\u0007' });
    expect(report.runId).toBe('run-1');
    expect(report.error).toBe('boom\n\tat x');
  });

  it('strips control characters from every identifier field', () => {
    const report = accepted({ ...base, schedule: 'ingest\u0000-checkers', workflowId: 'wf\u0001', workflowRunId: 'r\u0000un' });
    expect(report).toMatchObject({ schedule: 'ingest-checkers', workflowId: 'wf', workflowRunId: 'run' });
  });

  it('rejects a runId that is empty once control characters are stripped', () => {
    const r = parseRunReport({ ...base, runId: '\u0000\u0000' });
    expect(r.ok).toBe(false);
    expect(!r.ok && r.reason).toMatch(/runId.*empty/);
  });

  it('checks lengths after stripping: a runId padded with NULs past the limit is accepted', () => {
    const runId = `${'a'.repeat(LIMITS.runIdMax)}${'\u0000'.repeat(50)}`;
    expect(accepted({ ...base, runId }).runId).toBe('a'.repeat(LIMITS.runIdMax));
  });

  it('replaces lone surrogates with U+FFFD, keeping real pairs', () => {
    const report = accepted({ ...base, runId: 'run-\uD800-1', error: 'bad \uDC00 and good 😀 and \uD83D' });
    expect(report.runId).toBe('run-\uFFFD-1');
    expect(report.error).toBe('bad \uFFFD and good 😀 and \uFFFD');
    expect(wellFormed(report.error!)).toBe(true);
  });

  it('cuts the error at a code-point boundary, never between the halves of a surrogate pair', () => {
    // 1999 'x' then emoji: the cut falls exactly where the naive UTF-16 slice would split the pair.
    for (const pad of [LIMITS.errorMax - 2, LIMITS.errorMax - 1, LIMITS.errorMax]) {
      const error = `${'x'.repeat(pad)}${'😀'.repeat(20)}`;
      const out = accepted({ ...base, error }).error!;
      expect(wellFormed(out)).toBe(true);
      expect(out.endsWith('…')).toBe(true);
      expect(Array.from(out)).toHaveLength(LIMITS.errorMax);
      expect(JSON.parse(JSON.stringify(out))).toBe(out);
    }
    const emoji = '😀'.repeat(LIMITS.errorMax + 10);
    const cut = accepted({ ...base, error: emoji }).error!;
    expect(cut).toBe(`${'😀'.repeat(LIMITS.errorMax - 1)}…`);
  });

  it('keeps a text of exactly the limit in code points whole, even when it is longer in UTF-16 units', () => {
    expect(cutCodePoints('😀'.repeat(5), 5)).toBe('😀'.repeat(5));
    expect(cutCodePoints('😀'.repeat(6), 5)).toBe(`${'😀'.repeat(4)}…`);
    expect(cutCodePoints('abc', 3)).toBe('abc');
    expect(cutCodePoints('abcd', 3)).toBe('ab…');
  });

  it('rejects year 0 (Postgres refuses it with 22008) and dates outside 2000–2100, with a clear reason', () => {
    const r = parseRunReport({ ...base, startedAt: '0000-01-01T00:00:00Z' });
    expect(r.ok).toBe(false);
    expect(!r.ok && r.reason).toMatch(/startedAt: must be between the years 2000 and 2100/);
    expect(parseRunReport({ ...base, finishedAt: '2101-01-01T00:00:00Z' }).ok).toBe(false);
    expect(parseRunReport({ ...base, startedAt: '1999-12-31T23:59:59Z' }).ok).toBe(false);
    expect(parseRunReport({ ...base, lastScrapeAt: '0000-01-01T00:00:00Z' }).ok).toBe(false);
    expect(parseRunReport({ ...base, startedAt: '2000-01-01T00:00:00Z', finishedAt: '2100-12-31T23:59:59Z' }).ok).toBe(true);
  });

  it('accepts a 1 MB error string (cut, not rejected) and parses it fast', () => {
    const error = `${'stack frame\u0000\n'.repeat(80_000)}`.slice(0, 1_000_000);
    const t0 = performance.now();
    const report = accepted({ ...base, error });
    const ms = performance.now() - t0;
    expect(report.error!.includes('\u0000')).toBe(false);
    expect(Array.from(report.error!).length).toBeLessThanOrEqual(LIMITS.errorMax);
    expect(report.error!.endsWith('…')).toBe(true);
    // Generous bound against a quadratic regression, not a benchmark: linear work on 1 MB takes a few ms.
    expect(ms).toBeLessThan(500);
  });

  it('echoes a rejected report’s runId cleaned, so a rejection never carries a NUL', () => {
    const r = parseRunReport({ ...base, runId: 'x\u0000y', startedAt: 'nope' });
    expect(r.ok).toBe(false);
    expect(!r.ok && r.runId).toBe('xy');
  });
});

describe('sanitizeText', () => {
  it('cleans and cuts free text; singleLine turns tabs and newlines into spaces', () => {
    expect(sanitizeText('a\u0000b\nc\td\u0085', 100)).toBe('ab\nc\td\u0085');
    expect(sanitizeText('a\n\tb\u0000', 100, { singleLine: true })).toBe('a b');
    expect(sanitizeText('\uD800x', 100)).toBe('\uFFFDx');
    expect(sanitizeText('héllo wörld', 5)).toBe('héll…');
  });

  it('is used for operator reasons, notes and names', () => {
    const silence = silenceArgsSchema().parse({
      retailer: 'spar',
      until: '2026-11-28T00:00:00Z',
      reason: `maintenance\u0000 ${'😀'.repeat(600)}`,
      by: 'ops\u0000\nalice',
    });
    expect(silence.reason.includes('\u0000')).toBe(false);
    expect(wellFormed(silence.reason)).toBe(true);
    expect(Array.from(silence.reason)).toHaveLength(500);
    expect(silence.by).toBe('ops alice');
    expect(silenceArgsSchema().safeParse({ retailer: 'spar', until: '2026-11-28T00:00:00Z', reason: '\u0000 ' }).success).toBe(false);
    expect(acknowledgeArgsSchema().parse({ incidentId: 'spar/stale/1', note: 'seen\uDC00' }).note).toBe('seen\uFFFD');
  });
});
