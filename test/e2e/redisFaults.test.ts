/**
 * End to end with a redis-server this file starts, kills and restarts itself
 * on a free loopback port: a real cluster app (2 workers) and a `serve`
 * sidecar keep going while Redis is missing at startup, dies mid-traffic and
 * comes back empty, or is emptied by FLUSHALL after a worker died.
 */
import { after, before, describe, test } from 'node:test';
import type { TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { performance } from 'node:perf_hooks';
import { Redis } from 'ioredis';
import { CATALOGUE, LABEL, prometheusName } from '../../src/catalogue/MetricCatalogue';
import { freePort, httpRequest, parseExposition, sleep, startApp, waitFor } from '../support/processes';
import type { Exposition, RunningApp } from '../support/processes';
import { deletePrefix, e2ePrefix, startServe } from '../support/serveProcess';
import type { RunningServe } from '../support/serveProcess';
import { RedisServer } from '../store/support/redisFixtures';

const REQUESTS = prometheusName(CATALOGUE.requests);
const STORE_UP = prometheusName(CATALOGUE.storeUp);
const INSTANCE = 'faulty-1';
const SIDECAR = 'sidecar';
const FLUSH_INTERVAL_MS = 500;
const VISIBILITY_MS = 2 * FLUSH_INTERVAL_MS + 100;
/** A scrape slower than this hangs: the design answers within its 2 s store-read timeout. */
const SCRAPE_HANG_MS = 3000;

/** A timed scrape. */
async function timedScrape(port: number): Promise<{ view: Exposition; ms: number }> {
  const started = performance.now();
  const response = await httpRequest(port, '/metrics');
  const ms = performance.now() - started;
  assert.equal(response.status, 200, `scrape answered ${response.status}`);
  return { view: parseExposition(response.body), ms };
}

/** Send `count` requests, 8 at a time, asserting every one succeeds; returns each request's latency in ms. */
async function trafficAllOk(port: number, count: number): Promise<number[]> {
  const latencies: number[] = [];
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < count) {
      next++;
      const started = performance.now();
      const { status } = await httpRequest(port, '/');
      latencies.push(performance.now() - started);
      assert.equal(status, 200, 'the app answers every request');
    }
  };
  await Promise.all(Array.from({ length: 8 }, lane));
  return latencies;
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((x, y) => x - y);
  return sorted[Math.floor(sorted.length / 2)] ?? NaN;
}

/** Counter and histogram samples of the instance, keyed by name and labels: what must never go down. */
function cumulativeSeries(view: Exposition): Map<string, number> {
  const types = new Map<string, string>();
  for (const line of view.text.split('\n')) {
    const match = /^# TYPE (\S+) (\S+)$/.exec(line);
    if (match) types.set(match[1] ?? '', match[2] ?? '');
  }
  const series = new Map<string, number>();
  for (const sample of view.samples) {
    if (sample.labels[LABEL.instance] !== INSTANCE) continue;
    const family = types.has(sample.name) ? sample.name : sample.name.replace(/_(bucket|sum|count)$/, '');
    const type = types.get(family);
    if (type !== 'counter' && type !== 'histogram') continue;
    series.set(`${sample.name}${JSON.stringify(Object.entries(sample.labels).sort())}`, sample.value);
  }
  return series;
}

