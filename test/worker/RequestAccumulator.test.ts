import { test } from 'node:test';
import assert from 'node:assert/strict';
import { OVERFLOW_SERIES, RequestAccumulator } from '../../src/worker/RequestAccumulator';
import { methodLabeller, OTHER_METHOD, STANDARD_HTTP_METHODS } from '../../src/worker/methodLabel';

test('past its series budget every new combination is counted in the one overflow series', () => {
  const accumulator = new RequestAccumulator({ durationBuckets: [0.1, 1], sizeBuckets: [10], maxSeries: 3 });
  for (let i = 0; i < 50; i++) accumulator.recordRequest(i % 2 === 0 ? 'GET' : 'POST', `/p${i}`, 200 + (i % 7), 0.01, 0, 5);
  accumulator.recordRequest('GET', '/p0', 200, 0.01, 0, 5); // an existing series keeps counting by name
  const series = [...accumulator.requestSeries()];
  assert.equal(series.length, 4);
  const overflow = series.find((s) => s.endpoint === OVERFLOW_SERIES.endpoint);
  assert.deepEqual([overflow?.method, overflow?.status, overflow?.count], [OVERFLOW_SERIES.method, OVERFLOW_SERIES.status, 47]);
  assert.equal(series.find((s) => s.endpoint === '/p0')?.count, 2);
  assert.equal(series.reduce((total, s) => total + s.count, 0), 51);
});

test('the method label keeps the configured methods and folds the rest into _OTHER', () => {
  const label = methodLabeller(STANDARD_HTTP_METHODS);
  assert.deepEqual(['GET', 'PATCH', 'PROPFIND', 'M-SEARCH', 'get'].map(label), ['GET', 'PATCH', OTHER_METHOD, OTHER_METHOD, OTHER_METHOD]);
  assert.equal(methodLabeller(['PROPFIND'])('PROPFIND'), 'PROPFIND');
});
