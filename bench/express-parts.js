#!/usr/bin/env node
'use strict';
/**
 * Where an Express request's extra CPU under the preload goes: the Express
 * app of bench/http-hot-path.js in several long-lived servers at once, each
 * loaded in turn for a few seconds, cycle after cycle, in ONE run.
 *
 *   npm run build && node bench/express-parts.js [--cycles 8] [--seconds 3] [--connections 50] [--replicas 1] [--together] [--detail] [--only a,b] [--compare <register.js or preload file>[,...]]
 *
 * bench/http-hot-path.js starts a new server for every measurement. On a
 * shared 2-core machine one Express server process differs from the next by
 * several per cent (its JIT's choices), as much as the gap this bench looks
 * into. Here every variant keeps its server for the whole run and is
 * measured `--cycles` times between the others, so drift hits all alike and
 * each figure is a mean over many windows of one process. Where `taskset`
 * exists, the servers (and their V8 threads) share CPU 0 and this process,
 * the load generator, keeps to the other CPUs.
 *
 * Variants (each ratio is to the first one of its pair):
 *   plain            the Express app, nothing else
 *   modules          the Express app with every module of the package loaded, nothing started
 *   register         the Express app under --require dist/register.js (a single process: recording,
 *                    route hooks, and the exposition thread serving the merged view)
 *   register-no-runtime  register with the runtime metrics off (OTEL_CLUSTER_EXPORTER_RUNTIME_METRICS=false):
 *                    no event-loop monitor, no GC observer
 *   register-flush-1s    register persisting its snapshot every second (OTEL_CLUSTER_EXPORTER_FLUSH_INTERVAL_MS=1000)
 *                    instead of every 500 ms: what the flush costs a request
 *   register-excluded    register with the bench's route excluded (OTEL_CLUSTER_EXPORTER_EXCLUDE_PATHS=/api/**):
 *                    the request-start hook and the route hook still run, nothing is recorded
 *   register-compare     with --compare <dist/register.js of another build>: register under that build
 *                    (before/after in one run); --compare a,b,... adds one variant per file, each named
 *                    compare-<the directory above its dist/> (compare-C for /tmp/abl/C/dist/register.js).
 *                    Any other preload file, alone or not, is compare-<its name> (compare-mechanism-only
 *                    for bench/apps/mechanism-only.js; bench/apps/recording-only.js and
 *                    bench/apps/recording-and-schema.js are the others kept here)
 *   prom-client      the Express app with a prom-client metrics middleware (Counter + Histogram by method,
 *                    route template and status on 'finish', as express-prom-bundle records): the competitor
 *   otel-sdk         the same middleware recording into @opentelemetry/sdk-metrics instruments, collected
 *                    every second: what an OpenTelemetry user writes today without the preload
 *   worker-plain     a cluster of one worker running the Express app (the worker's CPU is measured)
 *   worker-register  the same cluster under the preload: what a cluster worker pays per request
 *
 * With --replicas K every variant runs in K server processes (measured in turn like the rest):
 * one process's JIT luck then no longer stands for its variant, and the per-process means show
 * how far processes of one variant differ.
 *
 * With --together every server of a cycle is loaded at the same time instead of in turn. They
 * share CPU 0, so whatever slows the machine in a window (other tenants of a VM move plain
 * Express by up to 2x between windows) slows every variant in that window alike, and the
 * per-cycle ratio compares like with like. Each server then gets a share of the CPU, so its
 * absolute figures are not those of a server alone; the ratio is the figure to read.
 *
 * With --together, work a server does on a clock rather than per request (the preload's
 * flush every 500 ms, its runtime-metric timers) weighs K times its share at full load, K being the
 * number of servers: each server gets about 1/K of the CPU, so serves about 1/K of the requests in
 * the same time while its clock-driven work stays the same. Loaded in turn (the default), every
 * server runs at full load and such work weighs what it weighs in a saturated production process.
 *
 * Prints per variant the mean and median server CPU time per request (user +
 * system, of the one process that serves), the ratio baseline/variant, and
 * the ratio cycle by cycle (baseline's windows over the variant's in the same
 * cycle): its median and its middle half (25th-75th percentile), which say how
 * far the figure can be trusted. Exits 0.
 */
const { spawnSync } = require('node:child_process');
const cluster = require('node:cluster');
const fs = require('node:fs');
const http = require('node:http');
const os = require('node:os');
const path = require('node:path');
const { arg, ask, mean, median, quantile, spawnServer, waitExit } = require('./support');
const { expressApp } = require('./apps/express-app');
const { metricsMiddleware } = require('./apps/express-metrics-middleware');

