import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadConfig } from '../../src/config/loadConfig';
import { CONFIG_HANDOFF_ENV, readConfigHandoff } from '../../src/config/configHandoff';
import { configHandoffFor, MAX_HANDOFF_BYTES } from '../../src/config/configHandoffFor';

test('a fork gets the configuration its environment loads, and the worker reads back exactly that', () => {
  const env = { OTEL_CLUSTER_EXPORTER_MAX_ENDPOINTS: '7', OTEL_SERVICE_NAME: 'shop' };
  const handoff = configHandoffFor(env);
  assert.deepEqual(readConfigHandoff(handoff), loadConfig({ env, checkResources: false }));
  assert.equal(readConfigHandoff(handoff)?.metrics.maxEndpoints, 7);
});

test('no handoff for a configuration that does not load, one too long for an environment variable, or one of another version', () => {
  assert.deepEqual(configHandoffFor({ OTEL_CLUSTER_EXPORTER_MAX_ENDPOINTS: 'many' }), {});
  const huge = { OTEL_RESOURCE_ATTRIBUTES: Array.from({ length: 4000 }, (_, i) => `k${i}=${'v'.repeat(16)}`).join(',') };
  assert.ok(huge.OTEL_RESOURCE_ATTRIBUTES.length > MAX_HANDOFF_BYTES);
  assert.deepEqual(configHandoffFor(huge), {});
  const other = JSON.stringify({ version: '0.0.0-other', config: loadConfig({ env: {} }) });
  assert.equal(readConfigHandoff({ [CONFIG_HANDOFF_ENV]: other }), undefined);
  assert.equal(readConfigHandoff({ [CONFIG_HANDOFF_ENV]: '{not json' }), undefined);
  assert.equal(readConfigHandoff({}), undefined);
});
