/**
 * Operator signals: replay, reprocess, silence, unsilence, ack, thresholds. Arguments are validated before
 * connecting, so a typo never needs a server to be reported, and a bad value never reaches the workflow.
 */
import type { WorkflowHandle } from '@temporalio/client';
import type { Incident } from '../../rules/types';
import {
  acknowledgeSignal,
  incidentsQuery,
  replaySignal,
  reprocessSignal,
  setThresholdsSignal,
  silenceSignal,
  unsilenceSignal,
} from '../../shared/messages';
import * as args from '../args';
import { type GlobalOptions, Output, type Temporal, withTemporal } from '../context';
import { CliError, EXIT, notFound } from '../errors';
import { formatAge, formatThresholdChanges } from '../format';

type Handle = ReturnType<Temporal['monitor']>;

/** Signal the running monitor (no signal-with-start: operator actions must not conjure up a monitor). */
async function send<A>(g: GlobalOptions, fn: (h: Handle) => Promise<A>): Promise<A> {
  return withTemporal(g, (t) => t.call(() => fn(t.monitor())));
}

function sent(out: Output, what: string, payload: object, human: string): void {
  out.result(human, { ok: true, sent: { signal: what, ...payload } });
}

export async function replay(g: GlobalOptions, out: Output, retailer: string, o: { by: string }, uiUrl: string): Promise<void> {
  const a = args.replayArgs({ retailer, by: o.by });
  const namespace = await withTemporal(g, async (t) => {
    await t.call(() => t.monitor().signal(replaySignal, a));
    return t.target.namespace;
  });
  sent(out, 'replay', a, [
    `replay of ${a.retailer} sent to monitor "${g.workflowId}" (by ${a.by})`,
    'The run reports back like any other run; watch it with:',
    `  ingestion-monitor retailer ${a.retailer}`,
    `  ${uiUrl}/namespaces/${encodeURIComponent(namespace)}/workflows/${encodeURIComponent(g.workflowId)}`,
  ].join('\n'));
}

export async function reprocess(g: GlobalOptions, out: Output, retailer: string, o: { from: string; to: string; by: string }): Promise<void> {
  const a = args.reprocessArgs({ retailer, from: o.from, to: o.to, by: o.by });
  await send(g, (h) => h.signal(reprocessSignal, a));
  sent(out, 'reprocess', a, `reprocess of ${a.retailer} from ${a.from} to ${a.to} sent (by ${a.by}); check it with: ingestion-monitor retailer ${a.retailer}`);
}

export async function silence(
  g: GlobalOptions,
  out: Output,
  retailer: string,
  o: { rule?: string; for?: string; until?: string; reason?: string; by: string },
): Promise<void> {
  const now = Date.now();
  const a = args.silenceArgs({ retailer, ...o }, now);
  await send(g, (h) => h.signal(silenceSignal, a));
  const scope = a.rule && a.rule !== '*' ? `rule ${a.rule} of ${a.retailer}` : `all rules of ${a.retailer}`;
  sent(out, 'silence', a, `silenced ${scope} until ${a.until} (${formatAge(Date.parse(a.until), now)}): ${a.reason}`);
}

export async function unsilence(g: GlobalOptions, out: Output, retailer: string, o: { rule?: string }): Promise<void> {
  const a = args.unsilenceArgs({ retailer, rule: o.rule });
  await send(g, (h) => h.signal(unsilenceSignal, a));
  sent(out, 'unsilence', a, `removed the ${a.rule && a.rule !== '*' ? `${a.rule} silence` : 'silences'} of ${a.retailer}`);
}

export async function thresholds(g: GlobalOptions, out: Output, o: args.ThresholdOptions): Promise<void> {
  const a = args.thresholdsArgs(o);
  await send(g, (h) => h.signal(setThresholdsSignal, a));
  sent(out, 'setThresholds', a, `thresholds for ${a.retailer ?? 'all retailers (defaults)'} set: ${formatThresholdChanges(a.thresholds)}`);
}

/** How long `ack` waits to see its acknowledgement in the incidents query. */
const ACK_CONFIRM_MS = 3_000;

export async function ack(g: GlobalOptions, out: Output, incidentId: string, o: { note?: string; by: string }): Promise<void> {
  const a = args.ackArgs({ incidentId, by: o.by, note: o.note });
  const incident = await withTemporal(g, async (t) => {
    const h = t.monitor();
    const before = findIncident(await t.call(() => h.query(incidentsQuery)), a.incidentId);
    await t.call(() => h.signal(acknowledgeSignal, a));
    return confirmAck(t, h, a.incidentId, before.acknowledged?.at);
  });
  out.result(
    `acknowledged ${incident.id} (${incident.retailer}, ${incident.rule}) as ${incident.acknowledged!.by}${a.note ? `: ${a.note}` : ''}; re-notifications stop`,
    { ok: true, sent: { signal: 'acknowledge', ...a }, incident },
  );
}

function findIncident(list: Incident[], id: string): Incident {
  const found = list.find((i) => i.id === id);
  if (found) return found;
  const open = list.map((i) => i.id).join(', ');
  throw notFound(`no open incident "${id}"${open ? ` (open: ${open})` : ' (there are no open incidents)'}`);
}

/** The signal is async; poll the query briefly so the exit code means "acknowledged", not just "sent". */
async function confirmAck(t: Temporal, h: WorkflowHandle, id: string, previousAckAt: number | undefined): Promise<Incident> {
  const deadline = Date.now() + ACK_CONFIRM_MS;
  for (;;) {
    const list = await t.call(() => h.query(incidentsQuery));
    const inc = list.find((i) => i.id === id);
    if (!inc) throw notFound(`incident "${id}" closed before the acknowledgement was confirmed`);
    if (inc.acknowledged && inc.acknowledged.at !== previousAckAt) return inc;
    if (Date.now() > deadline) {
      throw new CliError(`acknowledgement of "${id}" was sent but not confirmed within ${ACK_CONFIRM_MS / 1000} s; check \`incidents\``, EXIT.unexpected);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
}
