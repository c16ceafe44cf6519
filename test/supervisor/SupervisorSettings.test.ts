import { test } from 'node:test';
import assert from 'node:assert/strict';
import { maxRequestsFor } from '../../src/supervisor/SupervisorSettings';

test('each worker gets max_requests plus 0..jitter, both ends reachable; 0 stays off', () => {
  assert.equal(
    maxRequestsFor(1000, 100, () => 0),
    1000,
  );
  assert.equal(
    maxRequestsFor(1000, 100, (n) => n - 1),
    1100,
  );
  const seen = new Set(Array.from({ length: 400 }, () => maxRequestsFor(10, 3)));
  assert.deepEqual(
    [...seen].sort((a, b) => a - b),
    [10, 11, 12, 13],
    'the real random source spreads over the whole range',
  );
  assert.equal(maxRequestsFor(0, 100), 0, 'jitter never switches recycling on');
  assert.equal(maxRequestsFor(500, 0), 500);
});
