import { processKey, slotKey } from '../snapshot/Snapshot';
import type { HistogramValue, Snapshot, SnapshotMetric, SnapshotPoint } from '../snapshot/Snapshot';
import type { MergeConflictListener } from './MergeConflict';
import { SeriesTable } from './SeriesTable';
import type { MergedSeries } from './SeriesTable';

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
 * @throws Error when `retired` belongs to another slot (a caller bug, never data).
 */
export function foldSnapshot(retired: Snapshot | undefined, dead: Snapshot, onConflict?: MergeConflictListener): Snapshot {
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
  return {
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
}

function addCumulative(table: SeriesTable, snapshot: Snapshot, key: string): void {
  for (const metric of snapshot.metrics) {
    if (metric.kind !== 'counter' && metric.kind !== 'histogram') continue;
    const entry = table.accept(metric, key);
    if (entry === undefined) continue;
    for (const point of metric.points) {
      table.add(entry, table.label(point.attributes, undefined), point);
    }
  }
}

function toPoint(series: MergedSeries): SnapshotPoint {
  const sum = series.histogram;
  if (sum === undefined) return { attributes: series.attributes, startTimeMs: series.startTimeMs, value: series.value };
  const value: { -readonly [K in keyof HistogramValue]: HistogramValue[K] } = {
    count: sum.count,
    sum: sum.sum,
    counts: sum.counts.slice(),
  };
  if (sum.min !== undefined) value.min = sum.min;
  if (sum.max !== undefined) value.max = sum.max;
  return { attributes: series.attributes, startTimeMs: series.startTimeMs, value };
}
