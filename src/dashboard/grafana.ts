/**
 * The Grafana dashboard, built from `panels.ts` with @grafana/grafana-foundation-sdk (pinned exactly: its
 * generated builders change shape between releases, and the committed JSON must regenerate byte-identically).
 * The SDK ships no Postgres query type, so the small builder for it lives here.
 */
import type * as cog from '@grafana/grafana-foundation-sdk/cog';
import * as common from '@grafana/grafana-foundation-sdk/common';
import * as dashboard from '@grafana/grafana-foundation-sdk/dashboard';
import * as stat from '@grafana/grafana-foundation-sdk/stat';
import * as statushistory from '@grafana/grafana-foundation-sdk/statushistory';
import * as table from '@grafana/grafana-foundation-sdk/table';
import * as timeseries from '@grafana/grafana-foundation-sdk/timeseries';
import {
  ALERT_ANNOTATION,
  PANELS,
  VARIABLES,
  type FieldDef,
  type PanelDef,
  type QueryFormat,
  type ThresholdStep,
  type ValueMappingDef,
  type VariableDef,
} from './panels';

export const DATASOURCE_TYPE = 'grafana-postgresql-datasource';
export const DATASOURCE_UID = 'ingestion-monitor-pg';
export const DASHBOARD_UID = 'ingestion-monitor';
export const DASHBOARD_TITLE = 'Ingestion monitor';
export const DATASOURCE_REF: common.DataSourceRef = { type: DATASOURCE_TYPE, uid: DATASOURCE_UID };

/** The query model Grafana's Postgres datasource stores for a code-mode (raw SQL) query. */
export interface PostgresQuery extends cog.Dataquery {
  refId: string;
  datasource: common.DataSourceRef;
  editorMode: 'code';
  format: QueryFormat;
  rawQuery: true;
  rawSql: string;
  hide?: boolean;
}

export class PostgresQueryBuilder implements cog.Builder<cog.Dataquery> {
  private readonly internal: PostgresQuery;

  constructor(refId: string, rawSql: string) {
    this.internal = {
      refId,
      datasource: { ...DATASOURCE_REF },
      editorMode: 'code',
      format: 'table',
      rawQuery: true,
      rawSql,
      // Marks the object as a Dataquery variant for the SDK's types; functions vanish from the JSON.
      _implementsDataqueryVariant() {},
    };
  }

  build(): PostgresQuery {
    return this.internal;
  }

  format(format: QueryFormat): this {
    this.internal.format = format;
    return this;
  }

  datasource(ref: common.DataSourceRef): this {
    this.internal.datasource = ref;
    return this;
  }

  hide(hide: boolean): this {
    this.internal.hide = hide;
    return this;
  }
}

export function thresholds(steps: ThresholdStep[]): dashboard.ThresholdsConfigBuilder {
  return new dashboard.ThresholdsConfigBuilder()
    .mode(dashboard.ThresholdsMode.Absolute)
    .steps(steps.map((s) => ({ value: s.value, color: s.color })));
}

function thresholdsConfig(steps: ThresholdStep[]): dashboard.ThresholdsConfig {
  return thresholds(steps).build();
}

export function mappings(defs: ValueMappingDef[]): dashboard.ValueMapping[] {
  const options: Record<string, dashboard.ValueMappingResult> = {};
  defs.forEach((m, index) => {
    options[m.value] = { text: m.text, color: m.color, index };
  });
  return [{ type: dashboard.MappingType.ValueToText, options }];
}

/** The field-config properties of one table column, as a by-name override. */
function fieldOverride(f: FieldDef): dashboard.DynamicConfigValue[] {
  const props: dashboard.DynamicConfigValue[] = [{ id: 'displayName', value: f.label }];
  if (f.unit) props.push({ id: 'unit', value: f.unit });
  if (f.decimals !== undefined) props.push({ id: 'decimals', value: f.decimals });
  if (f.noValue) props.push({ id: 'noValue', value: f.noValue });
  if (f.thresholds) props.push({ id: 'thresholds', value: thresholdsConfig(f.thresholds) });
  if (f.mappings) props.push({ id: 'mappings', value: mappings(f.mappings) });
  if (f.thresholds || f.mappings) {
    props.push({ id: 'custom.cellOptions', value: { type: common.TableCellDisplayMode.ColorBackground, mode: 'basic' } });
  }
  return props;
}

/** The methods every SDK panel builder shares (they are separate generated classes). */
interface CommonPanelBuilder<T> extends cog.Builder<dashboard.Panel> {
  id(id: number): T;
  title(title: string): T;
  description(description: string): T;
  datasource(ref: common.DataSourceRef): T;
  gridPos(pos: dashboard.GridPos): T;
  withTarget(target: cog.Builder<cog.Dataquery>): T;
  unit(unit: string): T;
  decimals(decimals: number): T;
  thresholds(t: cog.Builder<dashboard.ThresholdsConfig>): T;
  mappings(m: dashboard.ValueMapping[]): T;
  noValue(text: string): T;
  maxDataPoints(n: number): T;
}

