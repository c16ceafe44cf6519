'use strict';
// Start-up cost of the preload, which every worker pays: `node --require register -e …`
// against plain `node -e …`, runs interleaved so both see the same machine load. Reports the
// median wall time and the median CPU time (user + system) of the whole child process: CPU
// time is what a loaded machine distorts least.
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
// The child reports its own CPU time as it exits.
const SCRIPT = "process.on('exit', () => { const u = process.cpuUsage(); process.stdout.write(String((u.user + u.system) / 1000)); })";
const variants = { 'plain node': { args: ['-e', SCRIPT], env } };
for (const [name, root] of Object.entries(builds)) {
  const register = join(root, 'dist', 'register.js');
  variants[`${name}: preload, environment only`] = { args: ['--require', register, '-e', SCRIPT], env };
  variants[`${name}: preload, YAML file`] = { args: ['--require', register, '-e', SCRIPT], env: { ...env, OTEL_CLUSTER_EXPORTER_CONFIG: configFile } };
}

const times = Object.fromEntries(Object.keys(variants).map((k) => [k, []]));
const cpu = Object.fromEntries(Object.keys(variants).map((k) => [k, []]));
for (let i = 0; i < RUNS; i++) {
  for (const [name, v] of Object.entries(variants)) {
    const t = process.hrtime.bigint();
    const r = spawnSync(process.execPath, v.args, { env: v.env, encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`${name} exited ${r.status}: ${r.stderr}`);
    times[name].push(Number(process.hrtime.bigint() - t) / 1e6);
    cpu[name].push(Number(r.stdout));
  }
}
rmSync(work, { recursive: true, force: true });
const plainWall = median(times['plain node']);
const plainCpu = median(cpu['plain node']);
console.log(`node ${process.version}, ${RUNS} runs each, interleaved; medians over the whole child process`);
console.log(`${'variant'.padEnd(40)} ${'wall ms'.padStart(8)} ${'(added)'.padStart(9)} ${'CPU ms'.padStart(8)} ${'(added)'.padStart(9)}`);
for (const name of Object.keys(variants)) {
  const wall = median(times[name]);
  const used = median(cpu[name]);
  const added = (x) => `+${x.toFixed(1)}`.padStart(9);
  console.log(`${name.padEnd(40)} ${wall.toFixed(1).padStart(8)} ${added(wall - plainWall)} ${used.toFixed(1).padStart(8)} ${added(used - plainCpu)}`);
}
