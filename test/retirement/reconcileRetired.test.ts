import { test } from 'node:test';
import assert from 'node:assert/strict';
import { foldSnapshot } from '../../src/merge/foldSnapshot';
import { processKey } from '../../src/snapshot/Snapshot';
import { combineRetired, decideRetired } from '../../src/retirement/reconcileRetired';
import { counterTotal, workerIdentity, workerSnapshot } from '../store/support/redisFixtures';

test('decideRetired: a retired value never goes backwards', () => {
  assert.equal(decideRetired(undefined, ['a', 'b']), 'ours', 'missing in Redis: put ours back');
  assert.equal(decideRetired(['a', 'b'], ['a', 'b']), 'keep');
  assert.equal(decideRetired(['a', 'b', 'c'], ['a', 'b']), 'keep', 'Redis folded more since');
  assert.equal(decideRetired(['a'], ['a', 'b']), 'ours', 'Redis holds an earlier fold of ours');
  assert.equal(decideRetired(['x'], ['a', 'b']), 'combine', 'folds made after Redis was emptied');
  assert.equal(decideRetired(['b', 'x'], ['a', 'b', 'c']), 'conflict');
});

test('decideRetired keeps working when the folded list window has slid', () => {
  const ours = Array.from({ length: 64 }, (_, i) => `k${i + 10}`);
  const current = Array.from({ length: 64 }, (_, i) => `k${i + 20}`); // 10 folds later, oldest dropped
  assert.equal(decideRetired(current, ours), 'keep');
  assert.equal(decideRetired(ours, current), 'ours');
});

test('combineRetired adds two disjoint retired values and remembers both folded lists', () => {
  const a = workerIdentity('shop', 'a', 0, 1, 1);
  const b = workerIdentity('shop', 'a', 0, 2, 2);
  const ours = foldSnapshot(undefined, workerSnapshot(a, 10));
  const current = foldSnapshot(undefined, workerSnapshot(b, 4));
  const combined = combineRetired(current, ours);
  assert.equal(counterTotal([{ snapshot: combined, live: false }]), 14);
  assert.deepEqual([...(combined.folded ?? [])].sort(), [processKey(a), processKey(b)].sort());
  assert.equal(combined.identity.role, 'retired');
});
