import { test } from 'node:test';
import assert from 'node:assert/strict';
import { resourceFromAttributes } from '@opentelemetry/resources';
import type { DataPoint, Histogram } from '@opentelemetry/sdk-metrics';
import { foldSnapshot, MAX_FOLDED_KEYS, mergeSnapshots } from '../../src/merge/SnapshotMerger';
import type { MergeConflict } from '../../src/merge/SnapshotMerger';
import { processKey } from '../../src/snapshot/Snapshot';
import type { HistogramValue, Snapshot, StoredSnapshot } from '../../src/snapshot/Snapshot';
import { OVERFLOW_ENDPOINT } from '../../src/worker/RouteNormaliser';
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
  assert.deepEqual(
    retired.metrics.map((m) => m.name),
    [DURATION, REQUESTS],
  );
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
  assert.equal(requests(retired), MAX_FOLDED_KEYS + 10);
});

test("folding into another slot's totals is refused", () => {
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

test('a fold re-bucketing totals recorded with other boundaries keeps count and sum, and reports it', () => {
  const conflicts: MergeConflict[] = [];
  const oldLife = snapshot(identity(2, 10), 100, [histogram(DURATION, [[GET, observe([0.1, 0.5, 1], [0.05, 0.7, 5])]], [0.1, 0.5, 1])]);
  const newLife = snapshot(identity(2, 11), 200, [histogram(DURATION, [[GET, observe([0.25, 1], [0.2])]], [0.25, 1])]);
  const retired = foldSnapshot(foldSnapshot(undefined, oldLife), newLife, { onConflict: (c) => conflicts.push(c) });
  const metric = retired.metrics.find((m) => m.name === DURATION);
  assert.deepEqual(metric?.boundaries, [0.25, 1], "the newer life's boundaries, as the merged view showed while it lived");
  const h = metric?.points[0]?.value as HistogramValue;
  assert.deepEqual([...h.counts], [2, 1, 1]);
  assert.equal(h.count, 4);
  assert.equal(h.sum, 0.05 + 0.7 + 5 + 0.2);
  assert.deepEqual(
    conflicts.map((c) => [c.metric, c.reason, c.process]),
    [[DURATION, 'boundaries', processKey(retired.identity)]],
  );
});

test('no _count or _bucket of the merged view goes down while a reconfigured worker lives, dies and is folded', () => {
  const bucketsOf = (stored: StoredSnapshot[]): Map<string, number> => {
    const rm = mergeSnapshots(stored, { resource: resourceFromAttributes({}), labelInstance: false, nowMs: 1e6 });
    const data = rm.scopeMetrics[0]?.metrics.find((m) => m.descriptor.name === DURATION);
    const result = new Map<string, number>();
    for (const point of (data?.dataPoints ?? []) as DataPoint<Histogram>[]) {
      let cumulative = 0;
      point.value.buckets.counts.forEach((count, i) => {
        cumulative += count;
        result.set(`le=${point.value.buckets.boundaries[i] ?? '+Inf'}`, cumulative);
      });
      result.set('count', point.value.count);
    }
    return result;
  };
  const oldLife = snapshot(identity(2, 10, { startTimeMs: 1_000 }), 100, [histogram(DURATION, [[GET, observe([0.1, 0.5, 1], [0.05, 0.3, 0.7])]], [0.1, 0.5, 1])]);
  const retired = foldSnapshot(undefined, oldLife);
  const newLife = (latencies: number[], writtenAtMs: number): Snapshot =>
    snapshot(identity(2, 11, { startTimeMs: 2_000 }), writtenAtMs, [histogram(DURATION, [[GET, observe([0.25, 0.5, 1], latencies)]], [0.25, 0.5, 1])]);
  const sequence: StoredSnapshot[][] = [
    [
      { snapshot: retired, live: false },
      { snapshot: newLife([0.2], 200), live: true },
    ],
    [
      { snapshot: retired, live: false },
      { snapshot: newLife([0.2, 0.4], 300), live: false },
    ],
    [{ snapshot: foldSnapshot(retired, newLife([0.2, 0.4], 300)), live: false }],
  ];
  let previous = new Map<string, number>();
  for (const [step, stored] of sequence.entries()) {
    const now = bucketsOf(stored);
    for (const [key, value] of previous) assert.ok((now.get(key) ?? 0) >= value, `step ${step}: ${key} went from ${value} to ${now.get(key)}`);
    previous = now;
  }
  assert.equal(previous.get('count'), 5);
});

test('with maxEndpoints the retired totals keep that many endpoints across any number of folds, totals exact', () => {
  let retired: Snapshot | undefined;
  let total = 0;
  for (let life = 0; life < 6; life++) {
    const points: [Record<string, string>, number][] = [];
    for (let word = 0; word < 5; word++) {
      points.push([{ method: 'GET', endpoint: `/page-l${life}w${word}`, status: '200' }, word + 1]);
      total += word + 1;
    }
    const latencies = points.map((_, i) => i / 10);
    const dead = snapshot(identity(2, 100 + life), 1_000 + life, [
      counter(REQUESTS, points),
      histogram(
        DURATION,
        points.map(([attributes], i) => [attributes, observe([0.1, 0.5, 1], [latencies[i] as number])]),
      ),
    ]);
    retired = foldSnapshot(retired, dead, { maxEndpoints: 5 });
  }
  const requests = retired!.metrics.find((m) => m.name === REQUESTS)!;
  const endpoints = new Set(requests.points.map((p) => p.attributes['endpoint']));
  assert.ok(endpoints.size <= 6, `${endpoints.size} endpoints: ${[...endpoints].join(' ')}`);
  assert.ok(endpoints.has(OVERFLOW_ENDPOINT));
  assert.deepEqual([...endpoints].filter((e) => e?.startsWith('/page-l0')).length, 5, "the first life's endpoints, already retired, stay");
  assert.equal(
    requests.points.reduce((sum, p) => sum + (p.value as number), 0),
    total,
  );
  const durations = retired!.metrics.find((m) => m.name === DURATION)!;
  assert.equal(
    durations.points.reduce((sum, p) => sum + (p.value as HistogramValue).count, 0),
    30,
  );
  assert.ok(new Set(durations.points.map((p) => p.attributes['endpoint'])).size <= 6);
});
