import { MetricReader } from '@opentelemetry/sdk-metrics';
import type { MetricProducer } from '@opentelemetry/sdk-metrics';
import type { Snapshot, SnapshotIdentity, SnapshotMetric, ProcessExit } from '../snapshot/Snapshot';
import type { SnapshotStore } from '../store/SnapshotStore';
import type { SelfMetrics } from '../self/SelfMetrics';
import { snapshotMetricsFromResourceMetrics, type ScopeStandIn } from '../snapshot/fromResourceMetrics';
import { selfMetricsSnapshot } from '../self/selfMetricsSnapshot';
import { recovered, warnOnce } from '../self/Logger';
import { errorMessage } from '../self/errorMessage';
import { ALL_METRICS } from '../catalogue/MetricCatalogue';

/**
 * Series only a worker records. A process that has become a cluster primary
 * leaves them out: the SDK keeps reporting the last value of a cumulative
 * instrument even after its callback is gone, and a primary's stale memory or
 * request series must not appear beside its workers'.
 */
const WORKER_ONLY_METRICS: ReadonlySet<string> = new Set(ALL_METRICS.filter((definition) => definition.recordedBy === 'worker').map((definition) => definition.name));

/** Options of {@link SnapshotReader}. */
export interface SnapshotReaderOptions {
  readonly store: SnapshotStore;
  /** Read at every flush: a process's role can change (a single process that starts forking becomes a primary). */
  readonly identity: () => SnapshotIdentity;
  readonly intervalMs: number;
  readonly selfMetrics: SelfMetrics;
  /** Extra already-aggregated sources, such as the HTTP accumulator. */
  readonly metricProducers?: MetricProducer[];
  /**
   * True when no source of the collection can have changed since the previous
   * one: the reader then reuses that collection's metrics instead of running
   * the SDK's (most of what an idle flush cost). Asked before each
   * collection; absent, every flush collects.
   */
  readonly unchanged?: () => boolean;
  /** Snapshot metrics that stand in for a producer's placeholder scope (the HTTP series, built without OpenTelemetry objects). */
  readonly standIn?: ScopeStandIn;
}

/**
 * The OpenTelemetry `MetricReader` of every instrumented process.
 *
 * On a timer it collects the process's cumulative metrics (the SDK's own
 * instruments, the app's, and the producers handed in) and persists them as one
 * snapshot to the store. Nothing here runs on the request path; a failed write
 * is counted, logged once per outage, and retried with the next flush, which
 * carries the full cumulative state, so nothing is lost but time.
 */
export class SnapshotReader extends MetricReader {
  private readonly options: SnapshotReaderOptions;
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> | undefined;
  private lastSnapshot: Snapshot | undefined;
  /** The metrics of the last collection, converted; reused while `unchanged` says nothing moved. */
  private lastCollected: readonly SnapshotMetric[] | undefined;
  /** Sources of metrics built fresh for every snapshot, outside the SDK (see {@link addFreshMetrics}). */
  private readonly freshSources: (() => readonly SnapshotMetric[])[] = [];

  constructor(options: SnapshotReaderOptions) {
    super({ metricProducers: options.metricProducers ?? [] });
    this.options = options;
  }

  /**
   * Start periodic flushing, with a first flush as soon as the app's main
   * module has run (not one interval later): a new life is in the store
   * before it serves, so a reader no primary tells (`serve` next to PM2)
   * sees the replacement live when `pm2 reload` stops the old life as soon
   * as the new one listens. The timers never keep the process alive.
   */
  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => void this.flush(), this.options.intervalMs);
    this.timer.unref();
    setImmediate(() => void this.flush()).unref();
  }

  /**
   * Collect and persist once. Concurrent calls share one flush, so a slow store
   * never piles up writes.
   */
  flush(): Promise<void> {
    if (!this.flushing) {
      this.flushing = this.flushOnce().finally(() => {
        this.flushing = undefined;
      });
    }
    return this.flushing;
  }

  /**
   * Write the latest snapshot synchronously where the store can, with `fresh`
   * metrics replacing their older copies (the dying process's HTTP series).
   * Never throws.
   */
  writeLatestSync(fresh: readonly SnapshotMetric[] = [], exit?: ProcessExit): void {
    const latest = this.lastSnapshot;
    const { store } = this.options;
    if (!latest || !store.writeSync) return;
    const freshNames = new Set(fresh.map((metric) => metric.name));
    const snapshot: Snapshot = {
      ...latest,
      writtenAtMs: Date.now(),
      metrics: [...latest.metrics.filter((metric) => !freshNames.has(metric.name)), ...fresh],
      ...(exit !== undefined ? { exit } : {}),
    };
    // Later synchronous writes (the 'exit' hook) must not put the older copy back.
    this.lastSnapshot = snapshot;
    try {
      store.writeSync(snapshot);
    } catch {
      this.options.selfMetrics.recordStoreError(store.kind, 'write');
    }
  }

  /**
   * Add metrics that `source` builds anew for every snapshot, beside the
   * collection's: series that must disappear when what they describe does
   * (a retired worker's state), which the SDK's cumulative storage of an
   * observable gauge would keep at their last value.
   */
  addFreshMetrics(source: () => readonly SnapshotMetric[]): void {
    this.freshSources.push(source);
  }

  /** Collect without persisting: the snapshot this process would write now. */
  async takeSnapshot(): Promise<Snapshot> {
    let collected = this.lastCollected;
    if (collected === undefined || this.options.unchanged?.() !== true) {
      const { resourceMetrics } = await this.collect();
      collected = snapshotMetricsFromResourceMetrics(
        resourceMetrics,
        (name, reason) => warnOnce(`skipped-${name}`, `metric ${name} is not persisted: ${reason}`),
        this.options.standIn,
      );
      this.lastCollected = collected;
    }
    const identity = this.options.identity();
    const metrics = identity.role === 'primary' ? collected.filter((metric) => !WORKER_ONLY_METRICS.has(metric.name)) : [...collected];
    for (const source of this.freshSources) metrics.push(...source());
    metrics.push(...selfMetricsSnapshot(this.options.selfMetrics, identity.startTimeMs));
    return { identity, writtenAtMs: Date.now(), metrics };
  }

  private async flushOnce(): Promise<void> {
    const { store, selfMetrics } = this.options;
    let snapshot: Snapshot;
    try {
      snapshot = await this.takeSnapshot();
    } catch (error) {
      warnOnce('collect', `collecting metrics failed: ${errorMessage(error)}`);
      return;
    }
    this.lastSnapshot = snapshot;
    try {
      await store.write(snapshot);
      recovered(`store-write-${store.kind}`, `writes to the ${store.kind} store recovered`);
    } catch (error) {
      selfMetrics.recordStoreError(store.kind, 'write');
      warnOnce(`store-write-${store.kind}`, `writing a snapshot to the ${store.kind} store failed (will retry every flush): ${errorMessage(error)}`);
    }
  }

  protected override async onForceFlush(): Promise<void> {
    await this.flush();
  }

  protected override async onShutdown(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.flush();
  }
}
