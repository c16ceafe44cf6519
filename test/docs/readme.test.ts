/**
 * The README's metric table and configuration reference, and the shipped
 * Grafana dashboard, are generated from the catalogue and the schema; these
 * tests fail when someone edits one side only. `npm run docs` regenerates.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ALL_METRICS, prometheusName } from '../../src/catalogue/MetricCatalogue';
import { renderMetricTable } from '../../src/catalogue/renderMetricTable';
import { grafanaDashboard } from '../../src/catalogue/grafanaDashboard';
import { renderConfigReference } from '../../src/config/describeConfig';
import { CONFIG_KEYS } from '../../src/config/schema';

const ROOT = join(__dirname, '..', '..', '..');
const README = readFileSync(join(ROOT, 'README.md'), 'utf8');

function between(name: string): string {
  const start = `<!-- ${name}:start -->`;
  const end = `<!-- ${name}:end -->`;
  const from = README.indexOf(start);
  const to = README.indexOf(end);
  assert.ok(from >= 0 && to > from, `README.md has the ${name} markers`);
  return README.slice(from + start.length, to).trim();
}

test('the README metric table is the catalogue, and names every metric', () => {
  assert.equal(between('metric-table'), renderMetricTable().trim(), 'run `npm run docs`');
  for (const metric of ALL_METRICS) assert.ok(README.includes(`\`${prometheusName(metric)}\``), prometheusName(metric));
});

test('the README configuration reference is the schema, with every key and variable', () => {
  const reference = between('config-reference');
  assert.equal(reference, renderConfigReference().trim(), 'run `npm run docs`');
  for (const key of CONFIG_KEYS) {
    assert.ok(reference.includes(`\`${key.path}\``), key.path);
    for (const env of key.env) {
      const name = typeof env === 'string' ? env : env.name;
      assert.ok(reference.includes(`\`${name}\``), name);
    }
  }
});

test('the shipped Grafana dashboard is the generated one', () => {
  const shipped = JSON.parse(readFileSync(join(ROOT, 'examples', 'grafana', 'dashboard.json'), 'utf8')) as unknown;
  assert.deepEqual(shipped, grafanaDashboard(), 'run `npm run docs`');
});

test('the README gives the demo and test commands that CI and new users run', () => {
  assert.match(README, /npm run demo/);
  assert.match(README, /npm test/);
  const ci = readFileSync(join(ROOT, '.ci', 'run'), 'utf8');
  assert.match(ci, /npm test/);
});
