import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Redis } from 'ioredis';
import { processKey } from '../../src/snapshot/Snapshot';
import type { StoredSnapshot } from '../../src/snapshot/Snapshot';
import { SelfMetrics } from '../../src/self/SelfMetrics';
import { RedisStore } from '../../src/store/RedisStore';
import {
  MAIN_REDIS, MEMORY, closeAll, counterTotal, deletePrefix, histogramCount, openStore, redisConfig, sleep,
  uniquePrefix, workerIdentity, workerSnapshot,
} from './support/redisFixtures';

const opened: RedisStore[] = [];
const prefixes: string[] = [];
const raw = new Redis({ ...MAIN_REDIS, maxRetriesPerRequest: 0 });

/** A configuration with a fresh prefix (containing ':') that the after hook deletes. */
function config(label: string, overrides: Parameters<typeof redisConfig>[0] = {}): ReturnType<typeof redisConfig> {
  const keyPrefix = uniquePrefix(label);
  prefixes.push(keyPrefix);
  return redisConfig({ keyPrefix, ...overrides });
}

after(async () => {
  await closeAll(opened);
  for (const prefix of prefixes) await deletePrefix(MAIN_REDIS.port, prefix);
  raw.disconnect();
});

const workers = (stored: readonly StoredSnapshot[]) => stored.filter((s) => s.snapshot.identity.role === 'worker');
const retiredOf = (stored: readonly StoredSnapshot[]) => stored.filter((s) => s.snapshot.identity.role === 'retired');

