import type { CollectionResult, MetricProducer } from '@opentelemetry/sdk-metrics';
import type { Resource } from '@opentelemetry/resources';
import { CATALOGUE } from '../catalogue/MetricCatalogue';
import { MergedEndpointCap } from '../merge/MergedEndpointCap';
import { capSlotSeries } from '../merge/capSlotSeries';
import { StoreRestarts } from '../primary/StoreRestarts';
import { SnapshotMerger } from '../merge/SnapshotMerger';
import type { MergeOptions } from '../merge/SnapshotMerger';
import { warnMergeConflict } from '../merge/warnMergeConflict';
import type { Snapshot, StoredSnapshot } from '../snapshot/Snapshot';
import { processKey } from '../snapshot/Snapshot';
import { catalogueMetric } from '../snapshot/catalogueMetric';
import type { SnapshotStore } from '../store/SnapshotStore';
import type { SelfMetrics } from '../self/SelfMetrics';
import { recovered, warnOnce } from '../self/Logger';
import { errorMessage } from '../self/errorMessage';
import { withTimeout } from '../self/withTimeout';

/** Options of {@link MergedView}. */
export interface MergedViewOptions {
  /** Where the snapshots are read from. */
  readonly store: SnapshotStore;
  /** The resource the merged view is reported under. */
  readonly resource: Resource;
  /** Add an `instance` label to every series (several instances share the store). */
  readonly labelInstance: boolean;
  /** Where store failures and store health are recorded. */
  readonly selfMetrics: SelfMetrics;
  /** A store read slower than this serves the last good view instead. */
  readonly readTimeoutMs: number;
  /**
   * The serving process's own fresh snapshot, which replaces its stored copy:
   * a primary's counters are then current to the scrape, not to its last flush.
   */
  readonly localSnapshot?: (() => Promise<Snapshot | undefined>) | undefined;
  /** Distinct `endpoint` values per metric in the whole view (`metrics.max_endpoints`); unlimited when absent. */
  readonly maxEndpoints?: number;
  /** Request series shown per worker slot over all its lives (see {@link capSlotSeries}); unlimited when absent. */
  readonly maxRequestSeries?: number;
  /**
   * Derive restart counters, live workers and worker states from the lives
   * the store lists, for instances no primary watches (`serve` next to PM2).
   */
  readonly deriveRestarts?: boolean | undefined;
}

/**
 * The merged view of every snapshot in the store, as an OpenTelemetry
 * `MetricProducer`: the Prometheus endpoint renders it and the OTLP reader
 * pushes it, so both show the same series.
 *
 * A store that fails or is slow never fails a collection: the last good read
 * is served and `otel_cluster_exporter_store_up` drops to 0.
 */
export class MergedView implements MetricProducer {
  private readonly options: MergedViewOptions;
  private lastGoodRead: StoredSnapshot[] = [];
  /** Keeps the label order between scrapes, so a scrape does not re-sort from scratch. */
  private readonly merger = new SnapshotMerger();
  private readonly endpointCap: MergedEndpointCap | undefined;
  private readonly restarts: StoreRestarts | undefined;

  constructor(options: MergedViewOptions) {
    this.options = options;
    this.restarts = options.deriveRestarts === true ? new StoreRestarts() : undefined;
    this.endpointCap = options.maxEndpoints === undefined ? undefined : new MergedEndpointCap(options.maxEndpoints);
  }

  async collect(): Promise<CollectionResult> {
    const nowMs = Date.now();
    const resourceMetrics = this.merger.merge(await this.read(nowMs), this.mergeOptions(nowMs));
    return { resourceMetrics, errors: [] };
  }

  /**
   * The snapshots {@link collect} merges at `nowMs`: the store's, the serving
   * process's own fresh one in place of its stored copy, and the staleness
   * gauge. For a renderer that merges parts of the view on its own.
   */
  async read(nowMs = Date.now()): Promise<StoredSnapshot[]> {
    const stored = await this.readStore();
    const local = await this.readLocal();
    const replaced = local ? replaceOwn(stored, local) : stored;
    // Derived from what the store holds (not from this reader's own snapshot, which is no primary of theirs).
    const own = this.restarts ? [...replaced, ...this.restarts.derive(stored, nowMs)] : replaced;
    // Workers each keep their own endpoint budget; the view as a whole keeps the same one.
    // Then each slot keeps its series budget over all its lives. Endpoints first: the slot
    // budget then counts series whose endpoint is already the one the view shows.
    const endpointsCapped = this.endpointCap ? this.endpointCap.apply(own) : own;
    const all = this.options.maxRequestSeries === undefined ? endpointsCapped : capSlotSeries(endpointsCapped, this.options.maxRequestSeries);
    return withSnapshotAge(all, nowMs);
  }

  /** How {@link collect} merges what {@link read} returns. */
  mergeOptions(nowMs: number): MergeOptions {
    const { resource, labelInstance } = this.options;
    return { resource, labelInstance, nowMs, onConflict: warnMergeConflict };
  }

  private async readStore(): Promise<StoredSnapshot[]> {
    const { store, selfMetrics, readTimeoutMs } = this.options;
    try {
      const stored = await withTimeout(store.readAll(), readTimeoutMs, `reading the ${store.kind} store`);
      this.lastGoodRead = stored;
      selfMetrics.setStoreUp(store.kind, true);
      recovered(`store-read-${store.kind}`, `reads from the ${store.kind} store recovered`);
      return stored;
    } catch (error) {
      selfMetrics.setStoreUp(store.kind, false);
      selfMetrics.recordStoreError(store.kind, 'read');
      warnOnce(`store-read-${store.kind}`, `reading the ${store.kind} store failed; serving the last good view: ${errorMessage(error)}`);
      return this.lastGoodRead;
    }
  }

  private async readLocal(): Promise<Snapshot | undefined> {
    try {
      return await this.options.localSnapshot?.();
    } catch {
      return undefined;
    }
  }
}

function replaceOwn(stored: readonly StoredSnapshot[], local: Snapshot): StoredSnapshot[] {
  const ownKey = processKey(local.identity);
  const others = stored.filter((entry) => processKey(entry.snapshot.identity) !== ownKey);
  others.push({ snapshot: local, live: true });
  return others;
}

/**
 * Add the staleness gauge as a snapshot of its own, so the merge treats it like
 * every other series: the age of the oldest live worker snapshot.
 */
function withSnapshotAge(stored: StoredSnapshot[], nowMs: number): StoredSnapshot[] {
  let oldest: number | undefined;
  let first: Snapshot | undefined;
  for (const entry of stored) {
    if (!entry.live || entry.snapshot.identity.role !== 'worker') continue;
    first ??= entry.snapshot;
    // A flush with nothing new only renews the lease: the data is as fresh as that renewal.
    const confirmedAtMs = Math.max(entry.snapshot.writtenAtMs, entry.renewedAtMs ?? 0);
    oldest = oldest === undefined ? confirmedAtMs : Math.min(oldest, confirmedAtMs);
  }
  if (oldest === undefined || !first) return stored;
  const definition = CATALOGUE.snapshotAge;
  const ageSnapshot: Snapshot = {
    identity: { ...first.identity, role: 'primary', slot: -1, pid: process.pid, startTimeMs: 0 },
    writtenAtMs: nowMs,
    metrics: [catalogueMetric(definition, 'gauge', 'double', [{ attributes: {}, startTimeMs: nowMs, value: Math.max(0, nowMs - oldest) / 1000 }])],
  };
  return [...stored, { snapshot: ageSnapshot, live: true }];
}
