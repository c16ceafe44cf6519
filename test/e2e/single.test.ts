/**
 * End to end without a cluster: one process, CommonJS and ESM, zero
 * configuration, the app's own OpenTelemetry instruments, and a bad
 * configuration stopping the app before it serves.
 */
import { test } from 'node:test';
import type { TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { fork, spawn, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { CATALOGUE, prometheusName } from '../../src/catalogue/MetricCatalogue';
import { APPS, REGISTER, freePort, httpRequest, load, scrape, sleep, startApp, withHostLock } from '../support/processes';
import { CHILD_ENV } from '../support/childEnv';

const REQUESTS = prometheusName(CATALOGUE.requests);
const VISIBILITY_MS = 1100;

/** Held while a test uses the default metrics port, so a suite running beside this one (CI's other Node) waits for it. */
const DEFAULT_PORT_LOCK = 19091;

test('a single process with zero configuration serves its metrics on the default port', (t) => withHostLock(DEFAULT_PORT_LOCK, () => defaultPortTest(t)));

async function defaultPortTest(t: TestContext): Promise<void> {
  const defaultPort = 9091;
  const busy = await httpRequest(defaultPort, '/').then(
    () => true,
    () => false,
  );
  if (busy) {
    t.skip('port 9091 is taken on this machine');
    return;
  }
  const appPort = await freePort();
  const child = fork(join(APPS, 'single-app.js'), [], {
    execArgv: ['--require', REGISTER],
    env: { ...CHILD_ENV, APP_PORT: String(appPort) },
    stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
  });
  try {
    await new Promise((ok) => child.once('message', ok));
    await load(appPort, '/anything', 25);
    await sleep(VISIBILITY_MS);
    const exposition = await scrape(defaultPort);
    assert.equal(exposition.sum(REQUESTS, { worker_id: '0', status: '200' }), 25);
    assert.ok(exposition.sum(CATALOGUE.memory.name, { worker_id: '0' }) > 0, 'memory is sampled');
    assert.equal(exposition.sum(CATALOGUE.workers.name), 1);
  } finally {
    // The lock is released next: the app must be gone (its port free) for the next holder.
    const exited = new Promise((ok) => (child.exitCode !== null || child.signalCode !== null ? ok(undefined) : child.once('exit', ok)));
    child.kill('SIGKILL');
    await exited;
  }
}

test('an ESM app loaded with --import records its own OpenTelemetry instruments', async () => {
  const app = await startApp('esm-app.mjs', {}, { loader: '--import' });
  try {
    await load(app.appPort, '/order', 3);
    await sleep(VISIBILITY_MS);
    const exposition = await scrape(app.metricsPort);
    assert.equal(exposition.sum('shop_orders_total', { kind: 'book', worker_id: '0' }), 3);
    assert.equal(exposition.sum(REQUESTS, { endpoint: '/order' }), 3);
  } finally {
    await app.stop();
  }
});

test('a bad configuration stops the app before it serves, naming the key', async () => {
  const appPort = await freePort();
  const child = fork(join(APPS, 'single-app.js'), [], {
    execArgv: ['--require', REGISTER],
    env: { ...CHILD_ENV, APP_PORT: String(appPort), PROMETHEUS_METRICS_PORT: 'ninety' },
    stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
  });
  let stderr = '';
  let listened = false;
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  child.on('message', () => (listened = true));
  const code = await new Promise<number | null>((ok) => child.once('exit', ok));
  assert.equal(code, 78);
  assert.equal(listened, false, 'the app never started listening');
  assert.match(stderr, /PROMETHEUS_METRICS_PORT/);
});

test('start() in code instruments like the preload, and shutdown() releases the endpoint and lets the process exit', async () => {
  const appPort = await freePort();
  const metricsPort = await freePort();
  const child = fork(join(APPS, 'programmatic-app.js'), [], {
    env: { ...CHILD_ENV, APP_PORT: String(appPort), PROMETHEUS_METRICS_PORT: String(metricsPort), PROMETHEUS_BIND_ADDRESS: '127.0.0.1' },
    stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
  });
  try {
    await new Promise((ok) => child.once('message', ok));
    const answer = await httpRequest(appPort, '/');
    assert.equal(answer.body, 'role main\n');
    await load(appPort, '/x', 4);
    await sleep(VISIBILITY_MS);
    assert.equal((await scrape(metricsPort)).sum(REQUESTS, { endpoint: '/x' }), 4);
    const exited = new Promise<number | null>((ok) => child.once('exit', ok));
    child.disconnect(); // the IPC channel would keep the process alive on its own
    await httpRequest(appPort, '/shutdown');
    assert.equal(await exited, 0, 'nothing of ours keeps the event loop alive after shutdown()');
    await assert.rejects(httpRequest(metricsPort, '/metrics'), 'the endpoint is closed');
  } finally {
    child.kill('SIGKILL');
  }
});

test('a child process the app forks does not start a second exporter or pose as worker 0', async () => {
  const app = await startApp('parent-with-child.js');
  try {
    const answer = await httpRequest(app.appPort, '/child');
    assert.match(answer.body, /child says pong/);
    await load(app.appPort, '/', 5);
    await sleep(VISIBILITY_MS);
    const exposition = await scrape(app.metricsPort);
    assert.equal(exposition.sum(REQUESTS, { endpoint: '/' }), 5 + 1 /* the readiness probe */);
    assert.equal(new Set(exposition.find(REQUESTS).map((s) => s.labels.worker_id)).size, 1);
    assert.doesNotMatch(app.stderr(), /cannot listen|retrying/, 'the child never tried to bind the metrics port');
  } finally {
    await app.stop();
  }
});

for (const store of ['file', 'redis'] as const) {
  test(`a script that finishes exits on its own under the preload (${store} store)`, async () => {
    const metricsPort = await freePort();
    const started = Date.now();
    const script = "require('node:http').get('http://127.0.0.1:1/', () => {}).on('error', () => {}); console.log('done')";
    const child = spawn(process.execPath, ['--require', REGISTER, '-e', script], {
      env: {
        ...CHILD_ENV,
        PROMETHEUS_METRICS_PORT: String(metricsPort),
        PROMETHEUS_BIND_ADDRESS: '127.0.0.1',
        ...(store === 'redis' ? { REDIS_ENABLED: 'true', REDIS_KEY_PREFIX: `ocx-test:exit:${process.pid}` } : {}),
      },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), 10000);
    const [code, signal] = await new Promise<[number | null, string | null]>((ok) => child.once('exit', (c, s) => ok([c, s])));
    clearTimeout(timer);
    assert.equal(signal, null, 'it was not killed by the test timeout: nothing of ours kept it alive');
    assert.equal(code, 0);
    assert.ok(Date.now() - started < 10000);
    if (store === 'redis') {
      spawnSync('sh', ['-c', `redis-cli --scan --pattern 'ocx-test:exit:${process.pid}*' | xargs -r redis-cli del`]);
    }
  });
}
