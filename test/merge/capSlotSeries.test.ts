import { test } from 'node:test';
import assert from 'node:assert/strict';
import { resourceFromAttributes } from '@opentelemetry/resources';
import type { SumMetricData } from '@opentelemetry/sdk-metrics';
import { capSlotSeries } from '../../src/merge/capSlotSeries';
import { foldSnapshot, mergeSnapshots } from '../../src/merge/SnapshotMerger';
import type { StoredSnapshot } from '../../src/snapshot/Snapshot';
import { OVERFLOW_SERIES } from '../../src/worker/RequestAccumulator';
import { counter, identity, REQUESTS, snapshot } from './fixtures';

const RESOURCE = resourceFromAttributes({ 'service.name': 'svc' });

function life(slot: number, pid: number, startTimeMs: number, paths: string[], value = 1): StoredSnapshot {
  const points = paths.map((path): [Record<string, string>, number] => [{ method: 'GET', endpoint: path, status: '200' }, value]);
  return { snapshot: snapshot(identity(slot, pid, { startTimeMs }), startTimeMs + 100, [counter(REQUESTS, points, startTimeMs)]), live: true };
}

function requestSeries(stored: readonly StoredSnapshot[]): Map<string, number> {
  const merged = mergeSnapshots(stored, { resource: RESOURCE, labelInstance: false, nowMs: 10_000 });
  const metric = merged.scopeMetrics[0]?.metrics.find((m) => m.descriptor.name === REQUESTS) as SumMetricData | undefined;
  return new Map((metric?.dataPoints ?? []).map((point) => [`${String(point.attributes.worker_id)} ${String(point.attributes.endpoint)}`, point.value]));
}

const paths = (prefix: string, n: number): string[] => Array.from({ length: n }, (_, i) => `/${prefix}${i}`);

test('a slot keeps its oldest series over all its lives; the newer ones are summed in the overflow series', () => {
  const dead = { ...life(0, 1, 1_000, paths('a', 4)), live: false };
  const replacement = life(0, 2, 5_000, paths('b', 4), 10);
  const series = requestSeries(capSlotSeries([dead, replacement], 5));
  assert.deepEqual([...series.keys()].sort(), ['0 /a0', '0 /a1', '0 /a2', '0 /a3', '0 /b0', `0 ${OVERFLOW_SERIES.endpoint}`].sort());
  assert.equal(series.get(`0 ${OVERFLOW_SERIES.endpoint}`), 30, 'the three newest series of the replacement are counted, not lost');
  const total = [...series.values()].reduce((a, b) => a + b, 0);
  assert.equal(total, 4 + 40);
});

test('the choice is the same before and after the dead life is folded into the slot', () => {
  const dead = { ...life(0, 1, 1_000, paths('a', 4)), live: false };
  const replacement = life(0, 2, 5_000, paths('b', 4), 10);
  const before = requestSeries(capSlotSeries([dead, replacement], 5));
  const retired = foldSnapshot(undefined, dead.snapshot);
  const after = requestSeries(capSlotSeries([{ snapshot: retired, live: false }, replacement], 5));
  assert.deepEqual(after, before);
});

test('slots are held to the budget each on their own, and a single life is left alone', () => {
  const single = life(1, 3, 1_000, paths('c', 8));
  const input = [single, life(0, 1, 1_000, paths('a', 3)), life(0, 2, 5_000, paths('b', 3))];
  const capped = capSlotSeries(input, 4);
  assert.equal(capped[0], single);
  const series = requestSeries(capped);
  assert.equal([...series.keys()].filter((key) => key.startsWith('1 ')).length, 8);
  assert.equal([...series.keys()].filter((key) => key.startsWith('0 ')).length, 4 + 1);
  assert.equal(input[2]?.snapshot.metrics[0]?.points[0]?.attributes.endpoint, '/b0', 'the input is not modified');
});
