import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BASE_DELAY_MS, Backoff, MAX_DELAY_MS, MIN_UPTIME_MS } from '../../src/supervisor/Backoff';

test('early deaths in a row double the wait up to the cap; a worker that lived resets it', () => {
  const backoff = new Backoff();
  const early = MIN_UPTIME_MS - 1;
  const delays = Array.from({ length: 9 }, () => backoff.delayAfter(0, early));
  assert.deepEqual(delays.slice(0, 4), [BASE_DELAY_MS, 2 * BASE_DELAY_MS, 4 * BASE_DELAY_MS, 8 * BASE_DELAY_MS]);
  assert.equal(Math.max(...delays), MAX_DELAY_MS, 'never more than the cap, and still retried');
  assert.equal(backoff.delayAfter(0, MIN_UPTIME_MS), 0, 'a worker that lived is replaced at once');
  assert.equal(backoff.delayAfter(0, early), BASE_DELAY_MS, 'and the next early death starts over');
});

test('slots back off independently, and a forgotten slot starts over', () => {
  const backoff = new Backoff();
  backoff.delayAfter(0, 10);
  backoff.delayAfter(0, 10);
  assert.equal(backoff.delayAfter(1, 10), BASE_DELAY_MS, 'slot 1 is not punished for slot 0');
  backoff.forget(0);
  assert.equal(backoff.delayAfter(0, 10), BASE_DELAY_MS);
});
