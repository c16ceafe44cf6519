#!/usr/bin/env node
// `npm run example:run`: starts examples/run/app.js under `otel-cluster-exporter run`, drives it
// through a max_requests recycle, a HUP reload and a hung worker under keep-alive load, and prints
// what the merged metrics say about every restart. Then it keeps running until Ctrl-C (set
// EXAMPLE_ONCE=1 to stop after the report). PORT and PROMETHEUS_METRICS_PORT override 3000 / 9091.
'use strict';
const { spawn } = require('node:child_process');
const http = require('node:http');
const path = require('node:path');

const ROOT = path.resolve(__dirname, '..', '..');
const port = Number(process.env.PORT || 3000);
const metricsPort = Number(process.env.PROMETHEUS_METRICS_PORT || 9091);
const once = process.env.EXAMPLE_ONCE === '1';

const master = spawn(
  process.execPath,
  [path.join(ROOT, 'dist', 'cli', 'main.js'), 'run', '-c', path.join(__dirname, 'exporter.yml'), path.join(__dirname, 'app.js')],
  { env: { ...process.env, PORT: String(port), PROMETHEUS_METRICS_PORT: String(metricsPort) }, stdio: 'inherit' },
);
master.on('exit', (code) => process.exit(code ?? 0));

const agent = new http.Agent({ keepAlive: true, maxSockets: 8 });
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
function get(p, targetPort = port, withAgent = agent) {
  return new Promise((resolve) => {
    http
      .get({ host: '127.0.0.1', port: targetPort, path: p, agent: withAgent }, (res) => {
        let body = '';
        res.on('data', (chunk) => (body += chunk));
        res.on('end', () => resolve({ ok: res.statusCode === 200, body }));
      })
      .on('error', (error) => resolve({ ok: false, body: String(error) }));
  });
}
async function load(count) {
  let failed = 0;
  let next = 0;
  await Promise.all(
    Array.from({ length: 8 }, async () => {
      while (next++ < count) if (!(await get('/')).ok) failed++;
    }),
  );
  return failed;
}

async function main() {
  while (!(await get('/', port, false)).ok) await sleep(100);
  console.log(`\napp on http://127.0.0.1:${port}, merged metrics on http://127.0.0.1:${metricsPort}/metrics, master pid ${master.pid}`);
  let failed = await load(1500); // ~5 max_requests recycles
  master.kill('SIGHUP'); // rolling reload while the load goes on
  failed += await load(1500);
  console.log(`3000 keep-alive requests through recycling and a HUP reload: ${failed} failed`);
  // Let the reload finish first: a worker it retires while hung would be counted as a hup, not a timeout.
  for (let waited = 0; waited < 20000; waited += 100) {
    if (/gunicorn_master_worker_restart_total\{reason="hup"\} 2\b/.test((await get('/metrics', metricsPort, false)).body)) break;
    await sleep(100);
  }
  console.log((await get('/hang', port, false)).body.trim());
  // The watchdog kills it within `timeout` (3 s) of the hang; wait until the metrics show it.
  let text = '';
  for (let waited = 0; waited < 15000 && !text.includes('reason="timeout"'); waited += 250) {
    await sleep(250);
    text = (await get('/metrics', metricsPort, false)).body;
  }
  console.log('\nwhat the metrics say:');
  for (const line of text.split('\n')) {
    if (/^gunicorn_(worker_restart_total|workers|workers_desired) /.test(line) || /^gunicorn_worker_restart_total\{/.test(line)) console.log(`  ${line}`);
  }
  const total = text.split('\n').filter((l) => l.startsWith('gunicorn_worker_requests_total{')).reduce((sum, l) => sum + Number(l.split(' ').pop()), 0);
  console.log(`  requests counted: ${total} (sent: 3002, the readiness probe included)`);
  agent.destroy();
  if (once) {
    master.kill('SIGTERM');
    return;
  }
  console.log(`\ntry: kill -HUP ${master.pid} (reload), kill -TTIN ${master.pid} / kill -TTOU ${master.pid} (one worker more/fewer),`);
  console.log(`     curl 127.0.0.1:${port}/hang (a hung worker), curl 127.0.0.1:${port}/crash; Ctrl-C stops gracefully`);
}

process.on('SIGINT', () => master.kill('SIGINT'));
main().catch((error) => {
  console.error(error);
  master.kill('SIGTERM');
});
