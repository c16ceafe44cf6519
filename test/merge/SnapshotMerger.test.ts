import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ValueType } from '@opentelemetry/api';
import { PrometheusSerializer } from '@opentelemetry/exporter-prometheus';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { AggregationTemporality, DataPointType } from '@opentelemetry/sdk-metrics';
import type { DataPoint, Histogram, MetricData, ResourceMetrics } from '@opentelemetry/sdk-metrics';
import { CATALOGUE, prometheusName, SCOPE_NAME } from '../../src/catalogue/MetricCatalogue';
import { foldSnapshot, mergeSnapshots, SnapshotMerger } from '../../src/merge/SnapshotMerger';
import type { MergeConflict } from '../../src/merge/SnapshotMerger';
import { processKey } from '../../src/snapshot/Snapshot';
import type { Snapshot, StoredSnapshot } from '../../src/snapshot/Snapshot';
import { ACTIVE, counter, DURATION, gauge, histogram, identity, MEMORY, observe, REQUESTS, snapshot } from './fixtures';

const resource = resourceFromAttributes({ 'service.name': 'svc' });
const GET = { method: 'GET', endpoint: '/a', status: '200' };

function merge(stored: StoredSnapshot[], labelInstance = false, onConflict?: (c: MergeConflict) => void): ResourceMetrics {
  return mergeSnapshots(stored, { resource, labelInstance, nowMs: 2_000_000, ...(onConflict !== undefined ? { onConflict } : {}) });
}

function metric(rm: ResourceMetrics, name: string): MetricData | undefined {
  return rm.scopeMetrics[0]?.metrics.find((m) => m.descriptor.name === name);
}

/** Value of the series whose attributes include `match`. */
function valueOf(rm: ResourceMetrics, name: string, match: Record<string, string>): number | undefined {
  const data = metric(rm, name);
  const point = (data?.dataPoints as DataPoint<number>[] | undefined)?.find((p) => Object.entries(match).every(([k, v]) => p.attributes[k] === v));
  return point?.value;
}

function total(rm: ResourceMetrics, name: string): number {
  return ((metric(rm, name)?.dataPoints ?? []) as DataPoint<number>[]).reduce((sum, p) => sum + p.value, 0);
}

const live = (s: Snapshot): StoredSnapshot => ({ snapshot: s, live: true });
const dead = (s: Snapshot): StoredSnapshot => ({ snapshot: s, live: false });

test('worker series gain worker_id from the slot; primary series keep their own attributes', () => {
  const rm = merge([
    live(snapshot(identity(0, 10), 5, [counter(REQUESTS, [[GET, 4]])])),
    live(snapshot(identity(1, 11), 5, [counter(REQUESTS, [[GET, 6]])])),
    live(snapshot(identity(-1, 9), 5, [counter(CATALOGUE.workerRestarts.name, [[{ worker_id: '1', reason: 'crash' }, 2]])])),
  ]);
  assert.equal(valueOf(rm, REQUESTS, { worker_id: '0' }), 4);
  assert.equal(valueOf(rm, REQUESTS, { worker_id: '1' }), 6);
  const restarts = metric(rm, CATALOGUE.workerRestarts.name)?.dataPoints as DataPoint<number>[];
  assert.deepEqual(
    restarts.map((p) => p.attributes),
    [{ reason: 'crash', worker_id: '1' }],
  );
});

