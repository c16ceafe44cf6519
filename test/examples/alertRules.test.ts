/**
 * examples/prometheus: the alert and recording rules users copy. promtool
 * checks them and runs their unit tests; every alert is tested both firing and
 * quiet; every metric they query is one this package exports.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { load } from 'js-yaml';
import { ALL_METRICS, prometheusName } from '../../src/catalogue/MetricCatalogue';
import { ROOT } from '../support/processes';

const PROMTOOL = '/usr/bin/promtool';
const SKIP = !existsSync(PROMTOOL) && process.env.CI !== 'true' && `promtool is not installed at ${PROMTOOL} (apt-get install prometheus)`;
const DIR = join(ROOT, 'examples', 'prometheus');
const RULES = join(DIR, 'alerts.yml');
const TESTS = join(DIR, 'alerts.test.yml');

interface Rule { alert?: string; record?: string; expr: string }
interface RuleFile { groups: { name: string; rules: Rule[] }[] }
interface TestFile { tests: { alert_rule_test?: { alertname: string; exp_alerts?: unknown[] }[] }[] }

function promtool(...args: string[]): { status: number | null; output: string } {
  const result = spawnSync(PROMTOOL, args, { cwd: DIR, encoding: 'utf8' });
  return { status: result.status, output: `${result.stdout}${result.stderr}` };
}

/** `level:metric:operations`, the recording-rule naming convention. */
const RECORDED_NAME = /\b[a-z_]+:[a-z0-9_]+:[a-z0-9_]+\b/g;

const rules = (): Rule[] => (load(readFileSync(RULES, 'utf8')) as RuleFile).groups.flatMap((group) => group.rules);

test('promtool accepts the rules and their unit tests pass', { skip: SKIP }, () => {
  const check = promtool('check', 'rules', RULES);
  assert.equal(check.status, 0, check.output);
  const unit = promtool('test', 'rules', TESTS);
  assert.equal(unit.status, 0, unit.output);
});

test('the unit tests can fail: a rule with another threshold breaks them', { skip: SKIP }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'ocx-alerts-'));
  try {
    copyFileSync(TESTS, join(dir, 'alerts.test.yml'));
    writeFileSync(join(dir, 'alerts.yml'), readFileSync(RULES, 'utf8').replace('> 0.05', '> 0.5'));
    const result = spawnSync(PROMTOOL, ['test', 'rules', 'alerts.test.yml'], { cwd: dir, encoding: 'utf8' });
    assert.equal(result.status, 1, result.stdout);
    assert.match(`${result.stdout}${result.stderr}`, /GunicornHighErrorRatio/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('every alert is tested firing and quiet, and at least the alerts the README promises exist', () => {
  const alerts = rules().flatMap((rule) => (rule.alert === undefined ? [] : [rule.alert]));
  const cases = (load(readFileSync(TESTS, 'utf8')) as TestFile).tests.flatMap((t) => t.alert_rule_test ?? []);
  for (const alert of alerts) {
    const mine = cases.filter((c) => c.alertname === alert);
    assert.ok(mine.some((c) => (c.exp_alerts ?? []).length > 0), `${alert} has a firing case`);
    assert.ok(mine.some((c) => (c.exp_alerts ?? []).length === 0), `${alert} has a quiet case`);
  }
  for (const expected of ['GunicornHighErrorRatio', 'GunicornHighLatencyP99', 'GunicornWorkersRestartingTooOften', 'GunicornWorkerMissing', 'GunicornWorkerMemoryGrowth', 'OtelClusterExporterStoreDown', 'OtelClusterExporterSnapshotTooOld']) {
    assert.ok(alerts.includes(expected), expected);
  }
});

test('every metric the rules query is one the catalogue exports', () => {
  const exported = new Set(ALL_METRICS.flatMap((definition) => {
    const name = prometheusName(definition);
    return definition.kind === 'histogram' ? [`${name}_bucket`, `${name}_count`, `${name}_sum`] : [name];
  }));
  const recorded = new Set(rules().flatMap((rule) => (rule.record === undefined ? [] : [rule.record])));
  for (const rule of rules()) {
    const used = rule.expr.match(RECORDED_NAME) ?? [];
    const names = rule.expr.replace(RECORDED_NAME, '').match(/\b(?:gunicorn|otel_cluster_exporter)_[a-z0-9_]+\b/g) ?? [];
    for (const name of names) assert.ok(exported.has(name), `${rule.alert ?? rule.record}: ${name} is not exported`);
    for (const name of used) assert.ok(recorded.has(name), `${rule.alert}: ${name} is not a recording rule here`);
  }
});
