import { test } from 'node:test';
import assert from 'node:assert/strict';
import { deriveRestarts, type SlotLife } from '../../src/primary/deriveRestarts';

const life = (pid: number, startTimeMs: number, ended: SlotLife['ended'], extra: Partial<SlotLife> = {}): SlotLife => ({ pid, startTimeMs, ended, ...extra });

test('one slot that was kill -9ed twice and one that was reloaded: restarts by reason, live workers, states', () => {
  const derived = deriveRestarts(
    new Map([
      // kill -9 without exit information, then one PM2 told the new life about (SIGKILL), then the live one.
      [0, [life(10, 1000, 'dead'), life(11, 2000, 'dead'), life(12, 3000, 'live', { previousExit: { code: null, signal: 'SIGKILL' } })]],
      // pm2 reload: the old life ended cleanly and removed its snapshot.
      [1, [life(21, 2500, 'live'), life(20, 1000, 'clean')]],
      // Never restarted.
      [2, [life(30, 1000, 'live')]],
      // Crashed with an exit code the store recorded, replacement not up yet.
      [3, [life(40, 1000, 'dead', { exit: { code: 1, signal: null } }), life(41, 4000, 'dead')]],
    ]),
  );
  assert.deepEqual(derived.restarts, [
    { slot: 0, reason: 'sigkill', restartType: 'unplanned', count: 1 },
    { slot: 0, reason: 'unknown', restartType: 'unplanned', count: 1 },
    { slot: 1, reason: 'clean_exit', restartType: 'planned', count: 1 },
    { slot: 3, reason: 'crash', restartType: 'unplanned', count: 1 },
  ]);
  assert.equal(derived.workers, 3);
  assert.deepEqual([...derived.states].sort(), [
    [0, 'running'],
    [1, 'running'],
    [2, 'running'],
  ]);
});

test('the same life listed twice is one life; a replacement started while the old one is still live is a planned restart', () => {
  const derived = deriveRestarts(new Map([[0, [life(1, 1000, 'live'), life(1, 1000, 'live'), life(2, 2000, 'live')]]]));
  assert.deepEqual(derived.restarts, [{ slot: 0, reason: 'unknown', restartType: 'planned', count: 1 }]);
  assert.equal(derived.workers, 1);
  assert.deepEqual(deriveRestarts(new Map()).restarts, []);
});
