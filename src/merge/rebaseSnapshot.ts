import type { Snapshot, SnapshotIdentity, SnapshotMetric, SnapshotPoint } from '../snapshot/Snapshot';
import { isCumulativeKind, subtractValues } from './cumulativeValues';
import { seriesKey } from './seriesKey';

/**
 * The part of `current` that has not been folded yet: `current − baseline` for
 * every counter and histogram series (the kinds {@link foldSnapshot} sums),
 * written under a new process life `identity`. Gauges and up-down counters
 * describe the live process and pass through unchanged. Pure.
 *
 * Used by the fencing protocol (see retirement/Retirement.ts): a process whose
 * snapshot `baseline` was folded into its slot while it was presumed dead
 * keeps counting, so from then on it only contributes what it counted after
 * that snapshot.
 *
 * A series that was reset against the baseline (see {@link subtractValues})
 * is taken as new: its current value is kept.
 */
export function rebaseSnapshot(current: Snapshot, baseline: Snapshot, identity: SnapshotIdentity): Snapshot {
  const base = indexBaseline(baseline);
  const metrics = current.metrics.map((metric) => {
    if (!isCumulativeKind(metric.kind)) return metric;
    const previous = base.get(metric.name);
    if (previous === undefined) return metric;
    const points = metric.points.map((point) => rebasePoint(point, previous.get(seriesKey(point.attributes, undefined)), identity.startTimeMs));
    const rebased: SnapshotMetric = { ...metric, points };
    return rebased;
  });
  const snapshot: Snapshot = { identity, writtenAtMs: current.writtenAtMs, metrics };
  return snapshot;
}

/** Baseline points by metric name, then by series key. */
function indexBaseline(baseline: Snapshot): Map<string, Map<string, SnapshotPoint>> {
  const byMetric = new Map<string, Map<string, SnapshotPoint>>();
  for (const metric of baseline.metrics) {
    if (!isCumulativeKind(metric.kind)) continue;
    const points = new Map<string, SnapshotPoint>();
    for (const point of metric.points) points.set(seriesKey(point.attributes, undefined), point);
    byMetric.set(metric.name, points);
  }
  return byMetric;
}

function rebasePoint(point: SnapshotPoint, base: SnapshotPoint | undefined, lifeStartMs: number): SnapshotPoint {
  if (base === undefined) return point;
  const value = subtractValues(point.value, base.value);
  return value === undefined ? point : { attributes: point.attributes, startTimeMs: lifeStartMs, value };
}
