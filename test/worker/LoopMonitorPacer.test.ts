import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LoopMonitorPacer } from '../../src/worker/LoopMonitorPacer';

const OPTIONS = { quietWindowMs: 10_000, quietUtilization: 0.02, burstUtilization: 0.25, minObservationMs: 200 };

/** One flush interval as the tests describe it: the loop's busy time over that interval, not since start. */
interface LoopActivity {
  readonly recorded: number;
  readonly inFlight: number;
  readonly activeMs: number;
}

/** The loop's busy time so far, per pacer (what performance.eventLoopUtilization().active reads). */
const busySoFar = new WeakMap<LoopMonitorPacer, number>();

/** Observe one flush whose interval was `activity`. */
function observe(pacer: LoopMonitorPacer, atMs: number, activity: LoopActivity): boolean {
  const loopActiveMs = (busySoFar.get(pacer) ?? 0) + activity.activeMs;
  busySoFar.set(pacer, loopActiveMs);
  return pacer.observe(atMs, { recorded: activity.recorded, inFlight: activity.inFlight, loopActiveMs });
}
const FLUSH_MS = 500;
/** An idle flush interval: no request, the loop busy 0.5% of it (what a quiet worker's flushes cost). */
const quiet = (recorded = 7): LoopActivity => ({ recorded, inFlight: 0, activeMs: FLUSH_MS * 0.005 });

/** Observe flushes every 500 ms from `fromMs` for `durationMs`; returns the last decision and when the monitor first stopped. */
function run(
  pacer: LoopMonitorPacer,
  fromMs: number,
  durationMs: number,
  activity: (atMs: number) => LoopActivity,
): { last: boolean; stoppedAtMs: number | undefined; endMs: number } {
  let last = true;
  let stoppedAtMs: number | undefined;
  let atMs = fromMs;
  for (; atMs <= fromMs + durationMs; atMs += FLUSH_MS) {
    last = observe(pacer, atMs, activity(atMs));
    if (!last && stoppedAtMs === undefined) stoppedAtMs = atMs;
  }
  return { last, stoppedAtMs, endMs: atMs - FLUSH_MS };
}

test('a quiet worker keeps its monitor for one quiet window, then pauses it', () => {
  const pacer = new LoopMonitorPacer(0, 0, OPTIONS);
  const { last, stoppedAtMs } = run(pacer, FLUSH_MS, 30_000, () => quiet());
  assert.equal(last, false);
  assert.equal(stoppedAtMs, 10_000, 'paused at the end of the first window, not before');
});

test('a request recorded or in flight resumes a paused monitor at that flush, and the quiet window starts over', () => {
  const pacer = new LoopMonitorPacer(0, 0, OPTIONS);
  const idle = run(pacer, FLUSH_MS, 15_000, () => quiet());
  assert.equal(idle.last, false);
  assert.equal(observe(pacer, idle.endMs + FLUSH_MS, quiet(8)), true, 'a recorded request resumes it');
  const after = run(pacer, idle.endMs + 2 * FLUSH_MS, 20_000, () => quiet(8));
  assert.equal(after.stoppedAtMs, idle.endMs + FLUSH_MS + 10_000, 'quiet again for a whole window from the request');
  assert.equal(observe(pacer, after.endMs + FLUSH_MS, { recorded: 8, inFlight: 1, activeMs: 0 }), true, 'a request in flight resumes it');
  // A request held open (a stream) keeps it running however quiet the loop is.
  const held = run(pacer, after.endMs + 2 * FLUSH_MS, 30_000, () => ({ recorded: 8, inFlight: 1, activeMs: 0 }));
  assert.equal(held.stoppedAtMs, undefined);
});

test('background work with no request keeps the monitor, or resumes it: a busy window, or one busy flush interval', () => {
  // 3% busy on average, no request: not quiet.
  const steady = new LoopMonitorPacer(0, 0, OPTIONS);
  assert.equal(run(steady, FLUSH_MS, 60_000, () => ({ recorded: 7, inFlight: 0, activeMs: FLUSH_MS * 0.03 })).stoppedAtMs, undefined);

  const pacer = new LoopMonitorPacer(0, 0, OPTIONS);
  const idle = run(pacer, FLUSH_MS, 15_000, () => quiet());
  assert.equal(idle.last, false);
  assert.equal(observe(pacer, idle.endMs + FLUSH_MS, { recorded: 7, inFlight: 0, activeMs: 200 }), true, 'a flush interval 40% busy resumes it at once');
  const resumedAtMs = idle.endMs + FLUSH_MS;
  // Steady 3% while paused: resumed at the end of a window that saw it (the one under way may have been quiet before).
  const paused = run(pacer, resumedAtMs + FLUSH_MS, 25_000, () => quiet());
  assert.equal(paused.last, false);
  const busy = run(pacer, paused.endMs + FLUSH_MS, 20_000, () => ({ recorded: 7, inFlight: 0, activeMs: FLUSH_MS * 0.03 }));
  assert.equal(busy.last, true, 'a window 3% busy resumes it');
});

test('a single busier flush (a gauge sample) inside a quiet window does not keep the monitor', () => {
  const pacer = new LoopMonitorPacer(0, 0, OPTIONS);
  // Every tenth flush is busy 4% of its interval (the 5 s gauge sample): under 2% over the window.
  let flush = 0;
  const { last } = run(pacer, FLUSH_MS, 30_000, () => ({ recorded: 7, inFlight: 0, activeMs: flush++ % 10 === 0 ? FLUSH_MS * 0.04 : FLUSH_MS * 0.005 }));
  assert.equal(last, false);
});

test('a request that wakes a paused monitor keeps it for a whole quiet window from then', () => {
  const pacer = new LoopMonitorPacer(0, 0, OPTIONS);
  const idle = run(pacer, FLUSH_MS, 15_000, () => quiet());
  assert.equal(idle.last, false);
  const wokenAtMs = idle.endMs + 100;
  pacer.wake(wokenAtMs);
  // The request finished before the next flush, so that flush sees only its count move (or nothing, when
  // the recording was asked between): either way the monitor runs until a quiet window has passed.
  const after = run(pacer, idle.endMs + FLUSH_MS, 20_000, () => quiet());
  assert.equal(after.stoppedAtMs, idle.endMs + FLUSH_MS * 21, 'paused again at the first flush a full window after the wake');
});

test('a second observation within one flush is not one: it neither decides nor reads as a busy loop', () => {
  const pacer = new LoopMonitorPacer(0, 0, OPTIONS);
  const idle = run(pacer, FLUSH_MS, 15_000, () => quiet());
  assert.equal(idle.last, false);
  // 1 ms later, with 0.5 ms busy (the collection the same flush ran): 50% of that millisecond.
  assert.equal(observe(pacer, idle.endMs + 1, { recorded: 7, inFlight: 0, activeMs: 0.5 }), false);
  assert.equal(observe(pacer, idle.endMs + FLUSH_MS, quiet()), false, 'and the next flush counts its busy time too, still quiet');
});
