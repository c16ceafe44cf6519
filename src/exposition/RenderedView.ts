import type { ResourceMetrics } from '@opentelemetry/sdk-metrics';
import type { ExpositionFormat } from './negotiateFormat';
import { OPENMETRICS_CONTENT_TYPE, type OpenMetricsSerializer } from './OpenMetricsSerializer';
import type { PrometheusTextSerializer } from './PrometheusTextSerializer';

/** The exposition format Prometheus negotiates for plain-text scrapes. */
export const PROMETHEUS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

/** The `Content-Type` of each format. */
export const CONTENT_TYPES: Readonly<Record<ExpositionFormat, string>> = {
  prometheus: PROMETHEUS_CONTENT_TYPE,
  openmetrics: OPENMETRICS_CONTENT_TYPE,
};

/** One collected view, serialized in a format on first demand and remembered. */
export interface RenderedView {
  /** The view in `format`; may throw (a serializer bug), which the endpoint answers with a 500. */
  text(format: ExpositionFormat): string;
}

/** The serializers a {@link renderedView} uses. */
export interface ViewSerializers {
  readonly prometheus: PrometheusTextSerializer;
  readonly openmetrics: OpenMetricsSerializer;
}

/**
 * A collection ready to serve in either format. Serializing is lazy: a
 * cluster scraped only by one Prometheus pays for one format per scrape, and
 * scrapers sharing a collection share each format's text.
 */
export function renderedView(resourceMetrics: ResourceMetrics, serializers: ViewSerializers): RenderedView {
  const texts: Partial<Record<ExpositionFormat, string>> = {};
  return {
    text: (format) => (texts[format] ??= serializers[format].serialize(resourceMetrics)),
  };
}
