/** A worker that lived less than this died early: its successor waits. */
export const MIN_UPTIME_MS = 1000;
/** Wait before the successor of the first early death. */
export const BASE_DELAY_MS = 250;
/** The longest wait: a crash-looping app is still retried every 15 s, never given up on. */
export const MAX_DELAY_MS = 15_000;

/**
 * Back-off of a slot whose workers die early again and again. Pure policy:
 * the delay doubles with every early death in a row (250 ms, 500 ms, 1 s, …,
 * capped at 15 s) and a worker that lived {@link MIN_UPTIME_MS} or more
 * resets it, so an occasional crash is replaced at once. Like systemd's
 * restart delay or PM2's exponential back-off rather than Gunicorn's halt: a
 * supervised service that once served should keep trying (the dependency it
 * lost may come back). An app that never started at all is a different case,
 * handled by the master: it exits with the reason.
 */
export class Backoff {
  private readonly earlyDeaths = new Map<number, number>();

  /** The wait before replacing the worker of `slot` that lived `livedMs`. */
  delayAfter(slot: number, livedMs: number): number {
    if (livedMs >= MIN_UPTIME_MS) {
      this.earlyDeaths.delete(slot);
      return 0;
    }
    const deaths = (this.earlyDeaths.get(slot) ?? 0) + 1;
    this.earlyDeaths.set(slot, deaths);
    return Math.min(MAX_DELAY_MS, BASE_DELAY_MS * 2 ** (deaths - 1));
  }

  /** Forget a slot (scaled down). */
  forget(slot: number): void {
    this.earlyDeaths.delete(slot);
  }
}
