import type { HistogramValue, SeriesAttributes, SnapshotMetric, SnapshotMetricKind, SnapshotPoint } from '../snapshot/Snapshot';
import type { MergeConflictListener } from './MergeConflict';
import { canonicalAttributes, seriesKey } from './seriesKey';
import type { KeyedAttributes } from './seriesKey';

/** What the merged output says about a metric: taken from the newest snapshot that contributed. */
export interface MergedDescriptor {
  readonly name: string;
  readonly description: string;
  readonly unit: string;
  readonly kind: SnapshotMetricKind;
  readonly valueType: 'int' | 'double';
  readonly boundaries?: readonly number[];
}

/** A histogram being summed. `counts` is copied only when a second contribution arrives. */
export interface HistogramSum {
  count: number;
  sum: number;
  counts: readonly number[];
  ownsCounts: boolean;
  min: number | undefined;
  max: number | undefined;
}

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
 * The accumulator both the merge and the fold are built on.
 *
 * Contributions must arrive newest snapshot first: the first snapshot to
 * contribute a metric fixes its descriptor (kind, unit, histogram boundaries),
 * later snapshots that disagree are left out and reported, and for
 * last-value kinds the first value of a series wins.
 */
export class SeriesTable {
  private readonly metrics = new Map<string, MergedMetric>();
  private readonly labels = new Map<string, LabelSet>();

  constructor(private readonly onConflict?: MergeConflictListener) {}

  /**
   * The entry `metric`'s points go into, or undefined when they must be left
   * out because a newer snapshot declared the metric differently.
   */
  accept(metric: SnapshotMetric, process: string): MergedMetric | undefined {
    const known = this.metrics.get(metric.name);
    if (known === undefined) {
      const entry: MergedMetric = { descriptor: describe(metric), series: [] };
      this.metrics.set(metric.name, entry);
      return entry;
    }
    const newer = known.descriptor;
    if (newer.kind !== metric.kind) {
      this.report(metric.name, 'kind', process, `a ${metric.kind} here, a ${newer.kind} in a newer snapshot`);
      return undefined;
    }
    if (newer.kind === 'histogram' && !sameNumbers(newer.boundaries, metric.boundaries)) {
      this.report(
        metric.name,
        'boundaries',
        process,
        `buckets [${(metric.boundaries ?? []).join(', ')}] here, [${(newer.boundaries ?? []).join(', ')}] in a newer snapshot`,
      );
      return undefined;
    }
    return known;
  }

  /**
   * The numbered label set of a point's attributes overlaid by `extra` (see
   * {@link seriesKey}): equal label sets share one, built once per merge.
   */
  label(own: SeriesAttributes, extra: SeriesAttributes | undefined): LabelSet {
    const key = seriesKey(own, extra);
    let label = this.labels.get(key);
    if (label === undefined) {
      label = { id: this.labels.size, key, attributes: canonicalAttributes(own, extra) };
      this.labels.set(key, label);
    }
    return label;
  }

  /** Add a cumulative point (counter, histogram) into its series. */
  add(entry: MergedMetric, label: LabelSet, point: SnapshotPoint): void {
    const series = entry.series[label.id];
    if (series === undefined) {
      entry.series[label.id] = newSeries(label, point);
      return;
    }
    if (point.startTimeMs < series.startTimeMs) series.startTimeMs = point.startTimeMs;
    const value = point.value;
    if (typeof value === 'number') series.value += value;
    else if (series.histogram !== undefined) addHistogram(series.histogram, value);
  }

  /** Set a last-value point (gauge, up-down counter) unless a newer snapshot already did. */
  set(entry: MergedMetric, label: LabelSet, point: SnapshotPoint): void {
    if (entry.series[label.id] === undefined) entry.series[label.id] = newSeries(label, point);
  }

  /** Every metric with at least one series, sorted by name; series sorted by canonical key. */
  sorted(): { descriptor: MergedDescriptor; series: MergedSeries[] }[] {
    // Metrics share most label sets: order the label sets once, then walk that order per metric.
    const order = orderLabels([...this.labels.values()]);
    const result: { descriptor: MergedDescriptor; series: MergedSeries[] }[] = [];
    for (const entry of this.metrics.values()) {
      const series: MergedSeries[] = [];
      for (const label of order) {
        const found = entry.series[label.id];
        if (found !== undefined) series.push(found);
      }
      if (series.length > 0) result.push({ descriptor: entry.descriptor, series });
    }
    return result.sort((a, b) => compare(a.descriptor.name, b.descriptor.name));
  }

  private report(metric: string, reason: 'kind' | 'boundaries', process: string, detail: string): void {
    this.onConflict?.({ metric, reason, process, detail: `${metric}: ${detail}; left out ${process}` });
  }
}

/**
 * The key order of the previous merge. Scrapes merge the same label sets over
 * and over, and sorting thousands of long keys was the largest cost of a
 * merge: while no new key appears, the remembered ranks give the same order
 * in linear time. Only speed depends on it; the order is always the sorted one.
 */
let previousRanks = new Map<string, number>();

function orderLabels(labels: readonly LabelSet[]): LabelSet[] {
  const ranks = previousRanks;
  if (labels.every((label) => ranks.has(label.key))) {
    const placed = new Array<LabelSet | undefined>(ranks.size);
    for (const label of labels) placed[ranks.get(label.key) as number] = label;
    return placed.filter((label): label is LabelSet => label !== undefined);
  }
  const sorted = [...labels].sort((a, b) => compare(a.key, b.key));
  previousRanks = new Map(sorted.map((label, index) => [label.key, index]));
  return sorted;
}

function describe(metric: SnapshotMetric): MergedDescriptor {
  const { name, description, unit, kind, valueType, boundaries } = metric;
  return boundaries === undefined || kind !== 'histogram'
    ? { name, description, unit, kind, valueType }
    : { name, description, unit, kind, valueType, boundaries };
}

function newSeries(label: LabelSet, point: SnapshotPoint): MergedSeries {
  const { key, attributes } = label;
  const value = point.value;
  if (typeof value === 'number') {
    return { key, attributes, startTimeMs: point.startTimeMs, value, histogram: undefined };
  }
  return {
    key,
    attributes,
    startTimeMs: point.startTimeMs,
    value: 0,
    histogram: {
      count: value.count,
      sum: value.sum,
      counts: value.counts,
      ownsCounts: false,
      min: value.min,
      max: value.max,
    },
  };
}

function addHistogram(into: HistogramSum, value: HistogramValue): void {
  // The first contribution's counts belong to a decoded snapshot: copy before the first write.
  const counts = into.ownsCounts ? (into.counts as number[]) : into.counts.slice();
  const length = Math.min(counts.length, value.counts.length);
  for (let i = 0; i < length; i++) counts[i] = (counts[i] as number) + (value.counts[i] as number);
  into.counts = counts;
  into.ownsCounts = true;
  into.count += value.count;
  into.sum += value.sum;
  into.min = extreme(into.min, value.min, Math.min);
  into.max = extreme(into.max, value.max, Math.max);
}

/** Min or max where either side may be unknown (a process that recorded nothing). */
function extreme(a: number | undefined, b: number | undefined, pick: (x: number, y: number) => number): number | undefined {
  if (a === undefined) return b;
  if (b === undefined) return a;
  return pick(a, b);
}

function sameNumbers(a: readonly number[] | undefined, b: readonly number[] | undefined): boolean {
  if (a === b) return true;
  if (a === undefined || b === undefined || a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Code-unit order, independent of locale, so output is identical on every host. */
function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
