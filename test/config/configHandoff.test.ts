import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../src/config/loadConfig';
import { CONFIG_FILE_ENV, CONFIG_HANDOFF_ENV, CONFIG_SECTIONS, readConfigHandoff } from '../../src/config/configHandoff';
import { CONFIG_KEYS } from '../../src/config/schema';
import { configHandoffFor, MAX_HANDOFF_BYTES } from '../../src/config/configHandoffFor';

const HERE = process.cwd();

/** The worker's environment after cluster.fork(env) with the handoff added. */
function forked(env: NodeJS.ProcessEnv, cwd = HERE): NodeJS.ProcessEnv {
  return { ...env, ...configHandoffFor(env, cwd) };
}

test('a fork gets the configuration its environment loads, and the worker reads back exactly that', () => {
  const env = { OTEL_CLUSTER_EXPORTER_MAX_ENDPOINTS: '7', OTEL_SERVICE_NAME: 'shop' };
  const worker = forked(env);
  assert.deepEqual(readConfigHandoff(worker, HERE), loadConfig({ env, checkResources: false }));
  assert.equal(readConfigHandoff(worker, HERE)?.metrics.maxEndpoints, 7);
});

test('the variable is always set, empty when nothing is handed over: a configuration that does not load, or one too long for an environment variable', () => {
  assert.deepEqual(configHandoffFor({ OTEL_CLUSTER_EXPORTER_MAX_ENDPOINTS: 'many' }, HERE), { [CONFIG_HANDOFF_ENV]: '' });
  const huge = { OTEL_RESOURCE_ATTRIBUTES: Array.from({ length: 4000 }, (_, i) => `k${i}=${'v'.repeat(16)}`).join(',') };
  assert.ok(huge.OTEL_RESOURCE_ATTRIBUTES.length > MAX_HANDOFF_BYTES);
  assert.deepEqual(configHandoffFor(huge, HERE), { [CONFIG_HANDOFF_ENV]: '' });
  // A stale copy in the fork's own environment is overwritten, not passed on.
  const stale = forked({ OTEL_CLUSTER_EXPORTER_MAX_ENDPOINTS: '7' })[CONFIG_HANDOFF_ENV];
  assert.deepEqual(configHandoffFor({ OTEL_CLUSTER_EXPORTER_MAX_ENDPOINTS: 'many', [CONFIG_HANDOFF_ENV]: stale }, HERE), { [CONFIG_HANDOFF_ENV]: '' });
});

test('a worker loads its configuration itself when its inputs are not the ones the primary checked', () => {
  const env = { OTEL_CLUSTER_EXPORTER_MAX_ENDPOINTS: '7' };
  const worker = forked(env);
  // A variable only the worker sees (--env-file in its execArgv), another value, another directory.
  assert.equal(readConfigHandoff({ ...worker, REDIS_PASSWORD: 'from-env-file' }, HERE), undefined);
  assert.equal(readConfigHandoff({ ...worker, OTEL_CLUSTER_EXPORTER_MAX_ENDPOINTS: '8' }, HERE), undefined);
  assert.equal(readConfigHandoff(worker, tmpdir()), undefined);
  // Damaged, hand-made or of another format.
  assert.equal(readConfigHandoff({ ...env, [CONFIG_HANDOFF_ENV]: '{not json' }, HERE), undefined);
  assert.equal(readConfigHandoff({ ...env, [CONFIG_HANDOFF_ENV]: JSON.stringify({ version: '0.1.0', config: { metrics: [] } }) }, HERE), undefined);
  assert.equal(readConfigHandoff({ ...env, [CONFIG_HANDOFF_ENV]: '' }, HERE), undefined);
  assert.equal(readConfigHandoff({}, HERE), undefined);
});

test('the file is read from the worker directory, an edit after the fork is noticed, and a secret only the file holds is never handed over', () => {
  const directory = mkdtempSync(join(tmpdir(), 'handoff-'));
  try {
    const file = join(directory, 'exporter.yaml');
    writeFileSync(file, 'exporter:\n  metrics:\n    max_endpoints: 9\n');
    // A relative path, resolved against the fork's directory, not the primary's.
    const env = { [CONFIG_FILE_ENV]: 'exporter.yaml' };
    const worker = forked(env, directory);
    assert.equal(readConfigHandoff(worker, directory)?.metrics.maxEndpoints, 9);
    writeFileSync(file, 'exporter:\n  metrics:\n    max_endpoints: 10\n');
    assert.equal(readConfigHandoff(worker, directory), undefined, 'the file changed since the primary checked it');

    writeFileSync(file, 'exporter:\n  redis:\n    password: from-the-file\n');
    assert.deepEqual(configHandoffFor(env, directory), { [CONFIG_HANDOFF_ENV]: '' });
    writeFileSync(file, 'exporter:\n  otel:\n    otlp:\n      headers:\n        authorization: Bearer t\n');
    assert.deepEqual(configHandoffFor(env, directory), { [CONFIG_HANDOFF_ENV]: '' });
    // The same secret given as a variable is in the worker's environment anyway.
    const fromEnv = { REDIS_PASSWORD: 'from-env' };
    assert.equal(readConfigHandoff(forked(fromEnv), HERE)?.redis.password, 'from-env');
  } finally {
    rmSync(directory, { recursive: true, force: true });
  }
});

test("the handoff's shape check lists exactly the schema's sections", () => {
  assert.deepEqual([...CONFIG_SECTIONS].sort(), [...new Set(CONFIG_KEYS.map((key) => key.fields[0]))].sort());
});