test('counters never decrease across live -> dead -> retired -> replacement in the same slot', () => {
  const first = snapshot(identity(0, 10), 100, [counter(REQUESTS, [[GET, 5]]), histogram(DURATION, [[GET, observe([0.1, 0.5, 1], [0.2, 0.3])]])]);
  const sequence: StoredSnapshot[][] = [];
  sequence.push([live(first)]);
  sequence.push([dead(first)]);
  const retired = foldSnapshot(undefined, first);
  // Crash between writing the retired totals and deleting the dead file: both present.
  sequence.push([dead(first), dead(retired)]);
  sequence.push([dead(retired)]);
  const replacement = snapshot(identity(0, 20), 200, [counter(REQUESTS, [[GET, 2]]), histogram(DURATION, [[GET, observe([0.1, 0.5, 1], [2])]])]);
  sequence.push([dead(retired), live(replacement)]);
  const grown = snapshot(identity(0, 20), 300, [counter(REQUESTS, [[GET, 3]]), histogram(DURATION, [[GET, observe([0.1, 0.5, 1], [2, 0.01])]])]);
  sequence.push([dead(retired), live(grown)]);

  const requests = sequence.map((stored) => valueOf(merge(stored), REQUESTS, { worker_id: '0' }));
  assert.deepEqual(requests, [5, 5, 5, 5, 7, 8]);
  const counts = sequence.map((stored) => {
    const point = metric(merge(stored), DURATION)?.dataPoints[0] as DataPoint<Histogram>;
    return point.value.count;
  });
  assert.deepEqual(counts, [2, 2, 2, 2, 3, 4]);
  const last = metric(merge(sequence[5]!), DURATION)?.dataPoints[0] as DataPoint<Histogram>;
  assert.deepEqual(last.value.buckets.counts, [1, 2, 0, 1]);
  assert.equal(last.value.min, 0.01);
  assert.equal(last.value.max, 2);
});

test('a dead process already listed in the retired totals is not counted twice', () => {
  const a = snapshot(identity(0, 10), 100, [counter(REQUESTS, [[GET, 5]])]);
  const retired = foldSnapshot(undefined, a);
  const rm = merge([dead(retired), dead(a), live(a)]);
  assert.equal(valueOf(rm, REQUESTS, { worker_id: '0' }), 5);
});

test('gauges and up-down counters come from live processes only', () => {
  const w0 = snapshot(identity(0, 10), 100, [gauge(MEMORY, [[{}, 100]]), gauge(ACTIVE, [[{}, 3]], 'updowncounter')]);
  const w1 = snapshot(identity(1, 11), 100, [gauge(MEMORY, [[{}, 200]]), gauge(ACTIVE, [[{}, 1]], 'updowncounter')]);
  const rm = merge([live(w0), dead(w1)]);
  assert.deepEqual(
    (metric(rm, MEMORY)?.dataPoints as DataPoint<number>[]).map((p) => [p.attributes, p.value]),
    [[{ worker_id: '0' }, 100]],
  );
  assert.equal(valueOf(rm, ACTIVE, { worker_id: '1' }), undefined);
  assert.equal(metric(merge([dead(w1)]), MEMORY), undefined, 'a metric with no live series is left out');
});

test('two live processes in one slot: the newest snapshot provides the gauges, both add counters', () => {
  const old = snapshot(identity(0, 10), 100, [gauge(MEMORY, [[{}, 100]]), counter(REQUESTS, [[GET, 5]])]);
  const fresh = snapshot(identity(0, 20), 150, [gauge(MEMORY, [[{}, 300]]), counter(REQUESTS, [[GET, 1]])]);
  for (const order of [
    [old, fresh],
    [fresh, old],
  ]) {
    const rm = merge(order.map(live));
    assert.equal(valueOf(rm, MEMORY, { worker_id: '0' }), 300);
    assert.equal(valueOf(rm, REQUESTS, { worker_id: '0' }), 6);
  }
});

test('every live primary snapshot provides gauges (an exporter may add scrape-time ones beside its own)', () => {
  const primary = snapshot(identity(-1, 9), 100, [gauge(CATALOGUE.workers.name, [[{}, 4]])]);
  const scrapeTime = snapshot(identity(-1, 9, { startTimeMs: 0 }), 150, [gauge(CATALOGUE.snapshotAge.name, [[{}, 0.5]])]);
  const rm = merge([live(primary), live(scrapeTime)]);
  assert.equal(valueOf(rm, CATALOGUE.workers.name, {}), 4);
  assert.equal(valueOf(rm, CATALOGUE.snapshotAge.name, {}), 0.5);
});

