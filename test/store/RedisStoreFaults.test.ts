import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Snapshot } from '../../src/snapshot/Snapshot';
import { SelfMetrics } from '../../src/self/SelfMetrics';
import type { RedisStore } from '../../src/store/RedisStore';
import {
  RedisServer, closeAll, counterTotal, freePort, histogramCount, openStore, redisConfig, sleep, waitFor,
  workerIdentity, workerSnapshot,
} from './support/redisFixtures';

/** Fast timings so the tests do not wait on defaults meant for production. */
const timings = { connectTimeoutMs: 500, commandTimeoutMs: 300, maxReconnectDelayMs: 200 };
const opened: RedisStore[] = [];
const servers: RedisServer[] = [];

after(async () => {
  await closeAll(opened);
  await Promise.all(servers.map((server) => server.stop()));
});

async function server(extraArgs: string[] = []): Promise<RedisServer> {
  const started = await RedisServer.start(extraArgs);
  servers.push(started);
  return started;
}

function primarySnapshot(pid: number, restarts: number): Snapshot {
  const identity = { service: 'shop', instance: 'a', slot: -1, pid, startTimeMs: 1, role: 'primary' as const };
  const base = workerSnapshot({ ...identity, role: 'worker' }, restarts);
  return { ...base, identity };
}

