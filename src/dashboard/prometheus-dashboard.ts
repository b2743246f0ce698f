/**
 * The Prometheus side's Grafana dashboard and datasource, built from `prometheus-panels.ts` with
 * @grafana/grafana-foundation-sdk like the Postgres one (grafana.ts). Prometheus scrapes the worker's
 * `/metrics`; Grafana reads Prometheus at GRAFANA_PROMETHEUS_URL.
 */
import * as common from '@grafana/grafana-foundation-sdk/common';
import * as dashboard from '@grafana/grafana-foundation-sdk/dashboard';
import * as prometheus from '@grafana/grafana-foundation-sdk/prometheus';
import * as stat from '@grafana/grafana-foundation-sdk/stat';
import * as statushistory from '@grafana/grafana-foundation-sdk/statushistory';
import * as timeseries from '@grafana/grafana-foundation-sdk/timeseries';
import { legend, mappings, statStyle, statusHistoryStyle, thresholds } from './grafana';
import { PROM_PANELS, PROM_VARIABLE, type PromPanelDef, type PromTarget } from './prometheus-panels';

export const PROM_DATASOURCE_TYPE = 'prometheus';
export const PROM_DATASOURCE_UID = 'ingestion-monitor-prom';
export const PROM_DASHBOARD_UID = 'ingestion-monitor-prometheus';
export const PROM_DASHBOARD_TITLE = 'Ingestion monitor (Prometheus)';
const DATASOURCE_REF: common.DataSourceRef = { type: PROM_DATASOURCE_TYPE, uid: PROM_DATASOURCE_UID };

function query(t: PromTarget, refId: string): prometheus.DataqueryBuilder {
  const q = new prometheus.DataqueryBuilder()
    .refId(refId)
    .datasource({ ...DATASOURCE_REF })
    .editorMode(prometheus.QueryEditorMode.Code)
    .expr(t.expr)
    .legendFormat(t.legend);
  return t.instant ? q.instant() : q.range();
}

function withCommon<T extends stat.PanelBuilder | timeseries.PanelBuilder | statushistory.PanelBuilder>(b: T, p: PromPanelDef): T {
  b.id(p.id).title(p.title).description(p.description).datasource({ ...DATASOURCE_REF }).gridPos({ ...p.gridPos });
  p.targets.forEach((t, i) => b.withTarget(query(t, String.fromCharCode(65 + i))));
  if (p.unit) b.unit(p.unit);
  if (p.decimals !== undefined) b.decimals(p.decimals);
  if (p.thresholds) b.thresholds(thresholds(p.thresholds));
  if (p.mappings) b.mappings(mappings(p.mappings));
  return b;
}

function panel(p: PromPanelDef): stat.PanelBuilder | timeseries.PanelBuilder | statushistory.PanelBuilder {
  switch (p.kind) {
    case 'stat':
      return statStyle(withCommon(new stat.PanelBuilder(), p));
    case 'timeseries':
      return withCommon(new timeseries.PanelBuilder(), p).legend(legend()).lineWidth(2).fillOpacity(10).showPoints(common.VisibilityMode.Never).spanNulls(false);
    case 'status-history':
      return statusHistoryStyle(withCommon(new statushistory.PanelBuilder(), p));
  }
}

export function buildPrometheusDashboard(): dashboard.Dashboard {
  const b = new dashboard.DashboardBuilder(PROM_DASHBOARD_TITLE)
    .uid(PROM_DASHBOARD_UID)
    .description('Retailer health, alert delivery and the monitor workers, from the worker\'s Prometheus /metrics.')
    .tags(['ingestion', 'monitoring', 'prometheus', 'generated'])
    .time({ from: 'now-6h', to: 'now' })
    .refresh('1m')
    .timezone('browser')
    .tooltip(dashboard.DashboardCursorSync.Crosshair)
    .withVariable(
      new dashboard.QueryVariableBuilder(PROM_VARIABLE.name)
        .label(PROM_VARIABLE.label)
        .datasource({ ...DATASOURCE_REF })
        .query({ query: PROM_VARIABLE.query, refId: 'PrometheusVariableQueryEditor-VariableQuery' })
        .definition(PROM_VARIABLE.query)
        .multi(true)
        .includeAll(true)
        .allowCustomValue(false)
        .current({ selected: true, text: ['All'], value: ['$__all'] })
        .refresh(dashboard.VariableRefresh.OnTimeRangeChanged)
        .sort(dashboard.VariableSort.AlphabeticalAsc),
    );
  for (const p of PROM_PANELS) b.withPanel(panel(p));
  return b.build();
}

/** The committed file's exact text. */
export function prometheusDashboardJson(): string {
  return `${JSON.stringify(buildPrometheusDashboard(), null, 2)}\n`;
}

/** Repository-relative paths of the Prometheus side's generated files. */
export const PROMETHEUS_GRAFANA_FILES = {
  datasource: 'grafana/provisioning/datasources/ingestion-monitor-prometheus.yaml',
  dashboard: 'grafana/dashboards/ingestion-monitor-prometheus.json',
} as const;

/**
 * The Prometheus datasource: Grafana reads a Prometheus (which scrapes each worker's `/metrics`) at
 * $GRAFANA_PROMETHEUS_URL, e.g. http://host.docker.internal:9090 for one on the host.
 */
export function prometheusDatasource(): Record<string, unknown> {
  return {
    apiVersion: 1,
    datasources: [
      {
        name: 'Ingestion monitor Prometheus',
        type: PROM_DATASOURCE_TYPE,
        uid: PROM_DATASOURCE_UID,
        access: 'proxy',
        url: '$GRAFANA_PROMETHEUS_URL',
        editable: false,
        // The scrape interval Prometheus is expected to use; $__rate_interval is derived from it.
        jsonData: { timeInterval: '30s', httpMethod: 'POST' },
      },
    ],
  };
}
