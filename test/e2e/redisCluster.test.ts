/**
 * End to end on the shared Redis (127.0.0.1:6379): two instances of a real
 * cluster app (2 workers each) write to one key prefix, and
 * `otel-cluster-exporter serve` runs beside them as a sidecar on its own port.
 * Real HTTP, real SIGKILLs, real scrapes; the prefix is unique to this run
 * and deleted afterwards.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Redis } from 'ioredis';
import { CATALOGUE, LABEL, prometheusName } from '../../src/catalogue/MetricCatalogue';
import { load, scrape, sleep, startApp, waitFor } from '../support/processes';
import type { Exposition, RunningApp } from '../support/processes';
import { countPrefix, deletePrefix, e2ePrefix, startServe } from '../support/serveProcess';
import type { RunningServe } from '../support/serveProcess';

const REQUESTS = prometheusName(CATALOGUE.requests);
const DURATION_COUNT = `${CATALOGUE.requestDuration.name}_count`;
const REDIS_PORT = 6379;
/** Flushes happen at most every second: past this a completed request must show. */
const VISIBILITY_MS = 1100;
const SERVICE = 'shop';

const prefix = e2ePrefix('cluster');
const redisEnv = { REDIS_ENABLED: 'true', REDIS_HOST: '127.0.0.1', REDIS_PORT: String(REDIS_PORT), REDIS_KEY_PREFIX: prefix };

function instanceEnv(service: string, instance: string): Record<string, string> {
  return { ...redisEnv, OTEL_SERVICE_NAME: service, OTEL_RESOURCE_ATTRIBUTES: `service.instance.id=${instance}` };
}

function requestsOf(view: Exposition, instance: string): number {
  return view.sum(REQUESTS, { [LABEL.instance]: instance });
}

/** The instances that have request series in a scrape. */
function instancesIn(view: Exposition): string[] {
  return [...new Set(view.find(REQUESTS).map((s) => s.labels[LABEL.instance] ?? '(none)'))].sort();
}

