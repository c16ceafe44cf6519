import { CATALOGUE } from '../../src/catalogue/MetricCatalogue';
import type { HistogramValue, SeriesAttributes, Snapshot, SnapshotIdentity, SnapshotMetric, SnapshotRole } from '../../src/snapshot/Snapshot';

/** Builders for snapshots in tests: realistic shapes, short to write. */

export const REQUESTS = CATALOGUE.requests.name;
export const DURATION = CATALOGUE.requestDuration.name;
export const MEMORY = CATALOGUE.memory.name;
export const ACTIVE = CATALOGUE.activeRequests.name;
export const BOUNDS = [0.1, 0.5, 1];

export function identity(slot: number, pid: number, overrides: Partial<SnapshotIdentity> = {}): SnapshotIdentity {
  const role: SnapshotRole = slot < 0 ? 'primary' : 'worker';
  return { service: 'svc', instance: 'host-a', slot, pid, startTimeMs: 1_000 + pid, role, ...overrides };
}

export function snapshot(id: SnapshotIdentity, writtenAtMs: number, metrics: SnapshotMetric[], folded?: string[]): Snapshot {
  return folded === undefined ? { identity: id, writtenAtMs, metrics } : { identity: id, writtenAtMs, metrics, folded };
}

export function counter(name: string, points: [SeriesAttributes, number][], startTimeMs = 1_000): SnapshotMetric {
  return {
    name,
    description: `${name} help`,
    unit: '1',
    kind: 'counter',
    valueType: 'int',
    points: points.map(([attributes, value]) => ({ attributes, startTimeMs, value })),
  };
}

export function gauge(name: string, points: [SeriesAttributes, number][], kind: 'gauge' | 'updowncounter' = 'gauge'): SnapshotMetric {
  return {
    name,
    description: `${name} help`,
    unit: 'By',
    kind,
    valueType: 'double',
    points: points.map(([attributes, value]) => ({ attributes, startTimeMs: 1_000, value })),
  };
}

/** A histogram value from raw observations, so tests can reason in observations. */
export function observe(boundaries: readonly number[], values: readonly number[]): HistogramValue {
  const counts = new Array<number>(boundaries.length + 1).fill(0);
  for (const value of values) {
    let i = boundaries.findIndex((b) => value <= b);
    if (i < 0) i = boundaries.length;
    counts[i] = (counts[i] as number) + 1;
  }
  const result: HistogramValue = { count: values.length, sum: values.reduce((a, b) => a + b, 0), counts };
  return values.length === 0 ? result : { ...result, min: Math.min(...values), max: Math.max(...values) };
}

export function histogram(name: string, points: [SeriesAttributes, HistogramValue][], boundaries: readonly number[] = BOUNDS, startTimeMs = 1_000): SnapshotMetric {
  return {
    name,
    description: `${name} help`,
    unit: 's',
    kind: 'histogram',
    valueType: 'double',
    boundaries,
    points: points.map(([attributes, value]) => ({ attributes, startTimeMs, value })),
  };
}
