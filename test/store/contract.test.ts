/**
 * The retirement contract, run against both backends (the embedded file store
 * and real Redis): the same cases, the same expectations. Non-destructive
 * cases use the shared Redis under a unique prefix; FLUSHALL and restart
 * cases start their own redis-server. Fencing uses a real process paused with
 * SIGSTOP; crashes between the steps of a fold are injected by the protocol's
 * test hook.
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { fork, type ChildProcess } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Retirement } from '../../src/retirement/Retirement';
import type { StoredSnapshot } from '../../src/snapshot/Snapshot';
import { openSpace, INSTANCE, SERVICE, type BackendSpace } from './support/contractBackends';
import { MEMORY, counterTotal, histogramCount, sleep, waitFor, workerIdentity, workerSnapshot } from './support/redisFixtures';

const LEASE_MS = 300;
const children = new Set<ChildProcess>();
const spaces: BackendSpace[] = [];

after(async () => {
  for (const child of children) {
    child.kill('SIGCONT');
    child.kill('SIGKILL');
  }
  await Promise.all(spaces.map((space) => space.close()));
});

async function space(kind: 'file' | 'redis', destructive = false): Promise<BackendSpace> {
  const opened = await openSpace(kind, destructive);
  spaces.push(opened);
  return opened;
}

function worker(slot: number, pid = 4_000_000 + slot, startTimeMs = Date.now()): ReturnType<typeof workerIdentity> {
  return workerIdentity(SERVICE, INSTANCE, slot, pid, startTimeMs);
}

/** Gauge points a read serves: only live lives' gauges count. */
function gaugePoints(stored: readonly StoredSnapshot[]): number {
  return stored.filter((entry) => entry.live).reduce((sum, entry) => sum + entry.snapshot.metrics.filter((m) => m.name === MEMORY).length, 0);
}

/** A total that must never go down while it is watched. */
class Monotonic {
  private last = 0;
  constructor(private readonly reader: Retirement) {}
  async check(what: string): Promise<number> {
    const total = counterTotal(await this.reader.readAll());
    assert.ok(total >= this.last, `${what}: the total went down from ${this.last} to ${total}`);
    this.last = total;
    return total;
  }
}

