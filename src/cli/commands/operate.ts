/**
 * Operator commands: replay, reprocess, silence, unsilence, ack, thresholds, expect. Each is an Update that
 * answers: sent to the retailer's *running* monitor (commandRetailer: never with-start, so a typo cannot
 * create a retailer), or to the fleet workflow for fleet-wide settings. An unknown retailer or incident, or
 * a command the monitor refuses, is exit 3 with the reason, and nothing is changed or created.
 * Arguments are validated before connecting, so a typo never needs a server to be reported.
 */
import type { UpdateDefinition } from '@temporalio/client';
import { CommandRejectedError, commandRetailer, UnknownRetailerError } from '../../client';
import {
  acknowledgeUpdate,
  replayUpdate,
  reprocessUpdate,
  retailerIncidentsQuery,
  retailerOfIncident,
  retailerWorkflowId,
  setExpectedRetailersUpdate,
  setFleetThresholdsUpdate,
  setThresholdsUpdate,
  silenceUpdate,
  unsilenceUpdate,
  type OperatorResult,
} from '../../shared/messages';
import { slugSchema } from '../../shared/operator';
import * as args from '../args';
import { type GlobalOptions, Output, RPC_TIMEOUT_MS, type Temporal, withTemporal } from '../context';
import { notFound } from '../errors';
import { temporalError } from '../temporal-errors';
import { formatAge, formatThresholdChanges, formatThresholds, type IncidentView } from '../format';

/** Run an operator Update on a retailer's running monitor (errors become exit 3 in temporalError). */
function onRetailer<Args extends [any, ...any[]]>(t: Temporal, retailer: string, update: UpdateDefinition<OperatorResult, Args>, a: Args): Promise<OperatorResult> {
  return t.call(() => commandRetailer(t.client, retailer, update, a, t.monitors));
}

/** One retailer command: connect, send, answer. */
export function command<Args extends [any, ...any[]]>(g: GlobalOptions, retailer: string, update: UpdateDefinition<OperatorResult, Args>, a: Args) {
  return withTemporal(g, async (t) => ({ result: await onRetailer(t, retailer, update, a), namespace: t.target.namespace }));
}

export function done(out: Output, update: string, a: object, result: object, human: string): void {
  out.result(human, { ok: true, update, args: a, result });
}

export async function replay(g: GlobalOptions, out: Output, retailer: string, o: { by: string }, uiUrl: string): Promise<void> {
  const a = args.replayArgs({ retailer, by: o.by });
  const { result, namespace } = await command(g, a.retailer, replayUpdate, [a]);
  done(out, 'replay', a, result, [
    `${result.message} (by ${a.by})`,
    'The run reports back like any other run; watch it with:',
    `  ingestion-monitor retailer ${a.retailer}`,
    `  ${uiUrl}/namespaces/${encodeURIComponent(namespace)}/workflows/${encodeURIComponent(retailerWorkflowId(a.retailer))}`,
  ].join('\n'));
}

export async function reprocess(g: GlobalOptions, out: Output, retailer: string, o: { from: string; to: string; by: string }): Promise<void> {
  const a = args.reprocessArgs({ retailer, from: o.from, to: o.to, by: o.by });
  const { result } = await command(g, a.retailer, reprocessUpdate, [a]);
  done(out, 'reprocess', a, result, `${result.message} (${a.from} .. ${a.to}, by ${a.by}); check it with: ingestion-monitor retailer ${a.retailer}`);
}

export async function silence(
  g: GlobalOptions,
  out: Output,
  retailer: string,
  o: { rule?: string; for?: string; until?: string; reason?: string; by: string },
): Promise<void> {
  const now = Date.now();
  const a = args.silenceArgs({ retailer, ...o }, now);
  const { result } = await command(g, a.retailer, silenceUpdate, [a]);
  const scope = a.rule && a.rule !== '*' ? `rule ${a.rule} of ${a.retailer}` : `all rules of ${a.retailer}`;
  done(out, 'silence', a, result, `silenced ${scope} until ${a.until} (${formatAge(Date.parse(a.until), now)}): ${a.reason}`);
}

