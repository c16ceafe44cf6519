#!/usr/bin/env node
'use strict';
/**
 * Per-request cost of HTTP recording, side by side in ONE run.
 *
 *   npm run bench:http                  (builds dist/, then runs this file)
 *   node bench/http-hot-path.js [--duration 8] [--warmup 2] [--connections 50] [--rounds 3] [--only plain,ours]
 *
 * Defaults: --duration 8 (seconds measured per variant per round), --warmup 2
 * (seconds of load discarded before each measurement), --connections 50
 * (autocannon keep-alive connections, pipelining 1), --rounds 3 (variants are
 * interleaved round by round so drift hits them all alike).
 *
 * Every variant is the same hello-world `http` server (`res.end('hello world')`)
 * in its own child process; autocannon runs in this process on the same machine.
 * Variants:
 *   plain          node:http, nothing else
 *   ours           dist/worker: HttpInstrumentation + RouteNormaliser + RequestAccumulator,
 *                  HttpMetricProducer collected every second (as a worker's reader does)
 *   ours-register  node --require ./dist/register.js (the whole package), if dist/register.js exists
 *   prom-client    Counter + Histogram (method, route, status) updated on res 'finish'
 *                  (what express-prom-bundle does)
 *   otel-sdk       @opentelemetry/sdk-metrics Counter + Histogram recorded from diagnostics_channel
 *   express-plain  an Express 5 app (router mounted at /api, GET /api/users/:id), nothing else
 *   express-register  the same Express app under --require ./dist/register.js (route hooks installed)
 *   ours-compare, express-compare  with --compare <dist/register.js of another build>: the two
 *                  register variants again under that build, in the same run (before/after)
 *
 * The Express pair is loaded at /api/users/42 and compared with each other
 * (express-register / express-plain), the rest at / and compared with plain.
 *   plain-traced   node:http with a real tracing setup (@opentelemetry/sdk-trace tracer provider,
 *                  sampling every trace, no exporter, AsyncLocalStorage context manager and
 *                  @opentelemetry/instrumentation-http)
 *   ours-traced    ours under the same tracing setup: every request's duration becomes an exemplar
 *                  (compare with plain-traced for the cost of recording plus exemplars)
 *
 * Prints req/s per round and, per variant, the mean and median req/s and their
 * ratio to plain `http`. The load generator shares the machine, so throughput
 * also moves with anything else running; the server child's CPU time per
 * request (user + system, measured over the same window) is printed too, as a
 * second figure that other load disturbs much less. Exits 0.
 */
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { arg, ask, benchOrServer, mean, median, spawnServer } = require('./support');
const { expressApp } = require('./apps/express-app');
const { otelSdkInstruments, promClientInstruments } = require('./apps/competitor-instruments');

const ROOT = path.resolve(__dirname, '..');
const DIST = path.join(ROOT, 'dist');
// --compare <register.js of another build> adds ours-compare and express-compare, measured in the same run.
const COMPARE = arg('compare', undefined);

// ---------------------------------------------------------------- server side
benchOrServer(runServer, main);

function helloHandler(_req, res) {
  res.end('hello world');
}

function endpointOf(url) {
  const q = url.indexOf('?');
  return q === -1 ? url : url.slice(0, q);
}

/** The tracing setup an app loads with a second --require (test/support/apps/tracing.js does the same). */
function startTracing() {
  const { context, trace } = require('@opentelemetry/api');
  const { AsyncLocalStorageContextManager } = require('@opentelemetry/context-async-hooks');
  const { TracerProvider } = require('@opentelemetry/sdk-trace');
  const { HttpInstrumentation } = require('@opentelemetry/instrumentation-http');
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  trace.setGlobalTracerProvider(new TracerProvider());
  new HttpInstrumentation();
}

