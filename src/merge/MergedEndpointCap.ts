/**
 * The endpoint cap of the merged view. Each worker hands out at most
 * `metrics.max_endpoints` endpoint values, but different workers (and retired
 * lives) may pick different ones, so N workers could show N times as many.
 * Before the merge, every snapshot's counters and histograms are rewritten so
 * that the whole view uses at most `maxEndpoints` values per metric; the rest
 * are filed under the overflow endpoint (totals preserved exactly, other
 * labels unchanged, so each worker keeps its own overflow series).
 *
 * Which endpoints are kept is stable: a value the view has shown keeps its
 * place for the life of this instance (a series must not vanish between two
 * scrapes); free places go to the busiest new values, ties by name.
 */
import { LABEL } from '../catalogue/MetricCatalogue';
import type { SnapshotMetric, SnapshotPoint, StoredSnapshot } from '../snapshot/Snapshot';
import { OVERFLOW_ENDPOINT } from '../worker/RouteNormaliser';
import { overflowPoints } from './capEndpoints';
import { compareKeys } from './LabelOrder';

/** Stateful cap over successive merges of one view. */
export class MergedEndpointCap {
  /** Metric name → endpoint values the view has shown; each at most `maxEndpoints` large, never shrinking. */
  private readonly shown = new Map<string, Set<string>>();

  /** @throws RangeError when `maxEndpoints` is not a positive integer. */
  constructor(private readonly maxEndpoints: number) {
    if (!Number.isInteger(maxEndpoints) || maxEndpoints < 1) {
      throw new RangeError(`MergedEndpointCap: maxEndpoints must be a positive integer, got ${String(maxEndpoints)}`);
    }
  }

  /** The snapshots with endpoints beyond the cap moved to the overflow value. Inputs are not modified. */
  apply(stored: readonly StoredSnapshot[]): StoredSnapshot[] {
    const keep = this.admit(stored);
    if (keep.size === 0) return [...stored];
    return stored.map((entry) => {
      let changed = false;
      const metrics = entry.snapshot.metrics.map((metric) => {
        const kept = keep.get(metric.name);
        if (kept === undefined || !hasEndpointOutside(metric, kept)) return metric;
        changed = true;
        return { ...metric, points: overflowPoints(metric.points, kept) };
      });
      return changed ? { ...entry, snapshot: { ...entry.snapshot, metrics } } : entry;
    });
  }

  /** Update the shown sets; returns those of metrics that have more values than allowed this time. */
  private admit(stored: readonly StoredSnapshot[]): Map<string, Set<string>> {
    const weights = new Map<string, Map<string, number>>();
    for (const { snapshot } of stored) {
      for (const metric of snapshot.metrics) {
        if (metric.kind !== 'counter' && metric.kind !== 'histogram') continue;
        let byEndpoint = weights.get(metric.name);
        if (byEndpoint === undefined) weights.set(metric.name, (byEndpoint = new Map<string, number>()));
        for (const point of metric.points) {
          const endpoint = point.attributes[LABEL.endpoint];
          if (endpoint === undefined || endpoint === OVERFLOW_ENDPOINT) continue;
          byEndpoint.set(endpoint, (byEndpoint.get(endpoint) ?? 0) + weightOf(point));
        }
      }
    }
    const over = new Map<string, Set<string>>();
    for (const [name, byEndpoint] of weights) {
      let shown = this.shown.get(name);
      if (shown === undefined) this.shown.set(name, (shown = new Set()));
      const fresh = [...byEndpoint.keys()].filter((endpoint) => !shown.has(endpoint));
      fresh.sort((a, b) => (byEndpoint.get(b) as number) - (byEndpoint.get(a) as number) || compareKeys(a, b));
      for (const endpoint of fresh) {
        if (shown.size >= this.maxEndpoints) break;
        shown.add(endpoint);
      }
      if (fresh.some((endpoint) => !shown.has(endpoint))) over.set(name, shown);
    }
    return over;
  }
}

function hasEndpointOutside(metric: SnapshotMetric, kept: ReadonlySet<string>): boolean {
  return metric.points.some((point) => {
    const endpoint = point.attributes[LABEL.endpoint];
    return endpoint !== undefined && endpoint !== OVERFLOW_ENDPOINT && !kept.has(endpoint);
  });
}

function weightOf(point: SnapshotPoint): number {
  return typeof point.value === 'number' ? point.value : point.value.count;
}
