import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';

/** Event-loop delay statistics of one sampling window, in nanoseconds of the monitor's samples. */
export interface EventLoopDelayStats {
  /** Samples in the window; 0 when the monitor did not tick. */
  readonly count: number;
  readonly min: number;
  readonly max: number;
  readonly mean: number;
  readonly stddev: number;
  readonly p50: number;
  readonly p90: number;
  readonly p99: number;
}

/** The monitor's timer period, ms: fine enough for a p99, and half the wake-ups of prom-client's 10 ms. */
export const EVENT_LOOP_MONITOR_RESOLUTION_MS = 20;

const EMPTY: EventLoopDelayStats = { count: 0, min: 0, max: 0, mean: 0, stddev: 0, p50: 0, p90: 0, p99: 0 };

/**
 * One `monitorEventLoopDelay` shared by every gauge family of a worker (the
 * gunicorn-style process gauges and prom-client's runtime metrics). Each
 * monitor is a timer that wakes an idle process up at its resolution, and its
 * histogram is 360 KB of native memory: two of them cost an idle worker 150
 * wake-ups a second and 0.7 MB.
 *
 * Every consumer reads statistics over the window since its own previous read:
 * the first consumer to read after a window closes closes the next one
 * (statistics computed once, histogram reset), the others of the same round
 * get the same statistics. Readers that sample together (one collection) thus
 * see one window, as they did with a histogram each.
 */
export class EventLoopDelayMonitor {
  private readonly histogram: IntervalHistogram;
  private users = 0;
  private paused = false;
  private current: EventLoopDelayStats = EMPTY;
  /** Consumers that already read {@link current}. */
  private readonly readers = new Set<object>();

  constructor(readonly resolutionMs: number = EVENT_LOOP_MONITOR_RESOLUTION_MS) {
    this.histogram = monitorEventLoopDelay({ resolution: resolutionMs });
  }

  /** A consumer starts: the timer runs while any consumer uses it. */
  acquire(): void {
    if (this.users++ === 0 && !this.paused) this.histogram.enable();
  }

  /**
   * Stop or restart the timer whatever the consumers (a quiet worker, see
   * LoopMonitorPacer); while paused, windows have no samples and read as no delay.
   * Returns whether that changed anything.
   */
  pause(paused: boolean): boolean {
    if (paused === this.paused) return false;
    this.paused = paused;
    if (this.users > 0) {
      if (paused) this.histogram.disable();
      else this.histogram.enable();
    }
    return true;
  }

  /** Whether the timer runs. */
  get running(): boolean {
    return this.users > 0 && !this.paused;
  }

  /** A consumer stops; the last one stops the timer. */
  release(consumer: object): void {
    this.readers.delete(consumer);
    if (this.users > 0 && --this.users === 0) this.histogram.disable();
  }

  /** Statistics over the window since `consumer`'s previous read (see the class comment). */
  read(consumer: object): EventLoopDelayStats {
    if (this.readers.has(consumer) || this.readers.size === 0) {
      this.current = this.close();
      this.readers.clear();
    }
    this.readers.add(consumer);
    return this.current;
  }

  private close(): EventLoopDelayStats {
    const h = this.histogram;
    // An empty histogram reports a huge min and NaN for the rest: no samples is no delay.
    const stats: EventLoopDelayStats =
      h.count === 0 ? EMPTY : { count: h.count, min: h.min, max: h.max, mean: h.mean, stddev: h.stddev, p50: h.percentile(50), p90: h.percentile(90), p99: h.percentile(99) };
    h.reset();
    return stats;
  }
}
