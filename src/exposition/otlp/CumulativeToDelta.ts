import type { Attributes, HrTime } from '@opentelemetry/api';
import {
  AggregationTemporality,
  DataPointType,
  type DataPoint,
  type Histogram,
  type HistogramMetricData,
  type MetricData,
  type ResourceMetrics,
  type ScopeMetrics,
  type SumMetricData,
} from '@opentelemetry/sdk-metrics';
import { subtractHistogramParts, subtractValues } from '../../merge/cumulativeValues';
import type { HistogramParts } from '../../merge/cumulativeValues';
import { seriesKey } from '../../merge/seriesKey';
import { exemplarsOf, type HistogramWithExemplars } from '../../snapshot/histogramExemplars';
import type { SeriesAttributes } from '../../snapshot/Snapshot';

/** What the previous delivered batch held for one series. */
interface Baseline {
  readonly start: HrTime;
  readonly end: HrTime;
  readonly value: number | Histogram;
}

/** A converted batch, and the step that makes it the next baseline. */
export interface DeltaBatch {
  /** The batch with monotonic sums and histograms as deltas since the last committed batch. */
  readonly resourceMetrics: ResourceMetrics;
  /**
   * Remember this batch as delivered. Call it only when the export succeeded,
   * so that a failed or skipped export's increase is carried into the next
   * delta instead of being lost.
   */
  commit(): void;
}

/**
 * Turns the merged view's cumulative data into delta data, series by series.
 *
 * The merged view is cumulative by nature (it is rebuilt from cumulative
 * snapshots), and the SDK's temporality selector only applies to the SDK's own
 * instruments, not to a MetricProducer's data, so the conversion happens here.
 *
 * Follows the OpenTelemetry "delta" preference: monotonic sums and histograms
 * become delta; gauges, up-down sums and exponential histograms pass through.
 * A series whose start time moved or whose value went down was reset (a worker
 * slot restarted): its whole current value is the delta since its new start.
 *
 * Pure: no clock, no I/O. Memory is one baseline per series of the last
 * committed batch; series absent from it are forgotten.
 */
export class CumulativeToDelta {
  private baselines = new Map<string, Baseline>();

  /** Convert one cumulative batch against the last committed one. */
  convert(resourceMetrics: ResourceMetrics): DeltaBatch {
    const next = new Map<string, Baseline>();
    const scopeMetrics: ScopeMetrics[] = resourceMetrics.scopeMetrics.map((scoped) => ({
      scope: scoped.scope,
      metrics: scoped.metrics.map((metric) => this.convertMetric(scopeKey(scoped), metric, next)),
    }));
    return {
      resourceMetrics: { resource: resourceMetrics.resource, scopeMetrics },
      commit: () => {
        this.baselines = next;
      },
    };
  }

  /** Number of series remembered (for tests of bounded memory). */
  get size(): number {
    return this.baselines.size;
  }

  private convertMetric(scope: string, metric: MetricData, next: Map<string, Baseline>): MetricData {
    if (metric.aggregationTemporality !== AggregationTemporality.CUMULATIVE) return metric;
    const prefix = `${scope}\u0000${metric.descriptor.name}\u0000`;
    if (metric.dataPointType === DataPointType.SUM && metric.isMonotonic) {
      return this.convertSum(prefix, metric, next);
    }
    if (metric.dataPointType === DataPointType.HISTOGRAM) {
      return this.convertHistogram(prefix, metric, next);
    }
    return metric;
  }

  private convertSum(prefix: string, metric: SumMetricData, next: Map<string, Baseline>): SumMetricData {
    const dataPoints = metric.dataPoints.map((point): DataPoint<number> => {
      const key = prefix + attributesKey(point.attributes);
      const previous = this.baselines.get(key);
      next.set(key, { start: point.startTime, end: point.endTime, value: point.value });
      const delta = previous === undefined ? undefined : subtractValues(point.value, previous.value as number);
      if (previous === undefined || delta === undefined || typeof delta !== 'number' || wasReset(previous, point.startTime)) return point;
      return { ...point, startTime: previous.end, value: delta };
    });
    return { ...metric, aggregationTemporality: AggregationTemporality.DELTA, dataPoints };
  }

  private convertHistogram(prefix: string, metric: HistogramMetricData, next: Map<string, Baseline>): HistogramMetricData {
    const dataPoints = metric.dataPoints.map((point): DataPoint<Histogram> => {
      const key = prefix + attributesKey(point.attributes);
      const previous = this.baselines.get(key);
      next.set(key, { start: point.startTime, end: point.endTime, value: point.value });
      const before = previous !== undefined && typeof previous.value !== 'number' ? previous.value : undefined;
      const delta = before === undefined || !sameBoundaries(before, point.value) ? undefined : subtractHistogram(point.value, before, previous!.end);
      if (previous === undefined || delta === undefined || wasReset(previous, point.startTime)) return point;
      return { ...point, startTime: previous.end, value: delta };
    });
    return { ...metric, aggregationTemporality: AggregationTemporality.DELTA, dataPoints };
  }
}

/**
 * The current histogram minus the previous one (the shared arithmetic, see
 * merge/cumulativeValues.ts), undefined when a count went down (a reset);
 * min/max cannot be derived for an interval, so they are left out. Exemplars
 * observed within the interval (after the previous export's end) stay; older
 * ones belong to earlier deltas.
 */
function subtractHistogram(current: Histogram, previous: Histogram, previousEnd: HrTime): Histogram | undefined {
  const delta = subtractHistogramParts(partsOf(current), partsOf(previous));
  if (delta === undefined) return undefined;
  const result: Histogram = { buckets: { boundaries: current.buckets.boundaries, counts: delta.counts }, count: delta.count };
  if (delta.sum !== undefined) result.sum = delta.sum;
  const sinceMs = previousEnd[0] * 1e3 + previousEnd[1] / 1e6;
  const recent = exemplarsOf(current)?.filter((exemplar) => exemplar.timeMs > sinceMs);
  if (recent !== undefined && recent.length > 0) (result as HistogramWithExemplars).exemplars = recent;
  return result;
}

function partsOf(histogram: Histogram): HistogramParts {
  return histogram.sum === undefined
    ? { count: histogram.count, counts: histogram.buckets.counts }
    : { count: histogram.count, sum: histogram.sum, counts: histogram.buckets.counts };
}

function sameBoundaries(previous: Histogram, current: Histogram): boolean {
  const before = previous.buckets.boundaries;
  const now = current.buckets.boundaries;
  return before.length === now.length && before.every((bound, index) => bound === now[index]);
}

function wasReset(previous: Baseline, start: HrTime): boolean {
  return previous.start[0] !== start[0] || previous.start[1] !== start[1];
}

function scopeKey(scoped: ScopeMetrics): string {
  return `${scoped.scope.name}@${scoped.scope.version ?? ''}`;
}

/** Order-independent identity of an attribute set: the merge's series key (merged attributes are strings). */
function attributesKey(attributes: Attributes): string {
  return seriesKey(attributes as SeriesAttributes, undefined);
}
