/**
 * The Redis backend's read against real Redis, with a retirer's fold landing
 * exactly between the read's two passes: the client of the reader's backend
 * runs the fold just before it sends the read's second transaction.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { Redis } from 'ioredis';
import type { Retirement } from '../../../src/retirement/Retirement';
import { CATALOGUE, LABEL } from '../../../src/catalogue/MetricCatalogue';
import { SelfMetrics } from '../../../src/self/SelfMetrics';
import { RedisBackend } from '../../../src/store/redis/RedisBackend';
import { Retirement as RetirementProtocol } from '../../../src/retirement/Retirement';
import { closeAll, counterTotal, deletePrefix, MAIN_REDIS, openStore, redisConfig, uniquePrefix, workerIdentity, workerSnapshot } from '../support/redisFixtures';

const SELF = { service: 'shop', instance: 'host-a' };
const LEASE_MS = 300;
const opened: Retirement[] = [];
const prefixes: string[] = [];

after(async () => {
  await closeAll(opened);
  for (const prefix of prefixes) await deletePrefix(MAIN_REDIS.port, prefix);
});

/** A reader whose backend runs `between` once, right before the second transaction of its next read. */
function readerWithPause(config: ReturnType<typeof redisConfig>): { reader: Retirement; pauseNextRead(between: () => Promise<void>): void } {
  const backend = RedisBackend.fromConfig(config, SELF, { leaseMs: LEASE_MS });
  const holder = backend as unknown as { client: { multi(...args: unknown[]): { exec(): Promise<unknown> } } };
  const client = holder.client;
  let between: (() => Promise<void>) | undefined;
  let transactions = 0;
  holder.client = new Proxy(client, {
    get(target, property) {
      if (property === 'multi') {
        return (...args: unknown[]) => {
          const pipeline = target.multi(...args);
          // The read's first pass is one MULTI, its second the next: pause before sending that one.
          if (between !== undefined && ++transactions === 2) {
            const run = between;
            between = undefined;
            const exec = pipeline.exec.bind(pipeline);
            pipeline.exec = async () => {
              await run();
              return exec();
            };
          }
          return pipeline;
        };
      }
      const value: unknown = Reflect.get(target, property, target);
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
    },
  });
  const reader = new RetirementProtocol(backend, { self: SELF });
  opened.push(reader);
  return {
    reader,
    pauseNextRead(run) {
      transactions = 0;
      between = run;
    },
  };
}

test("a fold between a read's two passes is read whole: no dip, and the reader's next fold keeps it", async () => {
  const config = redisConfig({ keyPrefix: uniquePrefix('between-passes') });
  prefixes.push(config.keyPrefix);
  const writer = openStore(opened, config, SELF, { leaseMs: LEASE_MS });
  const other = openStore(opened, config, SELF, { leaseMs: LEASE_MS });
  const { reader, pauseNextRead } = readerWithPause(config);
  const first = workerIdentity(SELF.service, SELF.instance, 0, 4_500_001, Date.now() - 3_000);
  const second = workerIdentity(SELF.service, SELF.instance, 0, 4_500_002, Date.now() - 2_000);
  await writer.write(workerSnapshot(first, 5));
  await writer.write(workerSnapshot(second, 7));
  await other.retire(first);
  // The reader now holds the slot's retired totals (5) and their version, and sees the second life.
  assert.equal(counterTotal(await reader.readAll()), 12);

  // Another retirer folds the second life after the reader's first pass listed the versions.
  pauseNextRead(() => other.retire(second));
  assert.equal(counterTotal(await reader.readAll()), 12, 'the read during the fold serves every count once');

  // The reader folds a third life on the totals it holds: the second life's 7 must survive it.
  const third = workerIdentity(SELF.service, SELF.instance, 0, 4_500_003, Date.now() - 1_000);
  await writer.write(workerSnapshot(third, 1));
  await reader.retire(third);
  const fresh = openStore(opened, config, SELF, { leaseMs: LEASE_MS });
  const stored = await fresh.readAll();
  assert.equal(counterTotal(stored), 13, 'every life counted exactly once');
  assert.ok(stored.every((entry) => entry.snapshot.identity.role === 'retired'));
});

test('retired totals whose text was evicted under a newer version are reported and overwritten, and folds go on', async () => {
  const config = redisConfig({ keyPrefix: uniquePrefix('evicted-text') });
  prefixes.push(config.keyPrefix);
  const writer = openStore(opened, config, SELF, { leaseMs: LEASE_MS });
  const other = openStore(opened, config, SELF, { leaseMs: LEASE_MS });
  const selfMetrics = new SelfMetrics();
  const reader = openStore(opened, config, SELF, { leaseMs: LEASE_MS, selfMetrics });
  const first = workerIdentity(SELF.service, SELF.instance, 0, 4_600_001, Date.now() - 3_000);
  const second = workerIdentity(SELF.service, SELF.instance, 0, 4_600_002, Date.now() - 2_000);
  await writer.write(workerSnapshot(first, 5));
  await other.retire(first);
  assert.equal(counterTotal(await reader.readAll()), 5);
  await writer.write(workerSnapshot(second, 7));
  await other.retire(second);
  // The newer totals' text goes (an eviction); their version stays.
  const client = new Redis({ host: MAIN_REDIS.host, port: MAIN_REDIS.port, lazyConnect: true });
  await client.connect();
  try {
    const keys = await client.keys(`${config.keyPrefix}*retired`);
    assert.equal(keys.length, 1, `one retired hash: ${keys.join(', ')}`);
    await client.hdel(keys[0]!, '0');
  } finally {
    client.disconnect();
  }
  const view = await reader.readAll();
  const decodeErrors = selfMetrics.toPoints().find((point) => point.name === CATALOGUE.storeErrors.name && point.attributes[LABEL.operation] === 'decode');
  assert.equal(decodeErrors?.value, 1, 'the unreadable entry is counted once');
  assert.equal(counterTotal(view), 5, 'the reader serves and puts back what it remembers');
  const third = workerIdentity(SELF.service, SELF.instance, 0, 4_600_003, Date.now() - 1_000);
  await writer.write(workerSnapshot(third, 1));
  await reader.retire(third); // would keep racing forever on a version it can never match
  assert.equal(counterTotal(await openStore(opened, config, SELF, { leaseMs: LEASE_MS }).readAll()), 6);
});
