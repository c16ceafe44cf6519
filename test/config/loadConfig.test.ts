import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError } from '../../src/config/ConfigError';
import { loadConfig } from '../../src/config/loadConfig';

let dir = '';
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'oce-config-'));
});
after(() => {
  rmSync(dir, { recursive: true, force: true });
});

function write(name: string, text: string): string {
  const file = join(dir, name);
  writeFileSync(file, text);
  return file;
}

function loadError(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (error) {
    assert.ok(error instanceof ConfigError, String(error));
    return error;
  }
  assert.fail('expected a ConfigError');
}

test('reads the file given as an option, then applies the environment', () => {
  const file = write('a.yml', 'exporter:\n  redis:\n    port: 6380\n    host: from-file\n');
  const c = loadConfig({ file, env: { REDIS_HOST: 'from-env' } });
  assert.equal(c.redis.port, 6380);
  assert.equal(c.redis.host, 'from-env');
  assert.equal(c.sourceFile, file);
  assert.equal(c.otel.instanceId, hostname());
});

test('falls back to OTEL_CLUSTER_EXPORTER_CONFIG; the option wins over it', () => {
  const fromEnv = write('env.yml', 'exporter:\n  gunicorn:\n    workers: 3\n');
  const fromOption = write('opt.yml', 'exporter:\n  gunicorn:\n    workers: 5\n');
  assert.equal(loadConfig({ env: { OTEL_CLUSTER_EXPORTER_CONFIG: fromEnv } }).gunicorn.workers, 3);
  assert.equal(loadConfig({ file: fromOption, env: { OTEL_CLUSTER_EXPORTER_CONFIG: fromEnv } }).gunicorn.workers, 5);
  assert.equal(loadConfig({ env: { OTEL_CLUSTER_EXPORTER_CONFIG: '' } }).sourceFile, undefined);
});

test('a missing file is a ConfigError naming the file', () => {
  const missing = join(dir, 'nope.yml');
  const err = loadError(() => loadConfig({ file: missing, env: {} }));
  assert.equal(err.file, missing);
  assert.ok(err.message.startsWith(`${missing}: expected a readable YAML file, got "ENOENT`), err.message);
});

test('a directory instead of a file is a ConfigError naming it', () => {
  const err = loadError(() => loadConfig({ file: dir, env: {} }));
  assert.equal(err.file, dir);
  assert.match(err.message, /EISDIR/);
});

test('a YAML syntax error names the file and the line', () => {
  const file = write('broken.yml', 'exporter:\n  prometheus:\n    metrics_port: 9091\n    bind_address: "0.0.0.0\n');
  const err = loadError(() => loadConfig({ file, env: {} }));
  assert.equal(err.file, file);
  assert.equal(typeof err.line, 'number');
  assert.match(err.message, new RegExp(`^${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: line \\d+, column \\d+: expected valid YAML`));
});

test('a duplicate key is a YAML error with its line', () => {
  const file = write('dup.yml', 'exporter:\n  redis:\n    port: 1\n    port: 2\n');
  const err = loadError(() => loadConfig({ file, env: {} }));
  assert.equal(err.line, 4);
});

test('only a regular file of bounded size is read: /dev/zero, a FIFO and an oversized file are refused', () => {
  const zero = loadError(() => loadConfig({ file: '/dev/zero', env: {} }));
  assert.equal(zero.message, '/dev/zero: expected a regular YAML file of at most 1048576 bytes, got "a character device"');
  const fifo = join(dir, 'fifo.yml');
  execFileSync('mkfifo', [fifo]);
  assert.match(loadError(() => loadConfig({ file: fifo, env: {} })).message, /got "a named pipe"/);
  const big = write('big.yml', `exporter:\n${'# padding\n'.repeat(110_000)}`);
  assert.match(loadError(() => loadConfig({ file: big, env: {} })).message, /at most 1048576 bytes, got "1100010 bytes"/);
});