function runServer(variant) {
  const traced = variant.endsWith('-traced');
  // Before node:http is loaded, as a --require would be.
  if (traced) startTracing();
  const kind = traced ? variant.slice(0, -'-traced'.length) : variant;
  const http = require('node:http');
  const setups = {
    plain() {},
    'ours-register'() {},
    'express-plain': expressApp,
    'express-register': expressApp,
    'ours-compare'() {},
    'express-compare': expressApp,
    ours() {
      const { DEFAULT_DURATION_BUCKETS, DEFAULT_SIZE_BUCKETS } = require(path.join(DIST, 'catalogue/MetricCatalogue.js'));
      const { RequestAccumulator } = require(path.join(DIST, 'worker/RequestAccumulator.js'));
      const { RouteNormaliser } = require(path.join(DIST, 'worker/RouteNormaliser.js'));
      const { HttpInstrumentation } = require(path.join(DIST, 'worker/HttpInstrumentation.js'));
      const { HttpMetricProducer } = require(path.join(DIST, 'worker/HttpMetricProducer.js'));
      const accumulator = new RequestAccumulator({ durationBuckets: DEFAULT_DURATION_BUCKETS, sizeBuckets: DEFAULT_SIZE_BUCKETS });
      const instrumentation = new HttpInstrumentation({ accumulator, normaliser: new RouteNormaliser({ maxEndpoints: 1000 }) });
      instrumentation.enable();
      const producer = new HttpMetricProducer(instrumentation);
      setInterval(() => void producer.collect(), 1000).unref();
    },
    'prom-client'() {
      const instruments = promClientInstruments();
      const inner = helloHandler;
      return (req, res) => {
        const start = performance.now();
        res.on('finish', () => instruments.record(req.method, endpointOf(req.url), res.statusCode, (performance.now() - start) / 1000));
        inner(req, res);
      };
    },
    'otel-sdk'() {
      const dc = require('node:diagnostics_channel');
      const instruments = otelSdkInstruments();
      const kStart = Symbol('start');
      dc.subscribe('http.server.request.start', ({ request }) => {
        request[kStart] = performance.now();
      });
      dc.subscribe('http.server.response.finish', ({ request, response }) => {
        instruments.record(request.method, endpointOf(request.url), response.statusCode, (performance.now() - request[kStart]) / 1000);
      });
    },
  };
  const setup = setups[kind];
  if (setup === undefined) throw new Error(`unknown variant ${kind}`);
  const handler = setup() ?? helloHandler;
  const server = http.createServer(handler);
  server.listen(0, '127.0.0.1', () => {
    process.send({ port: server.address().port });
  });
  let cpuStart;
  process.on('message', (message) => {
    if (message === 'cpu-start') {
      cpuStart = process.cpuUsage();
      process.send({ cpuStarted: true });
    } else if (message === 'cpu-stop') {
      const used = process.cpuUsage(cpuStart);
      process.send({ cpuMicros: used.user + used.system });
    }
  });
  process.on('disconnect', () => process.exit(0));
}

// ---------------------------------------------------------------- driver side
function variants() {
  const all = ['plain', 'ours'];
  if (fs.existsSync(path.join(DIST, 'register.js'))) all.push('ours-register');
  all.push('prom-client', 'otel-sdk', 'express-plain', 'plain-traced', 'ours-traced');
  if (fs.existsSync(path.join(DIST, 'register.js'))) all.push('express-register');
  if (COMPARE !== undefined) all.splice(all.indexOf('ours-register') + 1, 0, 'ours-compare');
  if (COMPARE !== undefined) all.push('express-compare');
  const only = arg('only', undefined);
  return only === undefined ? all : all.filter((v) => only.split(',').includes(v));
}

function startServer(kind, scratch) {
  const preload = kind.endsWith('-register') ? path.join(DIST, 'register.js') : kind.endsWith('-compare') ? path.resolve(COMPARE) : undefined;
  const execArgv = preload === undefined ? [] : ['--require', preload];
  return spawnServer(kind, process.execPath, [...execArgv, __filename, '--server', kind], {
    cwd: scratch,
    // The register variant writes its store into a private directory and serves
    // nothing on a fixed port that a previous child may still hold.
    env: { ...process.env, PROMETHEUS_MULTIPROC_DIR: scratch, NODE_ENV: 'production' },
  });
}

function load(port, seconds, connections, urlPath) {
  const autocannon = require('autocannon');
  return new Promise((resolve, reject) => {
    autocannon({ url: `http://127.0.0.1:${port}${urlPath}`, connections, duration: seconds, pipelining: 1 }, (error, result) => {
      if (error) reject(error);
      else resolve(result);
    });
  });
}

