import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { HistogramValue } from '../../src/snapshot/Snapshot';
import { rebaseSnapshot } from '../../src/merge/rebaseSnapshot';
import { DURATION, MEMORY, REQUESTS, workerIdentity, workerSnapshot } from '../store/support/redisFixtures';

const identity = workerIdentity('shop', 'a', 0, 7, 100);
const newLife = { ...identity, startTimeMs: 200 };

test('a new life stores only what was counted after the folded snapshot', () => {
  const rebased = rebaseSnapshot(workerSnapshot(identity, 30), workerSnapshot(identity, 12), newLife);
  assert.deepEqual(rebased.identity, newLife);
  const counter = rebased.metrics.find((m) => m.name === REQUESTS);
  assert.deepEqual(
    counter?.points.map((p) => p.value),
    [6, 6, 6],
    '30 − 12 split over three series',
  );
  assert.ok(
    counter?.points.every((p) => p.startTimeMs === 200),
    'rebased series start with the new life',
  );
  const histogram = rebased.metrics.find((m) => m.name === DURATION)?.points[0]?.value as HistogramValue;
  assert.equal(histogram.count, 18);
  assert.deepEqual(histogram.counts, [18, 0, 0]);
  assert.ok(Math.abs(histogram.sum - 18 * 0.05) < 1e-9);
  assert.equal(rebased.metrics.find((m) => m.name === MEMORY)?.points[0]?.value, 4096, 'gauges describe the live process: unchanged');
});

test('series the folded snapshot did not have, or that went backwards, are kept whole', () => {
  const baseline = workerSnapshot(identity, 12, 1, 2); // two series only
  const current = workerSnapshot(identity, 30, 2, 3);
  const values = rebaseSnapshot(current, baseline, newLife)
    .metrics.find((m) => m.name === REQUESTS)
    ?.points.map((p) => p.value);
  assert.deepEqual(values, [10 - 6, 10 - 6, 10], 'the third series is new since the fold');
  const reset = rebaseSnapshot(workerSnapshot(identity, 3), workerSnapshot(identity, 30), newLife);
  assert.deepEqual(
    reset.metrics.find((m) => m.name === REQUESTS)?.points.map((p) => p.value),
    [1, 1, 1],
  );
});