describe('Redis faults under a live cluster app and a serve sidecar', () => {
  const prefix = e2ePrefix('faults');
  let redisPort: number;
  let redis: RedisServer | undefined;
  let app: RunningApp;
  let serve: RunningServe;
  /** Requests the app answered since it started, as the test counts them (startApp's readiness probe included). */
  let sent = 0;

  const requestsOf = (view: Exposition): number => view.sum(REQUESTS, { [LABEL.instance]: INSTANCE });
  const storeUp = (view: Exposition): number | undefined => view.find(STORE_UP, { [LABEL.instance]: SIDECAR, [LABEL.store]: 'redis' })[0]?.value;

  before(async () => {
    redisPort = await freePort();
    const env = {
      REDIS_ENABLED: 'true',
      REDIS_HOST: '127.0.0.1',
      REDIS_PORT: String(redisPort),
      REDIS_KEY_PREFIX: prefix,
      OTEL_SERVICE_NAME: 'faults',
      OTEL_CLUSTER_EXPORTER_FLUSH_INTERVAL_MS: String(FLUSH_INTERVAL_MS),
    };
    // Redis is not running yet: both must start and serve anyway.
    [app, serve] = await Promise.all([
      startApp('cluster-app.js', { ...env, APP_WORKERS: '2', OTEL_RESOURCE_ATTRIBUTES: `service.instance.id=${INSTANCE}` }),
      startServe({ ...env, OTEL_RESOURCE_ATTRIBUTES: `service.instance.id=${SIDECAR}`, OTEL_CLUSTER_EXPORTER_SERVE_SCOPE: 'service' }),
    ]);
    sent = 1; // startApp's readiness probe: one GET / answered 200
  });

  after(async () => {
    await Promise.all([app?.stop(), serve?.stop()]);
    if (redis !== undefined) {
      await deletePrefix(redisPort, prefix).catch(() => undefined);
      await redis.stop();
    }
  });

  test('Redis down at startup: the app serves, and its metrics catch up once Redis comes', async (t: TestContext) => {
    await trafficAllOk(app.appPort, 30);
    sent += 30;
    const { view, ms } = await timedScrape(serve.port);
    t.diagnostic(`scrape of serve with Redis never seen: ${ms.toFixed(1)} ms`);
    assert.ok(ms < SCRAPE_HANG_MS);
    assert.equal(storeUp(view), 0, 'the store-up gauge says Redis is away');

    redis = await RedisServer.start([], { port: redisPort });
    const caughtUp = await waitFor('the counts made before Redis existed', async () => {
      const current = await timedScrape(serve.port);
      return requestsOf(current.view) === sent ? current.view : undefined;
    });
    assert.equal(storeUp(caughtUp), 1);
  });

  test('Redis killed mid-traffic: zero failed requests, quick scrapes of the last good view, exact totals after it returns', async (t: TestContext) => {
    const server = redis as RedisServer;
    const baseline = await trafficAllOk(app.appPort, 100);
    sent += 100;
    await sleep(VISIBILITY_MS);
    const beforeOutage = requestsOf((await timedScrape(serve.port)).view);
    assert.equal(beforeOutage, sent);

    await server.stop();
    const during: number[] = [];
    const scrapeTimes: number[] = [];
    for (let round = 0; round < 5; round++) {
      during.push(...(await trafficAllOk(app.appPort, 30)));
      sent += 30;
      const { view, ms } = await timedScrape(serve.port);
      scrapeTimes.push(ms);
      assert.ok(ms < SCRAPE_HANG_MS, `scrape took ${ms} ms while Redis was down`);
      assert.equal(requestsOf(view), beforeOutage, 'the last good view is served');
      assert.equal(storeUp(view), 0);
      await sleep(200);
    }
    t.diagnostic(`app latency median: ${median(baseline).toFixed(2)} ms with Redis, ${median(during).toFixed(2)} ms without (${during.length} requests)`);
    t.diagnostic(`serve scrape while Redis is down: median ${median(scrapeTimes).toFixed(1)} ms, max ${Math.max(...scrapeTimes).toFixed(1)} ms`);

    await server.restart(); // an empty Redis: nothing survived the crash
    await trafficAllOk(app.appPort, 50);
    sent += 50;
    const view = await waitFor('full catch-up after Redis returns empty', async () => {
      const current = (await timedScrape(serve.port)).view;
      return requestsOf(current) === sent ? current : undefined;
    });
    assert.equal(storeUp(view), 1);
    // And it stays exact (nothing counted twice once every worker has written again).
    await sleep(VISIBILITY_MS);
    assert.equal(requestsOf((await timedScrape(serve.port)).view), sent);
  });

  test('FLUSHALL after a worker died: within two flush intervals every series is back at or above its value', async () => {
    await trafficAllOk(app.appPort, 40);
    sent += 40;
    await sleep(VISIBILITY_MS);
    const [victim] = await app.workerPids();
    process.kill(victim ?? 0, 'SIGKILL');
    const client = new Redis({ host: '127.0.0.1', port: redisPort, maxRetriesPerRequest: 0 });
    try {
      // Wait until the dead worker's snapshot is folded into its slot's retired totals. The primary folds at
      // the worker's exit; if that is missed, the lease (5 s) and the reaper (every 5 s) still do it, and a
      // replacement on a CPU shared with the other suite can take seconds more to write its first snapshot.
      // While waiting, the check throws what it sees, which waitFor reports if time runs out.
      const instanceBase = `${prefix}:{faults|${INSTANCE}}:`;
      await waitFor(
        'the dead worker to be folded',
        async () => {
          const retired = await client.hlen(`${instanceBase}retired`);
          const lives = await client.zrange(`${instanceBase}idx`, 0, -1);
          if (retired > 0 && lives.length === 3) return true;
          throw new Error(`${retired} retired entries, ${lives.length} lives indexed (${lives.join(', ')}), live workers ${(await app.workerPids()).join(', ')}`);
        },
        30_000,
      );
      await waitFor('the replacement worker', async () => ((await app.workerPids()).length === 2 ? true : undefined));
      await trafficAllOk(app.appPort, 10);
      sent += 10;
      await sleep(VISIBILITY_MS);
      const beforeFlush = (await timedScrape(serve.port)).view;
      assert.equal(requestsOf(beforeFlush), sent);
      const previous = cumulativeSeries(beforeFlush);
      assert.ok(previous.size > 10, `expected many counter and histogram series, got ${previous.size}`);

      await client.flushall();
      await sleep(2 * FLUSH_INTERVAL_MS);
      const afterFlush = (await timedScrape(serve.port)).view;
      const current = cumulativeSeries(afterFlush);
      for (const [series, value] of previous) {
        const now = current.get(series);
        assert.ok(now !== undefined && now >= value, `${series}: ${value} before FLUSHALL, ${now ?? 'missing'} two flush intervals after`);
      }
      assert.equal(requestsOf(afterFlush), sent, "the dead worker's folded requests are back, counted once");
      assert.ok((await client.hlen(`${instanceBase}retired`)) > 0, 'the retired totals were written back to Redis');
    } finally {
      client.disconnect();
    }
  });

  test('SIGKILL, then FLUSHALL 1.5 s later: neither the primary nor the sidecar ever shows fewer requests, and both end exact', async () => {
    await waitFor('two workers', async () => ((await app.workerPids()).length === 2 ? true : undefined));
    await trafficAllOk(app.appPort, 60);
    sent += 60;
    await sleep(VISIBILITY_MS);
    const views = async (): Promise<number[]> => Promise.all([app.metricsPort, serve.port].map(async (port) => requestsOf((await timedScrape(port)).view)));
    assert.deepEqual(await views(), [sent, sent]);
    const [victim] = await app.workerPids();
    process.kill(victim ?? 0, 'SIGKILL');
    const watch = async (what: string, ms: number): Promise<void> => {
      const until = Date.now() + ms;
      while (Date.now() < until) {
        for (const value of await views()) assert.ok(value >= sent, `${what}: ${value} requests served, ${sent} were counted`);
        await sleep(100);
      }
    };
    await watch('between the kill and the FLUSHALL', 1_500);
    const client = new Redis({ host: '127.0.0.1', port: redisPort, maxRetriesPerRequest: 0 });
    try {
      await client.flushall();
    } finally {
      client.disconnect();
    }
    await watch('after the FLUSHALL', 3 * FLUSH_INTERVAL_MS);
    await waitFor('both views exact', async () => ((await views()).every((value) => value === sent) ? true : undefined));
  });
});
