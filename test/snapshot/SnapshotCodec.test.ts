import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeSnapshot, encodeSnapshot, SnapshotEncoder, SnapshotFormatError } from '../../src/snapshot/SnapshotCodec';
import type { Snapshot } from '../../src/snapshot/Snapshot';
import { ACTIVE, counter, DURATION, gauge, histogram, identity, MEMORY, observe, REQUESTS, snapshot } from '../merge/fixtures';

const GET = { method: 'GET', endpoint: '/users/:id', status: '200' };
const POST = { method: 'POST', endpoint: '/users', status: '201' };

function sample(): Snapshot {
  return snapshot(identity(3, 4242), 1_700_000_000_123, [
    counter(REQUESTS, [
      [GET, 12],
      [POST, 3],
    ]),
    histogram(
      DURATION,
      [
        [GET, observe([0.1, 0.5, 1], [0.05, 0.2, 2])],
        [POST, observe([0.1, 0.5, 1], [])],
      ],
      [0.1, 0.5, 1],
    ),
    gauge(MEMORY, [[{}, 52_428_800]]),
    gauge(ACTIVE, [[{}, -1]], 'updowncounter'),
  ]);
}

test('a snapshot survives encode and decode unchanged', () => {
  const original = sample();
  assert.deepEqual(decodeSnapshot(encodeSnapshot(original), 'mem'), original);
});

test('retired snapshots keep their folded process keys', () => {
  const retired = snapshot(identity(0, 0, { role: 'retired', startTimeMs: 0 }), 5, [counter(REQUESTS, [[GET, 1]])], ['a|b|0|1|2']);
  assert.deepEqual(decodeSnapshot(encodeSnapshot(retired), 'mem'), retired);
});

test("a worker's exit and the exits its slot's folds recorded round-trip, through both encoders; a bad signal is named", () => {
  const exited: Snapshot = { ...sample(), exit: { code: null, signal: 'SIGTERM' } };
  assert.deepEqual(decodeSnapshot(encodeSnapshot(exited), 'mem'), exited);
  assert.deepEqual(decodeSnapshot(new SnapshotEncoder().encode(exited), 'mem'), exited);
  const retired: Snapshot = {
    ...snapshot(identity(0, 0, { role: 'retired', startTimeMs: 0 }), 5, [], ['a|b|0|1|2', 'a|b|0|3|4']),
    ends: [
      { key: 'a|b|0|1|2', how: 'expired', atMs: 7 },
      { key: 'a|b|0|3|4', how: 'expired', atMs: 9, exit: { code: 1, signal: null } },
    ],
  };
  assert.deepEqual(decodeSnapshot(encodeSnapshot(retired), 'mem'), retired);
  const bad = encodeSnapshot(exited).replace('"SIGTERM"', '"rm -rf /"');
  assert.throws(
    () => decodeSnapshot(bad, 'mem'),
    (error: unknown) => error instanceof SnapshotFormatError && /exit\[1\].*signal name/.test(error.message),
  );
});

test('non-finite gauge values round-trip although JSON has no literal for them', () => {
  const original = snapshot(identity(0, 1), 1, [
    gauge('g', [
      [{ a: '1' }, NaN],
      [{ a: '2' }, Infinity],
      [{ a: '3' }, -Infinity],
    ]),
  ]);
  const decoded = decodeSnapshot(encodeSnapshot(original), 'mem');
  const values = decoded.metrics[0]?.points.map((p) => p.value);
  assert.deepEqual(values, [NaN, Infinity, -Infinity]);
});

test('each label set and descriptor is written once, however many metrics use it', () => {
  const text = encodeSnapshot(sample());
  assert.equal(text.split('/users/:id').length - 1, 1, 'label set shared by the counter and the histogram');
  assert.equal(text.split(`"${REQUESTS}"`).length - 1, 1);
});

test('decoded points of different metrics share one attributes object per label set', () => {
  const decoded = decodeSnapshot(encodeSnapshot(sample()), 'mem');
  assert.equal(decoded.metrics[0]?.points[0]?.attributes, decoded.metrics[1]?.points[0]?.attributes);
});

test('every truncation of a snapshot is rejected with SnapshotFormatError naming the source', () => {
  const text = encodeSnapshot(sample());
  for (let length = 0; length < text.length; length += 7) {
    assert.throws(
      () => decodeSnapshot(text.slice(0, length), '/dir/ocx-worker-3-4242-5243.json'),
      (error: unknown) => error instanceof SnapshotFormatError && error.message.startsWith('/dir/ocx-worker-3-4242-5243.json: '),
      `prefix of ${length} characters`,
    );
  }
});

