/**
 * The `otel-cluster-exporter` binary as users run it: a real child process
 * of the built dist/cli/main.js.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CLI } from '../support/processes';
import { CATALOGUE } from '../../src/catalogue/MetricCatalogue';
import { CONFIG_KEYS } from '../../src/config/schema';
import { CHILD_ENV } from '../support/childEnv';

function run(args: string[], env: Record<string, string> = {}): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync(process.execPath, [CLI, ...args], { env: { ...CHILD_ENV, ...env }, encoding: 'utf8' });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

test('check-config prints the effective configuration with secrets masked and exits 0', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ocx-cli-'));
  try {
    const file = join(dir, 'exporter.yml');
    writeFileSync(file, 'exporter:\n  redis:\n    enabled: true\n    password: "hunter2"\n');
    const result = run(['check-config', file], { PROMETHEUS_METRICS_PORT: '9200' });
    assert.equal(result.status, 0, result.stderr);
    assert.match(result.stdout, /metrics_port: 9200/);
    assert.doesNotMatch(result.stdout, /hunter2/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('check-config exits non-zero naming the file and key of a bad value', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ocx-cli-'));
  try {
    const file = join(dir, 'exporter.yml');
    writeFileSync(file, 'exporter:\n  redis:\n    port: "abc"\n');
    const result = run(['check-config', file]);
    assert.notEqual(result.status, 0);
    assert.match(result.stderr + result.stdout, /exporter\.yml/);
    assert.match(result.stderr + result.stdout, /exporter\.redis\.port/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('dashboard prints a Grafana dashboard and metrics the catalogue', () => {
  const dashboard = run(['dashboard']);
  assert.equal(dashboard.status, 0);
  const parsed = JSON.parse(dashboard.stdout) as { panels: unknown[] };
  assert.ok(parsed.panels.length > 10);
  const metrics = run(['metrics']);
  assert.match(metrics.stdout, new RegExp(CATALOGUE.requestDuration.name));
});

test('an unknown command prints usage and exits 1 (invalid use)', () => {
  const result = run(['frobnicate']);
  assert.equal(result.status, 1);
  assert.match(result.stderr, /usage: otel-cluster-exporter/);
});

test('--version prints the package version; --help and help print usage on stdout with exit 0', () => {
  const manifest = JSON.parse(readFileSync(join(__dirname, '..', '..', '..', 'package.json'), 'utf8')) as { version: string };
  for (const flag of ['--version', '-v']) assert.deepEqual(run([flag]), { status: 0, stdout: `${manifest.version}\n`, stderr: '' });
  for (const args of [['--help'], ['-h'], ['help']]) {
    const result = run(args);
    assert.equal(result.status, 0, args.join(' '));
    assert.match(result.stdout, /^usage: otel-cluster-exporter <command>/);
    assert.match(result.stdout, /exit status: 0 done, 1 invalid use, 78 invalid configuration/);
  }
});

test('no command prints usage on stderr and exits 1', () => {
  const result = run([]);
  assert.equal(result.status, 1);
  assert.equal(result.stdout, '');
  assert.match(result.stderr, /^usage: otel-cluster-exporter/);
});

test('every command has its own --help; an unknown option is invalid use, not a file name', () => {
  for (const command of ['check-config', 'serve', 'dashboard', 'metrics']) {
    const result = run([command, '--help']);
    assert.equal(result.status, 0, command);
    assert.ok(result.stdout.startsWith(`usage: otel-cluster-exporter ${command}`), result.stdout);
    assert.deepEqual(run(['help', command]).stdout, result.stdout);
  }
  const serveBogus = run(['serve', '--bogus']);
  assert.equal(serveBogus.status, 1);
  assert.match(serveBogus.stderr, /serve: Unknown option '--bogus'/);
  assert.equal(run(['dashboard', 'extra']).status, 1);
  assert.equal(run(['help', 'nope']).status, 1);
});

test('check-config --help lists every key, generated from the schema', () => {
  const help = run(['check-config', '--help']).stdout;
  for (const key of CONFIG_KEYS) assert.ok(help.includes(`  ${key.path} `), key.path);
});

test('check-config: exit 78 with every problem listed; unknown prefixed variables warned with "did you mean"', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ocx-cli-'));
  try {
    const file = join(dir, 'exporter.yml');
    writeFileSync(file, 'exporter:\n  redis:\n    prot: 6379\n    key_prefix: "a{b}"\n    cluster_nodes: ["c1:7000"]\n');
    const result = run(['check-config', file], { PROMETHEUS_METRIC_PORT: '9100', PROMETHEUS_BIND_ADDRESS: '0.0.0.0\n' });
    assert.equal(result.status, 78);
    assert.match(result.stderr, /warning: environment variable PROMETHEUS_METRIC_PORT is not read by otel-cluster-exporter; did you mean PROMETHEUS_METRICS_PORT\?/);
    assert.match(result.stderr, /invalid configuration: 3 problems:/);
    assert.ok(result.stderr.includes(`${file}: exporter.redis.prot: unknown key`), result.stderr);
    assert.match(result.stderr, /PROMETHEUS_BIND_ADDRESS: expected an IP address or host name/);
    assert.ok(result.stderr.includes(`${file}: exporter.redis.key_prefix: expected a prefix without { or }`), result.stderr);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('serve exits 78 on a bad configuration, before serving', () => {
  const result = run(['serve'], { PROMETHEUS_MULTIPROC_DIR: '/proc/ocx-not-creatable' });
  assert.equal(result.status, 78);
  assert.match(result.stderr, /invalid configuration: PROMETHEUS_MULTIPROC_DIR: expected a directory this process can create/);
});
