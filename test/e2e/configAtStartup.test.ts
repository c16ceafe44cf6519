/**
 * Under the preload a bad configuration stops the process with exit 78
 * before the app runs a line, listing every problem; before, some of these
 * only failed at first use and the app ran uninstrumented with exit 0.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT } from '../support/processes';
import { CHILD_ENV } from '../support/childEnv';

const REGISTER = join(ROOT, 'dist', 'register.js');
const APP = "console.log('app started')";

function preload(env: Record<string, string>): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync(process.execPath, ['--require', REGISTER, '-e', APP], {
    env: { ...CHILD_ENV, PROMETHEUS_METRICS_PORT: '0', PROMETHEUS_BIND_ADDRESS: '127.0.0.1', ...env },
    encoding: 'utf8',
    timeout: 30_000,
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

test('a Redis Cluster key prefix with braces, a bad TLS file and a store directory that is a file: exit 78, all listed, the app never runs', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ocx-startup-'));
  try {
    const file = join(dir, 'exporter.yml');
    writeFileSync(file, 'exporter:\n  redis:\n    enabled: true\n    key_prefix: "app:{x}"\n    cluster_nodes: ["127.0.0.1:1"]\n');
    const braces = preload({ OTEL_CLUSTER_EXPORTER_CONFIG: file, OTEL_METRIC_EXPORT_INTERVAL: '99999999999' });
    assert.equal(braces.status, 78, braces.stderr);
    assert.equal(braces.stdout, '');
    assert.match(braces.stderr, /invalid configuration: 2 problems:/);
    assert.match(braces.stderr, /OTEL_METRIC_EXPORT_INTERVAL: expected an integer from 1 to 2147483647/);
    assert.ok(braces.stderr.includes(`${file}: exporter.redis.key_prefix: expected a prefix without { or }`), braces.stderr);

    const aFile = join(dir, 'not-a-dir');
    writeFileSync(aFile, '');
    const resources = preload({
      PROMETHEUS_SSL_ENABLED: 'true',
      PROMETHEUS_SSL_CERTFILE: join(dir, 'absent.pem'),
      PROMETHEUS_SSL_KEYFILE: join(dir, 'absent.key'),
      PROMETHEUS_MULTIPROC_DIR: aFile,
    });
    assert.equal(resources.status, 78, resources.stderr);
    assert.equal(resources.stdout, '');
    assert.match(resources.stderr, /3 problems:/);
    assert.match(resources.stderr, /PROMETHEUS_SSL_CERTFILE: expected a readable PEM file/);
    assert.match(resources.stderr, /PROMETHEUS_SSL_KEYFILE: expected a readable PEM file/);
    assert.match(resources.stderr, /PROMETHEUS_MULTIPROC_DIR: expected a directory/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a likely typo in a variable is warned about once and the app runs', () => {
  const result = preload({ PROMETHEUS_METRIC_PORT: '9100', OTEL_METRICS_EXPORTER: 'none' });
  assert.equal(result.status, 0, result.stderr);
  assert.equal(result.stdout, 'app started\n');
  assert.match(result.stderr, /PROMETHEUS_METRIC_PORT is not read by otel-cluster-exporter; did you mean PROMETHEUS_METRICS_PORT\?/);
});