function rejects(document: unknown, expected: RegExp): void {
  assert.throws(
    () => decodeSnapshot(JSON.stringify(document), 'src'),
    (error: unknown) => {
      assert.ok(error instanceof SnapshotFormatError, `expected SnapshotFormatError, got ${String(error)}`);
      assert.match(error.message, expected);
      return true;
    },
  );
}

function encodedSample(): Record<string, unknown> {
  return JSON.parse(encodeSnapshot(sample())) as Record<string, unknown>;
}

test('foreign JSON and other format versions are rejected with what was expected', () => {
  rejects({ hello: 'world' }, /^src: v: expected format version 1, got nothing/);
  rejects([1, 2, 3], /^src: expected a snapshot object, got a list/);
  rejects({ ...encodedSample(), v: 2 }, /v: expected format version 1, got 2/);
});

test('a histogram point whose bucket counts do not match the boundaries is rejected', () => {
  const document = encodedSample();
  const metrics = document['metrics'] as { points: unknown[][] }[];
  const point = metrics[1]?.points[0] as unknown[];
  point[4] = [1, 2, 3];
  rejects(document, /metrics\[1\]\.points\[0\]\[4\]: expected 4 bucket counts \(boundaries \+ 1\), got 3/);
});

test('malformed identities, kinds, labels and references are each named', () => {
  const badRole = encodedSample();
  (badRole['identity'] as Record<string, unknown>)['role'] = 'boss';
  rejects(badRole, /identity\.role: expected one of worker, primary, retired, got "boss"/);

  const badKind = encodedSample();
  (badKind['metrics'] as Record<string, unknown>[])[0]!['kind'] = 'summary';
  rejects(badKind, /metrics\[0\]\.kind: expected counter, updowncounter, gauge or histogram, got "summary"/);

  const badLabel = encodedSample();
  (badLabel['attributes'] as Record<string, unknown>[])[0]!['status'] = 200;
  rejects(badLabel, /attributes\[0\]\.status: expected a string label value, got 200/);

  const badRef = encodedSample();
  ((badRef['metrics'] as { points: unknown[][] }[])[0]!.points[0] as unknown[])[0] = 99;
  rejects(badRef, /metrics\[0\]\.points\[0\]\[0\]: expected an index into attributes/);

  const unsorted = encodedSample();
  (unsorted['metrics'] as Record<string, unknown>[])[1]!['boundaries'] = [1, 0.5, 0.1];
  rejects(unsorted, /metrics\[1\]\.boundaries\[1\]: expected strictly increasing/);
});

test('random corruption either decodes or throws SnapshotFormatError, never anything else', () => {
  const replacements: unknown[] = [null, 'x', -1, 1.5, [], {}, true, '+Inf'];
  let seed = 7;
  const random = (n: number): number => {
    seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648;
    return seed % n;
  };
  const text = encodeSnapshot(sample());
  for (let round = 0; round < 500; round++) {
    const document = JSON.parse(text) as unknown;
    corruptOne(document, () => replacements[random(replacements.length)], random);
    try {
      decodeSnapshot(JSON.stringify(document), 'fuzz');
    } catch (error) {
      assert.ok(error instanceof SnapshotFormatError, `round ${round}: ${String(error)}`);
    }
  }
});

/** Replace one randomly chosen value somewhere in the tree. */
function corruptOne(node: unknown, replacement: () => unknown, random: (n: number) => number): void {
  let current = node as Record<string, unknown>;
  for (;;) {
    const keys = Object.keys(current);
    if (keys.length === 0) return;
    const key = keys[random(keys.length)] as string;
    const child = current[key];
    if (child !== null && typeof child === 'object' && random(3) !== 0) {
      current = child as Record<string, unknown>;
      continue;
    }
    current[key] = replacement();
    return;
  }
}

test('exemplars round-trip beside the points; a reader that predates them still decodes the snapshot', () => {
  const exemplars = [
    { bucket: 0, value: 0.05, timeMs: 1_700_000_000_001, traceId: 'a'.repeat(32), spanId: 'b'.repeat(16) },
    { bucket: 3, value: 2, timeMs: 1_700_000_000_002, traceId: 'c'.repeat(32), spanId: 'd'.repeat(16) },
  ];
  const value = { ...observe([0.1, 0.5, 1], [0.05, 0.2, 2]), exemplars };
  const original = snapshot(identity(1, 7), 5, [
    histogram(
      DURATION,
      [
        [POST, observe([0.1, 0.5, 1], [0.3])],
        [GET, value],
      ],
      [0.1, 0.5, 1],
    ),
  ]);
  const text = encodeSnapshot(original);
  assert.deepEqual(decodeSnapshot(text, 'mem'), original);
  // What an older decoder sees: the points unchanged, the exemplars in a key of their own.
  const document = JSON.parse(text) as { metrics: { points: unknown[][]; exemplars: unknown[][] }[] };
  assert.ok(document.metrics[0]!.points.every((point) => point.length === 7));
  assert.deepEqual(
    document.metrics[0]!.exemplars.map((e) => e.slice(0, 2)),
    [
      [1, 0],
      [1, 3],
    ],
  );
});

