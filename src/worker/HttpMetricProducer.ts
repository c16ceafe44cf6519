/**
 * Hands the worker's HTTP totals to OpenTelemetry as already-aggregated data.
 *
 * A `MetricProducer` is the public sdk-metrics hook for data aggregated
 * elsewhere: every MetricReader given it in `metricProducers` merges its
 * output into each collection. The per-request work therefore stays in
 * RequestAccumulator (a Map lookup and typed-array updates) and the cost of
 * building OpenTelemetry objects is paid once per collection, not per request.
 *
 * The snapshot takes the same totals straight from the accumulator
 * ({@link HttpMetricProducer.snapshotMetrics}): a worker's HTTP series then
 * exist once as snapshot metrics instead of also as OpenTelemetry points
 * (about 0.3 MB at 216 label sets), and a flush after new requests converts
 * nothing.
 */
import { ValueType, type HrTime } from '@opentelemetry/api';
import { emptyResource, type Resource } from '@opentelemetry/resources';
import {
  AggregationTemporality,
  DataPointType,
  type CollectionResult,
  type DataPoint,
  type GaugeMetricData,
  type Histogram,
  type HistogramMetricData,
  type MetricData,
  type MetricProducer,
  type ResourceMetrics,
  type SumMetricData,
} from '@opentelemetry/sdk-metrics';
import { CATALOGUE, LABEL, SCOPE_NAME, type MetricDefinition } from '../catalogue/MetricCatalogue';
import { msToHrTime } from '../merge/msToHrTime';
import { CELL_BUCKETS, CELL_COUNT, CELL_MAX, CELL_MIN, CELL_SUM, type ErrorSeries, type HistogramCells, type RequestAccumulator, type RequestSeries } from './RequestAccumulator';
import type { HistogramWithExemplars } from '../snapshot/histogramExemplars';
import { hrTimeToMs } from '../snapshot/fromResourceMetrics';
import type { HistogramValue, SeriesAttributes, SnapshotExemplar, SnapshotMetric, SnapshotPoint } from '../snapshot/Snapshot';
import { catalogueMetric } from '../snapshot/catalogueMetric';

/** What the producer reads: satisfied by HttpInstrumentation. */
export interface HttpMetricSource {
  readonly accumulator: RequestAccumulator;
  /** Requests in flight now. */
  activeRequests(): number;
  /** Settle requests whose connection is gone, before reading (optional). */
  sweep?(): void;
}

/** Options of {@link HttpMetricProducer}. */
export interface HttpMetricProducerOptions {
  /** Resource reported with the data; MetricReaders keep their own SDK resource, so this rarely matters. */
  readonly resource?: Resource;
  /** Epoch-millisecond clock (tests pin it). */
  readonly now?: () => number;
}

/** One conversion for the package: see {@link msToHrTime} (never 1e9 nanoseconds). */
const hrTime = msToHrTime;

function descriptor(definition: MetricDefinition, valueType: ValueType): MetricData['descriptor'] {
  return { name: definition.name, description: definition.help, unit: definition.unit, valueType };
}

/**
 * Plain loops instead of `Array.from(typedArray)`: this runs for every series
 * at every flush, and the iterator protocol was the largest source of garbage
 * in an idle worker (measured with bench/worker-memory.js).
 */
function bucketCounts(cells: HistogramCells): number[] {
  const counts = new Array<number>(cells.length - CELL_BUCKETS);
  for (let i = CELL_BUCKETS; i < cells.length; i++) counts[i - CELL_BUCKETS] = cells[i] as number;
  return counts;
}

function histogramValue(cells: HistogramCells, boundaries: readonly number[]): Histogram {
  const count = cells[CELL_COUNT] as number;
  return {
    buckets: {
      // One boundaries array shared by every point of a metric, as the SDK does.
      boundaries: boundaries as number[],
      counts: bucketCounts(cells),
    },
    sum: cells[CELL_SUM] as number,
    count,
    ...(count > 0 ? { min: cells[CELL_MIN] as number, max: cells[CELL_MAX] as number } : {}),
  };
}

