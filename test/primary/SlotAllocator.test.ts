import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SlotAllocator } from '../../src/primary/SlotAllocator';

test('a replacement takes the lowest free slot, so N workers keep N worker_ids however often they die', () => {
  const slots = new SlotAllocator();
  assert.deepEqual([slots.acquire(), slots.acquire(), slots.acquire()], [0, 1, 2]);
  slots.release(1);
  assert.equal(slots.acquire(), 1, 'the dead worker 1 is replaced by a new worker 1');
  slots.release(0);
  slots.release(2);
  assert.equal(slots.acquire(), 0);
  assert.equal(slots.acquire(), 2);
  assert.equal(slots.acquire(), 3, 'only a real scale-up adds a slot');
  slots.release(7);
  assert.deepEqual(slots.heldSlots(), [0, 1, 2, 3], 'releasing a free slot changes nothing');
});

test('a handover holds a slot twice: it is free again only when both workers have let go', () => {
  const slots = new SlotAllocator();
  assert.deepEqual([slots.acquire(), slots.acquire()], [0, 1]);
  slots.hold(0);
  slots.release(0);
  assert.deepEqual(slots.heldSlots(), [0, 1], 'the successor still holds slot 0 after the old worker exits');
  assert.equal(slots.acquire(), 2, 'an app-forked worker never lands in a slot under handover');
  slots.release(0);
  assert.equal(slots.acquire(), 0);
});
