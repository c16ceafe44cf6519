import { LABEL } from '../catalogue/MetricCatalogue';
import type { SeriesAttributes, Snapshot, SnapshotMetric, SnapshotPoint } from '../snapshot/Snapshot';
import { OVERFLOW_ENDPOINT } from '../worker/RouteNormaliser';
import { compareKeys } from './LabelOrder';
import { addValues } from './cumulativeValues';
import { seriesKey } from './seriesKey';

/** What stores keep per metric in retired totals when not told: the default of `metrics.max_endpoints`. */
export const DEFAULT_MAX_ENDPOINTS = 100;

/**
 * Keep at most `maxEndpoints` distinct `endpoint` values per counter and
 * histogram of `snapshot`; the points of every other endpoint are summed into
 * points whose endpoint is the overflow value (other labels unchanged).
 * Counter values and histogram counts, sums, minimums and maximums are
 * preserved exactly; only the endpoint they are filed under changes.
 * Gauges, up-down counters and points without an endpoint are left alone.
 *
 * Which endpoints stay: those `established` already has for the metric (a
 * series that exists must not shrink), then the busiest (by counter value or
 * histogram count, then by name), so the choice is the same whatever order
 * the points come in. The overflow value never takes a place.
 *
 * Used by the fold: each worker life has its own `maxEndpoints` budget, so a
 * slot's retired totals would otherwise gain up to that many new series per
 * restart. Pure; the input is not modified.
 */
export function capEndpoints(snapshot: Snapshot, maxEndpoints: number, established?: Snapshot): Snapshot {
  let changed = false;
  const metrics = snapshot.metrics.map((metric) => {
    if (metric.kind !== 'counter' && metric.kind !== 'histogram') return metric;
    const keep = endpointsToKeep(metric, maxEndpoints, established);
    if (keep === undefined) return metric;
    changed = true;
    return { ...metric, points: overflowPoints(metric.points, keep) };
  });
  return changed ? { ...snapshot, metrics } : snapshot;
}

/** The endpoints of `metric` to keep, or undefined when it has no more than allowed. */
function endpointsToKeep(metric: SnapshotMetric, maxEndpoints: number, established: Snapshot | undefined): Set<string> | undefined {
  const weights = new Map<string, number>();
  for (const point of metric.points) {
    const endpoint = point.attributes[LABEL.endpoint];
    if (endpoint === undefined || endpoint === OVERFLOW_ENDPOINT) continue;
    weights.set(endpoint, (weights.get(endpoint) ?? 0) + weightOf(point));
  }
  if (weights.size <= maxEndpoints) return undefined;
  const before = establishedEndpoints(established, metric.name);
  const ranked = [...weights.keys()].sort((a, b) => Number(before.has(b)) - Number(before.has(a)) || (weights.get(b) as number) - (weights.get(a) as number) || compareKeys(a, b));
  return new Set(ranked.slice(0, maxEndpoints));
}

function establishedEndpoints(established: Snapshot | undefined, name: string): Set<string> {
  const endpoints = new Set<string>();
  const metric = established?.metrics.find((m) => m.name === name);
  for (const point of metric?.points ?? []) {
    const endpoint = point.attributes[LABEL.endpoint];
    if (endpoint !== undefined) endpoints.add(endpoint);
  }
  return endpoints;
}

function weightOf(point: SnapshotPoint): number {
  return typeof point.value === 'number' ? point.value : point.value.count;
}

/** The points with every endpoint outside `keep` moved to the overflow endpoint, overflow points summed. */
export function overflowPoints(points: readonly SnapshotPoint[], keep: ReadonlySet<string>): SnapshotPoint[] {
  const result: SnapshotPoint[] = [];
  const overflow = new Map<string, number>();
  for (const point of points) {
    const endpoint = point.attributes[LABEL.endpoint];
    const moved = endpoint !== undefined && !keep.has(endpoint);
    if (!moved && endpoint !== OVERFLOW_ENDPOINT) {
      result.push(point);
      continue;
    }
    const attributes: SeriesAttributes = { ...point.attributes, [LABEL.endpoint]: OVERFLOW_ENDPOINT };
    const key = seriesKey(attributes, undefined);
    const index = overflow.get(key);
    if (index === undefined) {
      overflow.set(key, result.length);
      result.push({ ...point, attributes });
    } else {
      result[index] = addPoints(result[index] as SnapshotPoint, point);
    }
  }
  return result;
}

function addPoints(into: SnapshotPoint, point: SnapshotPoint): SnapshotPoint {
  const value = addValues(into.value, point.value);
  if (value === undefined) return into; // a malformed mix: keep the first
  return { ...into, startTimeMs: Math.min(into.startTimeMs, point.startTimeMs), value };
}
