import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCheckConfig } from '../../src/cli/checkConfig';

let dir = '';
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'oce-check-'));
});
after(() => {
  rmSync(dir, { recursive: true, force: true });
});

function run(args: readonly string[], env: NodeJS.ProcessEnv = {}): { status: number; stdout: string; stderr: string } {
  let stdout = '';
  let stderr = '';
  const status = runCheckConfig(args, { env, stdout: (s) => (stdout += s), stderr: (s) => (stderr += s) });
  return { status, stdout, stderr };
}

test('a valid file: exit 0, effective configuration printed with secrets masked', () => {
  const file = join(dir, 'ok.yml');
  writeFileSync(file, 'exporter:\n  prometheus:\n    metrics_port: 9300\n  redis:\n    enabled: true\n    password: "s3cr3t-pw"\n');
  const r = run([file], { OTEL_EXPORTER_OTLP_HEADERS: 'api-key=k3y-value' });
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stderr, '');
  assert.match(r.stdout, /configuration is valid/);
  assert.ok(r.stdout.includes(file));
  assert.match(r.stdout, /metrics_port: 9300/);
  assert.match(r.stdout, /enabled: true/);
  assert.ok(!r.stdout.includes('s3cr3t-pw'));
  assert.ok(!r.stdout.includes('k3y-value'));
});

test('the file may come from OTEL_CLUSTER_EXPORTER_CONFIG', () => {
  const file = join(dir, 'viaenv.yml');
  writeFileSync(file, 'exporter:\n  redis:\n    key_prefix: "from:env:file"\n');
  const r = run([], { OTEL_CLUSTER_EXPORTER_CONFIG: file });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /key_prefix: from:env:file/);
});

test('an invalid file: exit 78, the error names the file and key', () => {
  const file = join(dir, 'bad.yml');
  writeFileSync(file, 'exporter:\n  redis:\n    prot: 6379\n');
  const r = run([file]);
  assert.equal(r.status, 78);
  assert.equal(r.stdout, '');
  assert.ok(r.stderr.includes(`${file}: exporter.redis.prot: unknown key`), r.stderr);
  assert.match(r.stderr, /did you mean "exporter\.redis\.port"/);
});

test('an invalid environment variable: exit 78 naming the variable', () => {
  const r = run([], { REDIS_PORT: 'abc' });
  assert.equal(r.status, 78);
  assert.match(r.stderr, /REDIS_PORT: expected an integer from 1 to 65535, got "abc"/);
});

test('a missing file: exit 78 naming it', () => {
  const missing = join(dir, 'missing.yml');
  const r = run([missing]);
  assert.equal(r.status, 78);
  assert.ok(r.stderr.includes(missing));
});

test('usage errors exit 1; --reference prints the markdown table', () => {
  assert.equal(run(['a.yml', 'b.yml']).status, 1);
  assert.equal(run(['--bogus']).status, 1);
  const ref = run(['--reference']);
  assert.equal(ref.status, 0);
  assert.match(ref.stdout, /^\| YAML key/);
  assert.equal(run(['--help']).status, 0);
});
