import { DataPointType } from '@opentelemetry/sdk-metrics';
import type { Histogram, MetricData } from '@opentelemetry/sdk-metrics';
import { sameNumbers } from '../self/sameNumbers';
import type { ByteWriter } from './ByteWriter';
import { LeSuffixCache, sampleNames } from './PrometheusTextSerializer';
import type { Attributes, PrometheusTextSerializer } from './PrometheusTextSerializer';

/** The points of a metric that have text lines (exponential histograms have none). */
function renderedPoints(metric: MetricData): readonly { readonly attributes: Attributes }[] {
  switch (metric.dataPointType) {
    case DataPointType.SUM:
    case DataPointType.GAUGE:
    case DataPointType.HISTOGRAM:
      return metric.dataPoints;
    default:
      return [];
  }
}

/**
 * What the lines of a family's series depend on besides each series' own
 * label set and values: the kind of each of its metrics and, for a
 * histogram, its boundaries (the `le` labels).
 */
function shapeOf(metrics: readonly MetricData[]): string {
  let shape = '';
  for (const metric of metrics) {
    shape += `${metric.dataPointType}`;
    if (metric.dataPointType === DataPointType.HISTOGRAM) shape += `[${metric.dataPoints[0]?.value.buckets.boundaries.join(',') ?? ''}]`;
    shape += ';';
  }
  return shape;
}

/**
 * The sample lines of one metric family in one part of the view (a worker
 * slot), as bytes, kept with what they were rendered from so that the next
 * render of the part renders only the series whose values changed.
 *
 * A series' lines depend only on the family (its name, each metric's kind
 * and histogram boundaries: its "shape"), on the series' label set and on
 * its values. The merge hands a label set the same attributes object from
 * one merge to the next (KnownAttributes), so a series is found again by
 * that object, at the same position while the set of series is unchanged;
 * where its values are equal too (compared as numbers: cheaper than
 * formatting them), its bytes are copied from the last render instead of
 * rendered again. A family in which nothing changed keeps its Buffer itself,
 * so the endpoint's gzip of it is reused as well. The bytes are always what
 * the serializer renders for the family: reuse is decided on exact equality.
 */
export class FamilySamples {
  /** Per metric of the family, the old index of each series' attributes; built only when series moved. */
  private index: Map<Attributes, number>[] | undefined;

  private constructor(
    /** The family's sample lines. */
    readonly bytes: Buffer,
    private readonly shape: string,
    /** Each series' label set, in output order. */
    private readonly attributes: readonly Attributes[],
    /** Each series' label block as bytes: a label set's text never changes, so it is encoded once. */
    private readonly labels: readonly Uint8Array[],
    /** The metric (index in the family) each series belongs to. */
    private readonly metricOf: Uint32Array,
    /** Where each series' lines end in {@link bytes}. */
    private readonly ends: Uint32Array,
    /** Each series' values as rendered: series i's at [valueStarts[i], valueStarts[i + 1]). */
    private readonly values: Float64Array,
    private readonly valueStarts: Uint32Array,
  ) {}

