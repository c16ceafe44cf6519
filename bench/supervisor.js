#!/usr/bin/env node
'use strict';
/**
 * What `otel-cluster-exporter run` and its hung-worker check cost, side by
 * side with hand-written `cluster` code, in ONE run.
 *
 *   npm run bench:run                   (builds dist/, then runs this file)
 *   node bench/supervisor.js [--workers 2] [--duration 6] [--warmup 2] [--connections 50] [--rounds 3] [--only cluster,run,reload,hung]
 *
 * Every variant serves bench/apps/hello.js (`res.end('hello world')`) with
 * --workers workers; autocannon (keep-alive, pipelining 1) runs in this
 * process on the same machine. Variants, interleaved round by round:
 *   cluster          the app as its own cluster primary (what users hand-write today), no package
 *   preload          the same, under `node --require dist/register.js` (metrics, no supervisor)
 *   run              `otel-cluster-exporter run --timeout 0` (supervisor, metrics, no hung-worker check)
 *   run-timeout-30   `run --timeout 30`: the check on, a heartbeat per second per worker
 *   run-timeout-1    `run --timeout 1`: the check at its most frequent, a heartbeat every 250 ms
 *
 * Prints req/s per round, then per variant the median req/s and its ratio to
 * `cluster`, and the CPU the whole process tree (master + workers) spent per
 * request (Linux /proc; a figure other load on the machine disturbs less than
 * throughput). The cost of the hung-worker check is run-timeout-* against run,
 * and the direct cost of one heartbeat is printed too.
 *
 * Then two behaviours under the same load generator, not ratios:
 *   reload     `run -w 2 --max-requests 2000`, autocannon for --duration s, SIGHUP to the
 *              master every 2 s: requests, errors, non-2xx, resets (all must be 0)
 *   hung       `run -w 2 --timeout 2`, 5 times: a worker's event loop blocked for good
 *              (GET /spin); time from the hang to the worker's death (goal: <= timeout + 1 s)
 */
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const http = require('node:http');
const os = require('node:os');
const path = require('node:path');
const { arg, freePort, median } = require('./support');

const ROOT = path.resolve(__dirname, '..');
const CLI = path.join(ROOT, 'dist', 'cli', 'main.js');
const REGISTER = path.join(ROOT, 'dist', 'register.js');
const APP = path.join(__dirname, 'apps', 'hello.js');
const SPIN_APP = path.join(__dirname, 'apps', 'spin.js');

function commandOf(kind, workers) {
  const run = (timeout) => [CLI, 'run', '-w', String(workers), '--timeout', String(timeout), APP];
  switch (kind) {
    case 'cluster':
      return { args: [APP], env: { HELLO_CLUSTER: String(workers) } };
    case 'preload':
      return { args: ['--require', REGISTER, APP], env: { HELLO_CLUSTER: String(workers) } };
    case 'run':
      return { args: run(0), env: {} };
    case 'run-timeout-30':
      return { args: run(30), env: {} };
    case 'run-timeout-1':
      return { args: run(1), env: {} };
    default:
      throw new Error(`unknown variant ${kind}`);
  }
}

/** CPU ms (user + system) of `rootPid` and all its descendants, from /proc; undefined elsewhere. */
function treeCpuMs(rootPid) {
  if (!fs.existsSync('/proc/self/stat')) return undefined;
  const tick = 1000 / 100; // USER_HZ is 100 on every Linux this runs on
  const parents = new Map();
  const cpu = new Map();
  for (const name of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${name}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      parents.set(Number(name), Number(fields[1]));
      cpu.set(Number(name), (Number(fields[11]) + Number(fields[12])) * tick);
    } catch {
      // exited meanwhile
    }
  }
  let total = 0;
  for (const [pid, ms] of cpu) {
    for (let p = pid; p > 1; p = parents.get(p) ?? 0) {
      if (p === rootPid) {
        total += ms;
        break;
      }
    }
  }
  return total;
}

function get(port) {
  return new Promise((resolve) => {
    http
      .get({ host: '127.0.0.1', port, path: '/', agent: false }, (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode === 200));
      })
      .on('error', () => resolve(false));
  });
}

