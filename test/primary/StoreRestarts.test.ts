import { test } from 'node:test';
import assert from 'node:assert/strict';
import { StoreRestarts } from '../../src/primary/StoreRestarts';
import type { LifeEnd, ProcessExit, Snapshot, StoredSnapshot } from '../../src/snapshot/Snapshot';
import { processKey } from '../../src/snapshot/Snapshot';
import { counter, identity, snapshot } from '../merge/fixtures';

const worker = (slot: number, pid: number, live: boolean, exit?: ProcessExit): StoredSnapshot => {
  const written = snapshot(identity(slot, pid), 10, [counter('gunicorn_worker_requests', [[{}, 1]])]);
  return { snapshot: exit === undefined ? written : { ...written, exit }, live };
};
const retired = (slot: number, ends: LifeEnd[]): StoredSnapshot => ({
  snapshot: {
    ...snapshot(
      identity(slot, 0, { role: 'retired', startTimeMs: 0 }),
      10,
      [],
      ends.map((end) => end.key),
    ),
    ends,
  },
  live: false,
});
const end = (slot: number, pid: number, how: LifeEnd['how'], exit?: ProcessExit): LifeEnd => ({
  key: processKey(identity(slot, pid)),
  how,
  atMs: 20,
  ...(exit !== undefined ? { exit } : {}),
});

/** The derived series of one read, as `name{labels} value` lines. */
function series(derived: StoredSnapshot[]): string[] {
  return derived
    .flatMap(({ snapshot: s }: { snapshot: Snapshot }) => s.metrics.flatMap((m) => m.points.map((p) => `${m.name}${JSON.stringify(p.attributes)} ${String(p.value)}`)))
    .sort();
}
const restarts = (derived: StoredSnapshot[]) => series(derived).filter((line) => line.startsWith('gunicorn_worker_restart{'));

test('no primary: a second life in a slot is one restart, reason from the exit the dead life wrote, workers from live leases', () => {
  const view = [worker(0, 10, true), worker(1, 20, false, { code: null, signal: 'SIGTERM' }), worker(1, 21, true), worker(2, 30, false)];
  const derived = new StoreRestarts().derive(view, 100);
  assert.deepEqual(restarts(derived), ['gunicorn_worker_restart{"worker_id":"1","reason":"sigterm"} 1']);
  const lines = series(derived);
  assert.ok(lines.includes('gunicorn_workers{} 2'), lines.join('\n'));
  assert.ok(lines.includes('gunicorn_worker_state{"worker_id":"1","state":"running"} 1'));
  assert.ok(lines.includes('gunicorn_worker_state{"worker_id":"1","state":"starting"} 0'));
  assert.ok(!lines.some((line) => line.includes('"worker_id":"2"')), 'a slot without a live life has no state');
});

test('an instance with a primary is never derived: the primary counts its own restarts', () => {
  const view = [{ snapshot: snapshot(identity(-1, 5), 10, []), live: true }, worker(0, 10, false), worker(0, 11, true)];
  assert.deepEqual(new StoreRestarts().derive(view, 100), []);
});

test('kill -9 then the fold: counted once as unknown when the old lease has run out, not again once it is folded, never lower when ends forget it', () => {
  const reader = new StoreRestarts();
  // The killed life still holds its lease when its replacement appears: nothing tells it from a reload yet.
  assert.deepEqual(restarts(reader.derive([worker(0, 10, true), worker(0, 11, true)], 100)), []);
  // Its lease ran out: dead without an exit, so `unknown`.
  assert.deepEqual(restarts(reader.derive([worker(0, 10, false), worker(0, 11, true)], 150)), ['gunicorn_worker_restart{"worker_id":"0","reason":"unknown"} 1']);
  // The reaper folded it.
  assert.deepEqual(restarts(reader.derive([retired(0, [end(0, 10, 'expired')]), worker(0, 11, true)], 200)), ['gunicorn_worker_restart{"worker_id":"0","reason":"unknown"} 1']);
  // A later life exits with a crash; then the bounded ends list has forgotten the first life.
  const crashed = [retired(0, [end(0, 10, 'expired'), end(0, 11, 'expired', { code: 1, signal: null })]), worker(0, 12, true)];
  assert.deepEqual(restarts(reader.derive(crashed, 300)), [
    'gunicorn_worker_restart{"worker_id":"0","reason":"crash"} 1',
    'gunicorn_worker_restart{"worker_id":"0","reason":"unknown"} 1',
  ]);
  const forgotten = [retired(0, [end(0, 11, 'expired', { code: 1, signal: null })]), worker(0, 12, true)];
  assert.deepEqual(restarts(reader.derive(forgotten, 400)), [
    'gunicorn_worker_restart{"worker_id":"0","reason":"crash"} 1',
    'gunicorn_worker_restart{"worker_id":"0","reason":"unknown"} 1',
  ]);
});

test('a reader that starts late counts the restarts the folds recorded; a removed life and a lost life going on under its pid are none', () => {
  const view = [
    retired(0, [end(0, 10, 'expired', { code: null, signal: 'SIGINT' }), end(0, 11, 'removed'), end(0, 12, 'lost')]),
    // Pid 12 went on as a new life after the store lost it: same process, not a restart.
    { snapshot: snapshot(identity(0, 12, { startTimeMs: 5_000 }), 10, []), live: true },
  ];
  assert.deepEqual(restarts(new StoreRestarts().derive(view, 100)), ['gunicorn_worker_restart{"worker_id":"0","reason":"sigint"} 1']);
});

test('pm2 reload: the replacement starts while the old life holds its lease; the restart is counted once the old life exits, with its exit (SIGINT)', () => {
  const reader = new StoreRestarts();
  const overlapping = reader.derive([worker(0, 10, true), worker(0, 11, true), worker(1, 20, true)], 100);
  assert.deepEqual(restarts(overlapping), []);
  assert.ok(series(overlapping).includes('gunicorn_workers{} 2'), 'the old and the new life of a slot are one worker');
  const stopped = reader.derive([worker(0, 10, false, { code: null, signal: 'SIGINT' }), worker(0, 11, true), worker(1, 20, true)], 200);
  assert.deepEqual(restarts(stopped), ['gunicorn_worker_restart{"worker_id":"0","reason":"sigint"} 1']);
  assert.ok(series(stopped).includes('gunicorn_workers{} 2'));
  // Folded afterwards: still one, same reason.
  const folded = reader.derive([retired(0, [end(0, 10, 'expired', { code: null, signal: 'SIGINT' })]), worker(0, 11, true), worker(1, 20, true)], 300);
  assert.deepEqual(restarts(folded), ['gunicorn_worker_restart{"worker_id":"0","reason":"sigint"} 1']);
});
