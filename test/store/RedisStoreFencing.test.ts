import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { fork, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import type { StoredSnapshot } from '../../src/snapshot/Snapshot';
import type { RedisStore } from '../../src/store/RedisStore';
import { MAIN_REDIS, closeAll, counterTotal, deletePrefix, openStore, redisConfig, sleep, uniquePrefix, waitFor } from './support/redisFixtures';

const opened: RedisStore[] = [];
const children: ChildProcess[] = [];
const prefix = uniquePrefix('fencing');

after(async () => {
  for (const child of children) if (child.exitCode === null) { child.kill('SIGCONT'); child.kill('SIGKILL'); }
  await closeAll(opened);
  await deletePrefix(MAIN_REDIS.port, prefix);
});

/** What the exporter's reaper does: fold every snapshot whose writer is not live. */
async function reap(store: RedisStore): Promise<StoredSnapshot[]> {
  const stored = await store.readAll();
  for (const entry of stored) if (!entry.live && entry.snapshot.identity.role === 'worker') await store.retire(entry.snapshot.identity);
  return stored;
}

test('a real worker paused (SIGSTOP) past its lease, folded, then resumed (SIGCONT) is counted exactly once', async () => {
  const cfg = redisConfig({ keyPrefix: prefix });
  const exporter = openStore(opened, cfg, { service: 'shop', instance: 'paused' });
  const child = fork(join(__dirname, 'support', 'pausedWorker.js'), [], {
    env: { ...process.env, OCX_REDIS_CONFIG: JSON.stringify(cfg), OCX_SLOT: '3' },
    stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
  });
  children.push(child);
  const totals: number[] = [];
  const observe = async (): Promise<StoredSnapshot[]> => {
    const stored = await reap(exporter);
    totals.push(counterTotal(await exporter.readAll()));
    return stored;
  };

  await waitFor('the worker to be live with some counts', async () => {
    const stored = await observe();
    return stored.some((s) => s.live) && counterTotal(stored) > 5 ? true : undefined;
  });
  child.kill('SIGSTOP');
  await waitFor('the paused worker to be presumed dead and folded', async () => {
    const stored = await observe();
    return stored.length > 0 && stored.every((s) => s.snapshot.identity.role === 'retired') ? true : undefined;
  });
  const folded = totals[totals.length - 1] ?? 0;
  child.kill('SIGCONT');
  await waitFor('the resumed worker to write again, as a new life', async () => {
    const stored = await observe();
    return stored.some((s) => s.live) && counterTotal(stored) > folded + 3 ? true : undefined;
  });
  for (let i = 0; i < 5; i++) { await observe(); await sleep(30); }

  const final = new Promise<number>((ok) => child.once('message', (message: { count: number }) => ok(message.count)));
  child.send('stop');
  const count = await final;
  const stored = await exporter.readAll();
  assert.equal(counterTotal(stored), count, 'retired (folded while paused) + new life = every request, once');
  for (let i = 1; i < totals.length; i++) {
    assert.ok((totals[i] ?? 0) >= (totals[i - 1] ?? 0), `the merged total never goes down (${totals.join(',')})`);
  }
});
