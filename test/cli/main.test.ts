/**
 * The `otel-cluster-exporter` binary as users run it: a real child process
 * of the built dist/cli/main.js.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CLI } from '../support/processes';
import { CATALOGUE } from '../../src/catalogue/MetricCatalogue';

function run(args: string[], env: Record<string, string> = {}): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync(process.execPath, [CLI, ...args], { env: { PATH: process.env.PATH ?? '', ...env }, encoding: 'utf8' });
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
