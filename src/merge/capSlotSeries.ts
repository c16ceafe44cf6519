import { CATALOGUE, LABEL } from '../catalogue/MetricCatalogue';
import { slotKey } from '../snapshot/Snapshot';
import type { SeriesAttributes, Snapshot, SnapshotMetric, SnapshotPoint, StoredSnapshot } from '../snapshot/Snapshot';
import { OVERFLOW_SERIES } from '../worker/RequestAccumulator';
import { compareKeys } from './LabelOrder';
import { seriesKey } from './seriesKey';

/** The metrics whose label sets are request series (method, endpoint, status). */
const REQUEST_METRICS: ReadonlySet<string> = new Set(
  [CATALOGUE.requests, CATALOGUE.requestDuration, CATALOGUE.requestSize, CATALOGUE.responseSize].map((definition) => definition.name),
);

/** The attributes every request series past a slot's budget is shown under: one object, so the merge keys it once. */
const OVERFLOW_ATTRIBUTES: SeriesAttributes = {
  [LABEL.method]: OVERFLOW_SERIES.method,
  [LABEL.endpoint]: OVERFLOW_SERIES.endpoint,
  [LABEL.status]: OVERFLOW_SERIES.status,
};
const OVERFLOW_KEY = seriesKey(OVERFLOW_ATTRIBUTES, undefined);

/**
 * Hold every worker slot to `maxSeries` request series however many lives it
 * had: a worker keeps its own budget (see RequestAccumulator), but its
 * replacement starts with a fresh one, and the slot's retired totals keep the
 * series of lives before it, so without this the slot's series would grow at
 * every restart under traffic with new paths.
 *
 * Per slot and request metric, the series that stay are the oldest (earliest
 * start time, then by key): a series never loses its place to a newer one, so
 * the choice is the same at every scrape and before and after a fold (a fold
 * keeps the earliest start time). The points of the others are shown under the
 * overflow series, which the merge sums; nothing counted is lost. The overflow
 * series never takes a place. Snapshots of slots within budget are returned
 * as they are. Pure; the input is not modified.
 */
export function capSlotSeries(stored: readonly StoredSnapshot[], maxSeries: number): StoredSnapshot[] {
  const slots = new Map<string, number[]>();
  stored.forEach((entry, index) => {
    const { role, slot } = entry.snapshot.identity;
    if (role === 'primary' || slot < 0) return;
    const key = slotKey(entry.snapshot.identity);
    const indices = slots.get(key);
    if (indices === undefined) slots.set(key, [index]);
    else indices.push(index);
  });
  const result = [...stored];
  for (const indices of slots.values()) {
    if (indices.length < 2) continue; // one life: its own budget already holds
    for (const name of REQUEST_METRICS) capMetric(result, indices, name, maxSeries);
  }
  return result;
}

/** Cap one request metric of one slot whose snapshots are `result[indices]`; rewrites those entries when needed. */
function capMetric(result: StoredSnapshot[], indices: readonly number[], name: string, maxSeries: number): void {
  let points = 0;
  for (const index of indices) points += findMetric((result[index] as StoredSnapshot).snapshot, name)?.points.length ?? 0;
  if (points <= maxSeries) return;
  const earliest = new Map<string, number>();
  for (const index of indices) {
    for (const point of findMetric((result[index] as StoredSnapshot).snapshot, name)?.points ?? []) {
      const key = seriesKey(point.attributes, undefined);
      if (key === OVERFLOW_KEY) continue;
      const known = earliest.get(key);
      if (known === undefined || point.startTimeMs < known) earliest.set(key, point.startTimeMs);
    }
  }
  if (earliest.size <= maxSeries) return;
  const kept = new Set(
    [...earliest.keys()]
      .sort((a, b) => (earliest.get(a) as number) - (earliest.get(b) as number) || compareKeys(a, b))
      .slice(0, maxSeries),
  );
  for (const index of indices) {
    const entry = result[index] as StoredSnapshot;
    result[index] = { ...entry, snapshot: withOverflow(entry.snapshot, name, kept) };
  }
}

function findMetric(snapshot: Snapshot, name: string): SnapshotMetric | undefined {
  return snapshot.metrics.find((metric) => metric.name === name);
}

/** `snapshot` with the points of metric `name` outside `kept` moved to the overflow series. */
function withOverflow(snapshot: Snapshot, name: string, kept: ReadonlySet<string>): Snapshot {
  let moved = false;
  const metrics = snapshot.metrics.map((metric) => {
    if (metric.name !== name) return metric;
    const points = metric.points.map((point): SnapshotPoint => {
      if (kept.has(seriesKey(point.attributes, undefined))) return point;
      moved = true;
      return { ...point, attributes: OVERFLOW_ATTRIBUTES };
    });
    return { ...metric, points };
  });
  return moved ? { ...snapshot, metrics } : snapshot;
}
