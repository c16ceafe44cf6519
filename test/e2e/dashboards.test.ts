/**
 * The promise to Gunicorn users: their dashboards and alerts work unchanged.
 * A real Prometheus scrapes a real cluster app under the preload, and every
 * expression the upstream exporter ships, plus every panel of the generated
 * Grafana dashboard, returns data.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { grafanaDashboard } from '../../src/catalogue/grafanaDashboard';
import { load, startApp } from '../support/processes';
import type { RunningApp } from '../support/processes';
import { PrometheusServer, prometheusUnavailable } from '../support/PrometheusServer';

/** What the upstream README's dashboards and alerts query (facts from shared/reference). */
const UPSTREAM_EXPRESSIONS = [
  'rate(gunicorn_worker_requests_total[5m])',
  'histogram_quantile(0.95, rate(gunicorn_worker_request_duration_seconds_bucket[5m]))',
  'histogram_quantile(0.50, rate(gunicorn_worker_request_duration_seconds_bucket[5m]))',
  'gunicorn_worker_memory_bytes',
  'gunicorn_worker_cpu_percent',
  'sum by (reason) (rate(gunicorn_master_worker_restart_total[5m]))',
];

describe('dashboards against a real Prometheus', { skip: prometheusUnavailable() }, () => {
  let app: RunningApp;
  let prometheus: PrometheusServer;
  let traffic: NodeJS.Timeout;

  before(async () => {
    app = await startApp('cluster-app.js', { APP_WORKERS: '2' });
    prometheus = await PrometheusServer.start([`127.0.0.1:${app.metricsPort}`]);
    const send = (): void => {
      void Promise.all([load(app.appPort, '/', 10), load(app.appPort, '/users/77', 5), load(app.appPort, '/boom', 1)]).catch(() => undefined);
    };
    send();
    // A malformed request, which Node answers with 400 itself: error_handling has data.
    const socket = connect(app.appPort, '127.0.0.1', () => socket.end('NOT HTTP AT ALL\r\n\r\n'));
    socket.on('error', () => undefined);
    socket.resume();
    traffic = setInterval(send, 300);
    // A worker death, so restart counters have data.
    await prometheus.eventually('gunicorn_workers');
    const [pid] = await app.workerPids();
    process.kill(pid ?? 0, 'SIGKILL');
  });

  after(async () => {
    clearInterval(traffic);
    await prometheus?.stop();
    await app?.stop();
  });

  for (const expression of UPSTREAM_EXPRESSIONS) {
    test(`upstream expression returns data: ${expression}`, async () => {
      const result = await prometheus.eventually(expression);
      // Series idle over the window give NaN quantiles, as in any Prometheus; the busy ones must give numbers.
      assert.ok(
        result.some((sample) => Number.isFinite(Number(sample.value[1]))),
        `no finite value for ${expression}`,
      );
    });
  }

  test('every panel of the generated Grafana dashboard returns data', async () => {
    const panels = grafanaDashboard().panels as { title: string; targets: { expr: string }[] }[];
    for (const panel of panels) {
      for (const target of panel.targets) {
        // Store errors only exist once a store has failed: the query must parse, data is optional.
        if (target.expr.includes('store_errors')) {
          await prometheus.query(target.expr);
          continue;
        }
        const result = await prometheus.eventually(target.expr);
        assert.ok(result.length > 0, `${panel.title}: ${target.expr}`);
      }
    }
  });
});