async function stop(child) {
  if (child.exitCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.disconnect();
  const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
  await exited;
  clearTimeout(timer);
}

async function measure(kind, options) {
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), `bench-http-${kind}-`));
  try {
    const { child, port } = await startServer(kind, scratch);
    try {
      const urlPath = kind.startsWith('express') ? '/api/users/42' : '/';
      if (options.warmup > 0) await load(port, options.warmup, options.connections, urlPath);
      await ask(child, 'cpu-start', 'cpuStarted');
      const result = await load(port, options.duration, options.connections, urlPath);
      const cpuMicros = await ask(child, 'cpu-stop', 'cpuMicros');
      if (result.non2xx > 0 || result.errors > 0) {
        console.log(`  ${kind}: ${result.non2xx} non-2xx, ${result.errors} errors`);
      }
      return { rps: result.requests.average, cpuPerRequest: cpuMicros / Math.max(1, result.requests.total) };
    } finally {
      await stop(child);
    }
  } finally {
    fs.rmSync(scratch, { recursive: true, force: true });
  }
}

async function main() {
  if (!fs.existsSync(path.join(DIST, 'worker', 'HttpInstrumentation.js'))) {
    console.error('dist/ is missing: run `npx tsc -p tsconfig.json` (or `npm run bench:http`) first');
    process.exitCode = 1;
    return;
  }
  const options = {
    duration: Number(arg('duration', '8')),
    warmup: Number(arg('warmup', '2')),
    connections: Number(arg('connections', '50')),
    rounds: Number(arg('rounds', '3')),
  };
  const kinds = variants();
  console.log(
    `hello-world http, ${options.connections} connections, ${options.duration}s measured after ${options.warmup}s warm-up, ` +
      `${options.rounds} interleaved rounds, node ${process.version}, ${os.cpus().length} cpus`,
  );
  const results = new Map(kinds.map((k) => [k, []]));
  for (let round = 1; round <= options.rounds; round++) {
    for (const kind of kinds) {
      try {
        const measured = await measure(kind, options);
        results.get(kind).push(measured);
        console.log(
          `round ${round}  ${kind.padEnd(14)} ${Math.round(measured.rps).toString().padStart(7)} req/s  ` +
            `${measured.cpuPerRequest.toFixed(2).padStart(6)} us server CPU/request`,
        );
      } catch (error) {
        console.log(`round ${round}  ${kind.padEnd(14)} FAILED: ${String(error.message).split('\n').slice(0, 3).join(' | ')}`);
      }
    }
  }
  const summary = (kind) => {
    const xs = results.get(kind) ?? [];
    if (xs.length === 0) return undefined;
    const rps = xs.map((x) => x.rps);
    return { mean: mean(rps), median: median(rps), cpu: mean(xs.map((x) => x.cpuPerRequest)) };
  };
  const expressBase = summary('express-plain');
  const ratio = (a, b) => (b > 0 ? (a / b).toFixed(3) : 'n/a');
  console.log('\nvariant          mean req/s  ratio   median req/s  ratio   server CPU us/req  plain/variant');
  for (const kind of kinds) {
    const s = summary(kind);
    // Express variants are compared with the same Express app without the preload.
    const plain = kind.startsWith('express') ? expressBase : summary('plain');
    if (s === undefined || plain === undefined) {
      console.log(`${kind.padEnd(16)} (no result)`);
      continue;
    }
    console.log(
      `${kind.padEnd(16)} ${Math.round(s.mean).toString().padStart(10)}  ${ratio(s.mean, plain.mean)}   ` +
        `${Math.round(s.median).toString().padStart(12)}  ${ratio(s.median, plain.median)}   ` +
        `${s.cpu.toFixed(2).padStart(17)}  ${ratio(plain.cpu, s.cpu)}`,
    );
  }
  // With tracing on, the fair baseline is the traced app without this package.
  const tracedPlain = summary('plain-traced');
  const tracedOurs = summary('ours-traced');
  if (tracedPlain !== undefined && tracedOurs !== undefined) {
    console.log(
      `\nwith tracing: ours-traced / plain-traced  mean ${ratio(tracedOurs.mean, tracedPlain.mean)}  median ${ratio(tracedOurs.median, tracedPlain.median)}  ` +
        `server CPU ${(tracedOurs.cpu - tracedPlain.cpu).toFixed(2)} us/req more (recording + exemplars)`,
    );
  }
}
