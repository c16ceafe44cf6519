/**
 * End to end: one cluster app (2 workers) serving the same API with every
 * framework the README names, each on its own port, under the preload with no
 * code change: route templates, exception classes, exclusions and HTTP/2,
 * exact counts on the merged /metrics.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import http2 from 'node:http2';
import { CATALOGUE, prometheusName } from '../../src/catalogue/MetricCatalogue';
import { freePort, httpRequest, scrape, sleep, startApp, waitFor, type Exposition, type RunningApp } from '../support/processes';

const REQUESTS = prometheusName(CATALOGUE.requests);
const FAILED = prometheusName(CATALOGUE.failedRequests);
const RESPONSE_SUM = `${CATALOGUE.responseSize.name}_sum`;
const VISIBILITY_MS = 1100;
const CPU = prometheusName(CATALOGUE.runtimeCpu);
const VERSION_INFO = CATALOGUE.runtimeVersionInfo.name;
const HEAP_SPACE = CATALOGUE.runtimeHeapSpaceUsed.name;
const GC = CATALOGUE.runtimeGcDuration.name;

/** Each framework's own template syntax for its `P/users/:id` route (Hapi writes parameters in braces). */
const FRAMEWORKS = {
  express: '/express/users/:id',
  fastify: '/fastify/users/:id',
  koa: '/koa/users/:id',
  koaRouter: '/koaRouter/users/:id',
  hapi: '/hapi/users/{id}',
  nestExpress: '/nestExpress/users/:id',
  nestFastify: '/nestFastify/users/:id',
  restify: '/restify/users/:id',
} as const;
type Framework = keyof typeof FRAMEWORKS;

/** `{"id":"alice"}` and friends: 14 + 12 + 11 + 14 bytes, whatever framework serialises them. */
const USER_IDS = ['alice', 'bob', '12', 'carol'];
const USER_BYTES = 51;

async function h2Get(port: number, paths: string[]): Promise<number[]> {
  const session = http2.connect(`http://127.0.0.1:${port}`);
  try {
    const statuses: number[] = [];
    for (const path of paths) {
      statuses.push(
        await new Promise<number>((resolve, reject) => {
          const stream = session.request({ ':path': path });
          let status = 0;
          stream.on('response', (headers) => (status = Number(headers[':status'])));
          stream.resume();
          stream.on('end', () => resolve(status));
          stream.on('error', reject);
        }),
      );
    }
    return statuses;
  } finally {
    session.close();
  }
}

