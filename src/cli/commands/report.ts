/**
 * `report`: send a run report by hand (a run that could not report, a test of the alert path).
 * Same path as every ingestion run: reportIngestionRun, i.e. validate then signal-with-start, so it works
 * even before the monitor is running — which is why it needs the monitor's task queue.
 */
import { readFile } from 'node:fs/promises';
import { reportIngestionRun } from '../../client';
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

export async function report(g: GlobalOptions, out: Output, o: ReportCommandOptions): Promise<void> {
  const reports = await reportsFor(o, Date.now());
  await withTemporal(g, async (t) => {
    // One at a time, in order: the monitor treats an older finishedAt as out of order.
    for (const r of reports) await t.call(() => reportIngestionRun(t.client, r, { workflowId: g.workflowId, taskQueue: o.taskQueue }));
  });
  const lines = reports.map((r) => `reported ${r.status} run ${r.runId} for ${r.retailer}${r.skuCount !== undefined ? ` (${r.skuCount} SKUs)` : ''}`);
  lines.push(`sent to monitor "${g.workflowId}" (task queue ${o.taskQueue}); see it with: ingestion-monitor retailer ${reports[0]!.retailer}`);
  out.result(lines.join('\n'), { ok: true, sent: reports.length === 1 ? reports[0] : reports, workflowId: g.workflowId });
}
