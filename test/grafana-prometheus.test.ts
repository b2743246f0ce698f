/**
 * The generated Prometheus dashboard and datasource: committed copies in sync with the code, every query on
 * the provisioned Prometheus datasource, a sound grid, only defined variables, and every PromQL expression
 * reading metrics the worker's /metrics exports (test/metrics.test.ts finds the same names in a real scrape).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { ALERT_METRIC_NAMES } from '../src/observability/alert-metrics';
import { RETAILER_METRIC_NAMES } from '../src/observability/retailer-metrics';
import { PROM_DATASOURCE_TYPE, PROM_DATASOURCE_UID, PROMETHEUS_GRAFANA_FILES } from '../src/dashboard/prometheus-dashboard';
import { metricNamesIn, PROM_PANELS, SDK_DASHBOARD_METRICS } from '../src/dashboard/prometheus-panels';
import { renderGrafanaFiles } from '../src/dashboard/provisioning';

const committed = (rel: string) => readFileSync(join(__dirname, '..', rel), 'utf8');
const dashboard = JSON.parse(committed(PROMETHEUS_GRAFANA_FILES.dashboard));
const datasources = parse(committed(PROMETHEUS_GRAFANA_FILES.datasource)).datasources;
interface Target { refId: string; expr: string; datasource: { type: string; uid: string } }
interface Panel { id: number; title: string; gridPos: { x: number; y: number; w: number; h: number }; datasource: { type: string; uid: string }; targets: Target[] }
const panels: Panel[] = dashboard.panels;
const variables: Array<{ name: string; definition: string; datasource: { type: string; uid: string } }> = dashboard.templating.list;
// A variable's `label_values(metric, label)` reads `metric`.
const expressions = [...panels.flatMap((p) => p.targets.map((t) => t.expr)), ...variables.map((v) => v.definition.replace(/^label_values\((\w+),\s*\w+\)$/, '$1'))];

/** Every series name the worker exports itself (histograms as their _bucket/_sum/_count), and the SDK's the dashboard uses. */
const histogram = (name: string) => [`${name}_bucket`, `${name}_sum`, `${name}_count`];
const exported = new Set<string>([
  ...Object.values(RETAILER_METRIC_NAMES),
  ALERT_METRIC_NAMES.fired,
  ALERT_METRIC_NAMES.delivered,
  ALERT_METRIC_NAMES.failed,
  ALERT_METRIC_NAMES.skipped,
  ...histogram(ALERT_METRIC_NAMES.duration),
  SDK_DASHBOARD_METRICS.slotsAvailable,
  ...histogram(SDK_DASHBOARD_METRICS.workflowTaskLatency),
  ...histogram(SDK_DASHBOARD_METRICS.activityLatency),
  ...histogram(SDK_DASHBOARD_METRICS.scheduleToStart),
]);

it.each(Object.values(PROMETHEUS_GRAFANA_FILES))('%s is up to date (run npm run grafana:generate)', (rel) => {
  expect(committed(rel)).toBe(renderGrafanaFiles()[rel]);
});

it('provisions one Prometheus datasource whose URL comes from the environment, and points every query at it', () => {
  expect(datasources).toEqual([expect.objectContaining({ type: PROM_DATASOURCE_TYPE, uid: PROM_DATASOURCE_UID, url: '$GRAFANA_PROMETHEUS_URL' })]);
  const ref = { type: PROM_DATASOURCE_TYPE, uid: PROM_DATASOURCE_UID };
  for (const p of panels) {
    expect(p.datasource).toEqual(ref);
    for (const t of p.targets) expect(t.datasource).toEqual(ref);
    expect(new Set(p.targets.map((t) => t.refId)).size).toBe(p.targets.length);
  }
  for (const v of variables) expect(v.datasource).toEqual(ref);
});

it('has the panels of prometheus-panels.ts with unique ids on the 24-column grid without overlaps', () => {
  expect(panels.map((p) => p.title)).toEqual(PROM_PANELS.map((p) => p.title));
  expect(new Set(panels.map((p) => p.id)).size).toBe(panels.length);
  for (const [i, a] of panels.entries()) {
    expect(a.gridPos.x + a.gridPos.w).toBeLessThanOrEqual(24);
    for (const b of panels.slice(i + 1)) {
      const overlap = a.gridPos.x < b.gridPos.x + b.gridPos.w && b.gridPos.x < a.gridPos.x + a.gridPos.w && a.gridPos.y < b.gridPos.y + b.gridPos.h && b.gridPos.y < a.gridPos.y + a.gridPos.h;
      expect({ pair: [a.title, b.title], overlap }).toEqual({ pair: [a.title, b.title], overlap: false });
    }
  }
});

it('reads in every PromQL expression only metrics the worker exports', () => {
  const used = new Set(expressions.flatMap(metricNamesIn));
  expect([...used].filter((m) => !exported.has(m))).toEqual([]);
  // Every family appears somewhere: retailer gauges, alert counters and latency, SDK metrics.
  for (const m of [RETAILER_METRIC_NAMES.healthy, RETAILER_METRIC_NAMES.failureStreak, RETAILER_METRIC_NAMES.sinceSuccess, RETAILER_METRIC_NAMES.skuCount, RETAILER_METRIC_NAMES.promoCount, RETAILER_METRIC_NAMES.postgresUp, ALERT_METRIC_NAMES.fired, ALERT_METRIC_NAMES.delivered, ALERT_METRIC_NAMES.failed, `${ALERT_METRIC_NAMES.duration}_bucket`, SDK_DASHBOARD_METRICS.slotsAvailable]) {
    expect(used).toContain(m);
  }
});

it('finds metric names in PromQL and leaves functions, aggregations and grouping labels out', () => {
  expect(metricNamesIn('histogram_quantile(0.95, sum by (le, channel) (rate(a_bucket{x=~"$y"}[$__rate_interval]))) or vector(0)')).toEqual(['a_bucket']);
  expect(metricNamesIn('count(max by (retailer) (b{retailer=~"$retailer"}) == 0) + on (r) c')).toEqual(['b', 'c']);
});

it('uses only the $retailer variable and Grafana builtins', () => {
  const used = new Set(expressions.flatMap((e) => [...e.matchAll(/\$(\w+)/g)].map((m) => m[1]!)));
  expect([...used].filter((v) => !['retailer', '__range', '__rate_interval'].includes(v))).toEqual([]);
  expect(variables.map((v) => v.name)).toEqual(['retailer']);
});
