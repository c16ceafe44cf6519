/**
 * End to end with the embedded (file) store: a real cluster app writes its
 * snapshots to PROMETHEUS_MULTIPROC_DIR and `otel-cluster-exporter serve`,
 * pointed at the same directory, serves them on another port, as a sidecar
 * next to PM2 would. Both endpoints must show the same totals.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { CATALOGUE, LABEL, prometheusName } from '../../src/catalogue/MetricCatalogue';
import { load, scrape, sleep, startApp, waitFor } from '../support/processes';
import type { Exposition, RunningApp } from '../support/processes';
import { startServe } from '../support/serveProcess';
import type { RunningServe } from '../support/serveProcess';

const REQUESTS = prometheusName(CATALOGUE.requests);
const DURATION_COUNT = `${CATALOGUE.requestDuration.name}_count`;
const VISIBILITY_MS = 1100;

let app: RunningApp;
let serve: RunningServe;

before(async () => {
  app = await startApp('cluster-app.js', { APP_WORKERS: '2' });
  serve = await startServe({ PROMETHEUS_MULTIPROC_DIR: app.storeDir });
});

after(async () => {
  await serve?.stop();
  await app?.stop();
});

/** Worker-recorded totals that both endpoints must agree on. */
function totals(view: Exposition): { requests: number; slot0: number; slot1: number; users: number; errors: number; durations: number } {
  return {
    requests: view.sum(REQUESTS),
    slot0: view.sum(REQUESTS, { [LABEL.workerId]: '0' }),
    slot1: view.sum(REQUESTS, { [LABEL.workerId]: '1' }),
    users: view.sum(REQUESTS, { endpoint: '/users/:id' }),
    errors: view.sum(REQUESTS, { status: '500' }),
    durations: view.sum(DURATION_COUNT),
  };
}

test('serve on the same directory shows the same totals as the primary', async () => {
  await Promise.all([load(app.appPort, '/', 40), load(app.appPort, '/users/7', 20), load(app.appPort, '/boom', 5)]);
  await sleep(VISIBILITY_MS);
  const [fromPrimary, fromServe] = await Promise.all([scrape(app.metricsPort), scrape(serve.port)]);
  assert.deepEqual(totals(fromServe), totals(fromPrimary));
  assert.ok(totals(fromServe).requests >= 65);
  assert.equal(totals(fromServe).users, 20);
  assert.equal(totals(fromServe).errors, 5);
  // One instance in one directory: no instance label is added.
  assert.ok(fromServe.find(REQUESTS).every((s) => s.labels[LABEL.instance] === undefined));
});

test('after a SIGKILLed worker is replaced both endpoints still agree, and serve never shows a decrease', async () => {
  await sleep(VISIBILITY_MS);
  const start = totals(await scrape(serve.port)).requests;
  const [victim] = await app.workerPids();
  process.kill(victim ?? 0, 'SIGKILL');
  let previous = start;
  for (let i = 0; i < 8; i++) {
    const now = totals(await scrape(serve.port)).requests;
    assert.ok(now >= previous, `serve went from ${previous} to ${now}`);
    previous = now;
    await sleep(150);
  }
  await waitFor('the replacement worker', async () => ((await app.workerPids()).length === 2 ? true : undefined));
  await load(app.appPort, '/', 30);
  await sleep(VISIBILITY_MS);
  const [fromPrimary, fromServe] = await Promise.all([scrape(app.metricsPort), scrape(serve.port)]);
  assert.equal(totals(fromServe).requests, start + 30);
  assert.deepEqual(totals(fromServe), totals(fromPrimary));
});
