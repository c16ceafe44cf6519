#!/usr/bin/env node
'use strict';
/**
 * Memory one worker pays for its metrics, side by side in ONE run.
 *
 *   npm run bench:memory                (builds dist/, then runs this file)
 *   node bench/worker-memory.js [--rounds 3] [--requests 3] [--settle 12000] [--idle 0] [--workloads 15x3,100x3]
 *                               [--only plain,ours,prom-client,cluster-plain,cluster-ours] [--register dist/register.js]
 *
 * Every variant is the same hello-world `http` server in a child process
 * started with --expose-gc:
 *   plain          node:http, nothing else (the baseline)
 *   ours           node --require ./dist/register.js: one process, embedded file
 *                  store in a temp PROMETHEUS_MULTIPROC_DIR, metrics on a free
 *                  PROMETHEUS_METRICS_PORT (worker recording + the merged view)
 *   prom-client    Counter + 16-bucket Histogram (method, route, status) updated
 *                  on res 'finish' (what express-prom-bundle does)
 *   cluster-plain  node:cluster primary forking ONE worker, nothing else
 *   cluster-ours   the same under --require ./dist/register.js: the worker only
 *                  records and persists snapshots, the primary serves
 *   (the cluster pair measures the worker process, the thing multiplied by the
 *   worker count)
 *
 * A workload `ExS` sends `--requests` requests to each of E distinct endpoints
 * (/svc/endpoint<i>) with each of S statuses (200, 302, 500, 201, ...), then
 * scrapes (ours: GET /metrics; prom-client: registry.metrics()), so series
 * exist and are exposed once, as in production. The child then runs gc() twice
 * and reports process.memoryUsage(). Series are counted from the scrape (sample
 * lines, so every histogram bucket counts, as Prometheus counts them).
 * Variants are interleaved round by round; medians are reported.
 *
 * Prints, per workload: series per variant, median RSS / heap used / external
 * per variant, and the RSS each instrumented variant adds over its plain
 * counterpart, with ours / prom-client as a ratio; and each measured process's
 * CPU while idle (every thread, from the scheduler's per-thread run time) over
 * the settle period, or with --idle MS over a window of that length after it
 * (for cluster-ours: a worker whose series do not change, flushing every
 * 500 ms). Exits 0.
 *
 * Idle worker at 9,500 series: npm run bench:idle
 * (--only cluster-plain,cluster-ours,prom-client --workloads 54x4 --rounds 3 --settle 12000 --idle 20000;
 * 216 label sets are 9,572 exposed series). `--compare <dist/register.js of another build>`
 * adds that build as `cluster-compare`, measured in the same run.
 */
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const http = require('node:http');
const os = require('node:os');
const path = require('node:path');
const { performance } = require('node:perf_hooks');
const { arg, benchOrServer, freePort, median } = require('./support');

const ROOT = path.resolve(__dirname, '..');
// --register <file> measures another build of the package (e.g. an experiment) against the same baselines.
const REGISTER = path.resolve(arg('register', path.join(ROOT, 'dist', 'register.js')));
const STATUSES = [200, 302, 500, 201, 400, 503, 204, 401];
const MB = 1024 * 1024;

// ---------------------------------------------------------------- server side

/** The route of a URL without its query: the label prom-client middleware would use. */
function routeOf(url) {
  const q = url.indexOf('?');
  return q === -1 ? url : url.slice(0, q);
}

/** Status from `?s=NNN`, so one endpoint can answer with several. */
function statusOf(url) {
  const match = /[?&]s=(\d{3})/.exec(url);
  return match ? Number(match[1]) : 200;
}

function memory() {
  if (typeof global.gc === 'function') {
    global.gc();
    global.gc();
  }
  const usage = process.memoryUsage();
  // Where the V8 heap is: reserved (size) and live (used) bytes per space.
  usage.spaces = Object.fromEntries(
    require('node:v8')
      .getHeapSpaceStatistics()
      .filter((space) => space.space_size > 0)
      .map((space) => [space.space_name.replace(/_space$/, ''), { size: space.space_size, used: space.space_used_size }]),
  );
  return usage;
}