test('with labelInstance two hosts never collide; without it their counters add up', () => {
  const a = snapshot(identity(0, 10, { instance: 'host-a' }), 100, [counter(REQUESTS, [[GET, 5]]), gauge(MEMORY, [[{}, 1]])]);
  const b = snapshot(identity(0, 10, { instance: 'host-b' }), 100, [counter(REQUESTS, [[GET, 7]]), gauge(MEMORY, [[{}, 2]])]);
  const labelled = merge([live(a), live(b)], true);
  assert.equal(valueOf(labelled, REQUESTS, { worker_id: '0', instance: 'host-a' }), 5);
  assert.equal(valueOf(labelled, REQUESTS, { worker_id: '0', instance: 'host-b' }), 7);
  assert.equal(valueOf(labelled, MEMORY, { instance: 'host-b' }), 2);
  const unlabelled = merge([live(a), live(b)], false);
  assert.equal(metric(unlabelled, REQUESTS)?.dataPoints.length, 1);
  assert.equal(valueOf(unlabelled, REQUESTS, { worker_id: '0' }), 12);
});

test("histograms with other boundaries are re-bucketed into the newest life's: count and sum exact, the conflict reported", () => {
  const oldBounds = snapshot(identity(0, 10), 100, [histogram(DURATION, [[GET, observe([0.1, 0.5, 1], [0.05, 0.2, 0.7, 5])]], [0.1, 0.5, 1])]);
  const newBounds = snapshot(identity(1, 11), 200, [histogram(DURATION, [[GET, observe([0.25, 1], [0.2, 3])]], [0.25, 1])]);
  const conflicts: MergeConflict[] = [];
  const rm = merge([live(oldBounds), live(newBounds)], false, (c) => conflicts.push(c));
  const points = metric(rm, DURATION)!.dataPoints as DataPoint<Histogram>[];
  assert.deepEqual(
    points.map((p) => [p.attributes['worker_id'], p.value.buckets.boundaries, p.value.buckets.counts, p.value.count, p.value.sum]),
    [
      // 0.05 (<= 0.1) and 0.2 (<= 0.5) go to the first new bound at or above theirs: 0.25 and 1; 0.7 to 1; 5 to +Inf.
      ['0', [0.25, 1], [1, 2, 1], 4, 5.95],
      ['1', [0.25, 1], [1, 0, 1], 2, 3.2],
    ],
  );
  assert.equal(conflicts.length, 1);
  assert.equal(conflicts[0]?.reason, 'boundaries');
  assert.equal(conflicts[0]?.metric, DURATION);
  assert.equal(conflicts[0]?.process, processKey(oldBounds.identity));
});

test('the newest process life sets the boundaries, whichever worker flushed last', () => {
  // A rolling restart: the old-config worker flushes after the new-config one in every other scrape.
  const oldLife = (writtenAtMs: number): Snapshot =>
    snapshot(identity(0, 10, { startTimeMs: 1_000 }), writtenAtMs, [histogram(DURATION, [[GET, observe([0.1, 0.5, 1], [0.2])]], [0.1, 0.5, 1])]);
  const newLife = (writtenAtMs: number): Snapshot =>
    snapshot(identity(1, 11, { startTimeMs: 5_000 }), writtenAtMs, [histogram(DURATION, [[GET, observe([0.25, 1], [0.2])]], [0.25, 1])]);
  for (const [a, b] of [
    [100, 200],
    [300, 250],
  ] as const) {
    const points = metric(merge([live(oldLife(a)), live(newLife(b))]), DURATION)!.dataPoints as DataPoint<Histogram>[];
    assert.deepEqual(
      points.map((p) => p.value.buckets.boundaries),
      [
        [0.25, 1],
        [0.25, 1],
      ],
    );
  }
});

test('a metric whose kind changed keeps the newest kind and reports the older snapshot', () => {
  const asCounter = snapshot(identity(0, 10), 100, [counter('x', [[{}, 5]])]);
  const asGauge = snapshot(identity(1, 11), 200, [gauge('x', [[{}, 9]])]);
  const conflicts: MergeConflict[] = [];
  const rm = merge([live(asCounter), live(asGauge)], false, (c) => conflicts.push(c));
  assert.equal(metric(rm, 'x')?.dataPointType, DataPointType.GAUGE);
  assert.deepEqual(
    conflicts.map((c) => c.reason),
    ['kind'],
  );
});

