import { ValueType } from '@opentelemetry/api';
import type { Attributes, AttributeValue, HrTime } from '@opentelemetry/api';
import { AggregationTemporality, DataPointType } from '@opentelemetry/sdk-metrics';
import type { DataPoint, Histogram, MetricData, ResourceMetrics, ScopeMetrics } from '@opentelemetry/sdk-metrics';
import type { HistogramValue, SeriesAttributes, SnapshotMetric, SnapshotPoint } from './Snapshot';
import { exemplarsOf } from './histogramExemplars';

/**
 * Called for each metric that cannot travel in a snapshot, so the caller can
 * log it once. `reason` is a short phrase such as `exponential histogram`.
 */
export type SkippedMetricListener = (metricName: string, reason: string) => void;

/**
 * Metrics already in snapshot form that stand in for a scope of the
 * collection (a producer hands over a placeholder scope, and its metrics come
 * from here, at its place), or undefined for a scope to convert.
 */
export type ScopeStandIn = (scope: ScopeMetrics) => readonly SnapshotMetric[] | undefined;

/**
 * Conversions by the metric they came from. A producer that hands back the
 * same unchanged MetricData object (this package's HTTP producer, when no
 * request arrived) gets back the same SnapshotMetric, which the change
 * detection and the encoder then recognise by identity. The SDK's own metrics
 * are new objects at every collection and simply miss.
 */
const converted = new WeakMap<MetricData, SnapshotMetric>();

/**
 * Convert one OpenTelemetry collection into snapshot metrics.
 *
 * Sums become counters (monotonic) or up-down counters, gauges stay gauges,
 * explicit-bucket histograms keep boundaries, counts, sum, count, min and max
 * (and the exemplars this package's HTTP producer attaches).
 * Exponential histograms (which the Prometheus exposition cannot render) and
 * delta sums or histograms (which cannot be summed across snapshots) are left
 * out and reported to `onSkipped`. Attribute values become label strings.
 * Uses only public sdk-metrics exports, so it reads 2.x and 3.x data alike.
 */
export function snapshotMetricsFromResourceMetrics(resourceMetrics: ResourceMetrics, onSkipped?: SkippedMetricListener, standIn?: ScopeStandIn): SnapshotMetric[] {
  const result: SnapshotMetric[] = [];
  const seen = new Set<string>();
  for (const scope of resourceMetrics.scopeMetrics) {
    const ready = standIn?.(scope);
    if (ready !== undefined) {
      // Under the same first-name-wins rule as converted metrics (they are cumulative already).
      for (const metric of ready) {
        if (seen.has(metric.name)) {
          onSkipped?.(metric.name, 'name already used by another instrumentation scope');
          continue;
        }
        seen.add(metric.name);
        result.push(metric);
      }
      continue;
    }
    for (const metric of scope.metrics) {
      const name = metric.descriptor.name;
      if (metric.dataPointType === DataPointType.EXPONENTIAL_HISTOGRAM) {
        onSkipped?.(name, 'exponential histogram');
        continue;
      }
      const skip = skipReason(metric, seen);
      if (skip !== undefined) {
        onSkipped?.(name, skip);
        continue;
      }
      seen.add(name);
      result.push(convertedOnce(metric));
    }
  }
  return result;
}

/** Why a metric cannot be converted, or undefined when it can. */
function skipReason(metric: MetricData, seen: ReadonlySet<string>): string | undefined {
  if (seen.has(metric.descriptor.name)) return 'name already used by another instrumentation scope';
  // A delta point is only the change since the last collection; adding it to other snapshots would be wrong.
  const cumulativeOnly = metric.dataPointType === DataPointType.SUM || metric.dataPointType === DataPointType.HISTOGRAM;
  if (cumulativeOnly && metric.aggregationTemporality !== AggregationTemporality.CUMULATIVE) return 'delta temporality';
  return undefined;
}

function convertedOnce(metric: Exclude<MetricData, { dataPointType: DataPointType.EXPONENTIAL_HISTOGRAM }>): SnapshotMetric {
  let snapshotMetric = converted.get(metric);
  if (snapshotMetric === undefined) {
    snapshotMetric = convertMetric(metric);
    converted.set(metric, snapshotMetric);
  }
  return snapshotMetric;
}

function convertMetric(metric: Exclude<MetricData, { dataPointType: DataPointType.EXPONENTIAL_HISTOGRAM }>): SnapshotMetric {
  const { name, description, unit } = metric.descriptor;
  const valueType = metric.descriptor.valueType === ValueType.INT ? 'int' : 'double';
  switch (metric.dataPointType) {
    case DataPointType.SUM:
      return {
        name,
        description,
        unit,
        valueType,
        kind: metric.isMonotonic ? 'counter' : 'updowncounter',
        points: metric.dataPoints.map(numberPoint),
      };
    case DataPointType.GAUGE:
      return { name, description, unit, valueType, kind: 'gauge', points: metric.dataPoints.map(numberPoint) };
    case DataPointType.HISTOGRAM:
      return {
        name,
        description,
        unit,
        valueType,
        kind: 'histogram',
        // Every point of one instrument shares its boundaries (one aggregation per view).
        boundaries: metric.dataPoints[0]?.value.buckets.boundaries.slice() ?? [],
        points: metric.dataPoints.map(histogramPoint),
      };
  }
}

function numberPoint(point: DataPoint<number>): SnapshotPoint {
  return { attributes: labels(point.attributes), startTimeMs: hrTimeToMs(point.startTime), value: point.value };
}

function histogramPoint(point: DataPoint<Histogram>): SnapshotPoint {
  const source = point.value;
  const value: { -readonly [K in keyof HistogramValue]: HistogramValue[K] } = {
    count: source.count,
    // The SDK leaves sum out for instruments that may record negatives; the exposition still needs one.
    sum: source.sum ?? 0,
    counts: source.buckets.counts.slice(),
  };
  if (source.min !== undefined) value.min = source.min;
  if (source.max !== undefined) value.max = source.max;
  const exemplars = exemplarsOf(source);
  if (exemplars !== undefined) value.exemplars = exemplars.slice();
  return { attributes: labels(point.attributes), startTimeMs: hrTimeToMs(point.startTime), value };
}

/** OpenTelemetry [seconds, nanoseconds] to milliseconds since the epoch. */
export function hrTimeToMs(time: HrTime): number {
  return time[0] * 1e3 + time[1] / 1e6;
}

/** Attribute values as label strings; absent values are dropped, arrays become JSON. */
function labels(attributes: Attributes): SeriesAttributes {
  const result: Record<string, string> = {};
  for (const key of Object.keys(attributes)) {
    const text = labelValue(attributes[key]);
    if (text !== undefined) result[key] = text;
  }
  return result;
}

function labelValue(value: AttributeValue | undefined): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (Array.isArray(value)) return JSON.stringify(value);
  return String(value);
}