function runServer(kind) {
  const cluster = require('node:cluster');
  if (kind.startsWith('cluster-') && cluster.isPrimary) {
    runClusterPrimary();
    return;
  }
  let scrape = async () => '';
  let observe = () => {};
  if (kind === 'prom-client') {
    const client = require('prom-client');
    const registry = new client.Registry();
    const labelNames = ['method', 'route', 'status'];
    const counter = new client.Counter({ name: 'http_requests_total', help: 'Requests.', labelNames, registers: [registry] });
    const histogram = new client.Histogram({
      name: 'http_request_duration_seconds',
      help: 'Latency.',
      labelNames,
      // 16 buckets, as the catalogue's duration histogram has.
      buckets: [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10, 30, 60],
      registers: [registry],
    });
    observe = (req, res) => {
      const start = process.hrtime.bigint();
      res.on('finish', () => {
        const labels = { method: req.method, route: routeOf(req.url), status: String(res.statusCode) };
        counter.inc(labels);
        histogram.observe(labels, Number(process.hrtime.bigint() - start) / 1e9);
      });
    };
    scrape = () => registry.metrics();
  }
  const server = http.createServer((req, res) => {
    observe(req, res);
    res.statusCode = statusOf(req.url);
    res.end('hello world');
  });
  server.listen(0, '127.0.0.1', () => {
    // A cluster worker's process.send goes to its primary, which relays it to the bench.
    const report = (message) => process.send(message);
    process.on('message', async (message) => {
      if (message.cmd === 'scrape') report({ cmd: 'scraped', text: await scrape() });
      if (message.cmd === 'measure') report({ cmd: 'memory', pid: process.pid, usage: memory() });
    });
    report({ cmd: 'listening', port: server.address().port, pid: process.pid });
  });
}

/** A primary that forks one worker and relays the bench's messages to it. */
function runClusterPrimary() {
  const cluster = require('node:cluster');
  const worker = cluster.fork();
  worker.on('message', (message) => process.send(message));
  process.on('message', (message) => worker.send(message));
  process.on('disconnect', () => worker.kill());
}

// ---------------------------------------------------------------- bench side

const VARIANTS = {
  plain: { flags: [] },
  ours: { flags: ['--require', REGISTER], metricsEndpoint: true },
  'prom-client': { flags: [] },
  'cluster-plain': { flags: [] },
  'cluster-ours': { flags: ['--require', REGISTER], metricsEndpoint: true },
};
const BASELINE = { ours: 'plain', 'prom-client': 'plain', 'cluster-ours': 'cluster-plain', 'cluster-compare': 'cluster-plain' };
// --compare <register> adds `cluster-compare`: cluster-ours with another build (e.g. the previous commit), in the same run.
const COMPARE = arg('compare', '');
if (COMPARE !== '') VARIANTS['cluster-compare'] = { flags: ['--require', path.resolve(COMPARE)], metricsEndpoint: true };

/** One child process running one variant, talked to over IPC. */
class Child {
  static async start(kind) {
    const variant = VARIANTS[kind];
    const env = { ...process.env, OTEL_CLUSTER_EXPORTER_QUIET: 'true', OTEL_CLUSTER_EXPORTER_MAX_ENDPOINTS: '10000', OTEL_CLUSTER_EXPORTER_MAX_REQUEST_SERIES: '100000' };
    let dir;
    let metricsPort;
    if (variant.metricsEndpoint) {
      dir = fs.mkdtempSync(path.join(os.tmpdir(), 'oce-bench-mem-'));
      metricsPort = await freePort();
      Object.assign(env, { PROMETHEUS_MULTIPROC_DIR: dir, PROMETHEUS_METRICS_PORT: String(metricsPort), PROMETHEUS_BIND_ADDRESS: '127.0.0.1' });
    }
    const child = spawn(process.execPath, ['--expose-gc', ...variant.flags, __filename, '--server', kind], {
      env,
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    const self = new Child(kind, child, dir, metricsPort);
    const ready = await self.next('listening');
    self.port = ready.port;
    self.pid = ready.pid;
    return self;
  }

  constructor(kind, child, dir, metricsPort) {
    this.kind = kind;
    this.child = child;
    this.dir = dir;
    this.metricsPort = metricsPort;
    this.waiting = [];
    child.on('message', (message) => {
      const i = this.waiting.findIndex((w) => w.cmd === message.cmd);
      if (i !== -1) this.waiting.splice(i, 1)[0].resolve(message);
    });
    child.on('exit', (code, signal) => {
      for (const w of this.waiting.splice(0)) w.reject(new Error(`${kind} exited (${code ?? signal})`));
    });
  }

  next(cmd) {
    return new Promise((resolve, reject) => this.waiting.push({ cmd, resolve, reject }));
  }

  async request(cmd, reply) {
    const answer = this.next(reply);
    this.child.send({ cmd });
    return answer;
  }

  /** The exposition text: ours from its /metrics endpoint, prom-client from its registry, '' for plain. */
  async scrape() {
    if (this.metricsPort !== undefined) return get(this.metricsPort, '/metrics');
    return (await this.request('scrape', 'scraped')).text;
  }

  async measure() {
    return (await this.request('measure', 'memory')).usage;
  }

  async stop() {
    const exited = new Promise((resolve) => this.child.once('exit', resolve));
    this.child.kill('SIGTERM');
    await exited;
    // A cluster worker may outlive its primary by a moment (and write one last snapshot).
    for (let i = 0; i < 50 && this.pid !== this.child.pid && alive(this.pid); i++) await sleep(50);
    if (alive(this.pid)) process.kill(this.pid, 'SIGKILL');
    if (this.dir) fs.rmSync(this.dir, { recursive: true, force: true, maxRetries: 5, retryDelay: 100 });
  }
}

const agent = new http.Agent({ keepAlive: true, maxSockets: 16 });

function get(port, urlPath) {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path: urlPath, agent }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk) => (body += chunk));
      res.on('end', () => resolve(body));
    });
    req.on('error', reject);
  });
}