/** A series' duration exemplars in bucket order, or undefined when it has none. */
function durationExemplars(series: RequestSeries): SnapshotExemplar[] | undefined {
  const slots = series.durationExemplars;
  if (slots === undefined) return undefined;
  const exemplars: SnapshotExemplar[] = [];
  for (let bucket = 0; bucket < slots.length; bucket++) {
    const slot = slots[bucket];
    if (slot !== undefined) exemplars.push({ bucket, value: slot.value, timeMs: slot.timeMs, traceId: slot.traceId, spanId: slot.spanId });
  }
  return exemplars;
}

/** The labels of a request series: OpenTelemetry attributes and snapshot labels alike (strings only). */
function requestAttributes(series: RequestSeries): SeriesAttributes {
  return { [LABEL.method]: series.method, [LABEL.endpoint]: series.endpoint, [LABEL.status]: series.status };
}

/** The labels of an error series, as {@link requestAttributes}. */
function errorAttributes(series: ErrorSeries): SeriesAttributes {
  return { [LABEL.method]: series.method, [LABEL.endpoint]: series.endpoint, [LABEL.errorType]: series.errorType };
}

/** A snapshot counter of `definition` (what the conversion of the OpenTelemetry sum makes of it). */
function counterSnapshot(definition: MetricDefinition, points: SnapshotPoint[]): SnapshotMetric {
  return catalogueMetric(definition, 'counter', 'int', points);
}

/** The snapshot value of a histogram's cells, as the conversion of its OpenTelemetry point reads. */
function histogramSnapshotValue(cells: HistogramCells, exemplars: SnapshotExemplar[] | undefined): HistogramValue {
  const count = cells[CELL_COUNT] as number;
  const value: { -readonly [K in keyof HistogramValue]: HistogramValue[K] } = { count, sum: cells[CELL_SUM] as number, counts: bucketCounts(cells) };
  if (count > 0) {
    value.min = cells[CELL_MIN] as number;
    value.max = cells[CELL_MAX] as number;
  }
  if (exemplars !== undefined && exemplars.length > 0) value.exemplars = exemplars;
  return value;
}

/** A start time as it reads after the round trip through OpenTelemetry's [s, ns] (the same milliseconds either way). */
function startMs(ms: number): number {
  return hrTimeToMs(hrTime(ms));
}

/** OpenTelemetry view of a worker's HTTP metrics: cumulative sums and explicit-bucket histograms. */
export class HttpMetricProducer implements MetricProducer {
  private readonly source: HttpMetricSource;
  private readonly resource: Resource;
  private readonly now: () => number;
  private readonly startTime: HrTime;
  /**
   * The HTTP metrics built at the last collection, with the accumulator
   * generation they show and the end time all their points share. An idle
   * worker hands the same objects back (only the end time moves), so neither
   * this producer nor the snapshot conversion rebuilds thousands of points per
   * flush (the young-generation garbage measured by bench/worker-memory.js).
   */
  private built: { readonly generation: number; readonly endTime: HrTime; readonly metrics: readonly MetricData[] } | undefined;
  /** The snapshot metrics built at the last {@link snapshotMetrics}, with the accumulator generation they show. */
  private snapshotBuilt: { readonly generation: number; readonly metrics: readonly SnapshotMetric[] } | undefined;
  /** The last in-flight gauge handed out, kept while its value holds. */
  private activeSnapshot: SnapshotMetric | undefined;

  /** Read `source` at every collection. */
  constructor(source: HttpMetricSource, options: HttpMetricProducerOptions = {}) {
    this.source = source;
    this.resource = options.resource ?? emptyResource();
    this.now = options.now ?? Date.now;
    this.startTime = hrTime(this.now());
  }

  /** Current cumulative totals; never rejects (a failure is returned in `errors`). */
  async collect(): Promise<CollectionResult> {
    try {
      return { resourceMetrics: this.collectSync(), errors: [] };
    } catch (error) {
      return { resourceMetrics: { resource: this.resource, scopeMetrics: [] }, errors: [error] };
    }
  }

