import { ValueType } from '@opentelemetry/api';
import type { HrTime } from '@opentelemetry/api';
import type { Resource } from '@opentelemetry/resources';
import { AggregationTemporality, DataPointType } from '@opentelemetry/sdk-metrics';
import type { DataPoint, Histogram, MetricData, MetricDescriptor, ResourceMetrics } from '@opentelemetry/sdk-metrics';
import { ALL_METRICS, LABEL, SCOPE_NAME } from '../catalogue/MetricCatalogue';
import { processKey, slotKey } from '../snapshot/Snapshot';
import type { HistogramWithExemplars } from '../snapshot/histogramExemplars';
import type { SeriesAttributes, Snapshot, StoredSnapshot } from '../snapshot/Snapshot';
import { KnownAttributes } from './KnownAttributes';
import { LabelOrder } from './LabelOrder';
import type { MergeConflictListener } from './MergeConflict';
import { msToHrTime } from './msToHrTime';
import { SeriesTable } from './SeriesTable';
import type { LabelSet, MergedDescriptor, MergedSeries } from './SeriesTable';

export { foldSnapshot, MAX_FOLDED_KEYS } from './foldSnapshot';
export type { FoldOptions } from './foldSnapshot';
export type { MergeConflict, MergeConflictListener } from './MergeConflict';
export { msToHrTime } from './msToHrTime';

/**
 * Metrics the cluster primary records: they carry their own `worker_id` where
 * they have one, so the merge never adds the slot's, even when a single
 * process (a slot-0 worker snapshot) records them.
 */
const PRIMARY_RECORDED: ReadonlySet<string> = new Set(ALL_METRICS.filter((definition) => definition.recordedBy === 'primary').map((definition) => definition.name));

/** Options of {@link mergeSnapshots}. */
export interface MergeOptions {
  /** The resource of the merged view (the exporter's own, with service.name). */
  readonly resource: Resource;
  /** Add `instance` = identity.instance to every series, so several hosts never collide. */
  readonly labelInstance: boolean;
  /** The collection time: every point's end time. */
  readonly nowMs: number;
  /** Told about data left out because snapshots disagree on a metric's kind or buckets. */
  readonly onConflict?: MergeConflictListener;
}

/** How one stored snapshot takes part in the merge. */
interface Contribution {
  readonly snapshot: Snapshot;
  readonly key: string;
  /** Adds counters and histograms (false once its process was folded into retired totals). */
  readonly cumulative: boolean;
  /** Provides gauges and up-down counters (live only; for workers, the newest of its slot). */
  readonly current: boolean;
  /** Added to the snapshot's own attributes (see {@link extraLabels}). */
  readonly labels: SeriesAttributes | undefined;
  /** Added to primary-recorded metrics: {@link labels} without `worker_id`. */
  readonly primaryLabels: SeriesAttributes | undefined;
}

/**
 * Merge every stored snapshot into one cumulative OpenTelemetry view.
 *
 * Counters and histograms of a series are the sum over its slot's retired
 * totals, dead processes not folded yet and live processes, so they never go
 * down while workers die and are replaced; a process whose key a retired
 * snapshot lists as folded is not counted again. Gauges and up-down counters
 * come from live processes only, and of two live workers in one slot from the
 * newest, so a dead or replaced worker's gauges disappear. Worker and retired
 * series gain `worker_id` (the slot), except metrics the catalogue says the
 * primary records; with `labelInstance` every series gains `instance`.
 *
 * Where snapshots disagree about a metric the newest process life (latest
 * start time) wins: an older life's histogram recorded with other boundaries
 * is re-bucketed into the newest's (count and sum exact), data of a changed
 * kind is left out; both are told to `onConflict`.
 *
 * Pure and deterministic: the same input gives the same output, metrics sorted
 * by name and points by attributes. Data points look like those
 * @opentelemetry/sdk-metrics produces with CUMULATIVE temporality, so any
 * exporter (Prometheus, OTLP) can serialize them.
 */
export function mergeSnapshots(stored: readonly StoredSnapshot[], options: MergeOptions): ResourceMetrics {
  return new SnapshotMerger().merge(stored, options);
}

/**
 * {@link mergeSnapshots} for a caller that merges again and again (a merged
 * view, at every scrape): it remembers the order of the label sets between
 * merges, which saves most of the sorting while the set of series is
 * unchanged. The output is the same as {@link mergeSnapshots}'s, and a label
 * set keeps its attributes object from one merge to the next (see
 * {@link KnownAttributes}): a renderer can tell series apart by it.
 */
