/**
 * The examples start with one command and show what the README says they
 * show: the plain cluster app's merged series, and Express route templates
 * as the endpoint label.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { CATALOGUE, prometheusName } from '../../src/catalogue/MetricCatalogue';
import { ROOT, httpRequest, load, scrape, sleep, startApp, waitFor } from '../support/processes';

const REQUESTS = prometheusName(CATALOGUE.requests);
const FAILED = prometheusName(CATALOGUE.failedRequests);
const REQUEST_SIZE_SUM = `${CATALOGUE.requestSize.name}_sum`;

test('examples/express: routes become endpoint labels, bodies are measured, thrown errors count as failures', async () => {
  const app = await startApp(join(ROOT, 'examples', 'express', 'app.js'), { WORKERS: '2' });
  try {
    await load(app.appPort, '/orders/123', 5);
    await load(app.appPort, '/orders/abc-456', 5);
    const body = JSON.stringify({ items: [1, 2, 3] });
    const created = await httpRequest(app.appPort, '/orders', { method: 'POST', body, headers: { 'content-type': 'application/json' } });
    assert.equal(created.status, 201);
    const failed = await httpRequest(app.appPort, '/fail');
    assert.equal(failed.status, 500);
    await sleep(1100);
    const exposition = await scrape(app.metricsPort);
    assert.equal(exposition.sum(REQUESTS, { endpoint: '/orders/:orderId', method: 'GET', status: '200' }), 10);
    assert.equal(
      exposition.sum(REQUESTS, { endpoint: '/orders/', method: 'POST', status: '201' }) + exposition.sum(REQUESTS, { endpoint: '/orders', method: 'POST', status: '201' }),
      1,
    );
    assert.equal(exposition.sum(REQUEST_SIZE_SUM, { method: 'POST' }), Buffer.byteLength(body));
    // The thrown exception's class (issue 8); before, the category http_5xx.
    assert.equal(exposition.sum(FAILED, { endpoint: '/fail', error_type: 'Error' }), 1);
  } finally {
    await app.stop();
  }
});

test('examples/cluster: the merged view has one worker_id per worker', async () => {
  const app = await startApp(join(ROOT, 'examples', 'cluster', 'app.js'), { WORKERS: '2' });
  try {
    // On a loaded machine the second worker may start listening a little later: keep sending until it serves.
    const exposition = await waitFor(
      'both workers to have served',
      async () => {
        await load(app.appPort, '/users/1', 20);
        await sleep(1100);
        const scraped = await scrape(app.metricsPort);
        return new Set(scraped.find(REQUESTS).map((sample) => sample.labels.worker_id)).size >= 2 ? scraped : undefined;
      },
      30000,
    );
    const ids = new Set(exposition.find(REQUESTS).map((sample) => sample.labels.worker_id));
    assert.deepEqual([...ids].sort(), ['0', '1']);
    assert.equal(exposition.sum(CATALOGUE.workers.name), 2);
  } finally {
    await app.stop();
  }
});