const ROOT = path.resolve(__dirname, '..');
const DIST = path.join(ROOT, 'dist');
const ROUTE = '/api/users/42';
// --compare <register.js of another build> adds register-compare: that build's single process, in the same run.
// Several files, comma-separated, add one variant each (ablations side by side in one run).
const COMPARE = arg('compare', undefined);
const COMPARED = compareVariants(COMPARE);

/** Each variant: how its server starts, and which variant it is compared with. */
const VARIANTS = {
  plain: { preload: [], clustered: false, baseline: 'plain' },
  modules: { preload: [path.join(__dirname, 'apps', 'load-modules.js')], clustered: false, baseline: 'plain' },
  register: { preload: [path.join(DIST, 'register.js')], clustered: false, baseline: 'plain' },
  'register-no-runtime': { preload: [path.join(DIST, 'register.js')], clustered: false, baseline: 'plain', env: { OTEL_CLUSTER_EXPORTER_RUNTIME_METRICS: 'false' } },
  'register-flush-1s': { preload: [path.join(DIST, 'register.js')], clustered: false, baseline: 'plain', env: { OTEL_CLUSTER_EXPORTER_FLUSH_INTERVAL_MS: '1000' } },
  'register-excluded': { preload: [path.join(DIST, 'register.js')], clustered: false, baseline: 'plain', env: { OTEL_CLUSTER_EXPORTER_EXCLUDE_PATHS: '/api/**' } },
  ...COMPARED,
  'prom-client': { preload: [], clustered: false, baseline: 'plain', app: 'prom-client' },
  'otel-sdk': { preload: [], clustered: false, baseline: 'plain', app: 'otel-sdk' },
  'worker-plain': { preload: [], clustered: true, baseline: 'worker-plain' },
  'worker-register': { preload: [path.join(DIST, 'register.js')], clustered: true, baseline: 'worker-plain' },
};

if (process.argv.includes('--server')) runServer(process.argv.includes('--clustered'));
else
  main().catch((error) => {
    console.error(error);
    process.exitCode = 1;
  });

/** The variants --compare adds: register-compare for one file, compare-<build> for each of several. */
function compareVariants(list) {
  if (list === undefined) return {};
  const files = list.split(',').filter((file) => file !== '');
  const isBuild = (file) => path.basename(file) === 'register.js';
  // A build's register.js is named for the directory above its dist/ (one build alone is
  // register-compare, as before); any other preload file always for itself.
  const nameOf = (file) => {
    if (!isBuild(file)) return `compare-${path.basename(file, '.js')}`;
    return files.length === 1 ? 'register-compare' : `compare-${path.basename(path.dirname(path.dirname(path.resolve(file))))}`;
  };
  const variants = {};
  for (const file of files) {
    const name = nameOf(file);
    if (variants[name] !== undefined) throw new Error(`--compare: two files give the variant name ${name}; rename one of the files, or the directory above its dist/`);
    variants[name] = { preload: [path.resolve(file)], clustered: false, baseline: 'plain' };
  }
  return variants;
}

// ---------------------------------------------------------------- server side
/** Answer the driver's CPU questions with this process's resource usage. */
function answerCpuQuestions(send) {
  let startUsage;
  return (message) => {
    if (message === 'cpu-start') {
      startUsage = process.resourceUsage();
      send({ cpuStarted: true });
    } else if (message === 'cpu-stop') {
      const usage = process.resourceUsage();
      const since = (field) => usage[field] - startUsage[field];
      send({
        usage: {
          cpuMicros: since('userCPUTime') + since('systemCPUTime'),
          systemMicros: since('systemCPUTime'),
          minorFaults: since('minorPageFault'),
          contextSwitches: since('voluntaryContextSwitches') + since('involuntaryContextSwitches'),
        },
      });
    }
  };
}

function runServer(clustered) {
  if (clustered && cluster.isPrimary) {
    // The primary only relays: the worker serves, and its CPU is what is measured.
    const worker = cluster.fork();
    worker.on('message', (message) => process.send(message));
    // A worker that dies takes the primary with it, so the driver sees the exit instead of waiting.
    worker.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
    process.on('message', (message) => worker.send(message));
    process.on('disconnect', () => {
      worker.kill();
      process.exit(0);
    });
    return;
  }
  const server = http.createServer(expressApp({ before: metricsMiddleware(arg('app', undefined)) }));
  server.listen(0, '127.0.0.1', () => process.send({ port: server.address().port }));
  process.on(
    'message',
    answerCpuQuestions((message) => process.send(message)),
  );
  process.on('disconnect', () => process.exit(0));
}

