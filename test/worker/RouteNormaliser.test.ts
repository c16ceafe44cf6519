import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { ID_PLACEHOLDER, OVERFLOW_ENDPOINT, RouteNormaliser, UNMATCHED_ENDPOINT, isIdLikeSegment, normalisePath } from '../../src/worker/RouteNormaliser';

test('framework route wins over the raw path', () => {
  const n = new RouteNormaliser({ maxEndpoints: 10 });
  assert.equal(n.endpointFor('/users/:id', '/users/42?x=1', 200), '/users/:id');
  // A matched route that answers 404 (resource not found) keeps its route.
  assert.equal(n.endpointFor('/users/:id', '/users/43', 404), '/users/:id');
});

test('query string and fragment are stripped', () => {
  const n = new RouteNormaliser({ maxEndpoints: 10 });
  assert.equal(n.endpointFor(undefined, '/search?q=cats&page=2', 200), '/search');
  assert.equal(n.endpointFor(undefined, '/docs#intro', 200), '/docs');
  assert.equal(n.endpointFor(undefined, '/?a=1', 200), '/');
});

test('id-like segments become :id', () => {
  const cases: [string, string][] = [
    ['/users/12345', '/users/:id'],
    [`/orders/${randomUUID()}/items/7`, '/orders/:id/items/:id'],
    ['/commits/9fceb02d0ae598e95dc970b74767f19372d61af8', '/commits/:id'],
    ['/blobs/deadbeef', '/blobs/:id'],
    ['/files/ZXhhbXBsZS10b2tlbg_A1', '/files/:id'],
    ['/reset/eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.abc123', '/reset/:id'],
    ['/people/jane.doe@example.com/profile', '/people/:id/profile'],
    ['/people/jane.doe%40example.com', '/people/:id'],
  ];
  for (const [raw, expected] of cases) assert.equal(normalisePath(raw), expected, raw);
});

test('resource names stay as they are', () => {
  for (const path of ['/api/v1/users', '/healthz', '/static/app.js', '/blog/my-long-article-slug-here', '/cafe', '/v2']) {
    assert.equal(normalisePath(path), path, path);
  }
  assert.equal(isIdLikeSegment('accounts'), false);
  assert.equal(isIdLikeSegment(''), false);
});

test('absolute-form and asterisk targets reduce to a path', () => {
  assert.equal(normalisePath('http://example.com/users/5?x'), '/users/:id');
  assert.equal(normalisePath('http://example.com'), '/');
  assert.equal(normalisePath('*'), '/');
});

test('404 without a framework route is one unmatched value', () => {
  const n = new RouteNormaliser({ maxEndpoints: 10 });
  assert.equal(n.endpointFor(undefined, '/wp-admin/setup.php', 404), UNMATCHED_ENDPOINT);
  assert.equal(n.endpointFor(undefined, '/.env', 404), UNMATCHED_ENDPOINT);
  assert.equal(n.endpointCount, 0);
});

test('beyond maxEndpoints new values fold into the overflow value, known ones stay', () => {
  const n = new RouteNormaliser({ maxEndpoints: 2 });
  assert.equal(n.endpointFor(undefined, '/a', 200), '/a');
  assert.equal(n.endpointFor('/b/:id', '/b/1', 200), '/b/:id');
  assert.equal(n.endpointFor(undefined, '/c', 200), OVERFLOW_ENDPOINT);
  assert.equal(n.endpointFor('/d', '/d', 200), OVERFLOW_ENDPOINT);
  assert.equal(n.endpointFor(undefined, '/a?again', 200), '/a');
  assert.equal(n.endpointFor('/b/:id', '/b/2', 500), '/b/:id');
});

test('a very long path is not a series of its own', () => {
  const n = new RouteNormaliser({ maxEndpoints: 10 });
  assert.equal(n.endpointFor(undefined, `/${'word/'.repeat(100)}`, 200), OVERFLOW_ENDPOINT);
});

test('a million random URLs grow neither the endpoint set nor the cache past their bounds', () => {
  const maxEndpoints = 50;
  const cacheSize = 1000;
  const n = new RouteNormaliser({ maxEndpoints, cacheSize });
  const seen = new Set<string>();
  // An endpoint known before the flood keeps its own series through it.
  assert.equal(n.endpointFor(undefined, '/users/1', 200), `/users/${ID_PLACEHOLDER}`);
  const words = ['api', 'users', 'orders', 'items', 'search', 'static', 'admin', 'x'];
  const pool = randomBytes(1_000_000 * 2);
  for (let i = 0; i < 1_000_000; i++) {
    const a = words[pool[i * 2]! % words.length];
    const b = pool[i * 2 + 1]! % 3;
    const url = b === 0 ? `/${a}/${i}?q=${i}` : b === 1 ? `/${a}/${i.toString(36)}x/${randomTokenish(i)}` : `/${a}-${i}`;
    seen.add(n.endpointFor(undefined, url, i % 17 === 0 ? 404 : 200));
    assert.ok(n.cachedPaths <= cacheSize);
  }
  assert.ok(n.endpointCount <= maxEndpoints, `endpointCount ${n.endpointCount}`);
  assert.ok(seen.size <= maxEndpoints + 2, `distinct endpoints ${seen.size}`);
  assert.ok(seen.has(OVERFLOW_ENDPOINT));
  assert.ok(seen.has(UNMATCHED_ENDPOINT));
  assert.ok(seen.has(`/users/${ID_PLACEHOLDER}`));
});

test('bad options are rejected with the option named', () => {
  assert.throws(() => new RouteNormaliser({ maxEndpoints: 0 }), /maxEndpoints/);
  assert.throws(() => new RouteNormaliser({ maxEndpoints: 5, cacheSize: 1.5 }), /cacheSize/);
});

function randomTokenish(i: number): string {
  return `${i}`.padStart(20, 'aB');
}