function withCommon<T extends CommonPanelBuilder<T>>(b: T, p: PanelDef): T {
  b.id(p.id)
    .title(p.title)
    .description(p.description)
    .datasource({ ...DATASOURCE_REF })
    .gridPos({ ...p.gridPos })
    .withTarget(new PostgresQueryBuilder('A', p.sql).format(p.format));
  if (p.unit) b.unit(p.unit);
  if (p.decimals !== undefined) b.decimals(p.decimals);
  if (p.thresholds) b.thresholds(thresholds(p.thresholds));
  if (p.mappings) b.mappings(mappings(p.mappings));
  if (p.noValue) b.noValue(p.noValue);
  if (p.maxDataPoints !== undefined) b.maxDataPoints(p.maxDataPoints);
  return b;
}

export const legend = () =>
  new common.VizLegendOptionsBuilder()
    .showLegend(true)
    .displayMode(common.LegendDisplayMode.List)
    .placement(common.LegendPlacement.Bottom);

/** The look of a stat panel (big coloured value, no sparkline); the Prometheus dashboard shares it. */
export const statStyle = (b: stat.PanelBuilder): stat.PanelBuilder =>
  b
    .graphMode(common.BigValueGraphMode.None)
    .colorMode(common.BigValueColorMode.Background)
    .textMode(common.BigValueTextMode.Value)
    .reduceOptions(new common.ReduceDataOptionsBuilder().calcs(['lastNotNull']).fields('').values(false));

/** The look of a status-history panel; the Prometheus dashboard shares it. */
export const statusHistoryStyle = (b: statushistory.PanelBuilder): statushistory.PanelBuilder =>
  b.legend(legend()).showValue(common.VisibilityMode.Never).rowHeight(0.9).colWidth(0.9);

export function panelBuilder(p: PanelDef): cog.Builder<dashboard.Panel> {
  switch (p.kind) {
    case 'stat':
      return statStyle(withCommon(new stat.PanelBuilder(), p));
    case 'table': {
      const b = withCommon(new table.PanelBuilder(), p).showHeader(true).cellHeight(common.TableCellHeight.Sm);
      for (const f of p.fields ?? []) b.overrideByName(f.name, fieldOverride(f));
      return b;
    }
    case 'timeseries':
      return withCommon(new timeseries.PanelBuilder(), p)
        .legend(legend())
        .lineWidth(2)
        .fillOpacity(10)
        .showPoints(common.VisibilityMode.Auto)
        .spanNulls(true);
    case 'status-history':
      return statusHistoryStyle(withCommon(new statushistory.PanelBuilder(), p));
  }
}

function variableBuilder(v: VariableDef): dashboard.QueryVariableBuilder {
  return new dashboard.QueryVariableBuilder(v.name)
    .label(v.label)
    .datasource({ ...DATASOURCE_REF })
    .query(v.sql)
    .definition(v.sql)
    .multi(v.multi)
    .includeAll(v.includeAll)
    .allowCustomValue(false)
    .current({ selected: true, text: ['All'], value: ['$__all'] })
    // Re-run on every (relative) time-range refresh so a newly seen retailer appears without a reload.
    .refresh(dashboard.VariableRefresh.OnTimeRangeChanged)
    .sort(dashboard.VariableSort.AlphabeticalAsc);
}

export function buildDashboard(): dashboard.Dashboard {
  const b = new dashboard.DashboardBuilder(DASHBOARD_TITLE)
    .uid(DASHBOARD_UID)
    .description('Per-retailer ingestion health: latest runs, SKU and promo trends, failures and alerts.')
    .tags(['ingestion', 'monitoring', 'generated'])
    .time({ from: 'now-24h', to: 'now' })
    .refresh('1m')
    .timezone('browser')
    .tooltip(dashboard.DashboardCursorSync.Crosshair)
    .annotation(
      new dashboard.AnnotationQueryBuilder()
        .name(ALERT_ANNOTATION.name)
        .datasource({ ...DATASOURCE_REF })
        .enable(true)
        .iconColor(ALERT_ANNOTATION.iconColor)
        .target(new PostgresQueryBuilder('Anno', ALERT_ANNOTATION.sql).format('table')),
    );
  for (const v of VARIABLES) b.withVariable(variableBuilder(v));
  for (const p of PANELS) b.withPanel(panelBuilder(p));
  return b.build();
}

/** The committed file's exact text. */
export function dashboardJson(): string {
  return `${JSON.stringify(buildDashboard(), null, 2)}\n`;
}
