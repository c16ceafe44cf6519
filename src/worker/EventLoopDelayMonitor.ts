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
  /** The longest sample the resume probes took in this window (see {@link pause}), ns; 0 for none. */
  private probeNs = 0;
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
      else this.resume();
    }
    return true;
  }

  /**
   * Restart the timer. Its first interval after a restart is not a sample, so
   * the work that woke the monitor (the request whose start resumed it, a
   * handler that blocks right away) would go unseen: a probe measures how long
   * the loop takes to come back, as one sample of the window (its timer period
   * plus that delay, as the timer's own samples are).
   */
  private resume(): void {
    this.histogram.enable();
    const from = process.hrtime.bigint();
    setImmediate(() => {
      const sampleNs = this.resolutionMs * 1e6 + Number(process.hrtime.bigint() - from);
      if (sampleNs > this.probeNs) this.probeNs = sampleNs;
    }).unref();
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
    const sampled: EventLoopDelayStats =
      h.count === 0 ? EMPTY : { count: h.count, min: h.min, max: h.max, mean: h.mean, stddev: h.stddev, p50: h.percentile(50), p90: h.percentile(90), p99: h.percentile(99) };
    h.reset();
    const probe = this.probeNs;
    this.probeNs = 0;
    return probe === 0 ? sampled : withSample(sampled, probe);
  }
}

/**
 * `stats` with one more sample: count, min, max and mean exactly; the spread
 * and percentiles as the histogram had them, unless it had no samples (then
 * the one sample is all of them).
 */
function withSample(stats: EventLoopDelayStats, sampleNs: number): EventLoopDelayStats {
  if (stats.count === 0) return { count: 1, min: sampleNs, max: sampleNs, mean: sampleNs, stddev: 0, p50: sampleNs, p90: sampleNs, p99: sampleNs };
  return {
    ...stats,
    count: stats.count + 1,
    min: Math.min(stats.min, sampleNs),
    max: Math.max(stats.max, sampleNs),
    mean: (stats.mean * stats.count + sampleNs) / (stats.count + 1),
  };
}