describe('every framework in one cluster app, no code change', () => {
  let app: RunningApp;
  let ports: Record<Framework | 'h2' | 'h2stream', number>;
  let before_: Exposition;
  let after_: Exposition;
  const delta = (name: string, labels: Record<string, string>): number => after_.sum(name, labels) - before_.sum(name, labels);

  before(async () => {
    ports = {} as typeof ports;
    for (const name of [...Object.keys(FRAMEWORKS), 'h2', 'h2stream'] as (keyof typeof ports)[]) ports[name] = await freePort();
    app = await startApp('frameworks-app.js', {
      APP_WORKERS: '2',
      FRAMEWORK_PORTS: JSON.stringify(ports),
      OTEL_CLUSTER_EXPORTER_EXCLUDE_PATHS: '/health',
    });
    // Every framework in both workers is up once its health route answers (Nest boots asynchronously).
    for (const [name, port] of Object.entries(ports)) {
      if (name.startsWith('h2')) continue;
      await waitFor(`${name} on ${port}`, async () => ((await httpRequest(port, '/health')).status === 200 ? true : undefined), 30000);
    }
    await sleep(VISIBILITY_MS);
    before_ = await scrape(app.metricsPort);
    for (const [name, port] of Object.entries(ports)) {
      if (name.startsWith('h2')) continue;
      const statuses: number[] = [];
      for (const id of USER_IDS) statuses.push((await httpRequest(port, `/${name}/users/${id}`)).status);
      statuses.push((await httpRequest(port, `/${name}/users/7/posts?page=2`)).status);
      for (let i = 0; i < 3; i++) statuses.push((await httpRequest(port, `/${name}/boom`)).status);
      for (let i = 0; i < 2; i++) statuses.push((await httpRequest(port, `/${name}/type`)).status);
      for (let i = 0; i < 5; i++) statuses.push((await httpRequest(port, '/health')).status);
      statuses.push((await httpRequest(port, '/no/such/page')).status);
      assert.deepEqual(statuses, [200, 200, 200, 200, 200, 500, 500, 500, 500, 500, 200, 200, 200, 200, 200, 404], name);
    }
    for (const port of [ports.h2, ports.h2stream]) {
      assert.deepEqual(await h2Get(port, ['/h2/users/1', '/h2/users/22', '/h2/users/333', '/health', '/h2/fail']), [200, 200, 200, 200, 500]);
    }
    await sleep(VISIBILITY_MS);
    after_ = await scrape(app.metricsPort);
  });
  after(async () => {
    await app?.stop();
  });

  for (const [framework, template] of Object.entries(FRAMEWORKS) as [Framework, string][]) {
    test(`${framework}: route templates, exception classes, sizes and the 404, exactly`, () => {
      const labels = (endpoint: string, status: string) => ({ method: 'GET', endpoint, status });
      assert.equal(delta(REQUESTS, labels(template, '200')), 4);
      assert.equal(delta(RESPONSE_SUM, labels(template, '200')), USER_BYTES);
      assert.equal(delta(REQUESTS, labels(`${template}/posts`, '200')), 1);
      assert.equal(delta(RESPONSE_SUM, labels(`${template}/posts`, '200')), 2);
      assert.equal(delta(REQUESTS, labels(`/${framework}/boom`, '500')), 3);
      assert.equal(delta(FAILED, { endpoint: `/${framework}/boom`, error_type: 'ValidationError' }), 3);
      assert.equal(delta(REQUESTS, labels(`/${framework}/type`, '500')), 2);
      assert.equal(delta(FAILED, { endpoint: `/${framework}/type`, error_type: 'TypeError' }), 2);
      // No other value of this framework's requests: nothing under a raw path, no category left.
      const own = after_.find(REQUESTS).filter((s) => s.labels.endpoint?.startsWith(`/${framework}/`));
      assert.deepEqual([...new Set(own.map((s) => s.labels.endpoint))].sort(), [template, `${template}/posts`, `/${framework}/boom`, `/${framework}/type`].sort());
    });
  }

  test('HTTP/2, compatibility and stream API: counted and sized like HTTP/1, the 500 without an exception is a category', () => {
    assert.equal(delta(REQUESTS, { method: 'GET', endpoint: '/h2/users/:id', status: '200' }), 6);
    // {"id":"1"}, {"id":"22"}, {"id":"333"} on each server.
    assert.equal(delta(RESPONSE_SUM, { endpoint: '/h2/users/:id', status: '200' }), 2 * (10 + 11 + 12));
    assert.equal(delta(FAILED, { endpoint: '/h2/fail', error_type: 'http_5xx' }), 2);
  });

  test("prom-client's runtime metrics per worker, none from the primary", () => {
    const cpu = after_.find(CPU);
    assert.deepEqual(cpu.map((sample) => sample.labels.worker_id).sort(), ['0', '1']);
    assert.ok(cpu.every((sample) => sample.value > 0));
    assert.deepEqual(
      after_
        .find(VERSION_INFO)
        .map((s) => [s.labels.worker_id, s.labels.version, s.value])
        .sort(),
      [
        ['0', process.version, 1],
        ['1', process.version, 1],
      ],
    );
    assert.ok(after_.find(HEAP_SPACE, { worker_id: '0', space: 'old' }).length === 1);
    assert.ok(after_.text.includes(`# TYPE ${GC} histogram`));
    assert.ok(after_.text.includes(`# TYPE ${CPU} counter`));
  });

  test('totals across both workers: 8 × 11 framework requests, 2 × 4 HTTP/2 ones, 8 unmatched, /health excluded everywhere', () => {
    assert.equal(after_.sum(REQUESTS) - before_.sum(REQUESTS), 8 * 11 + 2 * 4);
    assert.equal(delta(REQUESTS, { endpoint: '__unmatched__', status: '404' }), 8);
    assert.equal(after_.find(REQUESTS, { endpoint: '/health' }).length, 0);
    assert.deepEqual([...new Set(after_.find(REQUESTS).map((s) => s.labels.worker_id))].sort(), ['0', '1']);
  });
});

describe('an ES-module app imports Koa, Hapi and Express: the hooks see them under --import', () => {
  let app: RunningApp;
  let ports: Record<'koa' | 'hapi' | 'express', number>;

  before(async () => {
    ports = { koa: await freePort(), hapi: await freePort(), express: await freePort() };
    // Runtime metrics switched off here: they must then be absent.
    app = await startApp('esm-frameworks-app.mjs', { FRAMEWORK_PORTS: JSON.stringify(ports), OTEL_CLUSTER_EXPORTER_RUNTIME_METRICS: 'false' }, { loader: '--import' });
  });
  after(async () => {
    await app?.stop();
  });

  test('route templates and exception classes as in CommonJS', async () => {
    const templates = { koa: '/koa/users/:id', hapi: '/hapi/users/{id}', express: '/express/users/:id' };
    for (const [name, port] of Object.entries(ports)) {
      for (const id of ['ann', 'ben']) assert.equal((await httpRequest(port, `/${name}/users/${id}`)).status, 200);
      assert.equal((await httpRequest(port, `/${name}/boom`)).status, 500);
    }
    await sleep(VISIBILITY_MS);
    const m = await scrape(app.metricsPort);
    for (const [name, template] of Object.entries(templates)) {
      assert.equal(m.sum(REQUESTS, { endpoint: template, status: '200', worker_id: '0' }), 2, `${name}\n${m.text}`);
      assert.equal(m.sum(FAILED, { endpoint: `/${name}/boom`, error_type: 'ValidationError' }), 1, name);
    }
    assert.doesNotMatch(app.stderr(), /hooking|not installed/);
    assert.equal(m.find(CPU).length, 0, 'metrics.runtime=false');
    assert.equal(m.find(`${GC}_count`).length, 0);
  });
});