async function drive(port, endpoints, statuses, requests) {
  const urls = [];
  for (let i = 0; i < endpoints; i++) {
    for (const status of STATUSES.slice(0, statuses)) urls.push(`/svc/endpoint${i}?s=${status}`);
  }
  const queue = [];
  for (let r = 0; r < requests; r++) queue.push(...urls);
  const workers = Array.from({ length: 16 }, async () => {
    while (queue.length > 0) await get(port, queue.pop());
  });
  await Promise.all(workers);
}

/**
 * CPU time a process has used, ms: the run time the scheduler accounts to each of its threads
 * (/proc/PID/task/TID/schedstat, nanoseconds), so an idle window of a few seconds is measured to
 * the microsecond rather than in the 10 ms clock ticks of /proc/PID/stat (its fallback, Linux).
 */
function cpuMs(pid) {
  try {
    let ns = 0;
    for (const tid of fs.readdirSync(`/proc/${pid}/task`)) {
      ns += Number(fs.readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[0]);
    }
    if (Number.isFinite(ns)) return ns / 1e6;
  } catch {
    // No schedstat (another kernel): clock ticks below.
  }
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return NaN;
  }
}

function alive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function countSeries(text) {
  let series = 0;
  let http = 0;
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    series++;
    if (/^(gunicorn_worker_request|http_request)/.test(line)) http++;
  }
  return { series, http };
}

/**
 * One round: every variant's child is started, loaded and scraped in turn, then
 * measured twice: right away ("hot") and after SETTLE_MS of idling ("settled"),
 * when V8's memory reducer has handed back the young generation that start-up
 * and the load grew. All children settle at the same time, so a round costs one
 * settle period however many variants there are.
 */
async function round(kinds, workload, requests, settleMs, idleMs) {
  const children = [];
  try {
    for (const kind of kinds) children.push(await Child.start(kind));
    const results = {};
    for (const child of children) {
      await drive(child.port, workload.endpoints, workload.statuses, requests);
      // Let a snapshot be persisted (flush interval 500 ms), scrape as Prometheus
      // would, run a second pass and scrape again: every series exists and has been exposed.
      await sleep(600);
      await child.scrape();
      await drive(child.port, workload.endpoints, workload.statuses, requests);
      await sleep(600);
      const text = await child.scrape();
      results[child.kind] = { hot: await child.measure(), ...countSeries(text) };
    }
    // Idle CPU: the worker's own CPU time while it only flushes (nothing changes). With --idle, over a
    // window of its own after the settle period (steady idle); without, over the settle period itself,
    // which also holds what V8 does after the load.
    const idleCpu = async () => {
      const cpuBefore = children.map((child) => cpuMs(child.pid));
      const idleStart = performance.now();
      await sleep(idleMs > 0 ? idleMs : settleMs);
      const elapsedMs = performance.now() - idleStart;
      children.forEach((child, i) => {
        results[child.kind].idleCpu = (cpuMs(child.pid) - cpuBefore[i]) / elapsedMs;
      });
    };
    if (idleMs > 0) await sleep(settleMs);
    else await idleCpu();
    for (const child of children) results[child.kind].settled = await child.measure();
    if (idleMs > 0) await idleCpu();
    return results;
  } finally {
    await Promise.all(children.map((child) => child.stop()));
  }
}

