/**
 * `report`: send a run report by hand (a run that could not report, a test of the alert path).
 * Same path as every ingestion run: reportIngestionRun, i.e. validate then Update-with-Start on the
 * retailer's monitor, so it works even before that monitor is running — which is why it needs the
 * monitor's task queue. Prints each report's verdict (accepted / duplicate / out of order, health,
 * incidents opened or resolved).
 */
import { readFile } from 'node:fs/promises';
import { reportIngestionRun } from '../../client';
import type { RunVerdict } from '../../shared/messages';
import type { RunReportInput } from '../../shared/report';
import { reportFromOptions, reportsFromJson, type ReportOptions } from '../args';
import { type GlobalOptions, Output, withTemporal } from '../context';
import { usageError } from '../errors';

export interface ReportCommandOptions extends ReportOptions {
  file?: string;
  taskQueue: string;
}

const FIELD_FLAGS: (keyof ReportOptions)[] = ['retailer', 'status', 'skuCount', 'promoCount', 'startedAt', 'finishedAt', 'error', 'runId', 'schedule'];

async function readInput(file: string): Promise<string> {
  if (file !== '-') {
    try {
      return await readFile(file, 'utf8');
    } catch (err) {
      throw usageError(`cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    }
  }
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

async function reportsFor(o: ReportCommandOptions, now: number): Promise<RunReportInput[]> {
  if (o.file === undefined) return [reportFromOptions(o, now)];
  // Mixing the two would leave it unclear which value wins; the file is the whole report.
  const mixed = FIELD_FLAGS.filter((k) => o[k] !== undefined);
  if (mixed.length) throw usageError(`--file cannot be combined with ${mixed.map((k) => `--${k.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`).join(', ')}`);
  return reportsFromJson(await readInput(o.file), o.file === '-' ? 'stdin' : o.file, now);
}

/** One line per verdict: `reported failure run r1 for checkers: accepted; checkers unhealthy; opened checkers/consecutive_failures/1`. */
export function describeVerdict(r: RunReportInput, v: RunVerdict): string {
  const parts = [`reported ${r.status} run ${r.runId} for ${r.retailer}${r.skuCount !== undefined ? ` (${r.skuCount} SKUs)` : ''}: ${v.outcome.replace('_', ' ')}`];
  parts.push(`${v.retailer} ${v.health}`);
  if (v.opened.length) parts.push(`opened ${v.opened.map((i) => i.id).join(', ')}`);
  if (v.resolved.length) parts.push(`resolved ${v.resolved.map((i) => i.id).join(', ')}`);
  return parts.join('; ');
}

export async function report(g: GlobalOptions, out: Output, o: ReportCommandOptions): Promise<void> {
  const reports = await reportsFor(o, Date.now());
  const verdicts = await withTemporal(g, async (t) => {
    const answers: RunVerdict[] = [];
    // One at a time, in order: the monitor treats an older finishedAt as out of order.
    for (const r of reports) answers.push(await t.call(() => reportIngestionRun(t.client, r, { ...t.monitors, taskQueue: o.taskQueue })));
    return answers;
  });
  const lines = reports.map((r, i) => describeVerdict(r, verdicts[i]!));
  lines.push(`see it with: ingestion-monitor retailer ${reports[0]!.retailer}`);
  out.result(lines.join('\n'), {
    ok: true,
    sent: reports.length === 1 ? reports[0] : reports,
    verdict: verdicts.length === 1 ? verdicts[0] : verdicts,
  });
}
