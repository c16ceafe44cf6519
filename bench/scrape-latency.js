#!/usr/bin/env node
'use strict';
/**
 * What scrapes cost the app, side by side in ONE run: the p99 of the app's new
 * connections (connect, GET /, full answer: the cluster primary accepts each
 * one and hands it to a worker) while nobody scrapes, and while a client
 * scrapes /metrics back to back.
 *
 *   npm run bench:latency
 *   node bench/scrape-latency.js [--workers 4] [--series 9500] [--samples 400] [--rounds 2]
 *
 * Variants, each a real cluster app of `--workers` workers whose workers hold
 * `--series` label sets of an app counter:
 *   ours         node --require ./dist/register.js: the primary serves the merged
 *                view from the file store, on its exposition thread
 *   prom-client  AggregatorRegistry on the primary: each scrape asks every worker
 *                over cluster IPC and aggregates on the primary's event loop
 *
 * Prints quiet p50/p99, scraping p50/p99, scrapes done, and the p99 ratio
 * scraping / quiet (the bar: <= 3). Rounds are interleaved; medians.
 */
const cluster = require('node:cluster');
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const http = require('node:http');
const os = require('node:os');
const path = require('node:path');
const { performance } = require('node:perf_hooks');
const { arg, benchOrServer, freePort, median } = require('./support');

const ROOT = path.resolve(__dirname, '..');
const REGISTER = path.join(ROOT, 'dist', 'register.js');
const PER_COUNTER = 1900; // the OTel SDK keeps 2,000 attribute sets per instrument

// ---------------------------------------------------------------- app side
function runServer(kind) {
  const workers = Number(process.env.BENCH_WORKERS);
  const series = Number(process.env.BENCH_SERIES);
  if (cluster.isPrimary) {
    let aggregator;
    if (kind === 'prom-client') {
      const { AggregatorRegistry } = require('prom-client');
      aggregator = new AggregatorRegistry();
      http
        .createServer((req, res) => {
          aggregator.clusterMetrics().then(
            (text) => res.end(text),
            (error) => {
              res.statusCode = 500;
              res.end(String(error));
            },
          );
        })
        .listen(Number(process.env.PROMETHEUS_METRICS_PORT), '127.0.0.1');
    }
    let listening = 0;
    cluster.on('listening', () => {
      if (++listening === workers) process.send({ ready: true });
    });
    for (let i = 0; i < workers; i++) cluster.fork();
    process.on('disconnect', () => process.exit(0));
    return;
  }
  if (kind === 'prom-client') {
    const client = require('prom-client');
    new client.AggregatorRegistry(); // installs the worker's answer to the primary's requests
    const counter = new client.Counter({ name: 'app_items_total', help: 'Items.', labelNames: ['item', 'shelf'] });
    for (let i = 0; i < series; i++) counter.inc({ item: `item-${i}`, shelf: `shelf-${i % 50}` }, 1 + (i % 7));
  } else {
    const meter = require('@opentelemetry/api').metrics.getMeter('bench-app');
    for (let c = 0; c * PER_COUNTER < series; c++) {
      const counter = meter.createCounter(`app_items_${c}`, { description: 'Items.' });
      for (let i = c * PER_COUNTER; i < Math.min(series, (c + 1) * PER_COUNTER); i++) counter.add(1 + (i % 7), { item: `item-${i}`, shelf: `shelf-${i % 50}` });
    }
  }
  http.createServer((req, res) => res.end('ok\n')).listen(Number(process.env.APP_PORT), '127.0.0.1');
}

// ---------------------------------------------------------------- driver side
async function startApp(kind, options) {
  const appPort = await freePort();
  const metricsPort = await freePort();
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'scrape-latency-'));
  const child = spawn(process.execPath, [...(kind === 'ours' ? ['--require', REGISTER] : []), __filename, '--server', kind], {
    env: {
      ...process.env,
      APP_PORT: String(appPort),
      PROMETHEUS_METRICS_PORT: String(metricsPort),
      PROMETHEUS_BIND_ADDRESS: '127.0.0.1',
      PROMETHEUS_MULTIPROC_DIR: scratch,
      OTEL_CLUSTER_EXPORTER_QUIET: 'true',
      BENCH_WORKERS: String(options.workers),
      BENCH_SERIES: String(options.series),
    },
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
    detached: true,
  });
  await new Promise((resolve, reject) => {
    child.once('message', resolve);
    child.once('exit', (code) => reject(new Error(`${kind} exited with ${code}`)));
  });
  const stop = async () => {
    try {
      process.kill(-child.pid, 'SIGTERM');
    } catch {
      // gone
    }
    await new Promise((resolve) => (child.exitCode !== null ? resolve() : child.once('exit', resolve)));
    await new Promise((resolve) => setTimeout(resolve, 500));
    fs.rmSync(scratch, { recursive: true, force: true });
  };
  return { appPort, metricsPort, stop };
}

