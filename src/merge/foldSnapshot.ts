import { processKey, slotKey } from '../snapshot/Snapshot';
import type { Snapshot, SnapshotMetric, SnapshotPoint } from '../snapshot/Snapshot';
import { histogramOf, isCumulativeKind } from './cumulativeValues';
import { capEndpoints } from './capEndpoints';
import type { MergeConflictListener } from './MergeConflict';
import { SeriesTable } from './SeriesTable';
import type { MergedSeries } from './SeriesTable';

/** Options of {@link foldSnapshot}. */
export interface FoldOptions {
  /**
   * Distinct `endpoint` values the retired totals keep per metric (see
   * {@link capEndpoints}); the rest go to the overflow value. Unlimited when absent.
   */
  readonly maxEndpoints?: number;
  /** Told about data left out (a metric whose kind changed) or re-bucketed (histogram boundaries changed). */
  readonly onConflict?: MergeConflictListener;
}

/**
 * How many folded process keys a retired snapshot remembers. A fold is only
 * ever retried for a process that died moments ago, so the most recent keys
 * are enough, and the list cannot grow with years of worker recycling.
 */
export const MAX_FOLDED_KEYS = 64;

/**
 * Add a dead process's counters and histograms to its slot's retired totals.
 *
 * Returns the new retired snapshot (role `retired`, pid 0, start time 0, the
 * dead process's service, instance and slot) with the dead process's key
 * appended to `folded`. Gauges and up-down counters are dropped: they describe
 * a process that no longer exists. Exactly once: if `retired` already lists the
 * dead process as folded it is returned unchanged, so a fold retried after a
 * crash never counts twice. Pure.
 *
 * The dead process is the newer life, so where the two disagree its
 * declaration wins: histograms of the retired totals recorded with other
 * boundaries are re-bucketed into the dead process's (count and sum exact),
 * the same boundaries the merged view already showed them in while it lived
 * (the merge also lets the newest life's boundaries win), so neither `_count`
 * nor any `_bucket` goes down at the fold. With `maxEndpoints`, the result
 * keeps at most that many `endpoint` values per metric.
 *
 * @throws Error when `retired` belongs to another slot (a caller bug, never data).
 */
export function foldSnapshot(retired: Snapshot | undefined, dead: Snapshot, options: FoldOptions = {}): Snapshot {
  const { onConflict, maxEndpoints } = options;
  const deadKey = processKey(dead.identity);
  if (retired !== undefined) {
    if (slotKey(retired.identity) !== slotKey(dead.identity)) {
      throw new Error(`cannot fold ${deadKey} into the retired totals of ${slotKey(retired.identity)}`);
    }
    if (retired.folded?.includes(deadKey) === true) return retired;
  }
  const table = new SeriesTable(onConflict);
  // The dead snapshot is the newer one: its descriptors win any disagreement.
  addCumulative(table, dead, deadKey);
  if (retired !== undefined) addCumulative(table, retired, processKey(retired.identity));
  const folded = [...(retired?.folded ?? []), deadKey].slice(-MAX_FOLDED_KEYS);
  const summed: Snapshot = {
    identity: {
      service: dead.identity.service,
      instance: dead.identity.instance,
      slot: dead.identity.slot,
      pid: 0,
      startTimeMs: 0,
      role: 'retired',
    },
    writtenAtMs: Math.max(dead.writtenAtMs, retired?.writtenAtMs ?? 0),
    metrics: table.sorted().map(({ descriptor, series }) => {
      const metric: SnapshotMetric = { ...descriptor, points: series.map(toPoint) };
      return metric;
    }),
    folded,
  };
  return maxEndpoints === undefined ? summed : capEndpoints(summed, maxEndpoints, retired);
}

function addCumulative(table: SeriesTable, snapshot: Snapshot, key: string): void {
  for (const metric of snapshot.metrics) {
    if (!isCumulativeKind(metric.kind)) continue;
    const accepted = table.accept(metric, key);
    if (accepted === undefined) continue;
    for (const point of metric.points) {
      table.add(accepted.entry, table.label(point.attributes, undefined), point, accepted.buckets);
    }
  }
}

function toPoint(series: MergedSeries): SnapshotPoint {
  const sum = series.histogram;
  const value = sum === undefined ? series.value : histogramOf(sum);
  return { attributes: series.attributes, startTimeMs: series.startTimeMs, value };
}