test('output has the shape sdk-metrics produces and is what the Prometheus serializer expects', () => {
  const w = snapshot(identity(0, 10), 100, [
    counter(REQUESTS, [[GET, 5]]),
    gauge(ACTIVE, [[{}, 2]], 'updowncounter'),
    gauge(MEMORY, [[{}, 1024]]),
    histogram(DURATION, [[GET, observe([0.1, 0.5, 1], [0.2])]]),
  ]);
  const rm = merge([live(w)]);
  assert.equal(rm.resource, resource);
  assert.equal(rm.scopeMetrics.length, 1);
  assert.deepEqual(rm.scopeMetrics[0]?.scope, { name: SCOPE_NAME });
  const data = rm.scopeMetrics[0].metrics;
  assert.deepEqual(
    data.map((m) => m.descriptor.name),
    [ACTIVE, MEMORY, DURATION, REQUESTS],
    'sorted by name',
  );
  for (const m of data) assert.equal(m.aggregationTemporality, AggregationTemporality.CUMULATIVE);
  const requests = metric(rm, REQUESTS)!;
  assert.ok(requests.dataPointType === DataPointType.SUM && requests.isMonotonic);
  assert.equal(requests.descriptor.valueType, ValueType.INT);
  const active = metric(rm, ACTIVE)!;
  assert.ok(active.dataPointType === DataPointType.SUM && !active.isMonotonic);
  assert.deepEqual(requests.dataPoints[0]?.endTime, [2000, 0]);
  assert.deepEqual(requests.dataPoints[0]?.startTime, [1, 0]);

  // The serializer may add scope labels after ours: match the labels we own, then the value.
  const text = new PrometheusSerializer().serialize(rm);
  const line = (name: string, labels: string, value: string): RegExp => new RegExp(`^${name}\\{${labels}\\} ${value}( |$)`, 'm');
  const get = 'endpoint="/a",method="GET",status="200",worker_id="0"[^}]*';
  assert.match(text, line(prometheusName(CATALOGUE.requests), get, '5'));
  assert.match(text, line(`${DURATION}_bucket`, `${get}le="0\\.5"`, '1'));
  assert.match(text, line(`${DURATION}_count`, get, '1'));
  assert.match(text, line(MEMORY, 'worker_id="0"[^}]*', '1024'));
});

test('the same snapshots in any order give the same output', () => {
  const stored: StoredSnapshot[] = [];
  for (let slot = 0; slot < 4; slot++) {
    stored.push(
      live(
        snapshot(identity(slot, 100 + slot), 100 + slot, [
          counter(REQUESTS, [
            [{ ...GET, endpoint: `/e${slot % 2}` }, slot + 1],
            [GET, 1],
          ]),
          gauge(MEMORY, [[{}, slot]]),
          histogram(DURATION, [[GET, observe([0.1, 0.5, 1], [slot / 4])]]),
        ]),
      ),
    );
  }
  stored.push(dead(foldSnapshot(undefined, snapshot(identity(2, 50), 50, [counter(REQUESTS, [[GET, 10]])]))));
  const expected = merge(stored);
  for (let rotation = 1; rotation < stored.length; rotation++) {
    const shuffled = [...stored.slice(rotation), ...stored.slice(0, rotation)].reverse();
    assert.deepEqual(merge(shuffled), expected);
  }
  const keys = (metric(expected, REQUESTS)?.dataPoints ?? []).map((p) => JSON.stringify(p.attributes));
  assert.deepEqual(keys, [...keys].sort(), 'points sorted by attributes');
});

test('no snapshots give an empty scope, not an error', () => {
  assert.deepEqual(merge([]).scopeMetrics, [{ scope: { name: SCOPE_NAME }, metrics: [] }]);
});

test('merging does not modify the snapshots it reads', () => {
  const a = snapshot(identity(0, 10), 100, [histogram(DURATION, [[GET, observe([0.1, 0.5, 1], [0.2])]])]);
  const b = snapshot(identity(0, 11), 101, [histogram(DURATION, [[GET, observe([0.1, 0.5, 1], [0.3])]])]);
  const before = JSON.stringify([a, b]);
  merge([live(a), live(b)]);
  merge([live(a), live(b)]);
  assert.equal(JSON.stringify([a, b]), before);
  assert.equal(total(merge([live(a)]), 'nothing'), 0);
});

