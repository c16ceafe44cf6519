import type { HistogramValue, SeriesAttributes, SnapshotMetric, SnapshotPoint } from '../snapshot/Snapshot';
import { compareKeys, LabelOrder } from './LabelOrder';
import type { MergeConflictListener } from './MergeConflict';
import { canonicalAttributes, seriesKey } from './seriesKey';
import type { KnownAttributes } from './KnownAttributes';
import { accumulatorOf, addHistogramInto } from './cumulativeValues';
import { rebucketExemplars } from './mergeExemplars';
import type { HistogramAccumulator } from './cumulativeValues';
import type { KeyedAttributes } from './seriesKey';

/** What the merged output says about a metric: taken from the newest snapshot that contributed. */
export type MergedDescriptor = Omit<SnapshotMetric, 'points'>;

/** A histogram being summed. `counts` is copied only when a second contribution arrives. */
export type HistogramSum = HistogramAccumulator;

/** A distinct label set of one merge, numbered so series can be stored and ordered by number. */
export interface LabelSet extends KeyedAttributes {
  readonly id: number;
}

/** One merged series. */
export interface MergedSeries {
  readonly key: string;
  readonly attributes: SeriesAttributes;
  startTimeMs: number;
  /** The number for counters, up-down counters and gauges; unused for histograms. */
  value: number;
  histogram: HistogramSum | undefined;
}

/** One merged metric with its series, indexed by {@link LabelSet.id} (sparse). */
export interface MergedMetric {
  readonly descriptor: MergedDescriptor;
  readonly series: (MergedSeries | undefined)[];
}

/**
 * Where one snapshot's points of a metric go: its entry, and for a histogram
 * recorded with other boundaries, which merged bucket each of its buckets
 * counts in (see {@link bucketMapping}).
 */
export interface Accepted {
  readonly entry: MergedMetric;
  readonly buckets: readonly number[] | undefined;
}

/**
 * The accumulator both the merge and the fold are built on.
 *
 * Contributions must arrive newest first: the first snapshot to contribute a
 * metric fixes its descriptor (kind, unit, histogram boundaries) and for
 * last-value kinds the first value of a series wins. A later snapshot of
 * another kind is left out and reported. A later histogram with other
 * boundaries is re-bucketed into the newer ones and reported: its count and
 * sum are kept exactly, so `_count` never goes down when buckets are
 * reconfigured across restarts.
 */
export class SeriesTable {
  private readonly metrics = new Map<string, MergedMetric>();
  private readonly labels = new Map<string, LabelSet>();

  /**
   * @param onConflict told about every snapshot whose data was left out or re-bucketed
   * @param labelOrder orders label sets in {@link sorted}; pass one kept across calls to reuse its memory
   * @param knownAttributes gives a label set the attributes object it had in the caller's last merge (see {@link KnownAttributes})
   */
  constructor(
    private readonly onConflict?: MergeConflictListener,
    private readonly labelOrder: LabelOrder = new LabelOrder(),
    private readonly knownAttributes?: KnownAttributes,
  ) {}

  /**
   * Where `metric`'s points go, or undefined when they must be left out
   * because a newer snapshot declared the metric as another kind.
   */
  accept(metric: SnapshotMetric, process: string): Accepted | undefined {
    const known = this.metrics.get(metric.name);
    if (known === undefined) {
      const entry: MergedMetric = { descriptor: describe(metric), series: [] };
      this.metrics.set(metric.name, entry);
      return { entry, buckets: undefined };
    }
    const newer = known.descriptor;
    if (newer.kind !== metric.kind) {
      this.report(metric.name, 'kind', process, `a ${metric.kind} here, a ${newer.kind} in a newer snapshot; left out`);
      return undefined;
    }
    if (newer.kind === 'histogram' && !sameNumbers(newer.boundaries, metric.boundaries)) {
      const from = metric.boundaries ?? [];
      const to = newer.boundaries ?? [];
      this.report(
        metric.name,
        'boundaries',
        process,
        `buckets [${from.join(', ')}] here, [${to.join(', ')}] in a newer snapshot; ` +
          'counted in the newer buckets (count and sum exact, each bucket at the first newer boundary at or above its own)',
      );
      return { entry: known, buckets: bucketMapping(from, to) };
    }
    return { entry: known, buckets: undefined };
  }

  /**
   * The numbered label set of a point's attributes overlaid by `extra` (see
   * {@link seriesKey}): equal label sets share one, built once per merge.
   */
  label(own: SeriesAttributes, extra: SeriesAttributes | undefined): LabelSet {
    const key = this.knownAttributes === undefined ? seriesKey(own, extra) : this.knownAttributes.key(own, extra);
    let label = this.labels.get(key);
    if (label === undefined) {
      const attributes = this.knownAttributes === undefined ? canonicalAttributes(own, extra) : this.knownAttributes.attributes(key, own, extra);
      label = { id: this.labels.size, key, attributes };
      this.labels.set(key, label);
    }
    return label;
  }