// ---------------------------------------------------------------- driver side
function hasTaskset() {
  return os.cpus().length >= 2 && spawnSync('taskset', ['--version']).status === 0;
}

async function startServer(name, replica, pinned, scratch) {
  const variant = VARIANTS[name];
  const nodeArgs = [
    ...variant.preload.flatMap((file) => ['--require', file]),
    __filename,
    '--server',
    ...(variant.clustered ? ['--clustered'] : []),
    ...(variant.app ? ['--app', variant.app] : []),
  ];
  const [command, args] = pinned ? ['taskset', ['-c', '0', process.execPath, ...nodeArgs]] : [process.execPath, nodeArgs];
  // A private store directory and an ephemeral metrics port: the servers run side by side.
  const env = { ...process.env, PROMETHEUS_MULTIPROC_DIR: scratch, PROMETHEUS_METRICS_PORT: '0', NODE_ENV: 'production', ...variant.env };
  const label = `${name}#${replica}`;
  const { child, port } = await spawnServer(label, command, args, { cwd: scratch, env });
  // windows: per measurement window, the server's usage per request (see measureOnce).
  return { name, label, child, port, windows: [] };
}

function load(port, seconds, connections) {
  const autocannon = require('autocannon');
  return new Promise((resolve, reject) => {
    autocannon({ url: `http://127.0.0.1:${port}${ROUTE}`, connections, duration: seconds, pipelining: 1 }, (error, result) => (error ? reject(error) : resolve(result)));
  });
}

async function measureOnce(server, seconds, connections) {
  await ask(server.child, 'cpu-start', 'cpuStarted');
  const result = await load(server.port, seconds, connections);
  const usage = await ask(server.child, 'cpu-stop', 'usage');
  if (result.non2xx > 0 || result.errors > 0) console.log(`  ${server.label}: ${result.non2xx} non-2xx, ${result.errors} errors`);
  const requests = Math.max(1, result.requests.total);
  server.windows.push(Object.fromEntries(Object.entries(usage).map(([field, total]) => [field, total / requests])));
}

function report(servers, detail) {
  // Every window of every replica of a variant, and each replica's own mean.
  const byName = new Map();
  for (const server of servers) {
    const entry = byName.get(server.name) ?? { windows: [], usage: [], replicaMeans: [] };
    const cpu = server.windows.map((window) => window.cpuMicros);
    entry.windows.push(...cpu);
    entry.usage.push(...server.windows);
    entry.replicaMeans.push(mean(cpu));
    byName.set(server.name, entry);
  }
  const width = nameWidth(servers);
  console.log(`\n${'variant'.padEnd(width)} mean us/req  median us/req  baseline/variant (mean, median)  per cycle (median [25th-75th])  per process (mean us/req)`);
  for (const [name, { windows, replicaMeans }] of byName) {
    const base = byName.get(VARIANTS[name].baseline);
    const ratios = base === undefined ? 'n/a' : `${(mean(base.windows) / mean(windows)).toFixed(3)}, ${(median(base.windows) / median(windows)).toFixed(3)}`;
    // A variant whose baseline is not in the run (--compare without plain) has no ratios to show.
    const perCycle = base === undefined ? [] : cycleRatios(servers, name, VARIANTS[name].baseline);
    const spread = base === undefined ? 'n/a' : `${median(perCycle).toFixed(3)} [${quantile(perCycle, 0.25).toFixed(3)}-${quantile(perCycle, 0.75).toFixed(3)}]`;
    console.log(
      `${name.padEnd(width)} ${mean(windows).toFixed(1).padStart(11)}  ${median(windows).toFixed(1).padStart(13)}  ${ratios.padStart(31)}  ${spread.padStart(30)}  ${replicaMeans.map((x) => x.toFixed(0)).join(' ')}`,
    );
  }
  if (detail) reportDetail(byName, width);
}

/** Width of the variant column: the longest name (compare-<file> names run long) and a space. */
function nameWidth(servers) {
  return Math.max(21, ...servers.map((server) => server.name.length + 1));
}

/**
 * --detail: per request, the system part of the CPU time, minor page faults and context switches,
 * means over every window of a variant. Equal figures rule the kernel, V8's page handling and the
 * scheduler out as where a variant's extra CPU goes.
 */
