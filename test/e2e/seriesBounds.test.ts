/**
 * Label and series bounds under hostile traffic, with real cluster processes:
 * every method Node accepts over more paths than the endpoint cap, and a slot
 * restarted again and again under random paths.
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { METHODS, request } from 'node:http';
import { CATALOGUE, prometheusName } from '../../src/catalogue/MetricCatalogue';
import { STANDARD_HTTP_METHODS, OTHER_METHOD } from '../../src/worker/methodLabel';
import { scrape, sleep, startApp, waitFor } from '../support/processes';
import type { Exposition, RunningApp } from '../support/processes';

const REQUESTS = prometheusName(CATALOGUE.requests);
const BUDGET = 60;

/** One request with any method; resolves true when it was answered (CONNECT is not an HTTP request to a server). */
function send(port: number, method: string, path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const req = request({ host: '127.0.0.1', port, path, method, agent: false }, (res) => {
      res.resume();
      res.on('end', () => resolve(true));
      res.on('error', () => resolve(false));
    });
    req.on('error', () => resolve(false));
    req.setTimeout(10_000, () => req.destroy());
    req.end();
  });
}

/** Run `jobs` with `concurrency` in flight; resolves how many returned true. */
async function run(jobs: (() => Promise<boolean>)[], concurrency = 16): Promise<number> {
  let next = 0;
  let answered = 0;
  const lane = async (): Promise<void> => {
    while (next < jobs.length) {
      const job = jobs[next++] as () => Promise<boolean>;
      if (await job()) answered++;
    }
  };
  await Promise.all(Array.from({ length: concurrency }, lane));
  return answered;
}

/** Request series (method, endpoint, status) per worker_id. */
function seriesPerSlot(view: Exposition): Map<string, number> {
  const counts = new Map<string, number>();
  for (const sample of view.find(REQUESTS)) counts.set(sample.labels.worker_id ?? '', (counts.get(sample.labels.worker_id ?? '') ?? 0) + 1);
  return counts;
}

/** Scrape until the request total reaches `total` (the last flush landed). */
function viewWithTotal(app: RunningApp, total: number): Promise<Exposition> {
  return waitFor(`${total} requests in the view`, async () => {
    const view = await scrape(app.metricsPort);
    return view.sum(REQUESTS) >= total ? view : undefined;
  }, 30_000);
}

/** The request total once it stops moving (the readiness probes' requests flushed). */
async function settledTotal(app: RunningApp): Promise<number> {
  let last = -1;
  return waitFor('the request total to settle', async () => {
    const total = (await scrape(app.metricsPort)).sum(REQUESTS);
    if (total === last) return total;
    last = total;
    await sleep(1200);
    return undefined;
  }, 30_000);
}

const randomPath = (): string => `/r/${Array.from({ length: 8 }, () => String.fromCharCode(97 + Math.floor(Math.random() * 26))).join('')}`;

describe('series bounds', () => {
  let app: RunningApp | undefined;
  after(async () => app?.stop());

  test('a sweep of every method Node accepts over 120 paths gives bounded method values and series', async () => {
    app = await startApp('wide-cluster-app.js', { OTEL_CLUSTER_EXPORTER_MAX_REQUEST_SERIES: String(BUDGET) });
    const before = await settledTotal(app);
    const port = app.appPort;
    const jobs = METHODS.flatMap((method) => Array.from({ length: 120 }, (_, i) => () => send(port, method, `/sweep/item${i}`)));
    assert.equal(jobs.length, METHODS.length * 120);
    const answered = await run(jobs);
    const view = await viewWithTotal(app, before + answered);

    assert.equal(view.sum(REQUESTS), before + answered, 'every answered request is counted once, overflow included');
    const methods = new Set(view.find(REQUESTS).map((s) => s.labels.method));
    for (const method of methods) assert.ok([...STANDARD_HTTP_METHODS, OTHER_METHOD].includes(method ?? ''), `unexpected method label ${method}`);
    assert.ok(methods.has(OTHER_METHOD), 'PROPFIND and the like are _OTHER');
    for (const [slot, count] of seriesPerSlot(view)) assert.ok(count <= BUDGET + 1, `worker ${slot} has ${count} request series`);
    await app.stop();
    app = undefined;
  });

  test('restarts of a slot under random paths do not grow its series', async () => {
    app = await startApp('wide-cluster-app.js', { APP_WORKERS: '1', OTEL_CLUSTER_EXPORTER_MAX_REQUEST_SERIES: String(BUDGET) });
    let expected = await settledTotal(app);
    const counts: number[] = [];
    for (let life = 0; life < 3; life++) {
      const answered = await run(Array.from({ length: BUDGET * 2 }, () => () => send(app!.appPort, 'GET', randomPath())));
      expected += answered;
      const view = await viewWithTotal(app, expected);
      assert.equal(view.sum(REQUESTS), expected, `life ${life}: nothing counted is lost`);
      counts.push(seriesPerSlot(view).get('0') ?? 0);
      // SIGTERM: the worker leaves its last snapshot; the app forks a replacement into the same slot.
      const [pid] = await app.workerPids();
      process.kill(pid as number, 'SIGTERM');
      await waitFor('the replacement worker', async () => {
        const pids = await app!.workerPids();
        return pids.length === 1 && pids[0] !== pid ? true : undefined;
      });
      await waitFor('the replacement to answer', async () => ((await send(app!.appPort, 'GET', '/')) ? true : undefined));
      expected += 1;
      await sleep(200);
    }
    assert.deepEqual(counts, [BUDGET + 1, BUDGET + 1, BUDGET + 1], 'the budget and the overflow series, in every life');
  });
});
