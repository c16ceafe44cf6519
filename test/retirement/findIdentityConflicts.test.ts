import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { SnapshotIdentity, StoredSnapshot } from '../../src/snapshot/Snapshot';
import { findIdentityConflicts, IDENTITY_OVERLAP_MS } from '../../src/retirement/findIdentityConflicts';

const T0 = 1_700_000_000_000;

function stored(identity: Partial<SnapshotIdentity>, writtenAtMs: number, live = true): StoredSnapshot {
  const full: SnapshotIdentity = { service: 'svc', instance: 'host-1', slot: 0, pid: 100, startTimeMs: T0, role: 'worker', ...identity };
  return { snapshot: { identity: full, writtenAtMs, metrics: [] }, live };
}

test('a replacement worker is not a conflict: the old one stopped writing before the new one started', () => {
  const old = stored({ pid: 100, startTimeMs: T0 }, T0 + 60_000);
  const replacement = stored({ pid: 101, startTimeMs: T0 + 60_100 }, T0 + 61_000);
  assert.deepEqual(findIdentityConflicts([old, replacement]), []);
});

test('a short handover (PM2 reload) is not a conflict', () => {
  const old = stored({ pid: 100, startTimeMs: T0 }, T0 + 65_000);
  const next = stored({ pid: 101, startTimeMs: T0 + 60_000 }, T0 + 65_000);
  assert.deepEqual(findIdentityConflicts([old, next]), []);
});

test('two processes writing side by side in one slot for longer than the overlap are a conflict, named by both', () => {
  const first = stored({ pid: 100, startTimeMs: T0 }, T0 + 30_000);
  const second = stored({ pid: 7, startTimeMs: T0 + 1_000 }, T0 + 30_000);
  const conflicts = findIdentityConflicts([second, first]);
  assert.equal(conflicts.length, 1);
  assert.equal(conflicts[0]?.older.pid, 100);
  assert.equal(conflicts[0]?.newer.pid, 7);
  assert.ok(T0 + 30_000 - (T0 + 1_000) > IDENTITY_OVERLAP_MS);
});

test('dead, retired, other slots, other instances and other services never conflict', () => {
  const writing = T0 + 30_000;
  const base = stored({ pid: 100 }, writing);
  assert.deepEqual(findIdentityConflicts([base, stored({ pid: 101, startTimeMs: T0 + 1 }, writing, false)]), []);
  assert.deepEqual(findIdentityConflicts([base, stored({ pid: 101, startTimeMs: T0 + 1, slot: 1 }, writing)]), []);
  assert.deepEqual(findIdentityConflicts([base, stored({ pid: 101, startTimeMs: T0 + 1, instance: 'host-2' }, writing)]), []);
  assert.deepEqual(findIdentityConflicts([base, stored({ pid: 101, startTimeMs: T0 + 1, service: 'other' }, writing)]), []);
  assert.deepEqual(findIdentityConflicts([base, stored({ pid: 101, startTimeMs: T0 + 1, role: 'retired', slot: 0 }, writing)]), []);
});

test('two primaries of one instance conflict too', () => {
  const conflicts = findIdentityConflicts([
    stored({ role: 'primary', slot: -1, pid: 1 }, T0 + 20_000),
    stored({ role: 'primary', slot: -1, pid: 1, startTimeMs: T0 + 500 }, T0 + 20_000),
  ]);
  assert.equal(conflicts.length, 1);
});

test('two claimants started in the same millisecond are one pair, whatever order the store lists them in', () => {
  const a = stored({ pid: 100, startTimeMs: T0 }, T0 + 30_000);
  const b = stored({ pid: 7, startTimeMs: T0 }, T0 + 30_000);
  const one = findIdentityConflicts([a, b]);
  const other = findIdentityConflicts([b, a]);
  assert.equal(one.length, 1);
  assert.equal(other.length, 1);
  // The reader reports a pair once by this key: a second key for the same two processes counted them twice.
  assert.equal(one[0]?.pairKey, other[0]?.pairKey);
});
