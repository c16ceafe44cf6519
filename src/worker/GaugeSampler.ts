import type { Attributes, BatchObservableResult, Observable } from '@opentelemetry/api';
import { performance } from 'node:perf_hooks';

/** Records one observation of a sample. */
export type RecordObservation = (observable: Observable, value: number, attributes?: Attributes) => void;

/**
 * Samples a batch of gauges at most once per interval and reports the last
 * sample to the collections in between.
 *
 * A worker flushes every 500 ms; reading its process and runtime gauges at
 * every flush (CPU, memory, heap spaces, event-loop percentiles) made each
 * snapshot differ from the last even when no request arrived, so an idle
 * worker re-encoded and rewrote its whole snapshot twice a second. Repeating
 * the last sample keeps the snapshot unchanged, which the store then only
 * renews. Interval 0 samples at every collection.
 */
export class GaugeSampler {
  private last: [Observable, number, Attributes | undefined][] | undefined;
  private lastAtMs = 0;

  constructor(
    private readonly intervalMs: number,
    private readonly sample: (record: RecordObservation) => void,
    private readonly now: () => number = () => performance.now(),
  ) {}

  /** The batch callback: a fresh sample when one is due, else the last one again. */
  observe(result: BatchObservableResult): void {
    const nowMs = this.now();
    if (this.last === undefined || nowMs - this.lastAtMs >= this.intervalMs) {
      const observations: [Observable, number, Attributes | undefined][] = [];
      this.sample((observable, value, attributes) => observations.push([observable, value, attributes]));
      this.last = observations;
      this.lastAtMs = nowMs;
    }
    for (const [observable, value, attributes] of this.last) result.observe(observable, value, attributes);
  }
}
