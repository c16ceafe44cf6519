import type { CollectionResult, MetricCollectOptions, MetricProducer } from '@opentelemetry/sdk-metrics';
import { emptyResource } from '@opentelemetry/resources';
import { errorMessage } from '../../self/errorMessage';
import { recovered, warnOnce } from '../../self/Logger';
import { withTimeout } from '../../self/withTimeout';

/**
 * Puts the merged-view producer behind two guards before the periodic reader
 * calls it:
 * - it is not consulted at all when no destination would send (every one is
 *   busy or backing off), so an outage costs no store reads;
 * - one collect at a time, each bounded by `timeoutMs`: a store that hangs
 *   yields empty batches instead of piling up pending reads.
 * A failed or timed-out collect yields an empty batch (the reader then sends
 * nothing) and is logged once per outage. It never rejects.
 */
export class GatedProducer implements MetricProducer {
  private readonly inner: MetricProducer;
  private readonly ready: () => boolean;
  private readonly timeoutMs: number;
  private pending = false;

  constructor(inner: MetricProducer, ready: () => boolean, timeoutMs: number) {
    this.inner = inner;
    this.ready = ready;
    this.timeoutMs = timeoutMs;
  }

  async collect(options?: MetricCollectOptions): Promise<CollectionResult> {
    if (this.pending || !this.ready()) return empty();
    this.pending = true;
    const collecting = this.inner.collect(options);
    // Keep the slot taken until the inner collect really settles, even after
    // the timeout below gave up on it: that is what bounds pending reads to one.
    collecting.then(this.release, this.release);
    try {
      const result = await withTimeout(collecting, this.timeoutMs, 'collect');
      recovered('export:collect', 'collecting the merged view for export works again');
      return result;
    } catch (error) {
      warnOnce('export:collect', `collecting the merged view for export failed (${errorMessage(error)}); nothing is pushed until it works`);
      return empty(error);
    }
  }

  private readonly release = (): void => {
    this.pending = false;
  };
}

function empty(error?: unknown): CollectionResult {
  return { resourceMetrics: { resource: emptyResource(), scopeMetrics: [] }, errors: error === undefined ? [] : [error] };
}
