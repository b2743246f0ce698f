/** Read-only commands: each is one query on the monitor, printed as a table or, with --json, as returned. */
import { incidentsQuery, retailerQuery, statusQuery } from '../../shared/messages';
import { type GlobalOptions, Output, withTemporal } from '../context';
import { notFound } from '../errors';
import { renderIncidents, renderRetailer, renderStatus } from '../format';

export async function status(g: GlobalOptions, out: Output): Promise<void> {
  const s = await withTemporal(g, (t) => t.call(() => t.monitor().query(statusQuery)));
  out.result(() => renderStatus(s, Date.now(), out.colour), s);
}

export async function retailer(g: GlobalOptions, out: Output, id: string): Promise<void> {
  const d = await withTemporal(g, (t) => t.call(() => t.monitor().query(retailerQuery, id)));
  if (!d) throw notFound(`unknown retailer "${id}": it has not reported to monitor "${g.workflowId}" (see \`status\` for the list)`);
  out.result(() => renderRetailer(d, Date.now(), out.colour), d);
}

export async function incidents(g: GlobalOptions, out: Output): Promise<void> {
  const list = await withTemporal(g, (t) => t.call(() => t.monitor().query(incidentsQuery)));
  out.result(() => renderIncidents(list, Date.now(), out.colour), list);
}
