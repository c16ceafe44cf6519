#!/usr/bin/env node
'use strict';
/**
 * Instructions per Express request, with and without the preload, side by
 * side in ONE run: a deterministic figure beside bench/http-hot-path.js,
 * whose CPU-per-request ratio moves by several points between runs on a
 * shared 2-core machine.
 *
 *   node bench/http-instructions.js [--requests 8000] [--connections 4] [--compare <dist/register.js of another build>]
 *
 * Needs valgrind (`apt-get install valgrind`); without it, says so and exits 0.
 * Each variant's server (the Express app of bench/http-hot-path.js) runs under
 * `valgrind --tool=cachegrind --cache-sim=no` twice, serving `--requests` and
 * twice that many keep-alive requests from a client outside valgrind. The
 * difference of the two instruction totals divided by `--requests` is the
 * steady-state cost of one request: start-up, module loading and JIT warm-up
 * cancel out.
 *
 * Periodic work is held off while measuring (every `setInterval` of 500 ms
 * or more stretched to a day, by a shim loaded first). Under valgrind a
 * request takes about 50 times its real time, so a flush every 500 ms would
 * otherwise count as about 50 times its real share per request; its real cost
 * is the idle figure of `npm run bench:idle`. Both variants get the shim.
 *
 * Prints instructions per request per variant and the ratio plain/variant.
 * Exits 0.
 */
const { spawn, spawnSync } = require('node:child_process');
const fs = require('node:fs');
const http = require('node:http');
const os = require('node:os');
const path = require('node:path');
const { arg, waitExit } = require('./support');

const ROOT = path.resolve(__dirname, '..');
const ROUTE = '/api/users/42';
/** Every valgrind server still running: a run that fails leaves none behind (the other of a pair would wait forever). */
const running = new Set();

if (process.argv.includes('--server')) runServer();
else void main();

function runServer() {
  const express = require('express');
  const total = Number(process.env.BENCH_REQUESTS);
  let served = 0;
  const app = express();
  const api = express.Router();
  api.get('/users/:id', (req, res) => {
    res.send(`user ${req.params.id}`);
    if (++served === total) setTimeout(() => process.exit(0), 50);
  });
  app.use('/api', api);
  const server = app.listen(0, '127.0.0.1', () => {
    fs.writeFileSync(process.env.BENCH_PORT_FILE, String(server.address().port));
  });
}

/** The shim: long intervals (flushes, reapers) never fire during a measurement. */
function writeShim(directory) {
  const file = path.join(directory, 'hold-periodic-work.js');
  fs.writeFileSync(
    file,
    `'use strict';
const original = setInterval;
globalThis.setInterval = function (callback, ms, ...rest) {
  return original(callback, typeof ms === 'number' && ms >= 500 ? 86400000 : ms, ...rest);
};
`,
  );
  return file;
}

/**
 * Send `total` requests that get a whole response, `connections` at a time. A request that fails
 * (a keep-alive connection the slow server closed as the client reused it) is sent again: the
 * server exits after exactly `total` answers, so one lost request would leave it waiting forever.
 */
function load(port, total, connections, serverGone) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: connections });
  let issued = 0;
  return new Promise((resolve) => {
    let open = connections;
    const next = () => {
      if (issued >= total || serverGone()) {
        if (--open === 0) resolve();
        return;
      }
      issued++;
      // Each request ends in exactly one of the two, however many events its failure raises.
      let settled = false;
      const answered = () => {
        if (settled) return;
        settled = true;
        next();
      };
      const retry = () => {
        if (settled) return;
        settled = true;
        issued--;
        setTimeout(next, 10);
      };
      http
        .get({ host: '127.0.0.1', port, path: ROUTE, agent }, (res) => {
          res.resume();
          res.on('end', answered);
          // Closed before the whole body arrived: the request is sent again.
          res.on('close', () => {
            if (!res.complete) retry();
          });
        })
        .on('error', retry);
    };
    for (let i = 0; i < connections; i++) next();
  });
}

async function instructions(requests, preloads, scratch, connections) {
  const portFile = path.join(scratch, `port-${requests}-${Date.now()}`);
  const out = path.join(scratch, `cachegrind-${requests}-${Date.now()}`);
  const nodeArgs = [...preloads.flatMap((file) => ['--require', file]), __filename, '--server'];
  // A store directory of its own: two servers in one directory would share slot 0 and fence each other.
  const store = fs.mkdtempSync(path.join(scratch, 'store-'));
  const child = spawn('valgrind', ['--tool=cachegrind', '--cache-sim=no', `--cachegrind-out-file=${out}`, process.execPath, ...nodeArgs], {
    cwd: scratch,
    env: { ...process.env, BENCH_REQUESTS: String(requests), BENCH_PORT_FILE: portFile, PROMETHEUS_MULTIPROC_DIR: store, PROMETHEUS_METRICS_PORT: '0', NODE_ENV: 'production' },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  running.add(child);
  child.once('exit', () => running.delete(child));
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  for (let waited = 0; !fs.existsSync(portFile); waited += 200) {
    if (waited > 300_000 || child.exitCode !== null) throw new Error(`server did not start:\n${stderr.slice(-2000)}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  await load(Number(fs.readFileSync(portFile, 'utf8')), requests, connections, () => child.exitCode !== null || child.signalCode !== null);
  // Under valgrind the exit (and cachegrind's report) takes seconds, not minutes.
  if (!(await waitExit(child, 120_000))) {
    child.kill('SIGKILL');
    throw new Error(`${requests} requests: the server did not exit within 120 s of its last request`);
  }
  const match = /I\s+refs:\s+([\d,]+)/.exec(stderr);
  if (match === null) throw new Error(`no instruction count:\n${stderr.slice(-2000)}`);
  return Number(match[1].replace(/,/g, ''));
}

async function main() {
  if (spawnSync('valgrind', ['--version']).status !== 0) {
    console.log('valgrind is not installed (apt-get install valgrind): nothing measured');
    return;
  }
  const requests = Number(arg('requests', '8000'));
  const connections = Number(arg('connections', '4'));
  const compare = arg('compare', undefined);
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-instructions-'));
  const shim = writeShim(scratch);
  const variants = [
    ['express-plain', [shim]],
    ['express-register', [shim, path.join(ROOT, 'dist', 'register.js')]],
    ...(compare === undefined ? [] : [['express-compare', [shim, path.resolve(compare)]]]),
  ];
  console.log(`Express app at ${ROUTE}, ${requests} vs ${2 * requests} requests under cachegrind, ${connections} connections, node ${process.version}`);
  try {
    const perRequest = new Map();
    for (const [name, preloads] of variants) {
      // Both runs of a variant at once: instruction counts do not depend on the other's CPU use.
      const [once, twice] = await Promise.all([instructions(requests, preloads, scratch, connections), instructions(2 * requests, preloads, scratch, connections)]);
      perRequest.set(name, (twice - once) / requests);
      console.log(`${name.padEnd(18)} ${Math.round(perRequest.get(name)).toLocaleString('en').padStart(9)} instructions/request`);
    }
    const base = perRequest.get('express-plain');
    for (const [name] of variants.slice(1)) console.log(`${name} plain/variant ${(base / perRequest.get(name)).toFixed(3)}`);
  } finally {
    for (const child of running) child.kill('SIGKILL');
    fs.rmSync(scratch, { recursive: true, force: true });
  }
}
