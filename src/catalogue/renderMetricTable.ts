import { ALL_METRICS, prometheusName } from './MetricCatalogue';
import type { MetricDefinition } from './MetricCatalogue';

/**
 * The README's metric table, generated from the catalogue so the two cannot
 * drift apart (a test compares them).
 */
export function renderMetricTable(metrics: readonly MetricDefinition[] = ALL_METRICS): string {
  const header = ['| name on /metrics | OTLP instrument | type | unit | labels | recorded by | help |', '|---|---|---|---|---|---|---|'];
  const rows = metrics.map((metric) => {
    const buckets = metric.buckets ? ` Buckets: ${metric.buckets.join(', ')}.` : '';
    const labels = metric.labels.length > 0 ? metric.labels.map((label) => `\`${label}\``).join(', ') : '—';
    const upstream = metric.upstream ? '' : ' (new)';
    return `| \`${prometheusName(metric)}\`${upstream} | \`${metric.name}\` | ${metric.kind} | \`${metric.unit}\` | ${labels} | ${metric.recordedBy} | ${metric.help}${buckets} |`;
  });
  return [...header, ...rows].join('\n');
}
