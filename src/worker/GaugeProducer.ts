import type { Meter } from '@opentelemetry/api';
import { emptyResource } from '@opentelemetry/resources';
import { MeterProvider, MetricReader, type CollectionResult, type MetricProducer } from '@opentelemetry/sdk-metrics';
import { performance } from 'node:perf_hooks';

/** Collects the private MeterProvider on demand; it exports nothing itself. */
class OnDemandReader extends MetricReader {
  protected override async onForceFlush(): Promise<void> {}
  protected override async onShutdown(): Promise<void> {}
}

/** Options of {@link GaugeProducer}. */
export interface GaugeProducerOptions {
  /** Collect the gauges at most once per this many ms; collections in between get the last result again. */
  readonly intervalMs: number;
  /** Monotonic millisecond clock (tests pin it). */
  readonly now?: () => number;
}

/**
 * A worker's process and runtime gauges, on a MeterProvider of their own, handed to the snapshot's reader as a
 * `MetricProducer` that collects them at most once per interval.
 *
 * A worker flushes every 500 ms. Sampling CPU, memory, heap spaces and
 * event-loop percentiles at every flush made every snapshot differ from the
 * last even when no request arrived, so an idle worker re-encoded and rewrote
 * its whole snapshot twice a second; and collecting two dozen observable
 * instruments through the SDK was most of what an idle flush cost. Between
 * two collections this hands back the very same metric objects, which the
 * snapshot conversion, its change detection and the encoder recognise by
 * identity: an idle flush costs next to nothing and the store only renews the
 * lease.
 */
export class GaugeProducer implements MetricProducer {
  private readonly reader = new OnDemandReader();
  private readonly provider: MeterProvider;
  private readonly intervalMs: number;
  private readonly now: () => number;
  private last: { readonly atMs: number; readonly result: CollectionResult } | undefined;

  constructor(options: GaugeProducerOptions) {
    this.intervalMs = options.intervalMs;
    this.now = options.now ?? ((): number => performance.now());
    this.provider = new MeterProvider({ resource: emptyResource(), readers: [this.reader] });
  }

  /** Where the gauges are registered. */
  meter(name: string): Meter {
    return this.provider.getMeter(name);
  }

  /** The gauges as last collected, collected afresh once the interval has passed. */
  async collect(): Promise<CollectionResult> {
    const nowMs = this.now();
    const last = this.last;
    if (last !== undefined && nowMs - last.atMs < this.intervalMs) return last.result;
    const { resourceMetrics, errors } = await this.reader.collect();
    const result: CollectionResult = { resourceMetrics, errors };
    // A failed collection is not kept: the next flush tries again.
    if (errors.length === 0) this.last = { atMs: nowMs, result };
    return result;
  }

  /** Whether the next {@link collect} samples afresh (the interval has passed, or nothing was collected yet). */
  due(): boolean {
    const last = this.last;
    return last === undefined || this.now() - last.atMs >= this.intervalMs;
  }

  /** The next collection samples afresh (recording stopped or restarted). */
  invalidate(): void {
    this.last = undefined;
  }

  /** Release the private provider. */
  async shutdown(): Promise<void> {
    await this.provider.shutdown().catch(() => undefined);
  }
}
