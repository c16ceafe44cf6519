import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MergedEndpointCap } from '../../src/merge/MergedEndpointCap';
import { SnapshotMerger } from '../../src/merge/SnapshotMerger';
import type { Snapshot, StoredSnapshot } from '../../src/snapshot/Snapshot';
import { OVERFLOW_ENDPOINT } from '../../src/worker/RouteNormaliser';
import { emptyResource } from '@opentelemetry/resources';
import { counter, gauge, identity, MEMORY, REQUESTS, snapshot } from './fixtures';

const at = (endpoint: string): Record<string, string> => ({ method: 'GET', endpoint, status: '200' });

function worker(slot: number, endpoints: [string, number][]): StoredSnapshot {
  const s: Snapshot = snapshot(identity(slot, 100 + slot), 1, [
    counter(
      REQUESTS,
      endpoints.map(([e, n]) => [at(e), n]),
    ),
    gauge(MEMORY, [[{}, 5]]),
  ]);
  return { snapshot: s, live: true };
}

/** Merged value per (worker_id, endpoint) of the requests counter. */
function merged(stored: StoredSnapshot[]): Record<string, number> {
  const result: Record<string, number> = {};
  const rm = new SnapshotMerger().merge(stored, { resource: emptyResource(), labelInstance: false, nowMs: 2 });
  for (const metric of rm.scopeMetrics.flatMap((s) => s.metrics)) {
    if (metric.descriptor.name !== REQUESTS) continue;
    for (const point of metric.dataPoints) result[`${point.attributes['worker_id']}|${point.attributes['endpoint']}`] = point.value as number;
  }
  return result;
}

test('two workers with 3 endpoints each (5 distinct) under a cap of 3: the view shows 3 plus the overflow, totals kept', () => {
  const cap = new MergedEndpointCap(3);
  const stored = [
    worker(0, [
      ['/a', 10],
      ['/b', 5],
      ['/c', 1],
    ]),
    worker(1, [
      ['/a', 7],
      ['/d', 4],
      ['/e', 2],
    ]),
  ];
  const view = merged(cap.apply(stored));
  // Busiest first: /a (17), /b (5), /d (4); /c and /e overflow, per worker.
  assert.deepEqual(view, { '0|/a': 10, '0|/b': 5, [`0|${OVERFLOW_ENDPOINT}`]: 1, '1|/a': 7, '1|/d': 4, [`1|${OVERFLOW_ENDPOINT}`]: 2 });
  const endpoints = new Set(Object.keys(view).map((k) => k.split('|')[1]));
  assert.equal(endpoints.size, 4, '3 endpoints + overflow');
  // Gauges are not touched; inputs are not modified.
  assert.equal(stored[0]!.snapshot.metrics[0]!.points.length, 3);
});

test('an endpoint the view has shown keeps its place when busier ones arrive later', () => {
  const cap = new MergedEndpointCap(2);
  cap.apply([
    worker(0, [
      ['/old', 1],
      ['/x', 1],
    ]),
  ]);
  const view = merged(
    cap.apply([
      worker(0, [
        ['/old', 1],
        ['/x', 1],
      ]),
      worker(1, [['/busy', 500]]),
    ]),
  );
  assert.deepEqual(view, { '0|/old': 1, '0|/x': 1, [`1|${OVERFLOW_ENDPOINT}`]: 500 });
});

test('under the cap nothing changes', () => {
  const cap = new MergedEndpointCap(100);
  const stored = [worker(0, [['/a', 1]]), worker(1, [['/b', 2]])];
  const out = cap.apply(stored);
  assert.equal(out[0], stored[0]);
  assert.equal(out[1], stored[1]);
  assert.throws(() => new MergedEndpointCap(0), /positive integer/);
});
