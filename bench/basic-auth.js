#!/usr/bin/env node
'use strict';
/**
 * What basic authentication costs a scrape, side by side in ONE run.
 *
 *   npm run bench:auth                  (builds dist/, then runs this file)
 *   node bench/basic-auth.js [--duration 4] [--rounds 3] [--connections 4]
 *
 * 1. bcryptjs: one check at cost 4, 10 and 12 (what an uncached password costs the
 *    serving process; the web configuration refuses costs above 12).
 * 2. The main thread's event-loop delay while unverified passwords are checked:
 *    bcryptjs's sliced async compare in-thread against this package's BcryptThread.
 * 3. The cached check every scrape after the first pays.
 * 4. The metrics endpoint (dist/exposition) serving a fixed 50 kB body, keep-alive
 *    scrapers hammering it: without a web configuration, and with basic_auth_users
 *    (cost 10) and the right password, where every request after the first is
 *    answered from the verified-credential cache. Prints req/s and the ratio.
 * The machine may be shared: compare the ratio, not the absolute numbers.
 */
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { arg, median } = require('./support');

const DIST = path.join(__dirname, '..', 'dist');

async function bcryptCosts() {
  const bcrypt = require('bcryptjs');
  for (const cost of [4, 10, 12]) {
    const hash = bcrypt.hashSync('password', cost);
    const times = [];
    for (let i = 0; i < 3; i++) {
      const started = process.hrtime.bigint();
      await bcrypt.compare('password', hash);
      times.push(Number(process.hrtime.bigint() - started) / 1e6);
    }
    console.log(`bcryptjs check at cost ${String(cost).padStart(2)}: median ${median(times).toFixed(1)} ms`);
  }
}

/**
 * The event-loop delay the serving process sees while 2 unverified passwords are
 * checked back to back (what a guessing client causes): bcryptjs's own sliced
 * async compare on the main thread, against the BcryptThread this package uses.
 */
async function eventLoopDuringChecks() {
  const { monitorEventLoopDelay } = require('node:perf_hooks');
  const bcrypt = require('bcryptjs');
  const { BcryptThread } = require(path.join(DIST, 'exposition/access/BcryptThread.js'));
  const hash = bcrypt.hashSync('password', 10);
  const thread = new BcryptThread();
  const variants = {
    'main thread (bcryptjs compare)': (pw) => bcrypt.compare(pw, hash),
    'BcryptThread (worker thread)  ': (pw) => thread.compare(pw, hash),
  };
  await thread.compare('warm-up', hash);
  for (const [name, compare] of Object.entries(variants)) {
    const histogram = monitorEventLoopDelay({ resolution: 5 });
    histogram.enable();
    for (let i = 0; i < 5; i++) await Promise.all([compare(`wrong-${i}`), compare(`other-${i}`)]);
    histogram.disable();
    console.log(`${name}: event-loop delay during 10 checks at cost 10: max ${(histogram.max / 1e6).toFixed(1)} ms, p99 ${(histogram.percentile(99) / 1e6).toFixed(1)} ms`);
  }
  await thread.close();
}

/** A verified password's later checks: the cache path every scrape after the first takes. */
async function cachedCheck() {
  const bcrypt = require('bcryptjs');
  const { BasicAuthVerifier } = require(path.join(DIST, 'exposition/access/BasicAuthVerifier.js'));
  const verifier = new BasicAuthVerifier({ prometheus: bcrypt.hashSync('password', 10) });
  const header = `Basic ${Buffer.from('prometheus:password').toString('base64')}`;
  await verifier.verify(header);
  const n = 200_000;
  const started = process.hrtime.bigint();
  for (let i = 0; i < n; i++) await verifier.verify(header);
  console.log(`cached check (SHA-256 + timingSafeEqual): ${(Number(process.hrtime.bigint() - started) / n / 1e3).toFixed(2)} us per request`);
  await verifier.close();
}

async function startEndpoint(withAuth, dir) {
  const bcrypt = require('bcryptjs');
  const { parseConfig } = require(path.join(DIST, 'config/parseConfig.js'));
  const { EndpointAccess } = require(path.join(DIST, 'exposition/access/EndpointAccess.js'));
  const { MetricsEndpoint } = require(path.join(DIST, 'exposition/MetricsEndpoint.js'));
  const env = {};
  if (withAuth) {
    const file = path.join(dir, 'web.yml');
    fs.writeFileSync(file, `basic_auth_users:\n  prometheus: ${bcrypt.hashSync('password', 10)}\n`);
    env.PROMETHEUS_WEB_CONFIG_FILE = file;
  }
  const access = EndpointAccess.fromConfig(parseConfig({ env, hostname: 'bench' }));
  const body = `${'bench_metric{label="value"} 1\n'.repeat(1700)}`;
  const endpoint = new MetricsEndpoint({ port: 0, host: '127.0.0.1', guard: access, render: async () => body });
  const { port } = await endpoint.start();
  return { endpoint, port };
}

function load(port, seconds, connections, headers) {
  const autocannon = require('autocannon');
  return new Promise((resolve, reject) => {
    autocannon({ url: `http://127.0.0.1:${port}/metrics`, connections, duration: seconds, headers }, (error, result) => {
      if (error) reject(error);
      else if (result.non2xx > 0) reject(new Error(`${result.non2xx} non-2xx answers`));
      else resolve(result.requests.average);
    });
  });
}

async function main() {
  if (!fs.existsSync(path.join(DIST, 'exposition', 'access', 'EndpointAccess.js'))) {
    console.error('dist/ is missing: run `npm run bench:auth`');
    process.exitCode = 1;
    return;
  }
  const duration = Number(arg('duration', '4'));
  const rounds = Number(arg('rounds', '3'));
  const connections = Number(arg('connections', '4'));
  console.log(`node ${process.version}, ${os.cpus().length} cpus`);
  await bcryptCosts();
  await eventLoopDuringChecks();
  await cachedCheck();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-auth-'));
  const authorization = `Basic ${Buffer.from('prometheus:password').toString('base64')}`;
  const results = { open: [], auth: [] };
  try {
    for (let round = 1; round <= rounds; round++) {
      for (const kind of ['open', 'auth']) {
        const { endpoint, port } = await startEndpoint(kind === 'auth', dir);
        try {
          const rps = await load(port, duration, connections, kind === 'auth' ? { authorization } : {});
          results[kind].push(rps);
          console.log(`round ${round}  ${kind === 'auth' ? 'basic auth' : 'no auth   '}  ${Math.round(rps)} scrapes/s`);
        } finally {
          await endpoint.close();
        }
      }
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
  const open = median(results.open);
  const auth = median(results.auth);
  console.log(`\nmedian scrapes/s: no auth ${Math.round(open)}, basic auth ${Math.round(auth)}, ratio ${(auth / open).toFixed(3)}`);
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
