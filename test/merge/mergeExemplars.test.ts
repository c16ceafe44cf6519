import { test } from 'node:test';
import assert from 'node:assert/strict';
import { resourceFromAttributes } from '@opentelemetry/resources';
import type { Histogram } from '@opentelemetry/sdk-metrics';
import { mergeSnapshots } from '../../src/merge/SnapshotMerger';
import { mergeExemplars } from '../../src/merge/mergeExemplars';
import { exemplarsOf } from '../../src/snapshot/histogramExemplars';
import type { SnapshotExemplar } from '../../src/snapshot/Snapshot';
import { DURATION, histogram, identity, observe, snapshot } from './fixtures';

function exemplar(bucket: number, timeMs: number, id: string): SnapshotExemplar {
  return { bucket, value: bucket / 10, timeMs, traceId: id.repeat(32), spanId: id.repeat(16) };
}

test('per bucket the latest exemplar wins; the result has at most one per bucket', () => {
  const a = [exemplar(0, 10, 'a'), exemplar(2, 50, 'a'), exemplar(3, 10, 'a')];
  const b = [exemplar(1, 20, 'b'), exemplar(2, 40, 'b'), exemplar(3, 30, 'b')];
  assert.deepEqual(mergeExemplars(a, b), [exemplar(0, 10, 'a'), exemplar(1, 20, 'b'), exemplar(2, 50, 'a'), exemplar(3, 30, 'b')]);
  assert.equal(mergeExemplars(undefined, b), b);
  assert.equal(mergeExemplars(a, []), a);
});

test('the merge combines workers of one series and moves exemplars with re-bucketed observations', () => {
  const labels = { method: 'GET', endpoint: '/a', status: '200' };
  const newBounds = [0.1, 0.5, 1];
  const oldBounds = [0.25, 1];
  const stored = [
    // Newest life: its boundaries win.
    snapshot(identity(0, 2, { startTimeMs: 9_000 }), 10_000, [histogram(DURATION, [[labels, { ...observe(newBounds, [0.05]), exemplars: [exemplar(0, 5_000, 'a')] }]], newBounds)]),
    // An older life in another slot with other buckets: its 0.2 s observation sits in [0.1, 0.25], counted in the 0.5 bucket.
    snapshot(identity(1, 3, { startTimeMs: 1_000 }), 10_000, [histogram(DURATION, [[labels, { ...observe(oldBounds, [0.2, 0.05]), exemplars: [{ ...exemplar(0, 6_000, 'b'), value: 0.2 }] }]], oldBounds)]),
  ].map((s) => ({ snapshot: s, live: true }));
  const merged = mergeSnapshots(stored, { resource: resourceFromAttributes({}), labelInstance: false, nowMs: 11_000 });
  const points = merged.scopeMetrics[0]!.metrics.find((m) => m.descriptor.name === DURATION)!.dataPoints;
  const bySlot = new Map(points.map((p) => [p.attributes['worker_id'], exemplarsOf(p.value as Histogram)]));
  assert.deepEqual(bySlot.get('0'), [exemplar(0, 5_000, 'a')]);
  assert.deepEqual(bySlot.get('1'), [{ ...exemplar(1, 6_000, 'b'), value: 0.2 }], 'bucket 0 of [0.25, 1] is bucket 1 of [0.1, 0.5, 1]');

  // Two processes of one slot (a replaced worker not yet folded) feed one series: the latest per bucket stays.
  const sameSlot = [
    snapshot(identity(0, 4, { startTimeMs: 9_000 }), 10_000, [histogram(DURATION, [[labels, { ...observe(newBounds, [0.05]), exemplars: [exemplar(0, 7_000, 'c')] }]], newBounds)]),
    snapshot(identity(0, 5, { startTimeMs: 8_000 }), 10_000, [histogram(DURATION, [[labels, { ...observe(newBounds, [0.06, 2]), exemplars: [exemplar(0, 8_000, 'd'), exemplar(3, 1, 'd')] }]], newBounds)]),
  ].map((s) => ({ snapshot: s, live: true }));
  const one = mergeSnapshots(sameSlot, { resource: resourceFromAttributes({}), labelInstance: false, nowMs: 11_000 });
  const point = one.scopeMetrics[0]!.metrics[0]!.dataPoints[0]!;
  assert.deepEqual(exemplarsOf(point.value as Histogram), [exemplar(0, 8_000, 'd'), exemplar(3, 1, 'd')]);
});
