/**
 * `maintenance add|list|remove`: maintenance windows of one retailer (`--retailer`, its running monitor) or
 * fleet-wide (the fleet workflow, which pushes them to every retailer monitor). Window ids are the operator
 * action that added them (`checkers/action/7`, `fleet/action/3`), so `remove` finds the owner from the id.
 */
import { windowActive, type MaintenanceWindow } from '../../rules/maintenance';
import type { IsoTimes } from '../../rules/types';
import { addFleetMaintenanceUpdate, addMaintenanceUpdate, fleetConfigQuery, removeFleetMaintenanceUpdate, removeMaintenanceUpdate, retailerQuery } from '../../shared/messages';
import { slugSchema } from '../../shared/operator';
import * as args from '../args';
import { type GlobalOptions, Output, withTemporal } from '../context';
import { notFound } from '../errors';
import { formatWindows } from '../format';
import { command, done } from './operate';
import { onRetailer } from './read';

export async function add(g: GlobalOptions, out: Output, spec: string[], o: { retailer?: string; reason?: string; by: string }): Promise<void> {
  const a = args.maintenanceAddArgs(spec, o);
  if (a.retailer !== undefined) {
    const { result } = await command(g, a.retailer, addMaintenanceUpdate, [a]);
    done(out, 'addMaintenance', a, result, `${result.message}\n  alerts inside the window are recorded silenced; remove it with: ingestion-monitor maintenance remove ${result.actionId}`);
    return;
  }
  const result = await withTemporal(g, (t) => t.call(() => t.fleet().executeUpdate(addFleetMaintenanceUpdate, { args: [a] })));
  done(out, 'addMaintenance', a, result, `${result.message}\n  remove it with: ingestion-monitor maintenance remove ${result.actionId}`);
}

export async function list(g: GlobalOptions, out: Output, o: { retailer?: string }): Promise<void> {
  const now = Date.now();
  const { windows, active } = await withTemporal(g, async (t) => {
    if (o.retailer !== undefined) {
      const d = await onRetailer(t, o.retailer, (h) => h.query(retailerQuery));
      return { windows: d.maintenance ?? [], active: d.activeMaintenance ?? [] };
    }
    const fleet = (await t.call(() => t.fleet().query(fleetConfigQuery))).maintenance ?? [];
    return { windows: isoWindows(fleet), active: fleet.filter((w) => windowActive(w, now)).map((w) => w.id) };
  });
  const scope = o.retailer !== undefined ? `${o.retailer} (its own and fleet-wide)` : 'fleet-wide';
  out.result(() => (windows.length ? [`maintenance windows, ${scope}:`, ...formatWindows(windows, active).map((l) => `  ${l}`)].join('\n') : `no maintenance windows, ${scope}`), {
    windows,
    active,
  });
}

export async function remove(g: GlobalOptions, out: Output, id: string, o: { retailer?: string; by: string }): Promise<void> {
  const a = args.maintenanceRemoveArgs(id, o);
  // Ids name their owner: `<retailer>/action/<n>` or `fleet/action/<n>`.
  const owner = a.retailer ?? a.id.split('/')[0] ?? '';
  if (!slugSchema().safeParse(owner).success) throw notFound(`no maintenance window "${a.id}" (ids look like checkers/action/7 or fleet/action/3)`);
  if (owner !== 'fleet' || a.retailer !== undefined) {
    const { result } = await command(g, owner, removeMaintenanceUpdate, [{ ...a, retailer: owner }]);
    done(out, 'removeMaintenance', a, result, result.message);
    return;
  }
  const result = await withTemporal(g, (t) => t.call(() => t.fleet().executeUpdate(removeFleetMaintenanceUpdate, { args: [a] })));
  done(out, 'removeMaintenance', a, result, result.message);
}

const isoWindows = (ws: MaintenanceWindow[]): Array<IsoTimes<MaintenanceWindow>> => ws.map((w) => ({ ...w, createdAt: new Date(w.createdAt).toISOString() }));
