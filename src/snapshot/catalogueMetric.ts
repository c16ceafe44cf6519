import type { MetricDefinition } from '../catalogue/MetricCatalogue';
import type { SnapshotMetric, SnapshotMetricKind, SnapshotPoint } from './Snapshot';

/**
 * A snapshot metric of one catalogue entry, for series this package builds in
 * snapshot form itself (outside the SDK): the entry's name, help and unit,
 * with `points`.
 */
export function catalogueMetric(
  definition: Pick<MetricDefinition, 'name' | 'help' | 'unit'>,
  kind: SnapshotMetricKind,
  valueType: SnapshotMetric['valueType'],
  points: readonly SnapshotPoint[],
): SnapshotMetric {
  return { name: definition.name, description: definition.help, unit: definition.unit, kind, valueType, points };
}
