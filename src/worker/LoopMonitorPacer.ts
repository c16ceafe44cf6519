/** Options of {@link LoopMonitorPacer}. */
export interface LoopMonitorPacerOptions {
  /** A window: how long the worker must be quiet before the monitor pauses, and how often a paused one is reconsidered, ms. */
  readonly quietWindowMs: number;
  /** Event-loop utilization (0..1) over a window below which the worker counts as quiet. */
  readonly quietUtilization: number;
  /** Utilization between two observations from which the monitor resumes at once (background work with no request). */
  readonly burstUtilization: number;
  /**
   * Observations closer to the previous one than this are not one: a flush may
   * ask twice (reuse, then collect), and a utilization over the microseconds
   * between the two would read as a busy loop. Flushes are 500 ms apart by default.
   */
  readonly minObservationMs: number;
}

/** The defaults: two gauge windows under 2% busy, and resumed at once by a flush interval a quarter busy. */
export const DEFAULT_LOOP_MONITOR_PACING: LoopMonitorPacerOptions = { quietWindowMs: 10_000, quietUtilization: 0.02, burstUtilization: 0.25, minObservationMs: 200 };

/** What a worker looks like at one flush. */
export interface LoopActivity {
  /** Changes whenever a request is recorded (the accumulator's generation). */
  readonly recorded: number;
  /** Requests in flight now. */
  readonly inFlight: number;
  /** Time the event loop has been busy so far, ms (`performance.eventLoopUtilization().active`). */
  readonly loopActiveMs: number;
}

/**
 * Decides, flush by flush, whether the event-loop delay monitor runs.
 *
 * The monitor is a timer: at its 20 ms resolution it wakes the process 50
 * times a second, which was most of what an idle worker cost (about 0.45% of
 * a core of this project's VM, bench:idle). A worker that recorded no request
 * and had none in flight over a whole window, with its loop busy under
 * `quietUtilization` of it, has no delay worth sampling: the monitor pauses,
 * and the delay gauges read 0 (no samples, no delay) until it runs again.
 *
 * It resumes when the next request starts (the recording calls {@link wake}
 * from the request-start hook, so that request's own work is sampled), at a
 * flush interval busier than `burstUtilization`, or at the end of a window
 * busier than `quietUtilization` (steady background work with no request).
 */
export class LoopMonitorPacer {
  private windowStartMs: number;
  private windowActiveMs = 0;
  private lastAtMs: number;
  private lastLoopActiveMs: number;
  private lastRecorded: number | undefined;
  private running = true;

  /** `loopActiveMs`: the loop's busy time so far, as in {@link LoopActivity}. */
  constructor(
    nowMs: number,
    loopActiveMs: number,
    private readonly options: LoopMonitorPacerOptions = DEFAULT_LOOP_MONITOR_PACING,
  ) {
    this.windowStartMs = nowMs;
    this.lastAtMs = nowMs;
    this.lastLoopActiveMs = loopActiveMs;
  }

  /** Whether the monitor should run after this observation. */
  observe(nowMs: number, activity: LoopActivity): boolean {
    const sinceLastMs = nowMs - this.lastAtMs;
    if (sinceLastMs < this.options.minObservationMs) return this.running;
    const activeMs = activity.loopActiveMs - this.lastLoopActiveMs;
    const requests = activity.inFlight > 0 || (this.lastRecorded !== undefined && activity.recorded !== this.lastRecorded);
    const burst = activeMs / sinceLastMs >= this.options.burstUtilization;
    this.lastAtMs = nowMs;
    this.lastLoopActiveMs = activity.loopActiveMs;
    this.lastRecorded = activity.recorded;
    if (requests || burst) {
      this.startWindow(nowMs);
      this.running = true;
      return true;
    }
    this.windowActiveMs += activeMs;
    const windowMs = nowMs - this.windowStartMs;
    if (windowMs >= this.options.quietWindowMs) {
      this.running = this.windowActiveMs / windowMs >= this.options.quietUtilization;
      this.startWindow(nowMs);
    }
    return this.running;
  }

  /** A request started while the monitor was paused: it runs again, and the quiet window starts over. */
  wake(nowMs: number): void {
    this.running = true;
    this.startWindow(nowMs);
  }

  private startWindow(nowMs: number): void {
    this.windowStartMs = nowMs;
    this.windowActiveMs = 0;
  }
}
