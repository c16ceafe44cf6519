/**
 * Startup checks of what the configuration names, on real files: TLS
 * material read and matched by OpenSSL, the store directory probed.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError } from '../../src/config/ConfigError';
import { loadConfig } from '../../src/config/loadConfig';
import { makeTlsFiles, type TlsFiles } from '../support/tlsFiles';

let dir = '';
let tls: TlsFiles;
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'oce-resources-'));
  tls = makeTlsFiles();
});
after(() => {
  rmSync(dir, { recursive: true, force: true });
  rmSync(tls.dir, { recursive: true, force: true });
});

function problems(env: NodeJS.ProcessEnv, file?: string): string[] {
  try {
    loadConfig({ env, ...(file !== undefined ? { file } : {}) });
  } catch (error) {
    assert.ok(error instanceof ConfigError, String(error));
    return error.issues.map((issue) => `${issue.keyPath}: ${issue.expected}`);
  }
  return [];
}

test('endpoint TLS: files are read and the key must match the certificate', () => {
  const ssl = { PROMETHEUS_SSL_ENABLED: 'true', PROMETHEUS_SSL_CERTFILE: tls.serverCert, PROMETHEUS_SSL_KEYFILE: tls.serverKey };
  assert.deepEqual(problems(ssl), []);
  assert.deepEqual(problems({ ...ssl, PROMETHEUS_SSL_CERTFILE: join(dir, 'absent.pem') }), ['PROMETHEUS_SSL_CERTFILE: a readable PEM file']);
  assert.deepEqual(problems({ ...ssl, PROMETHEUS_SSL_KEYFILE: tls.clientKey }), ['PROMETHEUS_SSL_KEYFILE: the private key of the certificate in prometheus.ssl.certfile']);
  const notPem = join(dir, 'not.pem');
  writeFileSync(notPem, 'hello\n');
  assert.deepEqual(problems({ ...ssl, PROMETHEUS_SSL_CERTFILE: notPem, PROMETHEUS_SSL_CLIENT_CAFILE: notPem }), [
    'PROMETHEUS_SSL_CLIENT_CAFILE: a PEM CA bundle',
    'PROMETHEUS_SSL_CERTFILE: a PEM certificate',
  ]);
});

test('a problem in a YAML value is located in the file', () => {
  const file = join(dir, 'tls.yml');
  writeFileSync(file, `exporter:\n  prometheus:\n    ssl: {enabled: true, certfile: "${tls.serverCert}", keyfile: "${join(dir, 'nope.key')}"}\n`);
  const err = (() => {
    try {
      loadConfig({ file, env: {} });
    } catch (error) {
      return error as ConfigError;
    }
    return assert.fail('expected a ConfigError');
  })();
  assert.equal(err.file, file);
  assert.equal(err.keyPath, 'exporter.prometheus.ssl.keyfile');
  assert.match(err.message, /expected a readable PEM file, got ".*nope\.key: ENOENT/);
});

test('Redis TLS files are checked when Redis is the store', () => {
  const redis = { REDIS_ENABLED: 'true', OTEL_CLUSTER_EXPORTER_REDIS_TLS_ENABLED: 'true', OTEL_CLUSTER_EXPORTER_REDIS_TLS_CA_FILE: tls.ca };
  assert.deepEqual(problems({ ...redis, OTEL_CLUSTER_EXPORTER_REDIS_TLS_CERT_FILE: tls.clientCert, OTEL_CLUSTER_EXPORTER_REDIS_TLS_KEY_FILE: tls.clientKey }), []);
  assert.deepEqual(problems({ ...redis, OTEL_CLUSTER_EXPORTER_REDIS_TLS_CERT_FILE: tls.clientCert, OTEL_CLUSTER_EXPORTER_REDIS_TLS_KEY_FILE: tls.serverKey }), [
    'OTEL_CLUSTER_EXPORTER_REDIS_TLS_KEY_FILE: the private key of the certificate in redis.tls.cert_file',
  ]);
});

test('the store directory: a file, a path through a file and an uncreatable path are refused; nothing is left behind', () => {
  const file = join(dir, 'a-file');
  writeFileSync(file, '');
  assert.deepEqual(problems({ PROMETHEUS_MULTIPROC_DIR: file }), ['PROMETHEUS_MULTIPROC_DIR: a directory']);
  assert.deepEqual(problems({ PROMETHEUS_MULTIPROC_DIR: join(file, 'sub') }), ['PROMETHEUS_MULTIPROC_DIR: a directory']);
  assert.deepEqual(problems({ PROMETHEUS_MULTIPROC_DIR: '/proc/ocx-not-creatable' }), ['PROMETHEUS_MULTIPROC_DIR: a directory this process can create']);
  const store = join(dir, 'store');
  mkdirSync(store);
  assert.deepEqual(problems({ PROMETHEUS_MULTIPROC_DIR: store }), []);
  assert.deepEqual(problems({ PROMETHEUS_MULTIPROC_DIR: join(dir, 'to-be-made', 'deep') }), []);
  assert.deepEqual(readdirSync(store), [], 'the probe file is removed');
  assert.ok(!readdirSync(dir).includes('to-be-made'), 'a missing directory is not created by the check');
  assert.deepEqual(problems({ PROMETHEUS_MULTIPROC_DIR: file, REDIS_ENABLED: 'true' }), [], 'not checked when Redis is the store');
});

test('a read-only store directory is refused (needs root to mount a read-only tmpfs)', (t) => {
  const ro = join(dir, 'ro');
  mkdirSync(ro);
  const mounted = spawnSync('mount', ['-t', 'tmpfs', '-o', 'ro,size=1m', 'tmpfs', ro]);
  if (mounted.status !== 0) {
    t.skip(`cannot mount a read-only tmpfs here: ${mounted.stderr.toString().trim()}`);
    return;
  }
  try {
    assert.deepEqual(problems({ PROMETHEUS_MULTIPROC_DIR: ro }), ['PROMETHEUS_MULTIPROC_DIR: a directory this process can write']);
  } finally {
    spawnSync('umount', [ro]);
  }
});

test('cluster workers skip the resource checks their primary made', () => {
  assert.doesNotThrow(() => loadConfig({ env: { PROMETHEUS_MULTIPROC_DIR: join(dir, 'a-file') }, checkResources: false }));
});

test('value problems and resource problems come in one listing', () => {
  const file = join(dir, 'a-file-too');
  writeFileSync(file, '');
  const ssl = { PROMETHEUS_SSL_ENABLED: 'true', PROMETHEUS_SSL_CERTFILE: join(dir, 'absent.pem'), PROMETHEUS_SSL_KEYFILE: tls.serverKey };
  assert.deepEqual(problems({ ...ssl, PROMETHEUS_MULTIPROC_DIR: file, REDIS_PORT: 'abc', PROMETHEUS_METRICS_PORT: '99999' }), [
    'PROMETHEUS_METRICS_PORT: an integer from 0 to 65535',
    'REDIS_PORT: an integer from 1 to 65535',
    'PROMETHEUS_SSL_CERTFILE: a readable PEM file',
    'PROMETHEUS_MULTIPROC_DIR: a directory',
  ]);
  // A faulty value is reported once: its default stands in for the resource checks, which stay silent on it.
  assert.deepEqual(problems({ PROMETHEUS_SSL_ENABLED: 'maybe', PROMETHEUS_SSL_CERTFILE: join(dir, 'absent.pem'), PROMETHEUS_MULTIPROC_DIR: file }), [
    'PROMETHEUS_SSL_ENABLED: a boolean (true/false, 1/0, yes/no)',
    'PROMETHEUS_MULTIPROC_DIR: a directory',
  ]);
});

test('the bind address must be an address of this host or a name resolving to one', () => {
  assert.deepEqual(problems({ PROMETHEUS_BIND_ADDRESS: '127.0.0.1' }), []);
  assert.deepEqual(problems({ PROMETHEUS_BIND_ADDRESS: '::' }), []);
  assert.deepEqual(problems({ PROMETHEUS_BIND_ADDRESS: 'localhost' }), []);
  assert.deepEqual(problems({ PROMETHEUS_BIND_ADDRESS: '::ffff:127.0.0.1' }), [], 'an IPv4-mapped local address binds on a dual-stack socket');
  // TEST-NET-3 (RFC 5737): never an address of a real host.
  assert.deepEqual(problems({ PROMETHEUS_BIND_ADDRESS: '203.0.113.7' }), ['PROMETHEUS_BIND_ADDRESS: an address of this host (one of its interfaces, 0.0.0.0 or ::)']);
  // `.invalid` never resolves (RFC 6761).
  assert.deepEqual(problems({ PROMETHEUS_BIND_ADDRESS: 'metrics.example.invalid' }), ['PROMETHEUS_BIND_ADDRESS: an address of this host, or a host name that resolves to one']);
  assert.deepEqual(problems({ PROMETHEUS_BIND_ADDRESS: '203.0.113.7', OTEL_METRICS_EXPORTER: 'otlp' }), [], 'not checked when no endpoint is served');
});