describe('two cluster instances on one Redis, served by a serve sidecar', () => {
  let a: RunningApp;
  let b: RunningApp;
  let other: RunningApp;
  let serve: RunningServe;
  const extraServes: RunningServe[] = [];

  before(async () => {
    [a, b, other, serve] = await Promise.all([
      startApp('cluster-app.js', { APP_WORKERS: '2', ...instanceEnv(SERVICE, 'shop-a') }),
      startApp('cluster-app.js', { APP_WORKERS: '2', ...instanceEnv(SERVICE, 'shop-b') }),
      // Another service writing under the same prefix: what the scope option keeps apart.
      startApp('single-app.js', instanceEnv('billing', 'billing-1')),
      startServe({ ...redisEnv, OTEL_SERVICE_NAME: SERVICE, OTEL_CLUSTER_EXPORTER_SERVE_SCOPE: 'all' }),
    ]);
  });

  after(async () => {
    await Promise.all([a?.stop(), b?.stop(), other?.stop(), serve?.stop(), ...extraServes.map((s) => s.stop())]);
    await deletePrefix(REDIS_PORT, prefix);
    assert.equal(await countPrefix(REDIS_PORT, prefix), 0, 'no keys left behind');
  });

  test('the sidecar shows exact per-instance totals, each series labelled with its instance', async () => {
    await sleep(VISIBILITY_MS); // the readiness probes of startApp show first
    const before = await scrape(serve.port);
    await Promise.all([load(a.appPort, '/', 50), load(a.appPort, '/boom', 10), load(b.appPort, '/users/42', 30)]);
    await sleep(VISIBILITY_MS);
    const after = await scrape(serve.port);

    assert.equal(requestsOf(after, 'shop-a') - requestsOf(before, 'shop-a'), 60);
    assert.equal(requestsOf(after, 'shop-b') - requestsOf(before, 'shop-b'), 30);
    assert.equal(after.sum(REQUESTS, { instance: 'shop-a', status: '500' }) - before.sum(REQUESTS, { instance: 'shop-a', status: '500' }), 10);
    assert.equal(after.sum(DURATION_COUNT, { instance: 'shop-b', endpoint: '/users/:id' }) - before.sum(DURATION_COUNT, { instance: 'shop-b', endpoint: '/users/:id' }), 30);
    for (const instance of ['shop-a', 'shop-b']) {
      const slots = new Set(after.find(REQUESTS, { instance }).map((s) => s.labels[LABEL.workerId]));
      assert.deepEqual([...slots].sort(), ['0', '1'], `${instance} shows both worker slots`);
    }
    assert.ok(
      after.find(REQUESTS).every((s) => s.labels[LABEL.instance] !== undefined),
      'every request series names its instance',
    );
    // The primary of an instance serves its own instance, with the same totals as serve;
    // only serve reads wider scopes, so no series is exported twice by two scraped pods.
    const fromPrimary = await scrape(a.metricsPort);
    assert.equal(requestsOf(fromPrimary, 'shop-a'), requestsOf(after, 'shop-a'));
    assert.equal(requestsOf(fromPrimary, 'shop-b'), 0);
  });

  test('SIGKILLed workers of both instances: totals never decrease on the sidecar and are exact after replacement', async () => {
    await Promise.all([load(a.appPort, '/', 20), load(b.appPort, '/', 20)]);
    await sleep(VISIBILITY_MS);
    const start = await scrape(serve.port);
    const startA = requestsOf(start, 'shop-a');
    const startB = requestsOf(start, 'shop-b');
    let previousA = startA;
    let previousB = startB;
    for (let round = 0; round < 2; round++) {
      const [pidsA, pidsB] = await Promise.all([a.workerPids(), b.workerPids()]);
      process.kill(pidsA[round % 2] ?? 0, 'SIGKILL');
      process.kill(pidsB[(round + 1) % 2] ?? 0, 'SIGKILL');
      for (let i = 0; i < 8; i++) {
        const view = await scrape(serve.port);
        const [nowA, nowB] = [requestsOf(view, 'shop-a'), requestsOf(view, 'shop-b')];
        assert.ok(nowA >= previousA, `round ${round}: shop-a went from ${previousA} to ${nowA}`);
        assert.ok(nowB >= previousB, `round ${round}: shop-b went from ${previousB} to ${nowB}`);
        [previousA, previousB] = [nowA, nowB];
        await sleep(150);
      }
      await waitFor('both instances to replace their workers', async () => ((await a.workerPids()).length === 2 && (await b.workerPids()).length === 2 ? true : undefined));
    }
    await Promise.all([load(a.appPort, '/', 25), load(b.appPort, '/', 15)]);
    await sleep(VISIBILITY_MS);
    const end = await scrape(serve.port);
    assert.equal(requestsOf(end, 'shop-a'), startA + 25, 'shop-a: every request counted exactly once');
    assert.equal(requestsOf(end, 'shop-b'), startB + 15, 'shop-b: every request counted exactly once');
    for (const instance of ['shop-a', 'shop-b']) {
      const slots = new Set(end.find(REQUESTS, { instance }).map((s) => s.labels[LABEL.workerId]));
      assert.deepEqual([...slots].sort(), ['0', '1'], `${instance}: replacements continue their slots`);
    }

    // Once the leases of the dead expire, their snapshots are folded into their slots: same totals, counted once.
    const redis = new Redis({ host: '127.0.0.1', port: REDIS_PORT, maxRetriesPerRequest: 0 });
    try {
      await waitFor(
        'the dead workers to be folded into their slots',
        async () => {
          for (const instance of ['shop-a', 'shop-b']) {
            const base = `${prefix}:{${SERVICE}|${instance}}:`;
            if ((await redis.zcard(`${base}idx`)) !== 3 || (await redis.hlen(`${base}retired`)) === 0) return undefined;
          }
          return true;
        },
        20_000,
      );
    } finally {
      redis.disconnect();
    }
    const folded = await scrape(serve.port);
    assert.equal(requestsOf(folded, 'shop-a'), startA + 25, 'shop-a after folding');
    assert.equal(requestsOf(folded, 'shop-b'), startB + 15, 'shop-b after folding');
    // A replaced worker is not a second process claiming its identity.
    assert.equal(folded.find(prometheusName(CATALOGUE.identityConflicts)).length, 0);
    assert.doesNotMatch(serve.stderr(), /two live processes/);
  });

  test('the scope option: instance, service or everything under the prefix', async () => {
    await load(other.appPort, '/', 5);
    const [oneInstance, oneService] = await Promise.all([
      startServe({ ...redisEnv, OTEL_SERVICE_NAME: SERVICE, OTEL_RESOURCE_ATTRIBUTES: 'service.instance.id=shop-b', OTEL_CLUSTER_EXPORTER_SERVE_SCOPE: 'instance' }),
      startServe({ ...redisEnv, OTEL_SERVICE_NAME: SERVICE, OTEL_CLUSTER_EXPORTER_SERVE_SCOPE: 'service' }),
    ]);
    extraServes.push(oneInstance, oneService);
    await sleep(VISIBILITY_MS);
    const [viewAll, viewInstance, viewService] = await Promise.all([scrape(serve.port), scrape(oneInstance.port), scrape(oneService.port)]);
    assert.deepEqual(instancesIn(viewAll), ['billing-1', 'shop-a', 'shop-b']);
    assert.deepEqual(instancesIn(viewService), ['shop-a', 'shop-b']);
    assert.deepEqual(instancesIn(viewInstance), ['shop-b']);
    assert.equal(requestsOf(viewInstance, 'shop-b'), requestsOf(viewAll, 'shop-b'));
    assert.equal(requestsOf(viewService, 'shop-a'), requestsOf(viewAll, 'shop-a'));
  });
});