function reportDetail(byName, width) {
  console.log(`\n${'variant'.padEnd(width)} system us/req  minor faults/req  context switches/req`);
  for (const [name, { usage }] of byName) {
    const of = (field) => mean(usage.map((window) => window[field]));
    console.log(
      `${name.padEnd(width)} ${of('systemMicros').toFixed(1).padStart(13)}  ${of('minorFaults').toFixed(3).padStart(16)}  ${of('contextSwitches').toFixed(3).padStart(20)}`,
    );
  }
}

/** Cycle by cycle: the baseline's mean window over `name`'s mean window, both of that cycle. */
function cycleRatios(servers, name, baseline) {
  const windowsOf = (variant, cycle) => servers.filter((server) => server.name === variant).map((server) => server.windows[cycle].cpuMicros);
  const cycles = servers[0].windows.length;
  return Array.from({ length: cycles }, (_unused, cycle) => mean(windowsOf(baseline, cycle)) / mean(windowsOf(name, cycle)));
}

/** `--name` as a whole number of at least 1; anything else stops the bench with a message naming the flag. */
function positiveInteger(name, fallback) {
  const text = arg(name, fallback);
  const value = Number(text);
  if (!Number.isInteger(value) || value < 1) throw new Error(`--${name} must be a whole number of at least 1, got ${JSON.stringify(text)}`);
  return value;
}

/** The variants `--only` names (all without it); an unknown name stops the bench with the known ones. */
function selectedVariants(only) {
  const known = Object.keys(VARIANTS);
  if (only === undefined) return known;
  // --compare's variants come too, listed or not.
  const names = [...only.split(','), ...Object.keys(COMPARED)];
  const unknown = names.filter((name) => !known.includes(name));
  if (unknown.length > 0) throw new Error(`--only: unknown variant ${unknown.join(', ')} (known: ${known.join(', ')})`);
  return known.filter((name) => names.includes(name));
}

async function main() {
  if (!fs.existsSync(path.join(DIST, 'register.js'))) {
    console.error('dist/ is missing: run `npm run build` first');
    process.exitCode = 1;
    return;
  }
  const cycles = positiveInteger('cycles', '8');
  const seconds = positiveInteger('seconds', '3');
  const connections = positiveInteger('connections', '50');
  const replicas = positiveInteger('replicas', '1');
  const names = selectedVariants(arg('only', undefined));
  const together = process.argv.includes('--together');
  const pinned = hasTaskset();
  // The load generator keeps off the servers' CPU.
  if (pinned) spawnSync('taskset', ['-a', '-p', '-c', `1-${os.cpus().length - 1}`, String(process.pid)], { stdio: 'ignore' });
  console.log(
    `Express app at ${ROUTE}, ${connections} connections, ${cycles} cycles of ${seconds}s per server${together ? ' (all servers at once)' : ''}, ${replicas} server(s) per variant, ` +
      `node ${process.version}, ${os.cpus().length} cpus, ${pinned ? 'servers on CPU 0' : 'not pinned (no taskset)'}`,
  );
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-express-parts-'));
  const servers = [];
  try {
    // Replicas interleaved (a#1 b#1 a#2 b#2 ...), so each cycle's drift spreads over every variant.
    for (let replica = 1; replica <= replicas; replica++) {
      for (const name of names) servers.push(await startServer(name, replica, pinned, fs.mkdtempSync(path.join(scratch, `${name}-${replica}-`))));
    }
    // Warm every server up (JIT, the preload's first flushes) before any window counts.
    for (const server of servers) await load(server.port, 3, connections);
    for (let cycle = 1; cycle <= cycles; cycle++) {
      if (together) await Promise.all(servers.map((server) => measureOnce(server, seconds, connections)));
      else for (const server of servers) await measureOnce(server, seconds, connections);
      console.log(`cycle ${cycle}: ${servers.map((s) => `${s.label} ${s.windows.at(-1).cpuMicros.toFixed(0)}`).join('  ')} us/req`);
    }
    report(servers, process.argv.includes('--detail'));
  } finally {
    // Each server exits on disconnect; its store directory is removed only once it has (a server still
    // writing its last snapshot would otherwise fail the removal with ENOTEMPTY).
    for (const server of servers) if (server.child.connected) server.child.disconnect();
    await Promise.all(servers.map((server) => waitExit(server.child, 10_000)));
    fs.rmSync(scratch, { recursive: true, force: true, maxRetries: 10, retryDelay: 100 });
  }
}
