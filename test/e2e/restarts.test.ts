/**
 * End to end: what many worker restarts do to the merged view. A real cluster
 * app under the preload, real SIGKILLs and replacements, real scrapes; and the
 * exposition's reaper folding a real store directory.
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readdir, rm, utimes } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { CATALOGUE, prometheusName } from '../../src/catalogue/MetricCatalogue';
import { parseConfig } from '../../src/config/parseConfig';
import { Exposition } from '../../src/runtime/Exposition';
import { SelfMetrics } from '../../src/self/SelfMetrics';
import type { Snapshot, SnapshotIdentity } from '../../src/snapshot/Snapshot';
import { Retirement } from '../../src/retirement/Retirement';
import { FileBackend } from '../../src/store/file/FileBackend';
import { OVERFLOW_ENDPOINT } from '../../src/worker/RouteNormaliser';
import { freePort, httpRequest, scrape, startApp, waitFor } from '../support/processes';
import type { RunningApp } from '../support/processes';

const REQUESTS = prometheusName(CATALOGUE.requests);
const MAX_ENDPOINTS = 5;
const LIVES = 5;
const WORDS = ['amber', 'birch', 'cedar', 'dune', 'ember'];
/** Above any pid_max: a writer this host cannot see. */
const INVISIBLE_PID = 9_000_001;

/** One request that got an answer (a replacement worker may not listen yet: retried until it does). */
async function get(port: number, path: string): Promise<void> {
  await waitFor(`GET ${path}`, async () => ((await httpRequest(port, path)).status === 200 ? true : undefined));
}

describe('a slot whose worker is SIGKILLed and replaced again and again', () => {
  let app: RunningApp | undefined;
  after(async () => {
    await app?.stop();
  });

  test('keeps a bounded number of endpoint series and the exact request total', async () => {
    app = await startApp('cluster-app.js', { APP_WORKERS: '1', OTEL_CLUSTER_EXPORTER_MAX_ENDPOINTS: String(MAX_ENDPOINTS) });
    const running = app;
    // Let the readiness probes of startApp show, then count from there.
    const base = await waitFor('the probes to show', async () => {
      const total = (await scrape(running.metricsPort)).sum(REQUESTS);
      return total > 0 ? total : undefined;
    });
    let sent = 0;
    for (let life = 0; life < LIVES; life++) {
      // Five fresh, non-id-like paths per life: each life fills its own endpoint budget.
      for (const word of WORDS) {
        await get(running.appPort, `/page-${word}-life${'abcde'[life]}`);
        sent++;
      }
      // Everything this life answered is flushed before it is killed.
      await waitFor(`life ${life} flushed`, async () => ((await scrape(running.metricsPort)).sum(REQUESTS) - base === sent ? true : undefined));
      if (life === LIVES - 1) break;
      const [pid] = await running.workerPids();
      process.kill(pid ?? 0, 'SIGKILL');
      await waitFor('the replacement', async () => {
        const pids = await running.workerPids();
        return pids.length === 1 && pids[0] !== pid ? true : undefined;
      });
    }
    // Every dead life folded into the slot's retired totals: one worker file left.
    await waitFor(
      'the dead lives to be folded',
      async () => {
        const names = await readdir(running.storeDir);
        return names.filter((name) => name.startsWith('ocx-worker-')).length === 1 && names.includes('ocx-retired-0-0-0.json') ? true : undefined;
      },
      25_000,
    );

    const final = await scrape(running.metricsPort);
    const series = final.find(REQUESTS, { worker_id: '0' });
    const endpoints = new Set(series.map((s) => s.labels['endpoint']));
    assert.ok(endpoints.size <= 2 * MAX_ENDPOINTS + 1, `${endpoints.size} endpoint values for one slot after ${LIVES} lives: ${[...endpoints].join(' ')}`);
    assert.ok(endpoints.has(OVERFLOW_ENDPOINT));
    assert.equal(final.sum(REQUESTS) - base, sent, 'no request lost or counted twice');
  });
});

describe('the exposition reaper', () => {
  let directory: string | undefined;
  let exposition: Exposition | undefined;
  after(async () => {
    await exposition?.close();
    if (directory) await rm(directory, { recursive: true, force: true });
  });

  test('one worker that cannot be folded is counted and logged, and the others are folded all the same', async () => {
    directory = await mkdtemp(join(tmpdir(), 'ocx-reap-'));
    const identity = (slot: number, service = 'svc'): SnapshotIdentity => ({ service, instance: 'host-a', slot, pid: INVISIBLE_PID, startTimeMs: 1_000 + slot, role: 'worker' });
    const dead = (id: SnapshotIdentity): Snapshot => ({
      identity: id,
      writtenAtMs: Date.now() - 60_000,
      metrics: [{ name: CATALOGUE.requests.name, description: '', unit: '1', kind: 'counter', valueType: 'int', points: [{ attributes: {}, startTimeMs: 1, value: 3 }] }],
    });
    // Slot 0's retired totals cannot be written (a directory sits where the file goes): folding into it fails.
    await mkdir(join(directory, 'ocx-retired-0-0-0.json'));
    const store = new Retirement(new FileBackend({ directory }), { self: { service: 'svc', instance: 'host-a' } });
    await store.write(dead(identity(0)));
    await store.write(dead(identity(1)));
    // Their writers stopped a minute ago: the lease ran out.
    const minuteAgo = new Date(Date.now() - 60_000);
    for (const name of await readdir(directory)) if (name.startsWith('ocx-worker-')) await utimes(join(directory, name), minuteAgo, minuteAgo);
    const selfMetrics = new SelfMetrics();
    const config = parseConfig({ env: { PROMETHEUS_METRICS_PORT: String(await freePort()), PROMETHEUS_BIND_ADDRESS: '127.0.0.1' }, hostname: 'host-a' });
    exposition = Exposition.start({ config, store, resource: resourceFromAttributes({}), selfMetrics, labelInstance: false, keepProcessAlive: false });

    await exposition.reap();
    const names = await readdir(directory);
    assert.ok(names.includes('ocx-retired-1-0-0.json'), `slot 1 folded: ${names.join(' ')}`);
    // What stays of it is at most a tombstone, for fencing a writer that was only presumed dead.
    assert.ok(!names.some((name) => name.startsWith('ocx-worker-1-') && !name.endsWith('.tomb')), `slot 1's dead snapshot is gone: ${names.join(' ')}`);
    const retireErrors = (): number | undefined => selfMetrics.toPoints().find((p) => p.attributes['operation'] === 'retire' && p.attributes['store'] === 'file')?.value;
    assert.equal(retireErrors(), 1);
    await exposition.reap();
    assert.equal(retireErrors(), 2, 'each failure counted, retried at every reap');
  });
});
