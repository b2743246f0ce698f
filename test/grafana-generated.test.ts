/**
 * The committed Grafana files are exactly what `npm run grafana:generate` produces, and the dashboard is
 * structurally sound for Grafana: unique ids and refIds, non-overlapping grid, one datasource uid that the
 * provisioning YAML defines, every `$variable` defined, current schemaVersion.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { defaultDashboard } from '@grafana/grafana-foundation-sdk/dashboard';
import { parse } from 'yaml';
import { DATASOURCE_TYPE, DATASOURCE_UID } from '../src/dashboard/grafana';
import { PANELS } from '../src/dashboard/panels';
import { GRAFANA_FILES, GRAFANA_READER_ROLE, renderGrafanaFiles } from '../src/dashboard/provisioning';

const root = join(__dirname, '..');
const committed = (rel: string) => readFileSync(join(root, rel), 'utf8');

interface GridPos { x: number; y: number; w: number; h: number }
interface Target { refId: string; rawSql: string; format: string; datasource: { type: string; uid: string } }
interface Panel { id: number; type: string; title: string; gridPos: GridPos; datasource: { type: string; uid: string }; targets: Target[] }

const dashboard = JSON.parse(committed(GRAFANA_FILES.dashboard));
const panels: Panel[] = dashboard.panels;
const variables: Array<{ name: string; query: string; datasource: { uid: string } }> = dashboard.templating.list;
const annotations: Array<{ datasource: { uid: string }; target: Target }> = dashboard.annotations.list;
const datasourceYaml = parse(committed(GRAFANA_FILES.datasource));
const providerYaml = parse(committed(GRAFANA_FILES.dashboardProvider));

const allSql = () => [
  ...panels.flatMap((p) => p.targets.map((t) => t.rawSql)),
  ...variables.map((v) => v.query),
  ...annotations.map((a) => a.target.rawSql),
];

describe('generated Grafana files', () => {
  it.each(Object.entries(renderGrafanaFiles()))('%s is up to date (run npm run grafana:generate)', (rel, text) => {
    expect(committed(rel)).toBe(text);
  });

  it('uses the schemaVersion of the pinned SDK', () => {
    expect(typeof dashboard.schemaVersion).toBe('number');
    expect(dashboard.schemaVersion).toBe(defaultDashboard().schemaVersion);
    expect(dashboard.schemaVersion).toBeGreaterThanOrEqual(39);
  });

  it('has the panels of panels.ts, with unique ids and unique refIds per panel', () => {
    expect(panels.map((p) => p.title)).toEqual(PANELS.map((p) => p.title));
    expect(new Set(panels.map((p) => p.id)).size).toBe(panels.length);
    for (const p of panels) {
      expect(p.targets.length).toBeGreaterThan(0);
      expect(new Set(p.targets.map((t) => t.refId)).size).toBe(p.targets.length);
    }
    expect(panels.map((p) => p.type).sort()).toEqual(
      expect.arrayContaining(['stat', 'table', 'timeseries', 'status-history']),
    );
  });

  it('lays panels out on the 24-column grid without overlaps', () => {
    for (const { gridPos: g, title } of panels) {
      expect({ title, ok: g.x >= 0 && g.y >= 0 && g.w > 0 && g.h > 0 && g.x + g.w <= 24 }).toEqual({ title, ok: true });
    }
    for (let i = 0; i < panels.length; i++) {
      for (let j = i + 1; j < panels.length; j++) {
        const a = panels[i].gridPos;
        const b = panels[j].gridPos;
        const overlap = a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h;
        expect({ pair: [panels[i].title, panels[j].title], overlap }).toEqual({ pair: [panels[i].title, panels[j].title], overlap: false });
      }
    }
  });

  it('points every query at the provisioned datasource', () => {
    const [ds] = datasourceYaml.datasources;
    expect(datasourceYaml.datasources).toHaveLength(1);
    expect(ds).toMatchObject({ uid: DATASOURCE_UID, type: DATASOURCE_TYPE, user: GRAFANA_READER_ROLE });
    const refs = [
      ...panels.flatMap((p) => [p.datasource, ...p.targets.map((t) => t.datasource)]),
      ...variables.map((v) => v.datasource),
      ...annotations.flatMap((a) => [a.datasource, a.target.datasource]),
    ];
    for (const ref of refs) expect(ref).toEqual({ type: ds.type, uid: ds.uid });
  });

  it('writes SQL the Postgres datasource runs as raw code queries', () => {
    for (const p of panels) {
      for (const t of p.targets) {
        expect(t).toMatchObject({ editorMode: 'code', rawQuery: true });
        expect(['table', 'time_series']).toContain(t.format);
        if (p.type === 'timeseries' || p.type === 'status-history') expect(t.format).toBe('time_series');
      }
    }
  });

  it('defines every $variable the SQL uses, and uses only known macros', () => {
    const defined = new Set(variables.map((v) => v.name));
    const builtins = new Set(['__interval', '__interval_ms']);
    const macros = new Set(['__time', '__timeEpoch', '__timeFilter', '__timeFrom', '__timeTo', '__timeGroup', '__timeGroupAlias', '__unixEpochFilter', '__unixEpochNanoFilter', '__unixEpochNanoFrom', '__unixEpochNanoTo', '__unixEpochGroup', '__unixEpochGroupAlias', '__unixEpochFrom', '__unixEpochTo']);
    const used = new Set<string>();
    for (const sql of allSql()) {
      for (const m of sql.matchAll(/\$\{?(\w+)|\[\[(\w+)/g)) {
        const name = m[1] ?? m[2];
        const isCall = sql[m.index! + m[0].length] === '(';
        if (isCall) expect(macros).toContain(name);
        else if (!builtins.has(name)) used.add(name);
      }
    }
    expect([...used].filter((n) => !defined.has(n))).toEqual([]);
    expect(used).toContain('retailer');
  });

  it('offers the retailer variable as a multi-select with All', () => {
    expect(variables).toEqual([
      expect.objectContaining({ name: 'retailer', type: 'query', multi: true, includeAll: true, query: expect.stringMatching(/^SELECT DISTINCT retailer FROM retailer_status/) }),
    ]);
  });

  it('provisions the datasource with the password from the environment', () => {
    const [ds] = datasourceYaml.datasources;
    expect(ds.secureJsonData).toEqual({ password: '$GRAFANA_PG_PASSWORD' });
    expect(ds.jsonData.database).toBeTruthy();
    expect(ds.jsonData.sslmode).toBeTruthy();
    expect(ds.url).toBeTruthy();
    expect(JSON.stringify(datasourceYaml)).not.toMatch(/password"\s*:\s*"[^$]/);
  });

  it('provisions the dashboard folder with a file provider', () => {
    expect(providerYaml.providers).toEqual([
      expect.objectContaining({ type: 'file', options: expect.objectContaining({ path: expect.stringMatching(/^\//) }) }),
    ]);
  });
});