  /** Add a cumulative point (counter, histogram) into its series; `buckets` from {@link accept}. */
  add(entry: MergedMetric, label: LabelSet, point: SnapshotPoint, buckets?: readonly number[]): void {
    const counted =
      buckets === undefined || typeof point.value === 'number' ? point : { ...point, value: rebucket(point.value, buckets, (entry.descriptor.boundaries?.length ?? 0) + 1) };
    const series = entry.series[label.id];
    if (series === undefined) {
      entry.series[label.id] = newSeries(label, counted);
      return;
    }
    if (counted.startTimeMs < series.startTimeMs) series.startTimeMs = counted.startTimeMs;
    const value = counted.value;
    if (typeof value === 'number') series.value += value;
    else if (series.histogram !== undefined) addHistogramInto(series.histogram, value);
  }

  /** Set a last-value point (gauge, up-down counter) unless a newer snapshot already did. */
  set(entry: MergedMetric, label: LabelSet, point: SnapshotPoint): void {
    if (entry.series[label.id] === undefined) entry.series[label.id] = newSeries(label, point);
  }

  /** Every metric with at least one series, sorted by name; series sorted by canonical key. */
  sorted(): { descriptor: MergedDescriptor; series: MergedSeries[] }[] {
    // Metrics share most label sets: order the label sets once, then walk that order per metric.
    const order = this.labelOrder.order([...this.labels.values()]);
    const result: { descriptor: MergedDescriptor; series: MergedSeries[] }[] = [];
    for (const entry of this.metrics.values()) {
      const series: MergedSeries[] = [];
      for (const label of order) {
        const found = entry.series[label.id];
        if (found !== undefined) series.push(found);
      }
      if (series.length > 0) result.push({ descriptor: entry.descriptor, series });
    }
    return result.sort((a, b) => compareKeys(a.descriptor.name, b.descriptor.name));
  }

  private report(metric: string, reason: 'kind' | 'boundaries', process: string, detail: string): void {
    this.onConflict?.({ metric, reason, process, detail: `${metric}: ${detail} (snapshot of ${process})` });
  }
}

function describe(metric: SnapshotMetric): MergedDescriptor {
  const { name, description, unit, kind, valueType, boundaries } = metric;
  return boundaries === undefined || kind !== 'histogram' ? { name, description, unit, kind, valueType } : { name, description, unit, kind, valueType, boundaries };
}

function newSeries(label: LabelSet, point: SnapshotPoint): MergedSeries {
  const { key, attributes } = label;
  const value = point.value;
  if (typeof value === 'number') {
    return { key, attributes, startTimeMs: point.startTimeMs, value, histogram: undefined };
  }
  return { key, attributes, startTimeMs: point.startTimeMs, value: 0, histogram: accumulatorOf(value) };
}

function sameNumbers(a: readonly number[] | undefined, b: readonly number[] | undefined): boolean {
  if (a === b) return true;
  if (a === undefined || b === undefined || a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * For each bucket of a histogram recorded with boundaries `from`, the bucket
 * of boundaries `to` it is counted in: the first whose upper bound is at or
 * above its own (the overflow bucket for what lies above every bound). Every
 * observation so stays below its new bucket's bound, so a cumulative bucket
 * (`le`) never counts more than it truly holds and `+Inf` holds them all.
 */
export function bucketMapping(from: readonly number[], to: readonly number[]): number[] {
  const mapping = new Array<number>(from.length + 1);
  let target = 0;
  for (let i = 0; i < from.length; i++) {
    const bound = from[i] as number;
    while (target < to.length && (to[target] as number) < bound) target++;
    mapping[i] = target;
  }
  mapping[from.length] = to.length;
  return mapping;
}

/** `value` counted in other buckets (see {@link bucketMapping}); count, sum, min and max unchanged, exemplars moved along. */
function rebucket(value: HistogramValue, mapping: readonly number[], bucketCount: number): HistogramValue {
  const counts = new Array<number>(bucketCount).fill(0);
  for (let i = 0; i < value.counts.length; i++) {
    const target = mapping[Math.min(i, mapping.length - 1)] as number;
    counts[target] = (counts[target] as number) + (value.counts[i] as number);
  }
  // Exemplars move with their observations; the old bucket indexes must not survive the spread.
  const { exemplars, ...rest } = value;
  const moved = rebucketExemplars(exemplars, mapping);
  return moved === undefined ? { ...rest, counts } : { ...rest, counts, exemplars: moved };
}