function get(port, path) {
  return new Promise((resolve, reject) => {
    http
      .get({ host: '127.0.0.1', port, path, agent: false }, (res) => {
        let bytes = 0;
        let text = '';
        res.on('data', (chunk) => {
          bytes += chunk.length;
          if (res.statusCode !== 200) text += chunk;
        });
        res.on('end', () => (res.statusCode === 200 ? resolve(bytes) : reject(new Error(`HTTP ${res.statusCode} on ${port}${path}: ${text.slice(0, 300)}`))));
      })
      .on('error', reject);
  });
}

async function latencies(port, samples) {
  const values = [];
  for (let i = 0; i < samples; i++) {
    const started = performance.now();
    await get(port, '/');
    values.push(performance.now() - started);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  return values;
}

function percentile(values, p) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))];
}

/** Scrapes /metrics back to back until told to stop; reports how many succeeded and failed. */
const SCRAPER = `
const http = require('node:http');
const port = Number(process.argv[1]);
let running = true, scrapes = 0, failed = 0;
process.on('message', () => (running = false));
const once = () => new Promise((resolve) => {
  http.get({ host: '127.0.0.1', port, path: '/metrics', agent: false }, (res) => {
    res.resume();
    res.on('end', () => resolve(res.statusCode === 200));
  }).on('error', () => resolve(false));
});
(async () => {
  process.send('started');
  while (running) {
    // prom-client fails a whole scrape when a worker misses its 5 s IPC deadline: count it, go on.
    if (await once()) scrapes++; else failed++;
  }
  process.send({ scrapes, failed }, () => process.exit(0));
})();
`;

async function measure(kind, options) {
  const app = await startApp(kind, options);
  try {
    // Until the view holds every worker's series (ours: the first flushes landed).
    let bytes = 0;
    const deadline = Date.now() + 60_000;
    while (Date.now() < deadline) {
      bytes = await get(app.metricsPort, '/metrics').catch(() => 0);
      if (bytes > options.workers * options.series * 40) break;
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
    await latencies(app.appPort, 50); // warm-up
    const quiet = await latencies(app.appPort, options.samples);
    // The scraper is a process of its own: reading megabytes must not delay this loop's timings.
    const scraper = spawn(process.execPath, ['-e', SCRAPER, String(app.metricsPort)], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
    await new Promise((resolve) => scraper.once('message', resolve));
    const busy = await latencies(app.appPort, options.samples);
    const { scrapes, failed } = await new Promise((resolve) => {
      scraper.once('message', resolve);
      scraper.send('stop');
    });
    return { bytes, quiet, busy, scrapes, failed };
  } finally {
    await app.stop();
  }
}

async function main() {
  const options = {
    workers: Number(arg('workers', '4')),
    series: Number(arg('series', '9500')),
    samples: Number(arg('samples', '400')),
  };
  const rounds = Number(arg('rounds', '2'));
  const kinds = ['ours', 'prom-client'];
  const results = Object.fromEntries(kinds.map((kind) => [kind, []]));
  for (let round = 0; round < rounds; round++) {
    for (const kind of kinds) results[kind].push(await measure(kind, options));
  }
  console.log(`app new-connection latency, ${options.workers} workers x ${options.series} series, ${options.samples} samples per phase, median of ${rounds} rounds`);
  console.log(`(machine: ${os.cpus().length} cores, shared; node ${process.version})`);
  for (const kind of kinds) {
    const r = results[kind];
    const m = (f) => median(r.map(f));
    const quiet99 = m((x) => percentile(x.quiet, 0.99));
    const busy99 = m((x) => percentile(x.busy, 0.99));
    console.log(
      `  ${kind.padEnd(12)} view ${(m((x) => x.bytes) / 1e6).toFixed(1)} MB | quiet p50 ${m((x) => percentile(x.quiet, 0.5)).toFixed(2)} p99 ${quiet99.toFixed(2)} ms` +
        ` | back-to-back scrapes (${m((x) => x.scrapes)} ok, ${m((x) => x.failed)} failed) p50 ${m((x) => percentile(x.busy, 0.5)).toFixed(2)} p99 ${busy99.toFixed(2)} ms | p99 ratio ${(busy99 / quiet99).toFixed(2)}`,
    );
  }
}

benchOrServer(runServer, main);
