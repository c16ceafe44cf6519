/**
 * End to end: an app that runs its own OpenTelemetry metrics SDK under the
 * preload (2 cluster workers). Its global registration succeeds, its own
 * reader sees exactly what it recorded, no OpenTelemetry error is logged at
 * it, and with the README's one line its instruments join the merged view.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { CATALOGUE, prometheusName } from '../../src/catalogue/MetricCatalogue';
import { httpRequest, load, scrape, sleep, startApp, type RunningApp } from '../support/processes';

const REQUESTS = prometheusName(CATALOGUE.requests);
const ORDERS = 'shop_orders_total';
const VISIBILITY_MS = 1100;

interface OwnView {
  pid: number;
  served: number;
  ownReaderSees: number;
  registered: boolean;
  diagErrors: string[];
}

/** Ask `/own` until both workers have answered; their reports by pid. */
async function ownViews(port: number): Promise<OwnView[]> {
  const byPid = new Map<number, OwnView>();
  // On a loaded machine the second worker may start listening a while after the first.
  const deadline = Date.now() + 15_000;
  while (byPid.size < 2 && Date.now() < deadline) {
    const view = JSON.parse((await httpRequest(port, '/own')).body) as OwnView;
    byPid.set(view.pid, view);
    if (byPid.size < 2) await sleep(50);
  }
  assert.equal(byPid.size, 2, 'both workers answered /own');
  return [...byPid.values()];
}

for (const sdk of ['metrics', 'node'] as const) {
  for (const clusterReader of [false, true]) {
    const title = `${sdk === 'node' ? 'NodeSDK' : 'sdk-metrics MeterProvider'} ${clusterReader ? 'with' : 'without'} ClusterMetricReader`;
    describe(`an app with its own ${title}`, () => {
      let app: RunningApp;
      before(async () => {
        app = await startApp('own-sdk-app.js', {
          APP_WORKERS: '2',
          OWN_SDK: sdk,
          CLUSTER_READER: clusterReader ? '1' : '0',
          OTEL_TRACES_EXPORTER: 'none',
          OTEL_LOGS_EXPORTER: 'none',
        });
      });
      after(async () => {
        await app?.stop();
      });

      test('its registration wins, its reader sees every order its worker counted, nothing is logged at it', async () => {
        await load(app.appPort, '/order', 30, 4);
        const views = await ownViews(app.appPort);
        assert.equal(
          views.reduce((total, v) => total + v.served, 0),
          30,
        );
        for (const view of views) {
          assert.equal(view.registered, true, 'the app owns the global MeterProvider');
          assert.equal(view.ownReaderSees, view.served, 'its own reader sees exactly its orders');
          assert.deepEqual(view.diagErrors, [], 'no OpenTelemetry API error logged');
        }
        await sleep(VISIBILITY_MS);
        const m = await scrape(app.metricsPort);
        // The preload's own metrics are unaffected.
        assert.ok(m.sum(REQUESTS, { endpoint: '/order' }) >= 30);
        if (clusterReader) {
          assert.equal(m.sum(ORDERS, { kind: 'book' }), 30, 'the one line brings the app instruments into the merged view');
          // One series per worker that took orders (the cluster's round robin may give one worker all of them).
          const perWorker = m
            .find(ORDERS)
            .map((s) => s.value)
            .sort((a, b) => a - b);
          assert.deepEqual(
            perWorker,
            views
              .map((v) => v.served)
              .filter((n) => n > 0)
              .sort((a, b) => a - b),
          );
        } else {
          assert.equal(m.find(ORDERS).length, 0, 'without the line the app keeps its instruments to itself');
        }
        assert.doesNotMatch(app.stderr(), /duplicate registration|Attempted duplicate/i);
      });
    });
  }
}
