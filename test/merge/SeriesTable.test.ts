import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LabelOrder } from '../../src/merge/LabelOrder';
import { bucketMapping } from '../../src/merge/SeriesTable';
import type { LabelSet } from '../../src/merge/SeriesTable';
import { msToHrTime } from '../../src/merge/msToHrTime';

test('bucket mapping sends each bucket to the first new bound at or above its own, the rest to +Inf', () => {
  assert.deepEqual(bucketMapping([0.1, 0.5, 1], [0.25, 1]), [0, 1, 1, 2]);
  assert.deepEqual(bucketMapping([1, 2], [0.1, 0.5]), [2, 2, 2]);
  assert.deepEqual(bucketMapping([0.1], [0.1, 0.2]), [0, 2]);
  assert.deepEqual(bucketMapping([], [1]), [1]);
});

test('a LabelOrder always gives code-unit order, whether it reuses its memory or not', () => {
  const label = (key: string, id: number): LabelSet => ({ id, key, attributes: { k: key } });
  const order = new LabelOrder();
  const keys = (labels: LabelSet[]): string[] => labels.map((l) => l.key);
  assert.deepEqual(keys(order.order([label('b', 0), label('a', 1), label('B', 2)])), ['B', 'a', 'b']);
  assert.deepEqual(keys(order.order([label('a', 0), label('b', 1)])), ['a', 'b'], 'a subset, from memory');
  assert.deepEqual(keys(order.order([label('c', 0), label('a', 1)])), ['a', 'c'], 'a new key');
  assert.deepEqual(keys(new LabelOrder().order([label('z', 0), label('y', 1)])), ['y', 'z'], 'instances share nothing');
});

test('milliseconds to HrTime never yields 1e9 nanoseconds', () => {
  assert.deepEqual(msToHrTime(1999.9999999), [2, 0]);
  assert.deepEqual(msToHrTime(1_700_000_000_123.5), [1_700_000_000, 123_500_000]);
  assert.deepEqual(msToHrTime(0), [0, 0]);
  for (let ms = 0; ms < 5; ms += 0.0000001 * 7919) {
    const [, nanos] = msToHrTime(ms);
    assert.ok(nanos >= 0 && nanos < 1e9 && Number.isInteger(nanos), `${ms} -> ${nanos}`);
  }
});
