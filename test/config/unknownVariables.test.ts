import { test } from 'node:test';
import assert from 'node:assert/strict';
import { describeUnknownVariable, INTERNAL_VARIABLES, unknownVariables } from '../../src/config/unknownVariables';
import { OWNER_ENV } from '../../src/runtime/Runtime';
import { SLOT_ENV } from '../../src/primary/ClusterSupervisor';
import { SUPERVISED_ENV } from '../../src/supervisor/protocol';
import { CONFIG_HANDOFF_ENV } from '../../src/config/configHandoff';

test('a misspelled variable with one of our prefixes is found, with the name it probably meant', () => {
  const found = unknownVariables({
    PROMETHEUS_METRIC_PORT: '9100',
    REDIS_KEYPREFIX: 'x',
    GUNICORN_WORKER: '2',
    OTEL_CLUSTER_EXPORTER_FLUSH_INTERVAL: '100',
    REDIS_VERSION: '7.2',
    PROMETHEUS_METRICS_PORT: '9091',
    OTEL_EXPORTER_OTLP_ENDPONT: 'x',
    PATH: '/bin',
  });
  assert.deepEqual(found, [
    { name: 'GUNICORN_WORKER', suggestion: 'GUNICORN_WORKERS' },
    { name: 'OTEL_CLUSTER_EXPORTER_FLUSH_INTERVAL', suggestion: 'OTEL_CLUSTER_EXPORTER_FLUSH_INTERVAL_MS' },
    { name: 'PROMETHEUS_METRIC_PORT', suggestion: 'PROMETHEUS_METRICS_PORT' },
    { name: 'REDIS_KEYPREFIX', suggestion: 'REDIS_KEY_PREFIX' },
    { name: 'REDIS_VERSION' },
  ]);
  assert.equal(
    describeUnknownVariable({ name: 'PROMETHEUS_METRIC_PORT', suggestion: 'PROMETHEUS_METRICS_PORT' }),
    'environment variable PROMETHEUS_METRIC_PORT is not read by otel-cluster-exporter; did you mean PROMETHEUS_METRICS_PORT?',
  );
});

test('the variables the package sets for its own processes are not reported', () => {
  assert.deepEqual([...INTERNAL_VARIABLES].sort(), [OWNER_ENV, SLOT_ENV, SUPERVISED_ENV, CONFIG_HANDOFF_ENV].sort());
  assert.deepEqual(unknownVariables({ [OWNER_ENV]: '1', [SLOT_ENV]: '0', [SUPERVISED_ENV]: '1', [CONFIG_HANDOFF_ENV]: '{}', OTEL_CLUSTER_EXPORTER_CONFIG: 'a.yml' }), []);
});