export class SnapshotMerger {
  private readonly labelOrder = new LabelOrder();
  private readonly knownAttributes = new KnownAttributes();

  /** Merge `stored`: see {@link mergeSnapshots}. */
  merge(stored: readonly StoredSnapshot[], options: MergeOptions): ResourceMetrics {
    this.knownAttributes.startMerge();
    const table = new SeriesTable(options.onConflict, this.labelOrder, this.knownAttributes);
    for (const contribution of contributions(stored, options.labelInstance)) addContribution(table, contribution);
    const times = new PointTimes(options.nowMs);
    const metrics: MetricData[] = table.sorted().map(({ descriptor, series }) => toMetricData(descriptor, series, times));
    return { resource: options.resource, scopeMetrics: [{ scope: { name: SCOPE_NAME }, metrics }] };
  }
}

/** Decide what each snapshot contributes; newest life first, as the table expects. */
function contributions(stored: readonly StoredSnapshot[], labelInstance: boolean): Contribution[] {
  const unique = newestPerProcess(stored);
  const folded = new Set<string>();
  for (const { snapshot } of unique) {
    if (snapshot.identity.role === 'retired') for (const key of snapshot.folded ?? []) folded.add(key);
  }
  const current = currentPerSlot(unique);
  return unique.sort(newestLifeFirst).map(({ snapshot, live }) => {
    const key = processKey(snapshot.identity);
    const retired = snapshot.identity.role === 'retired';
    return {
      snapshot,
      key,
      cumulative: retired || !folded.has(key),
      current: live && !retired && (snapshot.identity.role !== 'worker' || current.get(currentKey(snapshot)) === snapshot),
      labels: extraLabels(snapshot, labelInstance, true),
      primaryLabels: extraLabels(snapshot, labelInstance, false),
    };
  });
}

/** One entry per process life: a store may hand back an older copy too. */
function newestPerProcess(stored: readonly StoredSnapshot[]): StoredSnapshot[] {
  const byProcess = new Map<string, StoredSnapshot>();
  for (const entry of stored) {
    const key = processKey(entry.snapshot.identity);
    const known = byProcess.get(key);
    if (known === undefined || entry.snapshot.writtenAtMs > known.snapshot.writtenAtMs) byProcess.set(key, entry);
  }
  return [...byProcess.values()];
}

/**
 * For each worker slot, the live snapshot whose gauges are shown: a replaced
 * worker not yet known dead loses. Primary snapshots are not narrowed: an
 * exporter may add snapshots of its own (scrape-time gauges) beside its main one.
 */
function currentPerSlot(unique: readonly StoredSnapshot[]): Map<string, Snapshot> {
  const current = new Map<string, Snapshot>();
  for (const { snapshot, live } of unique) {
    if (!live || snapshot.identity.role !== 'worker') continue;
    const key = currentKey(snapshot);
    const known = current.get(key);
    if (known === undefined || newestFirst({ snapshot }, { snapshot: known }) < 0) current.set(key, snapshot);
  }
  return current;
}

function currentKey(snapshot: Snapshot): string {
  return slotKey(snapshot.identity);
}

/**
 * Latest process start first, then newest writtenAtMs, then process key: the
 * newest life declares a metric (its configuration is the current one), and
 * the order never depends on the store or on which worker flushed last, so a
 * histogram's boundaries do not flip between scrapes during a rolling restart.
 * Retired totals (start time 0) come last.
 */
function newestLifeFirst(a: Pick<StoredSnapshot, 'snapshot'>, b: Pick<StoredSnapshot, 'snapshot'>): number {
  const byStart = b.snapshot.identity.startTimeMs - a.snapshot.identity.startTimeMs;
  return byStart !== 0 ? byStart : newestFirst(a, b);
}

/** Newest writtenAtMs first; ties broken by process key so the order never depends on the store. */
function newestFirst(a: Pick<StoredSnapshot, 'snapshot'>, b: Pick<StoredSnapshot, 'snapshot'>): number {
  const byTime = b.snapshot.writtenAtMs - a.snapshot.writtenAtMs;
  if (byTime !== 0) return byTime;
  const keyA = processKey(a.snapshot.identity);
  const keyB = processKey(b.snapshot.identity);
  return keyA < keyB ? -1 : keyA > keyB ? 1 : 0;
}