for (const kind of ['file', 'redis'] as const) {
  describe(`retirement contract on the ${kind} store`, () => {
    test('a write reads back identical and live; a flush with nothing new only renews the lease', async () => {
      const s = await space(kind);
      const writer = s.open({ leaseMs: LEASE_MS });
      const reader = s.open({ leaseMs: LEASE_MS });
      const id = worker(0);
      const first = workerSnapshot(id, 10);
      await writer.write(first);
      const [read] = await reader.readAll();
      assert.deepEqual(read?.snapshot, first);
      assert.equal(read?.live, true);
      // Unchanged series for longer than the lease: renewals keep it live, and the reader decodes nothing new.
      for (let i = 0; i < 6; i++) {
        await sleep(LEASE_MS / 3);
        await writer.write({ ...first, writtenAtMs: Date.now() });
      }
      const [again] = await reader.readAll();
      assert.equal(again?.live, true, 'renewals keep the lease');
      assert.equal(again?.snapshot, read?.snapshot, 'an unchanged snapshot is served from the decode cache');
      assert.ok((again?.renewedAtMs ?? 0) > first.writtenAtMs, 'the renewal time is reported');
    });

    test('a writer that stops is live until its lease runs out, then folded exactly once; its gauges go at the fold', async () => {
      const s = await space(kind);
      const writer = s.open({ leaseMs: LEASE_MS });
      const reaper = s.open({ leaseMs: LEASE_MS });
      await writer.write(workerSnapshot(worker(0), 30));
      await writer.write(workerSnapshot(worker(1), 12));
      await reaper.reap();
      let stored = await reaper.readAll();
      assert.equal(stored.filter((e) => e.live).length, 2, 'both live within the lease');
      await sleep(LEASE_MS + 100);
      stored = await reaper.readAll();
      assert.equal(stored.filter((e) => e.live).length, 0, 'both dead after the lease');
      assert.equal(counterTotal(stored), 42, 'a death changes no sum');
      await reaper.reap();
      await reaper.reap();
      stored = await reaper.readAll();
      assert.deepEqual(stored.map((e) => e.snapshot.identity.role).sort(), ['retired', 'retired']);
      assert.equal(counterTotal(stored), 42);
      assert.equal(histogramCount(stored), 42);
      assert.equal(gaugePoints(stored), 0);
      const ends = stored.flatMap((e) => e.snapshot.ends ?? []).map((end) => end.how);
      assert.deepEqual(ends, ['expired', 'expired'], 'how each life ended is recorded');
    });

    test('the primary folds an exited worker at once, not a lease later, and its gauges go with it', async () => {
      const s = await space(kind);
      const writer = s.open({ leaseMs: 60_000 });
      const primary = s.open({ leaseMs: 60_000 });
      const id = worker(2, 4_100_002);
      await writer.write(workerSnapshot(id, 7));
      await writer.write(workerSnapshot(worker(3), 5));
      assert.equal(await primary.retireProcess(2, id.pid), 1);
      const stored = await primary.readAll();
      assert.equal(counterTotal(stored), 12);
      assert.equal(gaugePoints(stored), 1, 'only the live worker keeps gauges');
      const retired = stored.find((e) => e.snapshot.identity.role === 'retired');
      assert.deepEqual(
        retired?.snapshot.ends?.map((end) => end.how),
        ['exited'],
      );
    });

    test('a pid reused by a new process is a new life: the old one folds, the new one keeps counting, nothing twice', async () => {
      const s = await space(kind);
      const writer = s.open({ leaseMs: 60_000 });
      const primary = s.open({ leaseMs: 60_000 });
      const old = worker(4, 4_150_000, Date.now() - 60_000);
      await writer.write(workerSnapshot(old, 9));
      // The pid went to a new process of the same slot (it started after the exit) before the exit was handled.
      const reused = worker(4, old.pid, Date.now() + 1_000);
      await writer.write(workerSnapshot(reused, 2));
      assert.equal(await primary.retireProcess(4, old.pid), 1, 'only the life that exited');
      let stored = await primary.readAll();
      assert.equal(counterTotal(stored), 11);
      assert.equal(stored.filter((e) => e.live).length, 1, 'the new process is live');
      await writer.write(workerSnapshot(reused, 5));
      stored = await primary.readAll();
      assert.equal(counterTotal(stored), 14);
    });

    test('two retirers folding the same dead lives at the same time fold each exactly once', async () => {
      const s = await space(kind);
      const writer = s.open({ leaseMs: LEASE_MS });
      for (let slot = 0; slot < 4; slot++) {
        for (let life = 0; life < 3; life++) await writer.write(workerSnapshot(worker(slot, 4_200_000 + slot * 10 + life), 10 + life));
      }
      await sleep(LEASE_MS + 100);
      const primary = s.open({ leaseMs: LEASE_MS });
      const sidecar = s.open({ leaseMs: LEASE_MS });
      await Promise.all([primary.reap(), sidecar.reap(), primary.reap(), sidecar.reap()]);
      const stored = await s.open({ leaseMs: LEASE_MS }).readAll();
      assert.equal(counterTotal(stored), 4 * (10 + 11 + 12));
      assert.ok(stored.every((e) => e.snapshot.identity.role === 'retired'));
    });

    test('many retirers folding many lives of two slots at once, under a reader that watches, lose and double nothing', async () => {
      const s = await space(kind);
      const writer = s.open({ leaseMs: LEASE_MS });
      let expected = 0;
      for (let round = 0; round < 3; round++) {
        // Lives of one slot folded by racing retirers: each fold changes the slot's retired totals
        // while the others are between the steps of their reads.
        for (let slot = 0; slot < 2; slot++) {
          for (let life = 0; life < 6; life++) {
            const value = 1 + slot * 6 + life;
            expected += value;
            await writer.write(workerSnapshot(worker(slot, 4_300_000 + round * 100 + slot * 10 + life), value));
          }
        }
        await sleep(LEASE_MS + 100);
        const retirers = Array.from({ length: 3 }, () => s.open({ leaseMs: LEASE_MS }));
        const watcher = new Monotonic(s.open({ leaseMs: LEASE_MS }));
        let reaping = true;
        const watching = (async () => {
          while (reaping) await watcher.check(`round ${round}, while folding`);
        })();
        // Two reaps at once in each retirer too: one's fold lands between the two passes of the other's read.
        // A fold that keeps losing its compare-and-set gives up and is retried at the next reap (by design),
        // so the racing reaps may report one; a last reap finishes what they left.
        await Promise.allSettled(retirers.flatMap((retirer) => [retirer.reap(), retirer.reap()]));
        await retirers[0]!.reap();
        reaping = false;
        await watching;
        const stored = await s.open({ leaseMs: LEASE_MS }).readAll();
        assert.equal(counterTotal(stored), expected, `round ${round}: every life counted exactly once`);
        assert.ok(stored.every((e) => e.snapshot.identity.role === 'retired'));
      }
    });

    for (const step of ['claimed', 'recorded'] as const) {
      test(`a fold that crashes after it ${step} the life is finished by the next retirer: nothing lost, nothing doubled`, async () => {
        const s = await space(kind);
        const writer = s.open({ leaseMs: LEASE_MS });
        await writer.write(workerSnapshot(worker(0), 20));
        await writer.write(workerSnapshot(worker(1), 3));
        await sleep(LEASE_MS + 100);
        const crashing = s.open({
          leaseMs: LEASE_MS,
          onFoldStep: (at) => {
            if (at === step) throw new Error(`crash after ${at}`);
          },
        });
        const watcher = new Monotonic(s.open({ leaseMs: LEASE_MS }));
        await watcher.check('before');
        await assert.rejects(crashing.reap(), /crash after/); // each fold dies half way; the reaper reports it
        assert.equal(await watcher.check('after the crash'), 23);
        const next = s.open({ leaseMs: LEASE_MS });
        await next.reap();
        await next.reap();
        const stored = await next.readAll();
        assert.equal(await watcher.check('after the next reap'), 23);
        assert.ok(
          stored.every((e) => e.snapshot.identity.role === 'retired'),
          `all folded: ${stored.map((e) => e.snapshot.identity.role).join(',')}`,
        );
        assert.equal(counterTotal(stored), 23);
      });
    }

    test('a real worker paused (SIGSTOP) past its lease, folded, then resumed is counted exactly once (fenced)', async () => {
      const s = await space(kind);
      const reaper = s.open({ leaseMs: LEASE_MS });
      const child = fork(join(__dirname, 'support', 'pausedWorker.js'), [], {
        env: { ...process.env, ...s.childEnv, OCX_SLOT: '3' },
        stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
      });
      children.add(child);
      const watcher = new Monotonic(reaper);
      await waitFor('the worker to be live with some counts', async () => {
        const stored = await reaper.readAll();
        return stored.some((e) => e.live) && counterTotal(stored) > 5 ? true : undefined;
      });
      child.kill('SIGSTOP');
      await waitFor('the paused worker to be presumed dead and folded', async () => {
        await reaper.reap();
        await watcher.check('while paused');
        const stored = await reaper.readAll();
        return stored.length > 0 && stored.every((e) => e.snapshot.identity.role === 'retired') ? true : undefined;
      });
      const folded = await watcher.check('folded');
      child.kill('SIGCONT');
      await waitFor('the resumed worker to write again, as a new life', async () => {
        await reaper.reap();
        const stored = await reaper.readAll();
        return stored.some((e) => e.live) && counterTotal(stored) > folded + 3 ? true : undefined;
      });
      await watcher.check('resumed');
      const final = new Promise<number>((ok) => child.once('message', (message: { count: number }) => ok(message.count)));
      child.send('stop');
      const count = await final;
      await new Promise((ok) => child.once('exit', ok));
      children.delete(child);
      assert.equal(counterTotal(await reaper.readAll()), count, 'exactly once: neither the folded part nor the later one counted twice');
    });

    test("foreign and undecodable entries are skipped and counted, never merged or folded into this app's slots", async () => {
      const s = await space(kind);
      const foreignWriter = s.open({ leaseMs: LEASE_MS, self: { service: 'another-app', instance: INSTANCE } });
      const writer = s.open({ leaseMs: LEASE_MS });
      await writer.write(workerSnapshot(worker(0), 4));
      await foreignWriter.write(workerSnapshot(workerIdentity('another-app', INSTANCE, 0, 4_300_000, Date.now()), 1000));
      const reader = s.open({ leaseMs: LEASE_MS });
      await sleep(LEASE_MS + 100);
      await reader.reap();
      const stored = await reader.readAll();
      assert.equal(counterTotal(stored), 4, 'no phantom counts from another app');
      assert.ok(stored.every((e) => e.snapshot.identity.service === SERVICE));
    });
  });

  describe(`retirement contract on the ${kind} store when the backend loses everything`, () => {
    test('emptied after a worker died and before its fold: every reader that saw it puts it back; nothing lost, never a dip', async () => {
      const s = await space(kind, true);
      const live = s.open({ leaseMs: LEASE_MS });
      const dying = s.open({ leaseMs: LEASE_MS });
      const primary = s.open({ leaseMs: LEASE_MS });
      const sidecar = s.open({ leaseMs: LEASE_MS });
      const watchers = [new Monotonic(primary), new Monotonic(sidecar)];
      const liveId = worker(0);
      let liveCount = 100;
      await live.write(workerSnapshot(liveId, liveCount));
      await dying.write(workerSnapshot(worker(1), 132));
      for (const watcher of watchers) await watcher.check('before');
      await sleep(LEASE_MS + 100); // the dead worker's lease runs out; the live one stops too for a moment
      for (const watcher of watchers) await watcher.check('dead, not folded');
      await s.empty();
      for (const watcher of watchers) assert.equal(await watcher.check('just after the loss'), 232);
      await live.write(workerSnapshot(liveId, ++liveCount)); // fenced if a reader put its life back meanwhile
      await primary.reap();
      await sidecar.reap();
      for (const watcher of watchers) assert.equal(await watcher.check('after the repair'), 233);
      await live.write(workerSnapshot(liveId, ++liveCount));
      for (const watcher of watchers) assert.equal(await watcher.check('later'), 234);
    });

    test('restarted empty while traffic continues and a slot already has folded totals: never below the earlier value', async () => {
      const s = await space(kind, true);
      const writer = s.open({ leaseMs: 60_000 });
      const primary = s.open({ leaseMs: 60_000 });
      const watcher = new Monotonic(primary);
      await writer.write(workerSnapshot(worker(0, 4_400_000), 1000));
      await primary.retireProcess(0, 4_400_000);
      const liveId = worker(0, 4_400_001);
      let count = 500;
      await writer.write(workerSnapshot(liveId, count));
      assert.equal(await watcher.check('before'), 1500);
      await s.restart();
      await waitFor(
        'writes to succeed again',
        async () => {
          try {
            await writer.write(workerSnapshot(liveId, ++count));
            return true;
          } catch {
            return undefined;
          }
        },
        10_000,
      );
      for (let i = 0; i < 5; i++) {
        await watcher.check(`scrape ${i} after the restart`);
        await writer.write(workerSnapshot(liveId, ++count));
      }
      assert.equal(await watcher.check('settled'), 1000 + count);
    });

    test('a life folded and then lost with everything is folded once more only by nobody: the retired totals come back as they were', async () => {
      const s = await space(kind, true);
      const writer = s.open({ leaseMs: LEASE_MS });
      const primary = s.open({ leaseMs: LEASE_MS });
      const sidecar = s.open({ leaseMs: LEASE_MS });
      await writer.write(workerSnapshot(worker(0), 40));
      await sleep(LEASE_MS + 100);
      await primary.reap();
      assert.equal(counterTotal(await sidecar.readAll()), 40);
      await s.empty();
      assert.equal(counterTotal(await primary.readAll()), 40);
      assert.equal(counterTotal(await sidecar.readAll()), 40);
      await primary.reap();
      await sidecar.reap();
      const fresh = s.open({ leaseMs: LEASE_MS });
      assert.equal(counterTotal(await fresh.readAll()), 40, 'the backend holds them again, once');
    });
  });
}