  /**
   * The samples of family `name` made of `metrics`, rendering only the series
   * that differ from `previous` (the same family's last render in this part).
   * Returns `previous` itself when no series changed.
   */
  static render(serializer: PrometheusTextSerializer, name: string, metrics: readonly MetricData[], previous: FamilySamples | undefined, writer: ByteWriter): FamilySamples {
    const shape = shapeOf(metrics);
    const old = previous !== undefined && previous.shape === shape ? previous : undefined;
    let count = 0;
    let valueCount = 0;
    for (const metric of metrics) {
      const points = renderedPoints(metric);
      count += points.length;
      if (metric.dataPointType === DataPointType.HISTOGRAM) for (const point of metric.dataPoints) valueCount += 3 + point.value.buckets.counts.length;
      else valueCount += points.length;
    }
    const attributes = new Array<Attributes>(count);
    const labels = new Array<Uint8Array | undefined>(count);
    const metricOf = new Uint32Array(count);
    const values = new Float64Array(valueCount);
    const valueStarts = new Uint32Array(count + 1);
    // Per series: its index in `old` when its lines can be copied from there, else -1.
    const reused = new Int32Array(count);
    let unchanged = old !== undefined && old.attributes.length === count;
    let series = 0;
    let at = 0;
    for (let m = 0; m < metrics.length; m++) {
      const metric = metrics[m] as MetricData;
      const points = renderedPoints(metric);
      const boundaries = metric.dataPointType === DataPointType.HISTOGRAM ? metric.dataPoints[0]?.value.buckets.boundaries : undefined;
      for (let p = 0; p < points.length; p++) {
        const point = points[p] as { readonly attributes: Attributes; readonly value: number | Histogram };
        attributes[series] = point.attributes;
        metricOf[series] = m;
        valueStarts[series] = at;
        let comparable = true;
        const value = point.value;
        if (typeof value === 'number') {
          values[at++] = value;
        } else {
          // A point with boundaries of its own (hand-built data) is not covered by the shape: always rendered.
          comparable = sameNumbers(value.buckets.boundaries, boundaries);
          // NaN (a missing count or sum) never compares equal: such a series is rendered every time.
          values[at++] = value.count ?? NaN;
          values[at++] = value.sum ?? NaN;
          const counts = value.buckets.counts;
          values[at++] = counts.length;
          for (let i = 0; i < counts.length; i++) values[at++] = counts[i] as number;
        }
        const found = old !== undefined ? old.find(m, series, point.attributes) : -1;
        if (found >= 0) labels[series] = (old as FamilySamples).labels[found];
        let from = comparable ? found : -1;
        if (from >= 0 && !(old as FamilySamples).sameValues(from, values, valueStarts[series] as number, at)) from = -1;
        reused[series] = from;
        if (from !== series) unchanged = false;
        series++;
      }
    }
    valueStarts[count] = at;
    if (unchanged && old !== undefined) return old;

    writer.expect(old?.bytes.length ?? 0);
    const ends = new Uint32Array(count);
    // A run of reused series whose bytes are contiguous in `old` is copied at once.
    let runStart = 0;
    let runEnd = 0;
    series = 0;
    const names = sampleNames(name);
    for (const metric of metrics) {
      const points = renderedPoints(metric);
      const leCache = new LeSuffixCache();
      for (let p = 0; p < points.length; p++) {
        const from = reused[series] as number;
        if (from >= 0 && old !== undefined) {
          const start = from === 0 ? 0 : (old.ends[from - 1] as number);
          if (start !== runEnd) {
            writer.writeBytes(old.bytes, runStart, runEnd);
            runStart = start;
          }
          runEnd = old.ends[from] as number;
          ends[series] = writer.size + (runEnd - runStart);
        } else {
          writer.writeBytes(old?.bytes ?? EMPTY, runStart, runEnd);
          runStart = runEnd = 0;
          const bytes = (labels[series] ??= serializer.labelBytes((points[p] as { readonly attributes: Attributes }).attributes));
          serializer.writeSamplesOf(writer, names, metric, p, leCache, bytes);
          ends[series] = writer.size;
        }
        series++;
      }
    }
    if (old !== undefined) writer.writeBytes(old.bytes, runStart, runEnd);
    // Every series has its label bytes now: rendered ones got them above, reused ones from `old`.
    return new FamilySamples(writer.take(), shape, attributes, labels as Uint8Array[], metricOf, ends, values, valueStarts);
  }

  /** The index of metric `m`'s series with `attributes` in this render (tried at `hint` first), or -1. */
  private find(m: number, hint: number, attributes: Attributes): number {
    if (this.attributes[hint] === attributes && this.metricOf[hint] === m) return hint;
    if (this.index === undefined) {
      this.index = [];
      for (let i = 0; i < this.attributes.length; i++) {
        const metric = this.metricOf[i] as number;
        const byAttributes = (this.index[metric] ??= new Map());
        byAttributes.set(this.attributes[i] as Attributes, i);
      }
    }
    return this.index[m]?.get(attributes) ?? -1;
  }

  /** Whether series `i` was rendered from exactly `values[start, end)`. */
  private sameValues(i: number, values: Float64Array, start: number, end: number): boolean {
    const from = this.valueStarts[i] as number;
    if ((this.valueStarts[i + 1] as number) - from !== end - start) return false;
    for (let k = 0; k < end - start; k++) if (this.values[from + k] !== values[start + k]) return false;
    return true;
  }
}

const EMPTY = Buffer.alloc(0);