const mb = (bytes) => (bytes / MB).toFixed(1).padStart(6);

async function main() {
  if (!fs.existsSync(REGISTER)) throw new Error(`${REGISTER} is missing: run npm run build first`);
  const rounds = Number(arg('rounds', '3'));
  const requests = Number(arg('requests', '3'));
  const settleMs = Number(arg('settle', '12000'));
  const idleMs = Number(arg('idle', '0'));
  const workloads = arg('workloads', '15x3,100x3')
    .split(',')
    .map((w) => {
      const [endpoints, statuses] = w.split('x').map(Number);
      return { name: w, endpoints, statuses };
    });
  const kinds = arg('only', Object.keys(VARIANTS).join(',')).split(',');
  // --compare measures the other build beside ours, whatever --only listed.
  if (COMPARE !== '' && kinds.includes('cluster-ours') && !kinds.includes('cluster-compare')) kinds.splice(kinds.indexOf('cluster-ours') + 1, 0, 'cluster-compare');
  console.log(
    `node ${process.version}, ${os.cpus().length} CPUs; ${rounds} rounds, ${requests} requests per label set per pass; ` +
      `RSS after gc(), "hot" right after the load and scrape, "settled" ${settleMs / 1000} s later`,
  );
  for (const workload of workloads) {
    const runs = Object.fromEntries(kinds.map((kind) => [kind, []]));
    for (let r = 0; r < rounds; r++) {
      const results = await round(kinds, workload, requests, settleMs, idleMs);
      for (const kind of kinds) runs[kind].push(results[kind]);
    }
    const sets = workload.endpoints * workload.statuses;
    console.log(`\nworkload ${workload.name}: ${workload.endpoints} endpoints x ${workload.statuses} statuses = ${sets} label sets (medians, MB)`);
    console.log('variant          series  http   hot rss  settled rss  heapTotal  heapUsed  external   settled rss samples');
    const rss = { hot: {}, settled: {} };
    for (const kind of kinds) {
      const list = runs[kind];
      const med = (when, field) => median(list.map((run) => run[when][field]));
      rss.hot[kind] = med('hot', 'rss');
      rss.settled[kind] = med('settled', 'rss');
      console.log(
        `${kind.padEnd(15)} ${String(list[0].series).padStart(7)} ${String(list[0].http).padStart(5)}    ${mb(rss.hot[kind])}       ${mb(rss.settled[kind])}     ` +
          `${mb(med('settled', 'heapTotal'))}    ${mb(med('settled', 'heapUsed'))}    ${mb(med('settled', 'external'))}   ` +
          list.map((run) => mb(run.settled.rss).trim()).join(' '),
      );
    }
    const idle = kinds.map((kind) => `${kind} ${(100 * median(runs[kind].map((run) => run.idleCpu))).toFixed(2)}%`);
    const window = idleMs > 0 ? `a ${idleMs / 1000} s idle window after the ${settleMs / 1000} s settle period` : `the ${settleMs / 1000} s settle period`;
    console.log(`  idle CPU of the measured process over ${window} (median, % of one core, every thread; goal for cluster-ours <= 0.5%): ${idle.join(', ')}`);
    for (const kind of kinds.filter((k) => k.endsWith('ours'))) {
      const spaces = runs[kind][0].settled.spaces;
      const text = Object.entries(spaces)
        .map(([name, space]) => `${name} ${(space.size / MB).toFixed(1)}/${(space.used / MB).toFixed(1)}`)
        .join(', ');
      console.log(`  ${kind} settled V8 spaces, reserved/live MB (round 1): ${text}`);
    }
    for (const when of ['settled', 'hot']) {
      const added = {};
      for (const [kind, base] of Object.entries(BASELINE)) {
        if (rss[when][kind] === undefined || rss[when][base] === undefined) continue;
        added[kind] = rss[when][kind] - rss[when][base];
      }
      const parts = Object.entries(added).map(([kind, bytes]) => `${kind} +${(bytes / MB).toFixed(1)}`);
      let line = `  RSS added (${when}, MB): ${parts.join(', ')}`;
      if (added.ours !== undefined && added['prom-client'] > 0) line += `; ours / prom-client ${(added.ours / added['prom-client']).toFixed(2)}`;
      console.log(line);
    }
  }
}

// The same file is the bench and, with --server, each variant's child.
benchOrServer(runServer, main);