  /**
   * The same totals, synchronously: for a process that is dying of an uncaught
   * exception, where nothing asynchronous runs any more. May throw.
   */
  collectSync(): ResourceMetrics {
    return { resource: this.resource, scopeMetrics: [{ scope: { name: SCOPE_NAME }, metrics: this.metrics() }] };
  }

  /**
   * The same metrics as {@link collectSync}, as the snapshot conversion would
   * make them, built straight from the accumulator. Unchanged totals give the
   * very same objects back, which the change detection and the encoder
   * recognise by identity. Synchronous (a dying process calls it too).
   */
  snapshotMetrics(): SnapshotMetric[] {
    this.source.sweep?.();
    const generation = this.source.accumulator.generation;
    let built = this.snapshotBuilt;
    if (built === undefined || built.generation !== generation) {
      built = { generation, metrics: this.httpSnapshot() };
      this.snapshotBuilt = built;
    }
    return [...built.metrics, this.activeRequestsSnapshot()];
  }

  private httpSnapshot(): SnapshotMetric[] {
    const accumulator = this.source.accumulator;
    const requests = Array.from(accumulator.requestSeries());
    const metrics: SnapshotMetric[] = [];
    if (requests.length > 0) {
      metrics.push(
        counterSnapshot(
          CATALOGUE.requests,
          requests.map((series) => ({ attributes: requestAttributes(series), startTimeMs: startMs(series.startTimeMs), value: series.count })),
        ),
        this.histogramSnapshot(CATALOGUE.requestDuration, 'double', requests, (s) => s.duration, accumulator.durationBoundaries, durationExemplars),
        this.histogramSnapshot(CATALOGUE.requestSize, 'int', requests, (s) => s.requestSize, accumulator.sizeBoundaries),
        this.histogramSnapshot(CATALOGUE.responseSize, 'int', requests, (s) => s.responseSize, accumulator.sizeBoundaries),
      );
    }
    for (const [definition, series] of [
      [CATALOGUE.failedRequests, accumulator.failureSeries()],
      [CATALOGUE.errorHandling, accumulator.errorHandlingSeries()],
    ] as const) {
      const points: SnapshotPoint[] = [];
      for (const one of series) points.push({ attributes: errorAttributes(one), startTimeMs: startMs(one.startTimeMs), value: one.value });
      if (points.length > 0) metrics.push(counterSnapshot(definition, points));
    }
    return metrics;
  }

  private histogramSnapshot(
    definition: MetricDefinition,
    valueType: 'int' | 'double',
    requests: readonly RequestSeries[],
    cellsOf: (series: RequestSeries) => HistogramCells,
    typedBoundaries: Float64Array,
    exemplarsOf?: (series: RequestSeries) => SnapshotExemplar[] | undefined,
  ): SnapshotMetric {
    return {
      name: definition.name,
      description: definition.help,
      unit: definition.unit,
      valueType,
      kind: 'histogram',
      boundaries: Array.prototype.slice.call(typedBoundaries) as number[],
      points: requests.map((series) => ({
        attributes: requestAttributes(series),
        startTimeMs: startMs(series.startTimeMs),
        value: histogramSnapshotValue(cellsOf(series), exemplarsOf?.(series)),
      })),
    };
  }

  private activeRequestsSnapshot(): SnapshotMetric {
    const value = this.source.activeRequests();
    const last = this.activeSnapshot;
    if (last !== undefined && last.points[0]?.value === value) return last;
    const gauge = catalogueMetric(CATALOGUE.activeRequests, 'gauge', 'int', [{ attributes: {}, startTimeMs: hrTimeToMs(this.startTime), value }]);
    this.activeSnapshot = gauge;
    return gauge;
  }

  private metrics(): MetricData[] {
    this.source.sweep?.();
    const endTime = hrTime(this.now());
    const generation = this.source.accumulator.generation;
    const built = this.built;
    if (built !== undefined && built.generation === generation) {
      // Same series, same values: move the shared end time and reuse the points.
      built.endTime[0] = endTime[0];
      built.endTime[1] = endTime[1];
      return [...built.metrics, this.activeGauge(endTime)];
    }
    const metrics = this.httpMetrics(endTime);
    this.built = { generation, endTime, metrics };
    return [...metrics, this.activeGauge(endTime)];
  }

