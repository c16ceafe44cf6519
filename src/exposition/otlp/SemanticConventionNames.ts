/**
 * OTLP carries the runtime metrics under OpenTelemetry's runtime semantic
 * conventions (`process.cpu.time`, `v8js.gc.duration`, ...) while Prometheus
 * keeps prom-client's names. The catalogue's `otlp` field says which; this
 * producer renames metrics and attribute keys on the way out, leaving the
 * data points (and every other metric) as they are.
 */
import type { Attributes } from '@opentelemetry/api';
import type { CollectionResult, MetricData, MetricProducer } from '@opentelemetry/sdk-metrics';
import { ALL_METRICS, type MetricDefinition } from '../../catalogue/MetricCatalogue';

type Renaming = NonNullable<MetricDefinition['otlp']>;

const RENAMED: ReadonlyMap<string, Renaming> = new Map(
  ALL_METRICS.filter((definition) => definition.otlp !== undefined).map((definition) => [definition.name, definition.otlp as Renaming]),
);

function renameAttributes(attributes: Attributes, labels: Readonly<Record<string, string>> | undefined): Attributes {
  if (labels === undefined) return attributes;
  const renamed: Attributes = {};
  for (const [key, value] of Object.entries(attributes)) renamed[labels[key] ?? key] = value;
  return renamed;
}

/** The metric under its semantic-convention name, or unchanged. */
export function withSemanticConventionName(metric: MetricData): MetricData {
  const renaming = RENAMED.get(metric.descriptor.name);
  if (renaming === undefined) return metric;
  const dataPoints = metric.dataPoints.map((point) => ({ ...point, attributes: renameAttributes(point.attributes, renaming.labels) }));
  return { ...metric, descriptor: { ...metric.descriptor, name: renaming.name }, dataPoints } as MetricData;
}

/** `producer` with the runtime metrics renamed to OpenTelemetry's conventions. */
export function semanticConventionNames(producer: MetricProducer): MetricProducer {
  return {
    async collect(options): Promise<CollectionResult> {
      const result = await producer.collect(options);
      const { resourceMetrics } = result;
      return {
        ...result,
        resourceMetrics: {
          ...resourceMetrics,
          scopeMetrics: resourceMetrics.scopeMetrics.map((scope) => ({ ...scope, metrics: scope.metrics.map(withSemanticConventionName) })),
        },
      };
    },
  };
}
