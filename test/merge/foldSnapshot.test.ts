import { test } from 'node:test';
import assert from 'node:assert/strict';
import { foldSnapshot, MAX_FOLDED_KEYS } from '../../src/merge/SnapshotMerger';
import { processKey } from '../../src/snapshot/Snapshot';
import type { HistogramValue, Snapshot } from '../../src/snapshot/Snapshot';
import { counter, DURATION, gauge, histogram, identity, MEMORY, observe, REQUESTS, snapshot } from './fixtures';

const GET = { method: 'GET' };

function deadWorker(pid: number, requests: number, latencies: number[] = [0.2]): Snapshot {
  return snapshot(identity(2, pid), 1_000 + pid, [
    counter(REQUESTS, [[GET, requests]], 500 + pid),
    histogram(DURATION, [[GET, observe([0.1, 0.5, 1], latencies)]]),
    gauge(MEMORY, [[{}, 123]]),
  ]);
}

function requests(s: Snapshot): number | undefined {
  return s.metrics.find((m) => m.name === REQUESTS)?.points[0]?.value as number | undefined;
}

test('folding a dead worker gives retired totals of its slot without gauges', () => {
  const dead = deadWorker(10, 5);
  const retired = foldSnapshot(undefined, dead);
  assert.deepEqual(retired.identity, { service: 'svc', instance: 'host-a', slot: 2, pid: 0, startTimeMs: 0, role: 'retired' });
  assert.deepEqual(retired.folded, [processKey(dead.identity)]);
  assert.deepEqual(retired.metrics.map((m) => m.name), [DURATION, REQUESTS]);
  assert.equal(requests(retired), 5);
  assert.equal(retired.metrics[1]?.points[0]?.startTimeMs, 510);
});

test('folds add up, keep the earliest start time and the histogram buckets', () => {
  const retired = foldSnapshot(foldSnapshot(undefined, deadWorker(10, 5, [0.2])), deadWorker(11, 7, [2, 0.05]));
  assert.equal(requests(retired), 12);
  assert.equal(retired.metrics.find((m) => m.name === REQUESTS)?.points[0]?.startTimeMs, 510);
  const h = retired.metrics.find((m) => m.name === DURATION)?.points[0]?.value as HistogramValue;
  assert.deepEqual({ ...h, counts: [...h.counts] }, { count: 3, sum: 2.25, counts: [1, 1, 0, 1], min: 0.05, max: 2 });
  assert.equal(retired.folded?.length, 2);
});

test('folding the same process twice changes nothing (exactly once)', () => {
  const dead = deadWorker(10, 5);
  const once = foldSnapshot(undefined, dead);
  assert.equal(foldSnapshot(once, dead), once);
});

test('the folded list keeps only the most recent keys', () => {
  let retired: Snapshot | undefined;
  for (let pid = 1; pid <= MAX_FOLDED_KEYS + 10; pid++) retired = foldSnapshot(retired, deadWorker(pid, 1));
  assert.equal(retired?.folded?.length, MAX_FOLDED_KEYS);
  assert.equal(retired?.folded?.at(-1), processKey(deadWorker(MAX_FOLDED_KEYS + 10, 1).identity));
  assert.equal(requests(retired!), MAX_FOLDED_KEYS + 10);
});

test('folding into another slot\'s totals is refused', () => {
  const retired = foldSnapshot(undefined, deadWorker(10, 5));
  const other = snapshot(identity(3, 99), 1, [counter(REQUESTS, [[GET, 1]])]);
  assert.throws(() => foldSnapshot(retired, other), /cannot fold/);
});

test('the inputs are not modified', () => {
  const first = foldSnapshot(undefined, deadWorker(10, 5));
  const before = JSON.stringify(first);
  foldSnapshot(first, deadWorker(11, 7));
  assert.equal(JSON.stringify(first), before);
});
