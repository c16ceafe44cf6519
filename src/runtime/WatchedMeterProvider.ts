import type { Meter, MeterOptions } from '@opentelemetry/api';
import { MeterProvider } from '@opentelemetry/sdk-metrics';

/**
 * The process's MeterProvider, which knows whether anyone but this package's
 * own event instruments took a meter from it. Until someone does, the only
 * instrument the provider holds is the GC histogram, which reports its own
 * recordings: an idle flush can then skip the SDK's collection (see
 * SnapshotReader's `unchanged`). Any other meter (the app's through the
 * global API, the primary's restart counters) makes every flush collect, so
 * observable callbacks keep running at the flush interval.
 */
export class WatchedMeterProvider extends MeterProvider {
  private othersMeters = false;

  /** A meter for the app or other instruments whose changes this package cannot see. */
  override getMeter(name: string, version?: string, options?: MeterOptions): Meter {
    this.othersMeters = true;
    return super.getMeter(name, version, options);
  }

  /** A meter for this package's event instruments, whose callers report each recording themselves. */
  ownMeter(name: string): Meter {
    return super.getMeter(name);
  }

  /** Whether a meter was handed out through {@link getMeter}. */
  get handedOutMeters(): boolean {
    return this.othersMeters;
  }
}