describe('RedisStore against redis-server processes it starts and breaks', () => {
  test('Redis down at startup: writes reject while it is down, then catch up when it comes', async () => {
    const port = await freePort();
    const cfg = redisConfig({ port, keyPrefix: 'ocx:startup' });
    const worker = openStore(opened, cfg, { service: 'shop', instance: 'a' }, { timings });
    const identity = workerIdentity('shop', 'a', 0);
    await assert.rejects(worker.write(workerSnapshot(identity, 1)), 'rejects instead of waiting for a Redis that is not there');
    await assert.rejects(worker.readAll());
    const redis = await RedisServer.start([], { port });
    servers.push(redis);
    await waitFor('the write to succeed once Redis is up', () => worker.write(workerSnapshot(identity, 5)).then(() => true));
    assert.equal(counterTotal(await worker.readAll()), 5);
  });

  test('a hung Redis (SIGSTOP) makes writes reject after the command timeout; SIGCONT recovers', async () => {
    const redis = await server();
    const cfg = redisConfig({ port: redis.port, keyPrefix: 'ocx:hung' });
    const worker = openStore(opened, cfg, { service: 'shop', instance: 'a' }, { timings });
    const identity = workerIdentity('shop', 'a', 0);
    await worker.write(workerSnapshot(identity, 1));
    redis.signal('SIGSTOP');
    try {
      const first = worker.write(workerSnapshot(identity, 2));
      await assert.rejects(worker.write(workerSnapshot(identity, 3)), /still in flight/, 'a second flush does not queue behind the first');
      await assert.rejects(first, /timed out/);
    } finally {
      redis.signal('SIGCONT');
    }
    await waitFor('writes to work again', () => worker.write(workerSnapshot(identity, 4)).then(() => true));
    assert.equal(counterTotal(await worker.readAll()), 4);
  });

  test('FLUSHALL: live and retired totals are back after one flush of each process', async () => {
    const redis = await server();
    const cfg = redisConfig({ port: redis.port, keyPrefix: 'ocx:flush:a' });
    const worker = openStore(opened, cfg, { service: 'shop', instance: 'a' }, { timings });
    const primary = openStore(opened, cfg, { service: 'shop', instance: 'a' }, { timings });
    const dead = workerIdentity('shop', 'a', 1, 501);
    await worker.write(workerSnapshot(dead, 40));
    await primary.retire(dead);
    await worker.write(workerSnapshot(workerIdentity('shop', 'a', 0), 10));
    await primary.write(primarySnapshot(900, 2));
    const fresh = () => openStore(opened, cfg, { service: 'shop', instance: 'a' }, { timings }).readAll();
    const before = await fresh();
    assert.equal(counterTotal(before), 52);

    const admin = redis.client();
    await admin.connect();
    await admin.flushall();
    admin.disconnect();
    assert.deepEqual(await fresh(), []);

    await worker.write(workerSnapshot(workerIdentity('shop', 'a', 0), 11)); // one flush each
    await primary.write(primarySnapshot(900, 2));
    const afterFlush = await fresh(); // a reader that never saw the data before
    assert.equal(counterTotal(afterFlush), 53, 'worker 11 + primary 2 + retired 40');
    assert.equal(histogramCount(afterFlush), 53);
  });

  test('an exporter that only read the retired totals puts them back on its next read', async () => {
    const redis = await server();
    const cfg = redisConfig({ port: redis.port, keyPrefix: 'ocx:flush:b' });
    const worker = openStore(opened, cfg, { service: 'shop', instance: 'a' }, { timings });
    const reaper = openStore(opened, cfg, { service: 'shop', instance: 'a' }, { timings });
    const exporter = openStore(opened, cfg, { service: 'svc', instance: 'sidecar' }, { timings, scope: 'all' });
    const dead = workerIdentity('shop', 'a', 1, 501);
    await worker.write(workerSnapshot(dead, 40));
    await reaper.retire(dead);
    await reaper.close(); // the process that folded it is gone too
    await worker.write(workerSnapshot(workerIdentity('shop', 'a', 0), 10));
    assert.equal(counterTotal(await exporter.readAll()), 50);

    const admin = redis.client();
    await admin.connect();
    await admin.flushall();
    admin.disconnect();
    await worker.write(workerSnapshot(workerIdentity('shop', 'a', 0), 12));
    assert.equal(counterTotal(await exporter.readAll()), 52, 'the exporter restores what it had seen');
    const fresh = openStore(opened, cfg, { service: 'x', instance: 'y' }, { timings, scope: 'all' });
    assert.equal(counterTotal(await fresh.readAll()), 52, 'and it is in Redis again for everyone');
  });

  test('Redis killed mid-writes and restarted empty: writes reject, then everything catches up', async () => {
    const redis = await server();
    const cfg = redisConfig({ port: redis.port, keyPrefix: 'ocx:restart' });
    const selfMetrics = new SelfMetrics();
    const worker = openStore(opened, cfg, { service: 'shop', instance: 'a' }, { timings, selfMetrics });
    const primary = openStore(opened, cfg, { service: 'shop', instance: 'a' }, { timings });
    const dead = workerIdentity('shop', 'a', 1, 501);
    await worker.write(workerSnapshot(dead, 100));
    await primary.retire(dead);
    const identity = workerIdentity('shop', 'a', 0);
    let count = 0;
    let failures = 0;
    let stop = false;
    const flushing = (async () => {
      while (!stop) {
        count++;
        await worker.write(workerSnapshot(identity, count)).catch(() => failures++);
        await primary.write(primarySnapshot(900, 1)).catch(() => undefined);
        await sleep(20);
      }
    })();
    await waitFor('a few flushes', () => (count > 5 ? true : undefined));
    await redis.stop();
    await waitFor('failed flushes while Redis is down', () => (failures >= 5 ? true : undefined));
    await assert.rejects(primary.readAll(), 'the exporter is told at once and serves its last good view');
    await redis.restart();
    await waitFor('the full cumulative view back', async () => {
      const total = counterTotal(await primary.readAll());
      return total >= 100 + 1 + count - 2 ? true : undefined;
    });
    stop = true;
    await flushing;
    const stored = await primary.readAll();
    assert.equal(counterTotal(stored), 100 + 1 + count, 'retired 100 + primary 1 + every request of the live worker');
  });

  test('a password and an ACL user restricted to the prefix both work; a wrong password only fails calls', async () => {
    const redis = await server(['--requirepass', 'sesame']);
    const admin = redis.client({ password: 'sesame' });
    await admin.connect();
    await admin.call('ACL', 'SETUSER', 'metrics', 'on', '>s3cret', '~ocx:acl:*', '+@read', '+@write', '+@scripting', '+@connection', '+@transaction', '+info');
    admin.disconnect();
    const identity = workerIdentity('shop', 'a', 0);

    const withPassword = openStore(opened, redisConfig({ port: redis.port, keyPrefix: 'ocx:acl:pw', password: 'sesame' }), { service: 'shop', instance: 'a' }, { timings });
    await withPassword.write(workerSnapshot(identity, 3));
    assert.equal(counterTotal(await withPassword.readAll()), 3);

    const aclUser = openStore(opened, redisConfig({ url: `redis://metrics:s3cret@127.0.0.1:${redis.port}/0`, keyPrefix: 'ocx:acl:user' }), { service: 'shop', instance: 'a' }, { timings, scope: 'all' });
    await aclUser.write(workerSnapshot(identity, 4));
    await aclUser.retire(identity);
    await aclUser.write(workerSnapshot(workerIdentity('shop', 'a', 0, 2), 1));
    assert.equal(counterTotal(await aclUser.readAll()), 5);

    const outside = openStore(opened, redisConfig({ port: redis.port, username: 'metrics', password: 's3cret', keyPrefix: 'other' }), { service: 'shop', instance: 'a' }, { timings });
    await assert.rejects(outside.write(workerSnapshot(identity, 1)), /NOPERM|No permissions/i, 'keys outside the granted pattern are refused');

    const wrong = openStore(opened, redisConfig({ port: redis.port, password: 'nope', keyPrefix: 'ocx:acl:wrong' }), { service: 'shop', instance: 'a' }, { timings });
    await assert.rejects(wrong.write(workerSnapshot(identity, 1)));
  });

  test('a paused worker folded during a FLUSHALL-restored period is still fenced (tombstones come back)', async () => {
    const redis = await server();
    const cfg = redisConfig({ port: redis.port, keyPrefix: 'ocx:tomb' });
    const paused = openStore(opened, cfg, { service: 'shop', instance: 'a' }, { timings });
    const primary = openStore(opened, cfg, { service: 'shop', instance: 'a' }, { timings });
    const identity = workerIdentity('shop', 'a', 0, 77);
    await paused.write(workerSnapshot(identity, 30, 1));
    await primary.retire(identity); // presumed dead
    const admin = redis.client();
    await admin.connect();
    await admin.flushall();
    admin.disconnect();
    await primary.write(primarySnapshot(900, 0)); // the primary's next flush restores retired + tombstone
    await paused.write(workerSnapshot(identity, 35, 2)); // the paused worker wakes up
    assert.equal(counterTotal(await primary.readAll()), 35);
  });

  test('after FLUSHALL, folds made by an exporter that remembers nothing are added to the restored totals', async () => {
    const redis = await server();
    const cfg = redisConfig({ port: redis.port, keyPrefix: 'ocx:combine' });
    const worker = openStore(opened, cfg, { service: 'shop', instance: 'a' }, { timings });
    const rememberer = openStore(opened, cfg, { service: 'shop', instance: 'a' }, { timings });
    const first = workerIdentity('shop', 'a', 0, 1, 1);
    await worker.write(workerSnapshot(first, 40));
    await rememberer.retire(first);
    const admin = redis.client();
    await admin.connect();
    await admin.flushall();
    admin.disconnect();
    const newcomer = openStore(opened, cfg, { service: 'shop', instance: 'a' }, { timings });
    const second = workerIdentity('shop', 'a', 0, 2, 2);
    await worker.write(workerSnapshot(second, 7));
    await newcomer.retire(second); // folded into an empty slot: Redis now holds 7 only
    assert.equal(counterTotal(await rememberer.readAll()), 47, '40 put back and added to the 7 folded since');
    assert.equal(counterTotal(await newcomer.readAll()), 47);
  });
});
