#!/usr/bin/env node
// Regenerates the parts of README.md and examples/grafana/dashboard.json that come from the
// metric catalogue and the configuration schema: `npm run docs`. A test fails when they drift.
'use strict';
const { readFileSync, writeFileSync } = require('node:fs');
const { join } = require('node:path');
const { renderMetricTable } = require('../dist/catalogue/renderMetricTable');
const { renderConfigReference } = require('../dist/config/describeConfig');
const { grafanaDashboard } = require('../dist/catalogue/grafanaDashboard');

const root = join(__dirname, '..');

function replaceBetween(text, name, content) {
  const start = `<!-- ${name}:start -->`;
  const end = `<!-- ${name}:end -->`;
  const from = text.indexOf(start);
  const to = text.indexOf(end);
  if (from < 0 || to < from) throw new Error(`README.md lacks the ${start} ... ${end} markers`);
  return `${text.slice(0, from + start.length)}\n${content}\n${text.slice(to)}`;
}

const readmePath = join(root, 'README.md');
let readme = readFileSync(readmePath, 'utf8');
readme = replaceBetween(readme, 'metric-table', renderMetricTable());
readme = replaceBetween(readme, 'config-reference', renderConfigReference().trimEnd());
writeFileSync(readmePath, readme);
writeFileSync(join(root, 'examples', 'grafana', 'dashboard.json'), `${JSON.stringify(grafanaDashboard(), null, 2)}\n`);
console.log('README.md tables and examples/grafana/dashboard.json regenerated');
