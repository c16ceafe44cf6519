#!/usr/bin/env node
// `npm run demo`: starts examples/cluster/app.js under the preload with the embedded
// store (nothing else installed), sends it some traffic, kills a worker to show that
// counters survive, and tells you where to look. Ctrl-C stops it.
// Options: --seconds N stops by itself after N seconds (used by the test suite).
'use strict';
const { spawn } = require('node:child_process');
const http = require('node:http');
const path = require('node:path');

const secondsArg = process.argv.indexOf('--seconds');
const stopAfter = secondsArg > 0 ? Number(process.argv[secondsArg + 1]) : 0;
const appPort = Number(process.env.PORT || 3000);
const metricsPort = Number(process.env.PROMETHEUS_METRICS_PORT || 9091);
const root = path.join(__dirname, '..');

const app = spawn(process.execPath, ['--require', path.join(root, 'dist', 'register.js'), path.join(__dirname, 'cluster', 'app.js')], {
  env: { ...process.env, PORT: String(appPort), PROMETHEUS_METRICS_PORT: String(metricsPort), WORKERS: process.env.WORKERS || '2' },
  stdio: ['ignore', 'inherit', 'inherit'],
});

function get(port, urlPath) {
  return new Promise((resolve) => {
    const req = http.get({ host: '127.0.0.1', port, path: urlPath, agent: false }, (res) => {
      let body = '';
      res.on('data', (c) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode, body }));
    });
    req.on('error', () => resolve({ status: 0, body: '' }));
  });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const paths = ['/', '/', '/users/42', '/users/1337', '/slow', '/error', '/users/7f3a9c2e-5b1d-4e8f-9a6b-2c4d8e1f0a3b'];
let stopping = false;

async function traffic() {
  while (!stopping) {
    await Promise.all(paths.map((p) => get(appPort, p)));
    await sleep(100);
  }
}

async function main() {
  for (let i = 0; i < 100; i++) {
    if ((await get(appPort, '/')).status === 200 && (await get(metricsPort, '/metrics')).status === 200) break;
    await sleep(100);
  }
  void traffic();
  await sleep(1500);
  const { body } = await get(metricsPort, '/metrics');
  const lines = body.split('\n').filter((l) => l.startsWith('gunicorn_worker_requests_total') || l.startsWith('gunicorn_workers '));
  console.log('\n--- a taste of the merged series ---');
  console.log(lines.slice(0, 12).join('\n'));
  console.log(`
Look here:
  http://localhost:${metricsPort}/metrics   merged gunicorn_* series of every worker (Prometheus text)
  http://localhost:${metricsPort}/healthz   liveness of the exporter
  http://localhost:${appPort}/               the demo app (try /users/123, /slow, /error)
Try: kill -9 one of the worker pids above and watch gunicorn_worker_requests_total keep climbing,
     and gunicorn_worker_restart_total{reason="sigkill"} count the death.
Ctrl-C to stop.`);
  if (stopAfter > 0) setTimeout(stop, stopAfter * 1000);
}

function stop() {
  stopping = true;
  app.kill('SIGTERM');
}
// Ctrl-C reaches the app's processes too; give them a moment to stop on their own before a SIGTERM.
process.on('SIGINT', () => {
  stopping = true;
  setTimeout(() => app.kill('SIGTERM'), 2000).unref();
});
process.on('SIGTERM', stop);
app.on('exit', (code, signal) => process.exit(signal === 'SIGTERM' || code === 0 ? 0 : code || 1));
main();
