import type { HistogramValue, SnapshotExemplar, SnapshotMetricKind } from '../snapshot/Snapshot';
import { mergeExemplars } from './mergeExemplars';

/**
 * The arithmetic of cumulative values, written once: the merge and the fold
 * add, the rebase after fencing and OTLP's cumulative-to-delta subtract, and
 * all of them decide the same way when a series was reset.
 *
 * A histogram is seen through its parts (`count`, `sum`, `counts`), so the
 * snapshot model and OpenTelemetry's `Histogram` (whose counts live under
 * `buckets`) share the same rules.
 */

/** The parts of an explicit-bucket histogram the arithmetic needs. */
export interface HistogramParts {
  readonly count: number;
  readonly sum?: number;
  readonly counts: readonly number[];
}

/** A histogram being summed in place: `counts` may be shared until the first addition copies it. */
export interface HistogramAccumulator {
  count: number;
  sum: number;
  counts: readonly number[];
  ownsCounts: boolean;
  min: number | undefined;
  max: number | undefined;
  /** Latest exemplar per bucket over the additions (see {@link mergeExemplars}). */
  exemplars: readonly SnapshotExemplar[] | undefined;
}

/** Whether values of this kind are cumulative (added across lives, folded into retired totals). */
export function isCumulativeKind(kind: SnapshotMetricKind): boolean {
  return kind === 'counter' || kind === 'histogram';
}

/** `a + b` for a counter value or a histogram; undefined for a malformed mix of the two. */
export function addValues(a: number | HistogramValue, b: number | HistogramValue): number | HistogramValue | undefined {
  if (typeof a === 'number') return typeof b === 'number' ? a + b : undefined;
  if (typeof b === 'number') return undefined;
  const into = accumulatorOf(a);
  addHistogramInto(into, b);
  return histogramOf(into);
}

/** Add `value` into `into`, copying shared counts before the first write. Buckets beyond the shorter side are ignored. */
export function addHistogramInto(into: HistogramAccumulator, value: HistogramValue): void {
  const counts = into.ownsCounts ? (into.counts as number[]) : into.counts.slice();
  const length = Math.min(counts.length, value.counts.length);
  for (let i = 0; i < length; i++) counts[i] = (counts[i] as number) + (value.counts[i] as number);
  into.counts = counts;
  into.ownsCounts = true;
  into.count += value.count;
  into.sum += value.sum;
  into.min = extreme(into.min, value.min, Math.min);
  into.max = extreme(into.max, value.max, Math.max);
  into.exemplars = mergeExemplars(into.exemplars, value.exemplars);
}

/** An accumulator starting at `value`, sharing its counts until the first addition. */
export function accumulatorOf(value: HistogramValue): HistogramAccumulator {
  return { count: value.count, sum: value.sum, counts: value.counts, ownsCounts: false, min: value.min, max: value.max, exemplars: value.exemplars };
}

/** The accumulated histogram as a plain value (counts copied). */
export function histogramOf(sum: HistogramAccumulator): HistogramValue {
  const value: { -readonly [K in keyof HistogramValue]: HistogramValue[K] } = { count: sum.count, sum: sum.sum, counts: sum.counts.slice() };
  if (sum.min !== undefined) value.min = sum.min;
  if (sum.max !== undefined) value.max = sum.max;
  if (sum.exemplars !== undefined && sum.exemplars.length > 0) value.exemplars = sum.exemplars;
  return value;
}

/**
 * `current − previous` of a histogram's parts, or undefined when the series
 * was reset: other bucket layout, or the count or any bucket went down.
 * `sum` is subtracted when both sides have one.
 */
export function subtractHistogramParts(current: HistogramParts, previous: HistogramParts): { count: number; sum?: number; counts: number[] } | undefined {
  if (current.counts.length !== previous.counts.length || current.count < previous.count) return undefined;
  const counts = new Array<number>(current.counts.length);
  for (let i = 0; i < counts.length; i++) {
    const difference = (current.counts[i] as number) - (previous.counts[i] as number);
    if (difference < 0) return undefined;
    counts[i] = difference;
  }
  const delta: { count: number; sum?: number; counts: number[] } = { count: current.count - previous.count, counts };
  if (current.sum !== undefined && previous.sum !== undefined) delta.sum = current.sum - previous.sum;
  return delta;
}

/**
 * `current − previous` for a counter value or a histogram, or undefined when
 * the series was reset (it went down, or the histogram's buckets differ).
 * A histogram difference keeps `current`'s min and max: merged with the
 * earlier part (min of mins, max of maxes) they still give the true extremes.
 */
export function subtractValues(current: number | HistogramValue, previous: number | HistogramValue): number | HistogramValue | undefined {
  if (typeof current === 'number') {
    return typeof previous === 'number' && current >= previous ? current - previous : undefined;
  }
  if (typeof previous === 'number') return undefined;
  const delta = subtractHistogramParts(current, previous);
  if (delta === undefined) return undefined;
  const value: { -readonly [K in keyof HistogramValue]: HistogramValue[K] } = { count: delta.count, sum: delta.sum ?? 0, counts: delta.counts };
  if (current.min !== undefined) value.min = current.min;
  if (current.max !== undefined) value.max = current.max;
  return value;
}

/** Whether `current` cannot follow `previous` in one cumulative series (it restarted counting). */
export function isReset(current: number | HistogramValue, previous: number | HistogramValue): boolean {
  return subtractValues(current, previous) === undefined;
}

/** Min or max where either side may be unknown (a process that recorded nothing). */
function extreme(a: number | undefined, b: number | undefined, pick: (x: number, y: number) => number): number | undefined {
  if (a === undefined) return b;
  if (b === undefined) return a;
  return pick(a, b);
}
