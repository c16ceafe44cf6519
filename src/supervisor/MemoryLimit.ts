/** Samples in a row above the limit before the worker asks to be replaced: a short spike is not a leak. */
export const MEMORY_SAMPLES = 3;
/** Time between two RSS samples. */
export const MEMORY_SAMPLE_MS = 1000;

/**
 * Watches the worker's resident set size and says once when it stayed above
 * `limitBytes` for {@link MEMORY_SAMPLES} samples in a row.
 * `process.memoryUsage.rss()` reads one number from the OS (no heap walk),
 * from an unref'd timer.
 */
export class MemoryLimit {
  private streak = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly limitBytes: number,
    private readonly onExceeded: () => void,
    private readonly sampleMs: number = MEMORY_SAMPLE_MS,
  ) {}

  start(): void {
    if (this.limitBytes <= 0 || this.timer) return;
    this.timer = setInterval(() => this.sample(), this.sampleMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  private sample(): void {
    this.streak = process.memoryUsage.rss() > this.limitBytes ? this.streak + 1 : 0;
    if (this.streak < MEMORY_SAMPLES) return;
    this.stop();
    this.onExceeded();
  }
}
