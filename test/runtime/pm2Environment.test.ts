import { test } from 'node:test';
import assert from 'node:assert/strict';
import { withPm2Environment } from '../../src/runtime/pm2Environment';
import { detectRole, detectSlot } from '../../src/runtime/Runtime';

test("PM2's packed environment supplies settings and the instance number a preload would otherwise miss", () => {
  const env = withPm2Environment({
    PATH: '/bin',
    pm2_env: JSON.stringify({ NODE_APP_INSTANCE: 3, PROMETHEUS_MULTIPROC_DIR: '/var/run/app-metrics', exec_mode: 'cluster_mode', nested: { a: 1 } }),
  });
  assert.equal(env.NODE_APP_INSTANCE, '3');
  assert.equal(env.PROMETHEUS_MULTIPROC_DIR, '/var/run/app-metrics');
  assert.equal(env.nested, undefined, 'only plain values are unpacked');
  assert.equal(detectRole(env), 'orphan-worker', 'a PM2 instance leaves serving to `serve`');
  assert.equal(detectSlot('orphan-worker', env), 3);
});

test('a variable really set wins over the packed copy, and a foreign pm2_env is ignored', () => {
  const env = withPm2Environment({ PROMETHEUS_METRICS_PORT: '9300', pm2_env: JSON.stringify({ PROMETHEUS_METRICS_PORT: '9400' }) });
  assert.equal(env.PROMETHEUS_METRICS_PORT, '9300');
  const untouched = { pm2_env: 'not json' };
  assert.equal(withPm2Environment(untouched), untouched);
});

test('without PM2 a plain process is the main process, worker slots come from the primary', () => {
  assert.equal(detectRole({}), 'main');
  assert.equal(detectSlot('cluster-worker', { OTEL_CLUSTER_EXPORTER_SLOT: '5' }), 5);
});