describe('retirement contract: what only the file store has', () => {
  test('a storm of SIGKILLed workers leaves the directory as small as before', async () => {
    const s = await space('file');
    const writer = s.open({ leaseMs: 60_000 });
    const primary = s.open({ leaseMs: 60_000 });
    let pid = 4_500_000;
    for (let kill = 0; kill < 12; kill++) {
      const slot = kill % 2;
      await writer.write(workerSnapshot(worker(slot, ++pid), 10));
      await primary.retireProcess(slot, pid);
    }
    await writer.write(workerSnapshot(worker(0, ++pid), 1));
    await writer.write(workerSnapshot(worker(1, ++pid), 1));
    const stored = await primary.readAll();
    assert.equal(counterTotal(stored), 122);
    const directory = s.childEnv['OCX_DIR'] as string;
    const files = readdirSync(directory).sort();
    assert.deepEqual(
      files.filter((name) => !name.includes('worker')),
      ['ocx-retired-0-0-0.json', 'ocx-retired-1-0-0.json'],
    );
    assert.equal(files.length, 4, files.join(' '));
  });

  test('lives folded by lease leave at most four tombstones per slot', async () => {
    const s = await space('file');
    const writer = s.open({ leaseMs: 50 });
    const reaper = s.open({ leaseMs: 50 });
    for (let life = 0; life < 8; life++) {
      await writer.write(workerSnapshot(worker(0, 4_600_000 + life), 5));
      await sleep(80);
      await reaper.reap();
    }
    await reaper.readAll();
    const files = readdirSync(s.childEnv['OCX_DIR'] as string);
    assert.ok(files.filter((name) => name.endsWith('.tomb')).length <= 4, files.join(' '));
    assert.equal(counterTotal(await reaper.readAll()), 40);
  });
});