test('malformed exemplars are rejected naming the entry', () => {
  const good = encodeSnapshot(
    snapshot(identity(1, 7), 5, [
      histogram(DURATION, [[GET, { ...observe([0.1], [0.05]), exemplars: [{ bucket: 0, value: 0.05, timeMs: 1, traceId: 'a'.repeat(32), spanId: 'b'.repeat(16) }] }]], [0.1]),
    ]),
  );
  const broken = (mutate: (entry: unknown[]) => void): string => {
    const document = JSON.parse(good) as { metrics: { exemplars: unknown[][] }[] };
    mutate(document.metrics[0]!.exemplars[0]!);
    return JSON.stringify(document);
  };
  const cases: [(entry: unknown[]) => void, RegExp][] = [
    [(e) => (e[0] = 5), /metrics\[0\]\.exemplars\[0\]\[0\].*point index below 1/],
    [(e) => (e[1] = 2), /exemplars\[0\]\[1\].*bucket index below 2/],
    [(e) => (e[4] = 'not-hex'), /exemplars\[0\]\[4\].*32 hex digits/],
    [(e) => (e[5] = 'B'.repeat(16)), /exemplars\[0\]\[5\].*16 hex digits/],
    [(e) => e.pop(), /exemplars\[0\].*expected \[pointIndex/],
  ];
  for (const [mutate, message] of cases)
    assert.throws(
      () => decodeSnapshot(broken(mutate), 'mem'),
      (error: unknown) => error instanceof SnapshotFormatError && message.test(error.message),
    );
});

test('a reusing encoder writes text that decodes to each snapshot exactly, as its metrics change, grow and shrink', () => {
  const encoder = new SnapshotEncoder();
  const id = identity(0, 41);
  const requests = (n: number, sets: number): ReturnType<typeof counter> =>
    counter(
      REQUESTS,
      Array.from({ length: sets }, (_, i) => [{ method: 'GET', endpoint: `/e${i}` }, n + i] as [Record<string, string>, number]),
    );
  const memory = (bytes: number): ReturnType<typeof gauge> => gauge(MEMORY, [[{}, bytes]]);
  const steps: Snapshot[] = [
    snapshot(id, 1, [requests(1, 3), memory(10)]),
    snapshot(id, 2, [requests(1, 3), memory(11)]), // only the gauge moved: the counter's text is reused
    snapshot(id, 3, [requests(2, 5), memory(11)]), // new label sets
    snapshot(id, 4, [memory(12)]), // a metric gone
    snapshot(id, 5, [requests(2, 5), memory(12)]),
  ];
  for (const step of steps) {
    const text = encoder.encode(step);
    assert.deepEqual(decodeSnapshot(text, 'encoder'), step);
    assert.deepEqual(decodeSnapshot(encodeSnapshot(step), 'plain'), step);
  }
});

test("a decode given the entry's previous decode reuses its label-set objects only where the label set is the same", () => {
  const DELETE = { method: 'DELETE', endpoint: '/users/:id', status: '204' };
  const first = decodeSnapshot(encodeSnapshot(sample()), 'mem');
  const changed = snapshot(identity(3, 4242), 1_700_000_000_456, [
    counter(REQUESTS, [
      [GET, 13],
      [DELETE, 1],
      [{ ...POST, extra: 'x' }, 1],
    ]),
  ]);
  const second = decodeSnapshot(encodeSnapshot(changed), 'mem', first);
  assert.deepEqual(second, changed, 'the decoded values are the new ones');
  const firstPoints = first.metrics[0]?.points ?? [];
  const secondPoints = second.metrics[0]?.points ?? [];
  assert.equal(secondPoints[0]?.attributes, firstPoints[0]?.attributes, 'an unchanged label set is the same object');
  assert.notEqual(secondPoints[1]?.attributes, firstPoints[1]?.attributes, 'another label set in the same place is not');
  assert.deepEqual(secondPoints[2]?.attributes, { ...POST, extra: 'x' }, 'a label set with one more name is not taken for the old one');
  // A hostile or foreign previous decode (unrelated snapshot) only ever lends an equal label set.
  const unrelated = decodeSnapshot(encodeSnapshot(snapshot(identity(1, 1), 1, [counter(REQUESTS, [[{ a: 'b' }, 1]])])), 'mem');
  assert.deepEqual(decodeSnapshot(encodeSnapshot(changed), 'mem', unrelated), changed);
});