export async function unsilence(g: GlobalOptions, out: Output, retailer: string, o: { rule?: string }): Promise<void> {
  const a = args.unsilenceArgs({ retailer, rule: o.rule });
  const { result } = await command(g, a.retailer, unsilenceUpdate, [a]);
  done(out, 'unsilence', a, result, result.message);
}

export async function thresholds(g: GlobalOptions, out: Output, o: args.ThresholdOptions): Promise<void> {
  const a = args.thresholdsArgs(o);
  const changes = formatThresholdChanges(a.thresholds);
  if (a.retailer !== undefined) {
    const { result } = await command(g, a.retailer, setThresholdsUpdate, [a]);
    done(out, 'setThresholds', a, result, `thresholds for ${a.retailer} set: ${changes}`);
    return;
  }
  // Everyone's defaults: the fleet workflow keeps them and pushes them to every retailer monitor.
  const result = await withTemporal(g, (t) => t.call(() => t.fleet().executeUpdate(setFleetThresholdsUpdate, { args: [a] })));
  const pushed = result.message.split('; ').slice(1).join('; ');
  done(out, 'setThresholds', a, result, [
    `thresholds for all retailers (fleet defaults) set: ${changes}`,
    `  defaults now: ${formatThresholds(result.defaults)}`,
    ...(pushed ? [`  ${pushed}`] : []),
  ].join('\n'));
}

export async function expect(g: GlobalOptions, out: Output, retailers: string[], o: { remove?: boolean; by: string }): Promise<void> {
  const a = args.expectedArgs(retailers, !!o.remove, o.by);
  const result = await withTemporal(g, (t) => t.call(() => t.fleet().executeUpdate(setExpectedRetailersUpdate, { args: [a] })));
  const list = result.expectedRetailers;
  done(out, 'setExpectedRetailers', a, result, [
    `${o.remove ? 'no longer expected' : 'expected'}: ${(a.add ?? a.remove ?? []).join(', ')}`,
    `  ${result.message}`,
    `  expected retailers (${list.length}): ${list.length ? list.slice(0, 50).join(', ') + (list.length > 50 ? ', …' : '') : '—'}`,
  ].join('\n'));
}

export async function ack(g: GlobalOptions, out: Output, incidentId: string, o: { note?: string; by: string }): Promise<void> {
  const a = args.ackArgs({ incidentId, by: o.by, note: o.note });
  const retailer = retailerOfIncident(a.incidentId);
  // Incident ids are `<retailer>/<rule>/<seq>`: one that names no retailer cannot be open anywhere.
  if (!slugSchema().safeParse(retailer).success) throw notFound(`no open incident "${a.incidentId}" (incident ids look like checkers/stale/3)`);
  const { result, incident } = await withTemporal(g, async (t) => {
    let result: OperatorResult;
    try {
      result = await t.client.withDeadline(Date.now() + RPC_TIMEOUT_MS, () => commandRetailer(t.client, retailer, acknowledgeUpdate, [a], t.monitors));
    } catch (err) {
      if (err instanceof UnknownRetailerError) throw notFound(`no open incident "${a.incidentId}": ${retailer} has no running monitor`);
      if (err instanceof CommandRejectedError) {
        const open = await t.call(() => t.retailer(retailer).query(retailerIncidentsQuery)).catch(() => [] as IncidentView[]);
        const ids = open.map((i) => i.id).join(', ');
        throw notFound(`no open incident "${a.incidentId}" (${ids ? `open for ${retailer}: ${ids}` : `${retailer} has no open incidents`}; ${err.reason})`);
      }
      throw temporalError(err, t.target, RPC_TIMEOUT_MS);
    }
    const open = await t.call(() => t.retailer(retailer).query(retailerIncidentsQuery));
    return { result, incident: open.find((i) => i.id === a.incidentId) };
  });
  const what = incident ? `${incident.id} (${incident.retailer}, ${incident.rule}) as ${incident.acknowledged?.by ?? a.by}` : a.incidentId;
  out.result(`acknowledged ${what}${a.note ? `: ${a.note}` : ''}; re-notifications stop`, { ok: true, update: 'acknowledge', args: a, result, incident });
}
