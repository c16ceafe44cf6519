import type { ExpositionFormat } from './negotiateFormat';
import { OPENMETRICS_CONTENT_TYPE } from './OpenMetricsSerializer';

/** The exposition format Prometheus negotiates for plain-text scrapes. */
export const PROMETHEUS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

/** The `Content-Type` of each format. */
export const CONTENT_TYPES: Readonly<Record<ExpositionFormat, string>> = {
  prometheus: PROMETHEUS_CONTENT_TYPE,
  openmetrics: OPENMETRICS_CONTENT_TYPE,
};

/** One collected view, serialized in a format on first demand and remembered. */
export interface RenderedView {
  /**
   * The view in `format`: text, or its bytes in parts (sent in order). May
   * throw (a serializer bug), which the endpoint answers with a 500.
   */
  text(format: ExpositionFormat): string | readonly Buffer[];
}
