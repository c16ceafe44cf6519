import { sameNumbers } from '../self/sameNumbers';
import type { HistogramValue, SeriesAttributes, SnapshotMetric, SnapshotPoint } from './Snapshot';

/**
 * Whether two snapshots' metrics hold the same series with the same values
 * (descriptors, attributes, start times, values; not `writtenAtMs`). A flush
 * whose metrics are the same as the last written ones only renews its lease.
 * Linear in the number of points, with no allocation.
 */
export function sameMetrics(a: readonly SnapshotMetric[], b: readonly SnapshotMetric[]): boolean {
  if (a === b) return true;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (!sameMetric(a[i] as SnapshotMetric, b[i] as SnapshotMetric)) return false;
  return true;
}

/** One metric of {@link sameMetrics}. */
export function sameMetric(x: SnapshotMetric, y: SnapshotMetric): boolean {
  if (x === y) return true;
  if (x.name !== y.name || x.kind !== y.kind || x.unit !== y.unit || x.valueType !== y.valueType || x.description !== y.description) return false;
  return sameNumbers(x.boundaries, y.boundaries) && samePoints(x.points, y.points);
}

function samePoints(a: readonly SnapshotPoint[], b: readonly SnapshotPoint[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) {
    const x = a[i] as SnapshotPoint;
    const y = b[i] as SnapshotPoint;
    if (x.startTimeMs !== y.startTimeMs || !sameValue(x.value, y.value) || !sameAttributes(x.attributes, y.attributes)) return false;
  }
  return true;
}

function sameValue(a: number | HistogramValue, b: number | HistogramValue): boolean {
  if (typeof a === 'number' || typeof b === 'number') return Object.is(a, b);
  return a.count === b.count && a.sum === b.sum && a.min === b.min && a.max === b.max && sameNumbers(a.counts, b.counts)
    && sameExemplars(a.exemplars, b.exemplars);
}

/** Exemplars are equal when each bucket holds the same observation (one trace, one time). */
function sameExemplars(a: HistogramValue['exemplars'], b: HistogramValue['exemplars']): boolean {
  if (a === b) return true;
  if ((a?.length ?? 0) !== (b?.length ?? 0)) return false;
  for (let i = 0; i < (a?.length ?? 0); i++) {
    const x = a![i]!;
    const y = b![i]!;
    if (x.bucket !== y.bucket || x.timeMs !== y.timeMs || x.spanId !== y.spanId || x.traceId !== y.traceId || !Object.is(x.value, y.value)) return false;
  }
  return true;
}

function sameAttributes(a: SeriesAttributes, b: SeriesAttributes): boolean {
  if (a === b) return true;
  let count = 0;
  for (const name in a) {
    if (a[name] !== b[name]) return false;
    count++;
  }
  for (const _ in b) count--;
  return count === 0;
}
