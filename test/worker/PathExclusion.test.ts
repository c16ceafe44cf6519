import { test, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { CATALOGUE, DEFAULT_DURATION_BUCKETS, DEFAULT_SIZE_BUCKETS } from '../../src/catalogue/MetricCatalogue';
import { HttpInstrumentation } from '../../src/worker/HttpInstrumentation';
import { HttpMetricProducer } from '../../src/worker/HttpMetricProducer';
import { PathExclusion } from '../../src/worker/PathExclusion';
import { RequestAccumulator } from '../../src/worker/RequestAccumulator';
import { RouteNormaliser } from '../../src/worker/RouteNormaliser';
import { close, collect, listen, request, sumOf } from './support';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()!();
});

test('exact paths and globs, matched on the path without the query string', () => {
  const exclusion = new PathExclusion(['/health', '/ready*', '/internal/**', '/v1/*/status']);
  for (const path of ['/health', '/health?verbose=1', '/ready', '/readyz', '/internal/a', '/internal/a/b/c', '/v1/x/status', '/health#top']) {
    assert.equal(exclusion.matches(path), true, path);
  }
  for (const path of ['/healthz', '/health/deep', '/api/health', '/ready/x', '/internal', '/v1/x/y/status', '/', '/v1/x/status.json']) {
    assert.equal(exclusion.matches(path), false, path);
  }
  assert.equal(new PathExclusion([]).isEmpty, true);
  assert.equal(exclusion.isEmpty, false);
  // Regular-expression characters in a pattern are literal.
  assert.equal(new PathExclusion(['/a.b']).matches('/aXb'), false);
  assert.throws(() => new PathExclusion(['health']), /"health" must start with "\/"/);
});

test('excluded requests are served as usual and counted nowhere: no series, no failure, no active request', async () => {
  const accumulator = new RequestAccumulator({ durationBuckets: DEFAULT_DURATION_BUCKETS, sizeBuckets: DEFAULT_SIZE_BUCKETS });
  const instrumentation = new HttpInstrumentation({
    accumulator,
    normaliser: new RouteNormaliser({ maxEndpoints: 100 }),
    exclusion: new PathExclusion(['/health*', '/internal/**']),
  });
  instrumentation.enable();
  const stack = { instrumentation, producer: new HttpMetricProducer(instrumentation) };
  const server = http.createServer((req, res) => {
    res.statusCode = req.url?.startsWith('/internal') ? 500 : 200;
    res.end('ok');
  });
  const port = await listen(server);
  cleanups.push(
    () => instrumentation.disable(),
    () => close(server),
  );
  for (const path of ['/health', '/healthz?probe=1', '/internal/jobs/run', '/orders', '/orders']) {
    assert.equal((await request(port, { path })).body.toString(), 'ok');
  }
  const m = await collect(stack);
  assert.equal(sumOf(m, CATALOGUE.requests.name), 2);
  assert.equal(sumOf(m, CATALOGUE.requests.name, { endpoint: '/orders', status: '200' }), 2);
  assert.equal(sumOf(m, CATALOGUE.failedRequests.name), 0);
  assert.equal(sumOf(m, CATALOGUE.activeRequests.name), 0);
});