  /** Build every request and error metric afresh from the accumulator. */
  private httpMetrics(endTime: HrTime): MetricData[] {
    const accumulator = this.source.accumulator;
    const requests = Array.from(accumulator.requestSeries());
    const metrics: MetricData[] = [];
    if (requests.length > 0) {
      metrics.push(
        this.requestCounter(requests, endTime),
        this.histogram(CATALOGUE.requestDuration, ValueType.DOUBLE, requests, (s) => s.duration, accumulator.durationBoundaries, endTime, durationExemplars),
        this.histogram(CATALOGUE.requestSize, ValueType.INT, requests, (s) => s.requestSize, accumulator.sizeBoundaries, endTime),
        this.histogram(CATALOGUE.responseSize, ValueType.INT, requests, (s) => s.responseSize, accumulator.sizeBoundaries, endTime),
      );
    }
    const failures = this.errorCounter(CATALOGUE.failedRequests, accumulator.failureSeries(), endTime);
    if (failures.dataPoints.length > 0) metrics.push(failures);
    const handled = this.errorCounter(CATALOGUE.errorHandling, accumulator.errorHandlingSeries(), endTime);
    if (handled.dataPoints.length > 0) metrics.push(handled);
    return metrics;
  }

  private requestCounter(requests: readonly RequestSeries[], endTime: HrTime): SumMetricData {
    const dataPoints: DataPoint<number>[] = requests.map((series) => ({
      startTime: hrTime(series.startTimeMs),
      endTime,
      attributes: requestAttributes(series),
      value: series.count,
    }));
    return {
      descriptor: descriptor(CATALOGUE.requests, ValueType.INT),
      aggregationTemporality: AggregationTemporality.CUMULATIVE,
      dataPointType: DataPointType.SUM,
      isMonotonic: true,
      dataPoints,
    };
  }

  private histogram(
    definition: MetricDefinition,
    valueType: ValueType,
    requests: readonly RequestSeries[],
    cellsOf: (series: RequestSeries) => HistogramCells,
    typedBoundaries: Float64Array,
    endTime: HrTime,
    exemplarsOf?: (series: RequestSeries) => SnapshotExemplar[] | undefined,
  ): HistogramMetricData {
    const shared = Array.prototype.slice.call(typedBoundaries) as number[];
    const dataPoints: DataPoint<Histogram>[] = requests.map((series) => {
      const value: HistogramWithExemplars = histogramValue(cellsOf(series), shared);
      const exemplars = exemplarsOf?.(series);
      if (exemplars !== undefined) value.exemplars = exemplars;
      return { startTime: hrTime(series.startTimeMs), endTime, attributes: requestAttributes(series), value };
    });
    return {
      descriptor: descriptor(definition, valueType),
      aggregationTemporality: AggregationTemporality.CUMULATIVE,
      dataPointType: DataPointType.HISTOGRAM,
      dataPoints,
    };
  }

  private errorCounter(definition: MetricDefinition, series: Iterable<ErrorSeries>, endTime: HrTime): SumMetricData {
    const dataPoints: DataPoint<number>[] = [];
    for (const one of series) {
      dataPoints.push({ startTime: hrTime(one.startTimeMs), endTime, attributes: errorAttributes(one), value: one.value });
    }
    return {
      descriptor: descriptor(definition, ValueType.INT),
      aggregationTemporality: AggregationTemporality.CUMULATIVE,
      dataPointType: DataPointType.SUM,
      isMonotonic: true,
      dataPoints,
    };
  }

  private activeGauge(endTime: HrTime): GaugeMetricData {
    return {
      descriptor: descriptor(CATALOGUE.activeRequests, ValueType.INT),
      aggregationTemporality: AggregationTemporality.CUMULATIVE,
      dataPointType: DataPointType.GAUGE,
      dataPoints: [{ startTime: this.startTime, endTime, attributes: {}, value: this.source.activeRequests() }],
    };
  }
}