async function start(kind, workers, scratch) {
  const port = await freePort();
  const metricsPort = await freePort();
  const { args, env } = commandOf(kind, workers);
  const child = spawn(process.execPath, args, {
    env: {
      ...process.env,
      ...env,
      PORT: String(port),
      PROMETHEUS_METRICS_PORT: String(metricsPort),
      PROMETHEUS_BIND_ADDRESS: '127.0.0.1',
      PROMETHEUS_MULTIPROC_DIR: scratch,
      OTEL_CLUSTER_EXPORTER_QUIET: 'true',
      NODE_ENV: 'production',
    },
    stdio: ['ignore', 'ignore', 'pipe'],
    detached: true,
  });
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  const deadline = Date.now() + 15000;
  // The first answer means one worker listens; the settle time lets the others come up too.
  while (!(await get(port))) {
    if (Date.now() > deadline || child.exitCode !== null) throw new Error(`${kind}: not serving on ${port}\n${stderr}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  await new Promise((r) => setTimeout(r, 1000));
  return { child, port };
}

async function stop(child) {
  if (child.exitCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  try {
    process.kill(-child.pid, 'SIGTERM');
  } catch {
    return;
  }
  const timer = setTimeout(() => {
    try {
      process.kill(-child.pid, 'SIGKILL');
    } catch {
      // gone
    }
  }, 5000);
  await exited;
  // The workers go after their master: wait for the whole group, so nothing writes into the scratch directory any more.
  for (;;) {
    try {
      process.kill(-child.pid, 0);
    } catch {
      break;
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  clearTimeout(timer);
}

function load(port, seconds, connections) {
  const autocannon = require('autocannon');
  return new Promise((resolve, reject) => {
    autocannon({ url: `http://127.0.0.1:${port}/`, connections, duration: seconds, pipelining: 1 }, (error, result) => (error ? reject(error) : resolve(result)));
  });
}

async function measure(kind, options) {
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), `bench-run-${kind}-`));
  try {
    const { child, port } = await start(kind, options.workers, scratch);
    try {
      if (options.warmup > 0) await load(port, options.warmup, options.connections);
      const cpuBefore = treeCpuMs(child.pid);
      const result = await load(port, options.duration, options.connections);
      const cpuAfter = treeCpuMs(child.pid);
      if (result.non2xx > 0 || result.errors > 0) console.log(`  ${kind}: ${result.non2xx} non-2xx, ${result.errors} errors`);
      const cpuPerRequest = cpuBefore === undefined || cpuAfter === undefined ? NaN : ((cpuAfter - cpuBefore) * 1000) / Math.max(1, result.requests.total);
      return { rps: result.requests.average, cpuPerRequest };
    } finally {
      await stop(child);
    }
  } finally {
    fs.rmSync(scratch, { recursive: true, force: true, maxRetries: 10, retryDelay: 100 });
  }
}

/**
 * The hung-worker check's whole per-worker cost, measured directly: one
 * heartbeat is one `futimes` call (what dist/supervisor/Heartbeat does), and
 * a worker beats at most 4 times a second (`--timeout 1`), once a second
 * from `--timeout 4` up.
 */
function heartbeatCost() {
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'bench-beat-')), 'beat');
  fs.writeFileSync(file, '');
  const fd = fs.openSync(file, 'r+');
  const beats = 20000;
  const start = process.hrtime.bigint();
  for (let i = 0; i < beats; i++) {
    const now = Date.now() / 1000;
    fs.futimesSync(fd, now, now);
  }
  const perBeatUs = Number(process.hrtime.bigint() - start) / 1000 / beats;
  fs.closeSync(fd);
  fs.rmSync(path.dirname(file), { recursive: true, force: true });
  return perBeatUs;
}

async function main() {
  if (!fs.existsSync(CLI)) {
    console.error('dist/ is missing: run `npm run bench:run`, which builds first');
    process.exitCode = 1;
    return;
  }
  const options = {
    workers: Number(arg('workers', '2')),
    duration: Number(arg('duration', '6')),
    warmup: Number(arg('warmup', '2')),
    connections: Number(arg('connections', '50')),
    rounds: Number(arg('rounds', '3')),
  };
  const all = ['cluster', 'preload', 'run', 'run-timeout-30', 'run-timeout-1'];
  const only = arg('only', undefined);
  const kinds = only === undefined ? all : all.filter((k) => only.split(',').includes(k));
  console.log(
    `hello-world, ${options.workers} workers, ${options.connections} connections, ${options.duration}s measured after ${options.warmup}s warm-up, ` +
      `${options.rounds} interleaved rounds, node ${process.version}, ${os.cpus().length} cpus`,
  );
  const results = new Map(kinds.map((k) => [k, []]));
  for (let round = 1; round <= options.rounds; round++) {
    for (const kind of kinds) {
      try {
        const m = await measure(kind, options);
        results.get(kind).push(m);
        console.log(
          `round ${round}  ${kind.padEnd(15)} ${Math.round(m.rps).toString().padStart(7)} req/s  ${m.cpuPerRequest.toFixed(1).padStart(6)} us CPU/request (all processes)`,
        );
      } catch (error) {
        console.log(`round ${round}  ${kind.padEnd(15)} FAILED: ${String(error.message).split('\n')[0]}`);
      }
    }
  }
  const summary = (kind) => {
    const xs = results.get(kind) ?? [];
    return xs.length === 0 ? undefined : { rps: median(xs.map((x) => x.rps)), cpu: median(xs.map((x) => x.cpuPerRequest)) };
  };
  const perBeatUs = heartbeatCost();
  console.log(
    `\nheartbeat: ${perBeatUs.toFixed(2)} us per beat; at 4 beats/s (--timeout 1) ${(perBeatUs * 4).toFixed(1)} us of CPU per second per worker ` +
      `= ${((perBeatUs * 4) / 1e4).toFixed(5)} % of one core; nothing per request`,
  );
  const base = summary('cluster');
  const runBase = summary('run');
  const ratio = (a, b) => (b && b > 0 ? (a / b).toFixed(3) : 'n/a');
  console.log('\nvariant         median req/s  /cluster  median CPU us/req  /cluster  req/s vs run');
  for (const kind of kinds) {
    const s = summary(kind);
    if (!s) {
      console.log(`${kind.padEnd(15)} (no result)`);
      continue;
    }
    console.log(
      `${kind.padEnd(15)} ${Math.round(s.rps).toString().padStart(12)}  ${ratio(s.rps, base?.rps).padStart(8)}  ${s.cpu.toFixed(1).padStart(17)}  ${ratio(s.cpu, base?.cpu).padStart(8)}  ${ratio(s.rps, runBase?.rps).padStart(12)}`,
    );
  }
}

