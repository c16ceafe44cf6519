'use strict';
// Start-up cost of the preload, which every worker pays: `node --require register -e 0`
// against plain `node -e 0`, runs interleaved so both see the same machine load.
//
//   npm run bench:startup                         this tree's dist/
//   node bench/preload-startup.js --runs 41 --compare /other/checkout   also another build, side by side
const { spawnSync } = require('node:child_process');
const { mkdtempSync, rmSync, writeFileSync } = require('node:fs');
const { tmpdir } = require('node:os');
const { join, resolve } = require('node:path');
const { arg, median } = require('./support');

const RUNS = Number(arg('runs', '31'));
const compare = arg('compare', undefined);
const work = mkdtempSync(join(tmpdir(), 'oce-startup-'));
const configFile = join(work, 'exporter.yml');
writeFileSync(configFile, 'exporter:\n  prometheus: { metrics_port: 0, bind_address: 127.0.0.1 }\n  metrics: { flush_interval_ms: 500 }\n  otel: { service_name: bench }\n');

const env = { PATH: process.env.PATH ?? '', PROMETHEUS_METRICS_PORT: '0', PROMETHEUS_BIND_ADDRESS: '127.0.0.1', PROMETHEUS_MULTIPROC_DIR: join(work, 'store') };
const builds = { this: resolve(__dirname, '..'), ...(compare !== undefined ? { compare: resolve(compare) } : {}) };
const variants = { 'plain node': { args: ['-e', '0'], env } };
for (const [name, root] of Object.entries(builds)) {
  const register = join(root, 'dist', 'register.js');
  variants[`${name}: preload, environment only`] = { args: ['--require', register, '-e', '0'], env };
  variants[`${name}: preload, YAML file`] = { args: ['--require', register, '-e', '0'], env: { ...env, OTEL_CLUSTER_EXPORTER_CONFIG: configFile } };
}

const times = Object.fromEntries(Object.keys(variants).map((k) => [k, []]));
for (let i = 0; i < RUNS; i++) {
  for (const [name, v] of Object.entries(variants)) {
    const t = process.hrtime.bigint();
    const r = spawnSync(process.execPath, v.args, { env: v.env, encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`${name} exited ${r.status}: ${r.stderr}`);
    times[name].push(Number(process.hrtime.bigint() - t) / 1e6);
  }
}
rmSync(work, { recursive: true, force: true });
const plain = median(times['plain node']);
console.log(`node ${process.version}, ${RUNS} runs each, interleaved; median wall time of the whole process`);
for (const [name, list] of Object.entries(times)) {
  const m = median(list);
  console.log(`${name.padEnd(40)} ${m.toFixed(1).padStart(7)} ms   +${(m - plain).toFixed(1)} ms over plain node`);
}
