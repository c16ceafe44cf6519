import { test } from 'node:test';
import assert from 'node:assert/strict';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { ExpositionRenderer } from '../../src/exposition/ExpositionRenderer';
import type { RenderSource } from '../../src/exposition/ExpositionRenderer';
import { PrometheusTextSerializer } from '../../src/exposition/PrometheusTextSerializer';
import { foldSnapshot, mergeSnapshots } from '../../src/merge/SnapshotMerger';
import type { MergeOptions } from '../../src/merge/SnapshotMerger';
import type { StoredSnapshot } from '../../src/snapshot/Snapshot';
import { ACTIVE, BOUNDS, counter, DURATION, gauge, histogram, identity, observe, REQUESTS, snapshot } from '../merge/fixtures';

const OPTIONS: MergeOptions = { resource: resourceFromAttributes({ 'service.name': 'svc' }), labelInstance: false, nowMs: 50_000 };

/** A source whose snapshots the test changes between renders. */
function source(initial: StoredSnapshot[]): RenderSource & { stored: StoredSnapshot[] } {
  return { stored: initial, read: async function () { return this.stored; }, mergeOptions: () => OPTIONS };
}

function worker(slot: number, pid: number, writtenAtMs: number, requests: number, boundaries = BOUNDS): StoredSnapshot {
  const labels = { method: 'GET', endpoint: '/a', status: '200' };
  return {
    live: true,
    snapshot: snapshot(identity(slot, pid), writtenAtMs, [
      counter(REQUESTS, [[labels, requests]]),
      histogram(DURATION, [[labels, observe(boundaries, [0.2, 0.7])]], boundaries),
      gauge(ACTIVE, [[{}, slot + 1]]),
    ]),
  };
}

function primary(writtenAtMs: number): StoredSnapshot {
  return { live: true, snapshot: snapshot(identity(-1, 99, { role: 'primary' }), writtenAtMs, [gauge('primary_only', [[{}, writtenAtMs]])]) };
}

const wholeView = (stored: readonly StoredSnapshot[]): string => new PrometheusTextSerializer().serialize(mergeSnapshots(stored, OPTIONS));
const sortedLines = (text: string): string[] => text.split('\n').filter((line) => line !== '').sort();

test('the parts together hold exactly the lines of the whole-view rendering', async () => {
  const dead = worker(0, 1, 2_000, 5);
  const retired = { live: false, snapshot: foldSnapshot(undefined, { ...dead.snapshot, identity: { ...dead.snapshot.identity, pid: 2 } }) };
  const stored = [retired, worker(0, 1, 3_000, 7), worker(1, 3, 3_000, 11), worker(2, 4, 3_000, 13), primary(3_000)];
  const text = Buffer.concat(await new ExpositionRenderer(source(stored)).render()).toString();
  assert.deepEqual(sortedLines(text), sortedLines(wholeView(stored)));
  assert.equal(text.split(`# TYPE ${REQUESTS}_total counter`).length, 2, 'one header per family');
});

test('a slot whose snapshots did not change is not rendered again: its buffers are the same objects', async () => {
  const src = source([worker(0, 1, 3_000, 7), worker(1, 3, 3_000, 11), primary(3_000)]);
  const renderer = new ExpositionRenderer(src);
  const first = await renderer.render();
  src.stored = [worker(0, 1, 3_000, 7), worker(1, 3, 3_500, 12), primary(3_500)];
  const second = await renderer.render();
  const reused = second.filter((part) => first.includes(part));
  const slot0 = Buffer.concat(reused).toString();
  assert.match(slot0, /worker_id="0"/);
  assert.doesNotMatch(slot0, /worker_id="1"/);
  assert.deepEqual(sortedLines(Buffer.concat(second).toString()), sortedLines(wholeView(src.stored)));
});

test('slots that disagree on histogram boundaries are rendered as the whole view (re-bucketed), not side by side', async () => {
  const stored = [worker(0, 1, 3_000, 7), { ...worker(1, 3, 3_000, 11, [0.25, 1]), snapshot: { ...worker(1, 3, 3_000, 11, [0.25, 1]).snapshot, identity: identity(1, 3, { startTimeMs: 9_000 }) } }];
  const text = Buffer.concat(await new ExpositionRenderer(source(stored)).render()).toString();
  assert.equal(text, wholeView(stored));
});

test('an empty view renders as the reference serializer answers it', async () => {
  assert.equal(Buffer.concat(await new ExpositionRenderer(source([])).render()).toString(), wholeView([]));
});
