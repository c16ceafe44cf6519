import { CATALOGUE, prometheusName } from './MetricCatalogue';
import type { MetricDefinition } from './MetricCatalogue';

/** One Grafana panel: a title and the PromQL behind it. */
interface PanelSpec {
  readonly title: string;
  readonly expr: string;
  readonly legend: string;
  readonly unit: string;
  /** Ask Grafana for the exemplars of the series too (trace links on the graph). */
  readonly exemplars?: boolean;
}

/** Grafana's unit names for the catalogue's UCUM units. */
function grafanaUnit(definition: MetricDefinition, derived: 'rate' | 'value'): string {
  if (derived === 'rate') return 'reqps';
  switch (definition.unit) {
    case 's':
      return 's';
    case 'By':
      return 'bytes';
    case '%':
      return 'percent';
    default:
      return 'short';
  }
}

function ratePanel(definition: MetricDefinition, by: string): PanelSpec {
  return {
    title: `${definition.help.replace(/\.$/, '')} (per second, by ${by})`,
    expr: `sum by (${by}) (rate(${prometheusName(definition)}[5m]))`,
    legend: `{{${by}}}`,
    unit: grafanaUnit(definition, 'rate'),
  };
}

function quantilePanel(definition: MetricDefinition, quantile: number): PanelSpec {
  return {
    title: `p${Math.round(quantile * 100)} of ${definition.name}`,
    expr: `histogram_quantile(${quantile}, sum by (le, endpoint) (rate(${definition.name}_bucket[5m])))`,
    legend: '{{endpoint}}',
    unit: grafanaUnit(definition, 'value'),
  };
}

/**
 * Latency with its exemplars: each dot is one request's duration linked to its
 * trace (OpenMetrics scrape with `--enable-feature=exemplar-storage`).
 */
function exemplarPanel(definition: MetricDefinition, quantile: number): PanelSpec {
  return { ...quantilePanel(definition, quantile), title: `p${Math.round(quantile * 100)} of ${definition.name} with trace exemplars`, exemplars: true };
}

/** Worker exits over the last hour by reason and restart type: crash loops stand out from rolling restarts. */
function restartReasonPanel(definition: MetricDefinition): PanelSpec {
  return {
    title: 'Worker restarts in the last hour, by reason and restart type',
    expr: `sum by (reason, restart_type) (increase(${prometheusName(definition)}[1h]))`,
    legend: '{{reason}} ({{restart_type}})',
    unit: 'short',
  };
}

function gaugePanel(definition: MetricDefinition): PanelSpec {
  return { title: definition.help.replace(/\.$/, ''), expr: definition.name, legend: '{{worker_id}}', unit: grafanaUnit(definition, 'value') };
}

/** The panels, in reading order: traffic, latency, errors, workers, process, exporter health. */
function panels(): PanelSpec[] {
  return [
    ratePanel(CATALOGUE.requests, 'status'),
    ratePanel(CATALOGUE.requests, 'endpoint'),
    quantilePanel(CATALOGUE.requestDuration, 0.5),
    quantilePanel(CATALOGUE.requestDuration, 0.95),
    exemplarPanel(CATALOGUE.requestDuration, 0.99),
    restartReasonPanel(CATALOGUE.masterRestartCount),
    ratePanel(CATALOGUE.failedRequests, 'error_type'),
    ratePanel(CATALOGUE.errorHandling, 'error_type'),
    quantilePanel(CATALOGUE.requestSize, 0.95),
    quantilePanel(CATALOGUE.responseSize, 0.95),
    gaugePanel(CATALOGUE.workers),
    gaugePanel(CATALOGUE.activeRequests),
    ratePanel(CATALOGUE.masterRestarts, 'reason'),
    gaugePanel(CATALOGUE.memory),
    gaugePanel(CATALOGUE.cpu),
    gaugePanel(CATALOGUE.eventLoopDelayP99),
    gaugePanel(CATALOGUE.heapUsed),
    gaugePanel(CATALOGUE.uptime),
    gaugePanel(CATALOGUE.storeUp),
    gaugePanel(CATALOGUE.snapshotAge),
    ratePanel(CATALOGUE.storeErrors, 'operation'),
  ];
}

/**
 * A Grafana dashboard (JSON model, schema 39) over the catalogue's metrics,
 * with a Prometheus data source variable. Generated, never edited by hand:
 * `otel-cluster-exporter dashboard > dashboard.json`.
 */
export function grafanaDashboard(): Record<string, unknown> {
  return {
    title: 'Node.js cluster (otel-cluster-exporter)',
    uid: 'otel-cluster-exporter',
    schemaVersion: 39,
    editable: true,
    time: { from: 'now-1h', to: 'now' },
    refresh: '30s',
    templating: {
      list: [{ name: 'datasource', label: 'Prometheus', type: 'datasource', query: 'prometheus' }],
    },
    panels: panels().map((panel, index) => ({
      id: index + 1,
      type: 'timeseries',
      title: panel.title,
      datasource: { type: 'prometheus', uid: '${datasource}' },
      gridPos: { h: 8, w: 12, x: (index % 2) * 12, y: Math.floor(index / 2) * 8 },
      fieldConfig: { defaults: { unit: panel.unit }, overrides: [] },
      targets: [{ refId: 'A', expr: panel.expr, legendFormat: panel.legend, ...(panel.exemplars === true ? { exemplar: true } : {}) }],
    })),
  };
}
