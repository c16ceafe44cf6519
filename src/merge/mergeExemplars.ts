import type { SnapshotExemplar } from '../snapshot/Snapshot';

/**
 * The exemplars of two contributions to one histogram series: per bucket the
 * latest (by observation time; the first list wins a tie), so the result
 * holds at most one per bucket however many workers contribute. Both lists
 * are in bucket order with at most one per bucket; so is the result.
 */
export function mergeExemplars(
  a: readonly SnapshotExemplar[] | undefined,
  b: readonly SnapshotExemplar[] | undefined,
): readonly SnapshotExemplar[] | undefined {
  if (a === undefined || a.length === 0) return b;
  if (b === undefined || b.length === 0) return a;
  const merged: SnapshotExemplar[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    const left = a[i];
    const right = b[j];
    if (right === undefined || (left !== undefined && left.bucket < right.bucket)) {
      merged.push(left as SnapshotExemplar);
      i++;
    } else if (left === undefined || right.bucket < left.bucket) {
      merged.push(right);
      j++;
    } else {
      merged.push(right.timeMs > left.timeMs ? right : left);
      i++;
      j++;
    }
  }
  return merged;
}

/**
 * Exemplars of a histogram re-bucketed with `mapping` (see bucketMapping):
 * each moves with its observation; where two land in one bucket the latest stays.
 */
export function rebucketExemplars(exemplars: readonly SnapshotExemplar[] | undefined, mapping: readonly number[]): readonly SnapshotExemplar[] | undefined {
  if (exemplars === undefined) return undefined;
  let moved: SnapshotExemplar[] | undefined;
  for (const exemplar of exemplars) {
    const bucket = mapping[Math.min(exemplar.bucket, mapping.length - 1)] as number;
    const single = [{ ...exemplar, bucket }];
    moved = mergeExemplars(moved, single) as SnapshotExemplar[];
  }
  return moved;
}
