import { test } from 'node:test';
import assert from 'node:assert/strict';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { ExpositionRenderer } from '../../src/exposition/ExpositionRenderer';
import type { RenderSource } from '../../src/exposition/ExpositionRenderer';
import { PrometheusTextSerializer } from '../../src/exposition/PrometheusTextSerializer';
import { foldSnapshot, mergeSnapshots } from '../../src/merge/SnapshotMerger';
import type { MergeOptions } from '../../src/merge/SnapshotMerger';
import type { HistogramValue, StoredSnapshot } from '../../src/snapshot/Snapshot';
import { ACTIVE, BOUNDS, counter, DURATION, gauge, histogram, identity, observe, REQUESTS, snapshot } from '../merge/fixtures';

const OPTIONS: MergeOptions = { resource: resourceFromAttributes({ 'service.name': 'svc' }), labelInstance: false, nowMs: 50_000 };

/** A source whose snapshots the test changes between renders. */
function source(initial: StoredSnapshot[]): RenderSource & { stored: StoredSnapshot[] } {
  return {
    stored: initial,
    read: async function () {
      return this.stored;
    },
    mergeOptions: () => OPTIONS,
  };
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
const sortedLines = (text: string): string[] =>
  text
    .split('\n')
    .filter((line) => line !== '')
    .sort();

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
  const reused = Buffer.concat(second.filter((part) => first.includes(part))).toString();
  const fresh = Buffer.concat(second.filter((part) => !first.includes(part))).toString();
  for (const line of sortedLines(Buffer.concat(first).toString()).filter((line) => line.includes('worker_id="0"'))) assert.ok(reused.includes(line), `slot 0 reused: ${line}`);
  assert.doesNotMatch(fresh, /worker_id="0"/);
  // Slot 1's counter changed: its family is rendered again (only its unchanged families may be reused).
  assert.match(fresh, new RegExp(`${REQUESTS}_total\\{[^}]*worker_id="1"\\} 12\n`));
  assert.doesNotMatch(reused, new RegExp(`${REQUESTS}_total\\{[^}]*worker_id="1"`));
  assert.deepEqual(sortedLines(Buffer.concat(second).toString()), sortedLines(wholeView(src.stored)));
});

test('in a slot that changed, only its changed series are rendered again: a family without a change keeps its buffer', async () => {
  const labels = (endpoint: string): { method: string; endpoint: string; status: string } => ({ method: 'GET', endpoint, status: '200' });
  const slot = (writtenAtMs: number, endpoints: readonly string[], requests: (endpoint: string) => number): StoredSnapshot => ({
    live: true,
    snapshot: snapshot(identity(0, 1), writtenAtMs, [
      counter(
        REQUESTS,
        endpoints.map((endpoint) => [labels(endpoint), requests(endpoint)]),
      ),
      histogram(
        DURATION,
        endpoints.map((endpoint) => [labels(endpoint), observe(BOUNDS, [0.2, 0.7])]),
        BOUNDS,
      ),
    ]),
  });
  const src = source([slot(1_000, ['/a', '/c', '/e'], () => 1)]);
  const renderer = new ExpositionRenderer(src);
  const renders = [await renderer.render()];
  const check = async (stored: StoredSnapshot[]): Promise<Buffer[]> => {
    src.stored = stored;
    const parts = await renderer.render();
    // One slot renders exactly as the whole view; several, up to the order of series within a family.
    if (stored.length === 1) assert.equal(Buffer.concat(parts).toString(), wholeView(stored));
    else assert.deepEqual(sortedLines(Buffer.concat(parts).toString()), sortedLines(wholeView(stored)));
    renders.push(parts);
    return parts;
  };
  // One counter series changes: the histogram family's buffer is the same object.
  const second = await check([slot(2_000, ['/a', '/c', '/e'], (endpoint) => (endpoint === '/c' ? 2 : 1))]);
  const histogramPart = (parts: readonly Buffer[]): Buffer | undefined => parts.find((part) => part.toString().startsWith(`${DURATION}_count`));
  assert.ok(histogramPart(renders[0] ?? []) !== undefined && histogramPart(second) === histogramPart(renders[0] ?? []));
  // Series appear between and after known ones, and go: the output is still the whole-view rendering.
  await check([slot(3_000, ['/a', '/b', '/c', '/d', '/e', '/f'], (endpoint) => (endpoint === '/d' ? 5 : 2))]);
  await check([slot(4_000, ['/b', '/d', '/f'], () => 2)]);
  await check([slot(5_000, ['/b', '/d', '/f'], () => 3), worker(1, 3, 5_000, 4)]);
});

test('slots that disagree on histogram boundaries are rendered as the whole view (re-bucketed), not side by side', async () => {
  const stored = [
    worker(0, 1, 3_000, 7),
    { ...worker(1, 3, 3_000, 11, [0.25, 1]), snapshot: { ...worker(1, 3, 3_000, 11, [0.25, 1]).snapshot, identity: identity(1, 3, { startTimeMs: 9_000 }) } },
  ];
  const text = Buffer.concat(await new ExpositionRenderer(source(stored)).render()).toString();
  assert.equal(text, wholeView(stored));
});

test('an empty view renders as the reference serializer answers it', async () => {
  assert.equal(Buffer.concat(await new ExpositionRenderer(source([])).render()).toString(), wholeView([]));
});

test('series rendered as bytes read exactly as the text serializer writes them: awkward numbers, escaped and non-ASCII labels', async () => {
  const awkward = [
    0,
    -0,
    7,
    -7,
    2 ** 53 - 1,
    -(2 ** 53 - 1),
    2 ** 53,
    2 ** 53 + 2,
    1e21,
    123456789012345680000,
    0.1,
    -2.5e-7,
    1e-7,
    NaN,
    Infinity,
    -Infinity,
    9.999999999999999e22,
  ];
  const labelSets = [{}, { path: 'caf\u00e9 \u{1f600}' }, { path: 'a"b\\c\nd' }, { 'odd.key-name': 'x' }];
  const points: [Record<string, string>, number][] = awkward.map((value, i) => [{ ...(labelSets[i % labelSets.length] as Record<string, string>), n: String(i) }, value]);
  points.push([{}, 3]);
  const hist: [Record<string, string>, HistogramValue][] = [{}, { path: 'caf\u00e9' }].map((labels, i) => [labels, observe(BOUNDS, [0.2, 0.7, 1e9 + i])]);
  const stored = (value: number): StoredSnapshot[] => [
    {
      live: true,
      snapshot: snapshot(identity(0, 1), 3_000 + value, [
        gauge(
          ACTIVE,
          points.map(([labels, v]) => [labels, v + value] as [Record<string, string>, number]),
        ),
        counter(REQUESTS, [[{ path: '\u00fcber' }, 2 ** 40 + value]]),
        histogram(DURATION, hist, BOUNDS),
      ]),
    },
  ];
  const src = source(stored(0));
  const renderer = new ExpositionRenderer(src);
  for (const value of [0, 1, 0.5]) {
    src.stored = stored(value);
    const text = Buffer.concat(await renderer.render()).toString();
    assert.deepEqual(sortedLines(text), sortedLines(wholeView(src.stored)));
  }
});