test('a single process (a slot-0 worker) gets no worker_id on metrics the catalogue says the primary records', () => {
  const single = snapshot(identity(0, 10), 100, [
    gauge(CATALOGUE.workers.name, [[{}, 1]]),
    gauge(CATALOGUE.state.name, [[{ worker_id: '0', state: 'running' }, 1]]),
    counter(CATALOGUE.masterRestarts.name, [[{ reason: 'crash' }, 2]]),
    counter(REQUESTS, [[GET, 4]]),
  ]);
  const rm = merge([live(single)], true);
  const attributes = (name: string): unknown => metric(rm, name)?.dataPoints.map((p) => p.attributes);
  assert.deepEqual(attributes(CATALOGUE.workers.name), [{ instance: 'host-a' }]);
  assert.deepEqual(attributes(CATALOGUE.state.name), [{ instance: 'host-a', state: 'running', worker_id: '0' }]);
  assert.deepEqual(attributes(CATALOGUE.masterRestarts.name), [{ instance: 'host-a', reason: 'crash' }]);
  assert.deepEqual(attributes(REQUESTS), [{ ...GET, instance: 'host-a', worker_id: '0' }], 'worker-recorded metrics keep it');
});

test('a SnapshotMerger merging again and again gives what mergeSnapshots gives, as series come and go', () => {
  const merger = new SnapshotMerger();
  const options = { resource, labelInstance: false, nowMs: 2_000_000 };
  const rounds = [['/a', '/b'], ['/a', '/b'], ['/c', '/a', '/b'], ['/b'], ['/d', '/a']];
  for (const endpoints of rounds) {
    const stored = [0, 1].map((slot) =>
      live(
        snapshot(identity(slot, 10 + slot), 100, [
          counter(
            REQUESTS,
            endpoints.map((endpoint, i): [Record<string, string>, number] => [{ ...GET, endpoint }, i + slot]),
          ),
        ]),
      ),
    );
    // A fold between merges must not disturb the merger's order either.
    foldSnapshot(undefined, snapshot(identity(0, 99), 1, [counter(REQUESTS, [[{ ...GET, endpoint: '/zz' }, 1]])]));
    const expected = mergeSnapshots(stored, options);
    assert.deepEqual(merger.merge(stored, options), expected);
    const keys = (metric(expected, REQUESTS)?.dataPoints ?? []).map((p) => `${p.attributes['endpoint']}|${p.attributes['worker_id']}`);
    assert.deepEqual(keys, [...keys].sort());
  }
});

test('a merger that meets the same label-set object again keys it with the labels it gets this time (worker_id, instance)', () => {
  const labels = { ...GET };
  const merger = new SnapshotMerger();
  const at = (slot: number, instance: string, labelInstance: boolean): ResourceMetrics =>
    merger.merge([live(snapshot(identity(slot, 10 + slot, { instance }), 2_000, [counter(REQUESTS, [[labels, 5]])]))], { resource, labelInstance, nowMs: 3_000 });
  const attributesOf = (rm: ResourceMetrics): unknown => metric(rm, REQUESTS)?.dataPoints[0]?.attributes;
  assert.deepEqual(attributesOf(at(0, 'h1', false)), { ...GET, worker_id: '0' });
  assert.deepEqual(attributesOf(at(1, 'h1', false)), { ...GET, worker_id: '1' });
  assert.deepEqual(attributesOf(at(1, 'h2', true)), { ...GET, instance: 'h2', worker_id: '1' });
  assert.deepEqual(attributesOf(at(1, 'h2', true)), { ...GET, instance: 'h2', worker_id: '1' });
  assert.deepEqual(attributesOf(mergeSnapshots([live(snapshot(identity(1, 11), 2_000, [counter(REQUESTS, [[labels, 5]])]))], { resource, labelInstance: false, nowMs: 3_000 })), {
    ...GET,
    worker_id: '1',
  });
});