/** The labels the merge adds: a primary records worker_id itself where it applies. */
function extraLabels(snapshot: Snapshot, labelInstance: boolean, workerId: boolean): SeriesAttributes | undefined {
  const { role, slot, instance } = snapshot.identity;
  const labels: Record<string, string> = {};
  if (workerId && role !== 'primary' && slot >= 0) labels[LABEL.workerId] = String(slot);
  if (labelInstance) labels[LABEL.instance] = instance;
  return Object.keys(labels).length === 0 ? undefined : labels;
}

function addContribution(table: SeriesTable, contribution: Contribution): void {
  const { snapshot, key, cumulative, current } = contribution;
  // Label sets are shared between a snapshot's metrics (the codec interns them): key each once.
  const workerLabelSets = new Map<SeriesAttributes, LabelSet>();
  const primaryLabelSets = new Map<SeriesAttributes, LabelSet>();
  for (const metric of snapshot.metrics) {
    const summed = metric.kind === 'counter' || metric.kind === 'histogram';
    if (summed ? !cumulative : !current) continue;
    const accepted = table.accept(metric, key);
    if (accepted === undefined) continue;
    const primary = PRIMARY_RECORDED.has(metric.name);
    const labelSets = primary ? primaryLabelSets : workerLabelSets;
    const labels = primary ? contribution.primaryLabels : contribution.labels;
    for (const point of metric.points) {
      let label = labelSets.get(point.attributes);
      if (label === undefined) {
        label = table.label(point.attributes, labels);
        labelSets.set(point.attributes, label);
      }
      if (summed) table.add(accepted.entry, label, point, accepted.buckets);
      else table.set(accepted.entry, label, point);
    }
  }
}

/**
 * HrTime arrays shared between points: almost every series of a worker starts at
 * the same instant, and exporters only read them, so one array per distinct
 * time saves thousands of allocations per scrape.
 */
class PointTimes {
  readonly end: HrTime;
  private lastStartMs = NaN;
  private lastStart: HrTime = [0, 0];

  constructor(nowMs: number) {
    this.end = msToHrTime(nowMs);
  }

  start(ms: number): HrTime {
    if (ms !== this.lastStartMs) {
      this.lastStartMs = ms;
      this.lastStart = msToHrTime(ms);
    }
    return this.lastStart;
  }
}

function toMetricData(descriptor: MergedDescriptor, series: readonly MergedSeries[], times: PointTimes): MetricData {
  const otelDescriptor: MetricDescriptor = {
    name: descriptor.name,
    description: descriptor.description,
    unit: descriptor.unit,
    valueType: descriptor.valueType === 'int' ? ValueType.INT : ValueType.DOUBLE,
  };
  const aggregationTemporality = AggregationTemporality.CUMULATIVE;
  switch (descriptor.kind) {
    case 'counter':
    case 'updowncounter':
      return {
        descriptor: otelDescriptor,
        aggregationTemporality,
        dataPointType: DataPointType.SUM,
        isMonotonic: descriptor.kind === 'counter',
        dataPoints: series.map((s) => numberPoint(s, times)),
      };
    case 'gauge':
      return {
        descriptor: otelDescriptor,
        aggregationTemporality,
        dataPointType: DataPointType.GAUGE,
        dataPoints: series.map((s) => numberPoint(s, times)),
      };
    case 'histogram': {
      // One boundaries array per metric, as the SDK does; exporters only read it.
      const boundaries = [...(descriptor.boundaries ?? [])];
      return {
        descriptor: otelDescriptor,
        aggregationTemporality,
        dataPointType: DataPointType.HISTOGRAM,
        dataPoints: series.map((s) => histogramPoint(s, boundaries, times)),
      };
    }
  }
}

function numberPoint(series: MergedSeries, times: PointTimes): DataPoint<number> {
  return { attributes: series.attributes, startTime: times.start(series.startTimeMs), endTime: times.end, value: series.value };
}

function histogramPoint(series: MergedSeries, boundaries: number[], times: PointTimes): DataPoint<Histogram> {
  const sum = series.histogram;
  const value: Histogram = {
    // Not copied: exporters only read bucket counts, and a single-contributor series (the
    // common case) would otherwise copy every decoded array on every scrape. Inputs stay unmodified.
    buckets: { boundaries, counts: sum === undefined ? [] : (sum.counts as number[]) },
    sum: sum?.sum ?? 0,
    count: sum?.count ?? 0,
  };
  if (sum?.min !== undefined) value.min = sum.min;
  if (sum?.max !== undefined) value.max = sum.max;
  if (sum?.exemplars !== undefined) (value as HistogramWithExemplars).exemplars = sum.exemplars;
  return { attributes: series.attributes, startTime: times.start(series.startTimeMs), endTime: times.end, value };
}