describe('RedisStore on the shared Redis', () => {
  test('a written snapshot reads back identical and live, under a prefix containing ":"', async () => {
    const cfg = config('roundtrip');
    const store = openStore(opened, cfg, { service: 'shop', instance: 'host:a' });
    const snapshot = workerSnapshot(workerIdentity('shop', 'host:a', 0), 42);
    await store.write(snapshot);
    const stored = await store.readAll();
    assert.equal(stored.length, 1);
    assert.deepEqual(stored[0]?.snapshot, snapshot);
    assert.equal(stored[0]?.live, true);
    const keys = await raw.keys(`${cfg.keyPrefix}*`);
    assert.ok(keys.length >= 4, 'snapshot, lease, index and registry keys exist');
    assert.ok(keys.every((key) => key.startsWith(`${cfg.keyPrefix}:`)), 'every key lives under the prefix');
  });

  test('scope instance, service and all select what they say', async () => {
    const cfg = config('scope');
    const writers: [string, string][] = [['shop', 'a'], ['shop', 'b'], ['billing', 'a']];
    for (const [service, instance] of writers) {
      const store = openStore(opened, cfg, { service, instance });
      await store.write(workerSnapshot(workerIdentity(service, instance, 0), 1));
      await store.write(workerSnapshot(workerIdentity(service, instance, 1), 1));
    }
    const read = async (scope: 'instance' | 'service' | 'all') => {
      const stored = await openStore(opened, cfg, { service: 'shop', instance: 'a' }, { scope }).readAll();
      return stored.map((s) => `${s.snapshot.identity.service}/${s.snapshot.identity.instance}/${s.snapshot.identity.slot}`).sort();
    };
    assert.deepEqual(await read('instance'), ['shop/a/0', 'shop/a/1']);
    assert.deepEqual(await read('service'), ['shop/a/0', 'shop/a/1', 'shop/b/0', 'shop/b/1']);
    assert.deepEqual(await read('all'), ['billing/a/0', 'billing/a/1', 'shop/a/0', 'shop/a/1', 'shop/b/0', 'shop/b/1']);
  });

  test('service and instance names with ":", "|", "{" and "}" do not collide', async () => {
    const cfg = config('names');
    const names: [string, string][] = [['a:b', 'c'], ['a', 'b:c'], ['a|b', 'c'], ['a', 'b|c'], ['{x}', 'y']];
    for (const [service, instance] of names) {
      await openStore(opened, cfg, { service, instance }).write(workerSnapshot(workerIdentity(service, instance, 0), 1));
    }
    const stored = await openStore(opened, cfg, { service: 'a', instance: 'x' }, { scope: 'all' }).readAll();
    assert.deepEqual(
      stored.map((s) => `${s.snapshot.identity.service}#${s.snapshot.identity.instance}`).sort(),
      names.map(([s, i]) => `${s}#${i}`).sort(),
    );
  });

  test('retire folds a dead worker into its slot exactly once, even when repeated', async () => {
    const cfg = config('retire');
    const store = openStore(opened, cfg, { service: 'shop', instance: 'a' });
    const first = workerIdentity('shop', 'a', 0, 11, 1);
    const second = workerIdentity('shop', 'a', 0, 12, 2);
    await store.write(workerSnapshot(first, 10));
    await store.retire(first);
    await store.retire(first);
    await store.write(workerSnapshot(second, 5));
    await store.retire(second);
    const stored = await store.readAll();
    assert.equal(workers(stored).length, 0, 'retired workers are gone');
    const retired = retiredOf(stored);
    assert.equal(retired.length, 1);
    assert.equal(counterTotal(retired), 15);
    assert.equal(histogramCount(retired), 15);
    assert.equal(retired[0]?.snapshot.metrics.some((m) => m.name === MEMORY), false, 'gauges of the dead are not kept');
    assert.deepEqual(retired[0]?.snapshot.folded, [processKey(first), processKey(second)]);
  });

  test('two exporters retiring the same worker concurrently fold it once', async () => {
    const cfg = config('race');
    const exporters = Array.from({ length: 4 }, () => openStore(opened, cfg, { service: 'shop', instance: 'a' }));
    for (let round = 0; round < 10; round++) {
      const identity = workerIdentity('shop', 'a', 3, 100 + round, round);
      await exporters[0]!.write(workerSnapshot(identity, 7));
      await Promise.all(exporters.flatMap((exporter) => [exporter.retire(identity), exporter.retire(identity)]));
    }
    const stored = await exporters[1]!.readAll();
    assert.equal(counterTotal(stored), 70);
  });

  test('a worker presumed dead that comes back is not counted twice (fencing)', async () => {
    const cfg = config('fence');
    const worker = openStore(opened, cfg, { service: 'shop', instance: 'a' });
    const exporter = openStore(opened, cfg, { service: 'shop', instance: 'a' });
    const identity = workerIdentity('shop', 'a', 2, 4242, 1000);
    await worker.write(workerSnapshot(identity, 10, 1));
    await exporter.retire(identity); // the exporter believed it dead: 10 folded
    assert.equal(counterTotal(await exporter.readAll()), 10);

    await worker.write(workerSnapshot(identity, 15, 2)); // it was only paused: 5 more since
    let stored = await exporter.readAll();
    assert.equal(counterTotal(stored), 15, 'retired 10 + new life 5');
    assert.equal(histogramCount(stored), 15);
    const live = workers(stored);
    assert.equal(live.length, 1);
    assert.notEqual(live[0]?.snapshot.identity.startTimeMs, identity.startTimeMs, 'it writes as a new life');
    assert.equal(live[0]?.snapshot.metrics.find((m) => m.name === MEMORY)?.points[0]?.value, 4096, 'gauges pass through');

    await exporter.retire(live[0]!.snapshot.identity); // presumed dead again
    await worker.write(workerSnapshot(identity, 21, 3));
    await worker.write(workerSnapshot(identity, 22, 4));
    stored = await exporter.readAll();
    assert.equal(counterTotal(stored), 22);
    assert.equal(histogramCount(stored), 22);
  });

  test('a retire racing a busy writer loses no count and doubles none', async () => {
    const cfg = config('busy');
    const worker = openStore(opened, cfg, { service: 'shop', instance: 'a' });
    const exporter = openStore(opened, cfg, { service: 'shop', instance: 'a' });
    const identity = workerIdentity('shop', 'a', 0, 77, 77);
    let count = 0;
    let stop = false;
    const writing = (async () => {
      while (!stop) {
        count += 3;
        await worker.write(workerSnapshot(identity, count, count));
        await sleep(2); // a flush loop, much faster than any real one
      }
    })();
    let folds = 0;
    for (let i = 0; i < 15; i++) {
      await sleep(5);
      for (const entry of workers(await exporter.readAll())) {
        // A retire that keeps losing the race rejects (the reaper retries it later): never a wrong count.
        await exporter.retire(entry.snapshot.identity).then(() => folds++, () => undefined);
      }
    }
    stop = true;
    await writing;
    assert.equal(counterTotal(await exporter.readAll()), count);
    assert.ok(folds > 0, 'some retires went through while the worker kept writing');
  });

  test('an idle worker never expires: every flush refreshes its TTL (heartbeat)', async () => {
    const cfg = config('ttl', { ttlSeconds: 1 });
    const worker = openStore(opened, cfg, { service: 'shop', instance: 'a' }, { leaseMs: 300 });
    const identity = workerIdentity('shop', 'a', 0);
    const idle = workerSnapshot(identity, 3, 1); // nothing changes between flushes
    for (let i = 0; i < 12; i++) {
      await worker.write({ ...idle, writtenAtMs: i });
      await sleep(200);
    }
    let stored = await worker.readAll();
    assert.equal(counterTotal(stored), 3, 'still there after 2.4 s with a 1 s TTL');
    assert.equal(stored[0]?.live, true);

    await sleep(500);
    stored = await worker.readAll();
    assert.equal(stored[0]?.live, false, 'lease expired: no longer live, still readable');

    await sleep(900);
    assert.deepEqual(await worker.readAll(), [], 'a silent worker expires after its TTL');
  });

  test('ttl_disabled writes keys without expiry', async () => {
    const cfg = config('nottl', { ttlDisabled: true });
    const store = openStore(opened, cfg, { service: 'shop', instance: 'a' });
    await store.write(workerSnapshot(workerIdentity('shop', 'a', 0), 1));
    const keys = await raw.keys(`${cfg.keyPrefix}*`);
    const ttls = await Promise.all(keys.map(async (key) => [key, await raw.pttl(key)] as const));
    const expiring = ttls.filter(([key, ttl]) => ttl !== -1 && !key.includes('}:l:'));
    assert.deepEqual(expiring, [], 'only the lease expires');
  });

  test('remove drops a snapshot without folding it', async () => {
    const cfg = config('remove');
    const store = openStore(opened, cfg, { service: 'shop', instance: 'a' });
    const identity = workerIdentity('shop', 'a', 0);
    await store.write(workerSnapshot(identity, 9));
    await store.remove(identity);
    assert.deepEqual(await store.readAll(), []);
  });

  test('an undecodable entry is skipped and counted; the others still read', async () => {
    const cfg = config('garbage');
    const selfMetrics = new SelfMetrics();
    const store = openStore(opened, cfg, { service: 'shop', instance: 'a' }, { selfMetrics });
    await store.write(workerSnapshot(workerIdentity('shop', 'a', 0), 5));
    await store.write(workerSnapshot(workerIdentity('shop', 'a', 1), 6));
    const [key] = (await raw.keys(`${cfg.keyPrefix}:*:w:1:*`));
    assert.ok(key);
    await raw.set(key, '{"half":');
    const stored = await store.readAll();
    assert.equal(counterTotal(stored), 5);
    const errors = selfMetrics.toPoints().filter((p) => p.attributes['operation'] === 'decode');
    assert.equal(errors[0]?.value, 1);
  });

  test('a write that overlaps the previous one is refused at once, not queued', async () => {
    const cfg = config('overlap');
    const store = openStore(opened, cfg, { service: 'shop', instance: 'a' });
    const identity = workerIdentity('shop', 'a', 0);
    const results = await Promise.allSettled([store.write(workerSnapshot(identity, 1)), store.write(workerSnapshot(identity, 2))]);
    assert.equal(results[0]?.status, 'fulfilled');
    assert.equal(results[1]?.status, 'rejected');
    assert.match(String((results[1] as PromiseRejectedResult).reason), /still in flight/);
  });

  test('bad configuration is refused with the key named; Redis being down is not', async () => {
    assert.throws(
      () => RedisStore.fromConfig(redisConfig({ keyPrefix: 'a{b}', clusterNodes: [{ host: '127.0.0.1', port: 1 }] }), { service: 's', instance: 'i' }),
      /redis\.key_prefix/,
    );
    assert.throws(
      () => RedisStore.fromConfig(redisConfig({ tls: { enabled: true, caFile: '/nonexistent/ca.pem', certFile: '', keyFile: '', rejectUnauthorized: true } }), { service: 's', instance: 'i' }),
      /redis\.tls\.ca_file.*\/nonexistent\/ca\.pem/,
    );
    assert.throws(() => RedisStore.fromConfig(redisConfig({ url: 'http://x' }), { service: 's', instance: 'i' }), /redis\.url/);
    const down = openStore(opened, redisConfig({ port: 1 }), { service: 's', instance: 'i' });
    await assert.rejects(down.write(workerSnapshot(workerIdentity('s', 'i', 0), 1)));
    await assert.rejects(down.readAll());
  });
});