/** Start `run args app` on free ports and wait until it answers. */
async function startRun(args, app, scratch) {
  const port = await freePort();
  const metricsPort = await freePort();
  const child = spawn(process.execPath, [CLI, 'run', ...args, app], {
    env: {
      ...process.env,
      PORT: String(port),
      PROMETHEUS_METRICS_PORT: String(metricsPort),
      PROMETHEUS_BIND_ADDRESS: '127.0.0.1',
      PROMETHEUS_MULTIPROC_DIR: scratch,
      OTEL_CLUSTER_EXPORTER_QUIET: 'true',
    },
    stdio: ['ignore', 'ignore', 'pipe'],
    detached: true,
  });
  child.stderr.resume();
  while (!(await get(port))) await new Promise((r) => setTimeout(r, 50));
  await new Promise((r) => setTimeout(r, 1000));
  return { child, port };
}

async function reloadUnderLoad(options) {
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-run-reload-'));
  const { child, port } = await startRun(['-w', String(options.workers), '--max-requests', '2000'], APP, scratch);
  try {
    const hups = setInterval(() => child.kill('SIGHUP'), 2000);
    const result = await load(port, options.duration, options.connections);
    clearInterval(hups);
    console.log(
      `\nreload: ${result.requests.total} requests in ${options.duration} s over ${options.connections} keep-alive connections, SIGHUP every 2 s, ` +
        `max-requests 2000: ${result.errors} errors, ${result.non2xx} non-2xx, ${result.resets} resets, ${result.timeouts} timeouts`,
    );
  } finally {
    await stop(child);
    fs.rmSync(scratch, { recursive: true, force: true, maxRetries: 10, retryDelay: 100 });
  }
}

function getBody(port, p) {
  return new Promise((resolve, reject) => {
    http
      .get({ host: '127.0.0.1', port, path: p, agent: false }, (res) => {
        let body = '';
        res.on('data', (d) => (body += d));
        res.on('end', () => resolve(body));
      })
      .on('error', reject);
  });
}

async function hungWorkerKill() {
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-run-hung-'));
  const { child, port } = await startRun(['-w', '2', '--timeout', '2'], SPIN_APP, scratch);
  const times = [];
  try {
    for (let i = 0; i < 5; i++) {
      const pid = Number((await getBody(port, '/spin')).split(' ')[1]);
      const hungAt = Date.now();
      for (;;) {
        try {
          process.kill(pid, 0);
        } catch {
          break;
        }
        await new Promise((r) => setTimeout(r, 10));
      }
      times.push(Date.now() - hungAt);
      // Let the replacement listen before the next round.
      await new Promise((r) => setTimeout(r, 1000));
    }
    console.log(`hung: --timeout 2, a worker's event loop blocked; killed after ${times.join(', ')} ms (median ${median(times)} ms; goal <= 3000)`);
  } finally {
    await stop(child);
    fs.rmSync(scratch, { recursive: true, force: true, maxRetries: 10, retryDelay: 100 });
  }
}

main()
  .then(async () => {
    const only = arg('only', undefined);
    const wanted = (name) => only === undefined || only.split(',').includes(name);
    const options = { workers: Number(arg('workers', '2')), duration: Number(arg('duration', '6')), connections: Number(arg('connections', '50')) };
    if (wanted('reload')) await reloadUnderLoad(options);
    if (wanted('hung')) await hungWorkerKill();
  })
  .catch((error) => {
    console.error(error);
    process.exitCode = 1;
  });
