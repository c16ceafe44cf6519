import { ALL_METRICS } from '../catalogue/MetricCatalogue';
import type { SnapshotMetric } from '../snapshot/Snapshot';
import { catalogueMetric } from '../snapshot/catalogueMetric';
import type { SelfMetrics } from './SelfMetrics';

/**
 * Turn the exporter's own counters into snapshot metrics, so they travel
 * through the store and the merge like every other series.
 */
export function selfMetricsSnapshot(selfMetrics: SelfMetrics, startTimeMs: number): SnapshotMetric[] {
  const byName = new Map<string, { kind: 'counter' | 'gauge'; points: SnapshotMetric['points'][number][] }>();
  for (const point of selfMetrics.toPoints()) {
    let entry = byName.get(point.name);
    if (!entry) {
      entry = { kind: point.kind, points: [] };
      byName.set(point.name, entry);
    }
    entry.points.push({ attributes: point.attributes, startTimeMs, value: point.value });
  }
  const metrics: SnapshotMetric[] = [];
  for (const definition of ALL_METRICS) {
    const entry = byName.get(definition.name);
    if (!entry) continue;
    metrics.push(catalogueMetric(definition, entry.kind, entry.kind === 'counter' ? 'int' : 'double', entry.points));
  }
  return metrics;
}
