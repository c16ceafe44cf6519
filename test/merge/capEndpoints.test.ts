import { test } from 'node:test';
import assert from 'node:assert/strict';
import { capEndpoints } from '../../src/merge/capEndpoints';
import type { HistogramValue, Snapshot, SnapshotPoint } from '../../src/snapshot/Snapshot';
import { OVERFLOW_ENDPOINT } from '../../src/worker/RouteNormaliser';
import { counter, DURATION, gauge, histogram, identity, MEMORY, observe, REQUESTS, snapshot } from './fixtures';

const at = (endpoint: string, status = '200'): Record<string, string> => ({ method: 'GET', endpoint, status });

function retired(metrics: Snapshot['metrics']): Snapshot {
  return snapshot(identity(0, 0, { role: 'retired', startTimeMs: 0 }), 1, [...metrics]);
}

function byEndpoint(points: readonly SnapshotPoint[]): Record<string, number> {
  const result: Record<string, number> = {};
  for (const p of points) {
    const key = `${p.attributes['endpoint']}|${p.attributes['status']}`;
    result[key] = (result[key] ?? 0) + (typeof p.value === 'number' ? p.value : p.value.count);
  }
  return result;
}

test('at most N endpoints stay per metric; the rest are summed into the overflow endpoint, by their other labels', () => {
  const input = retired([
    counter(REQUESTS, [
      [at('/a'), 50],
      [at('/b'), 40],
      [at('/c'), 1],
      [at('/c', '500'), 2],
      [at('/d'), 3],
      [at(OVERFLOW_ENDPOINT), 7],
      [{ method: 'GET' }, 9],
    ]),
  ]);
  const capped = capEndpoints(input, 2);
  assert.deepEqual(byEndpoint(capped.metrics[0]!.points), {
    '/a|200': 50,
    '/b|200': 40,
    [`${OVERFLOW_ENDPOINT}|200`]: 1 + 3 + 7,
    [`${OVERFLOW_ENDPOINT}|500`]: 2,
    'undefined|undefined': 9,
  });
  assert.equal(capped.metrics[0]!.points.length, 5, 'one overflow series per remaining label set');
});

test('endpoints the established totals already have stay, busier new ones do not push them out', () => {
  const before = retired([counter(REQUESTS, [[at('/old'), 1]])]);
  const after = retired([
    counter(REQUESTS, [
      [at('/old'), 1],
      [at('/busy'), 100],
      [at('/busier'), 200],
    ]),
  ]);
  const capped = capEndpoints(after, 2, before);
  assert.deepEqual(byEndpoint(capped.metrics[0]!.points), { '/old|200': 1, '/busier|200': 200, [`${OVERFLOW_ENDPOINT}|200`]: 100 });
});

test('histograms keep count, sum, buckets, min and max exactly; the earliest start time wins', () => {
  const input = retired([
    histogram(DURATION, [
      [at('/a'), observe([0.1, 0.5, 1], [0.05, 0.2])],
      [at('/b'), observe([0.1, 0.5, 1], [0.7])],
      [at('/c'), observe([0.1, 0.5, 1], [3, 0.01])],
    ]),
  ]);
  const points = input.metrics[0]!.points.map((p, i) => ({ ...p, startTimeMs: 100 - i }));
  const capped = capEndpoints({ ...input, metrics: [{ ...input.metrics[0]!, points }] }, 1);
  const overflow = capped.metrics[0]!.points.find((p) => p.attributes['endpoint'] === OVERFLOW_ENDPOINT)!;
  const value = overflow.value as HistogramValue;
  assert.deepEqual({ ...value, counts: [...value.counts] }, { count: 3, sum: 0.7 + (3 + 0.01), counts: [1, 0, 1, 1], min: 0.01, max: 3 });
  assert.equal(overflow.startTimeMs, 98);
  assert.deepEqual(
    capped.metrics[0]!.points.map((p) => p.attributes['endpoint']),
    ['/a', OVERFLOW_ENDPOINT],
  );
});

test('the choice does not depend on point order: busiest first, then by name', () => {
  const points: [Record<string, string>, number][] = [
    [at('/x'), 5],
    [at('/y'), 5],
    [at('/z'), 9],
    [at('/w'), 1],
  ];
  const forward = capEndpoints(retired([counter(REQUESTS, points)]), 2);
  const backward = capEndpoints(retired([counter(REQUESTS, [...points].reverse())]), 2);
  assert.deepEqual(byEndpoint(forward.metrics[0]!.points), byEndpoint(backward.metrics[0]!.points));
  assert.deepEqual(Object.keys(byEndpoint(forward.metrics[0]!.points)).sort(), ['/x|200', '/z|200', `${OVERFLOW_ENDPOINT}|200`]);
});

test('within the cap, gauges and the input itself are left alone', () => {
  const input = retired([
    counter(REQUESTS, [
      [at('/a'), 1],
      [at('/b'), 2],
    ]),
    gauge(MEMORY, [
      [at('/a'), 1],
      [at('/b'), 1],
      [at('/c'), 1],
    ]),
  ]);
  const before = JSON.stringify(input);
  assert.equal(capEndpoints(input, 2), input, 'nothing to cap: the same snapshot');
  const capped = capEndpoints(input, 1);
  assert.equal(capped.metrics[1], input.metrics[1], 'gauges untouched');
  assert.equal(JSON.stringify(input), before, 'input not modified');
});
