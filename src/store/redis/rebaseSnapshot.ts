import { keyAttributes } from '../../merge/seriesKey';
import type { HistogramValue, Snapshot, SnapshotIdentity, SnapshotMetric, SnapshotPoint } from '../../snapshot/Snapshot';

/**
 * The part of `current` that has not been folded yet: `current − baseline` for
 * every counter and histogram series (the kinds {@link foldSnapshot} sums),
 * written under a new process life `identity`. Gauges and up-down counters
 * describe the live process and pass through unchanged. Pure.
 *
 * Used by the fencing protocol: a process whose snapshot `baseline` was folded
 * into its slot while it was presumed dead keeps counting, so from then on it
 * must only contribute what it counted after that snapshot.
 *
 * A series whose value went below the baseline (a recorder that restarted
 * counting) is taken as new: its current value is kept.
 */
export function rebaseSnapshot(current: Snapshot, baseline: Snapshot, identity: SnapshotIdentity): Snapshot {
  const base = indexBaseline(baseline);
  const metrics = current.metrics.map((metric) => {
    if (metric.kind !== 'counter' && metric.kind !== 'histogram') return metric;
    const previous = base.get(metric.name);
    if (previous === undefined) return metric;
    const points = metric.points.map((point) => rebasePoint(point, previous.get(keyAttributes(point.attributes, undefined).key), identity.startTimeMs));
    const rebased: SnapshotMetric = { ...metric, points };
    return rebased;
  });
  const snapshot: Snapshot = { identity, writtenAtMs: current.writtenAtMs, metrics };
  return snapshot;
}

/** Baseline points by metric name, then by canonical attribute key. */
function indexBaseline(baseline: Snapshot): Map<string, Map<string, SnapshotPoint>> {
  const byMetric = new Map<string, Map<string, SnapshotPoint>>();
  for (const metric of baseline.metrics) {
    if (metric.kind !== 'counter' && metric.kind !== 'histogram') continue;
    const points = new Map<string, SnapshotPoint>();
    for (const point of metric.points) points.set(keyAttributes(point.attributes, undefined).key, point);
    byMetric.set(metric.name, points);
  }
  return byMetric;
}

function rebasePoint(point: SnapshotPoint, base: SnapshotPoint | undefined, lifeStartMs: number): SnapshotPoint {
  if (base === undefined) return point;
  const value = point.value;
  const baseValue = base.value;
  if (typeof value === 'number') {
    if (typeof baseValue !== 'number' || value < baseValue) return point;
    return { attributes: point.attributes, startTimeMs: lifeStartMs, value: value - baseValue };
  }
  if (typeof baseValue === 'number') return point;
  const histogram = subtractHistogram(value, baseValue);
  return histogram === undefined ? point : { attributes: point.attributes, startTimeMs: lifeStartMs, value: histogram };
}

/** `value − base`, or undefined when the two do not line up (other buckets, a reset). */
function subtractHistogram(value: HistogramValue, base: HistogramValue): HistogramValue | undefined {
  if (value.counts.length !== base.counts.length || value.count < base.count) return undefined;
  const counts = new Array<number>(value.counts.length);
  for (let i = 0; i < counts.length; i++) {
    const difference = (value.counts[i] ?? 0) - (base.counts[i] ?? 0);
    if (difference < 0) return undefined;
    counts[i] = difference;
  }
  // min and max stay the life-long ones: merged with the retired slot (min of
  // mins, max of maxes) they still give the true extremes of the slot.
  const result: { -readonly [K in keyof HistogramValue]: HistogramValue[K] } = {
    count: value.count - base.count,
    sum: value.sum - base.sum,
    counts,
  };
  if (value.min !== undefined) result.min = value.min;
  if (value.max !== undefined) result.max = value.max;
  return result;
}
