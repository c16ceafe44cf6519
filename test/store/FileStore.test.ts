import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdir, mkdtemp, readdir, readFile, rm, stat, symlink, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { resourceFromAttributes } from '@opentelemetry/resources';
import type { DataPoint } from '@opentelemetry/sdk-metrics';
import { CATALOGUE } from '../../src/catalogue/MetricCatalogue';
import { mergeSnapshots } from '../../src/merge/SnapshotMerger';
import { SelfMetrics } from '../../src/self/SelfMetrics';
import { encodeSnapshot } from '../../src/snapshot/SnapshotCodec';
import { processKey } from '../../src/snapshot/Snapshot';
import type { Snapshot, SnapshotIdentity, StoredSnapshot } from '../../src/snapshot/Snapshot';
import { FileStore, UNSEEN_WRITER_LIVE_MS } from '../../src/store/FileStore';
import { withFileLock } from '../../src/store/slotLock';
import { OVERFLOW_ENDPOINT } from '../../src/worker/RouteNormaliser';
import { counter, gauge, histogram, identity, MEMORY, observe, REQUESTS, snapshot } from '../merge/fixtures';

let root: string;
const children = new Set<ChildProcess>();

before(async () => {
  root = await mkdtemp(join(tmpdir(), 'ocx-filestore-'));
});

after(async () => {
  for (const child of children) child.kill('SIGKILL');
  await rm(root, { recursive: true, force: true });
});

let dirCount = 0;
async function freshDir(): Promise<string> {
  const dir = join(root, `d${dirCount++}`);
  await mkdir(dir);
  return dir;
}

/** A process that stays up until killed. */
async function startSleeper(): Promise<ChildProcess & { pid: number }> {
  const child = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1e6)'], { stdio: 'ignore' });
  children.add(child);
  await once(child, 'spawn');
  return child as ChildProcess & { pid: number };
}

async function kill(child: ChildProcess): Promise<void> {
  const exited = once(child, 'exit');
  child.kill('SIGKILL');
  await exited;
  children.delete(child);
}

/** Above any pid_max: no process here has it. */
const INVISIBLE_PID = 9_000_001;

/** Whether this test may create PID namespaces (root with util-linux unshare). */
function canUnshare(): boolean {
  if (process.platform !== 'linux') return false;
  return spawnSync('unshare', ['--pid', '--fork', '--mount-proc', 'true'], { stdio: 'ignore' }).status === 0;
}

/** A pid number N such that N + 1 is not in use here. */
function freePidNumber(): number {
  for (;;) {
    const candidate = 20_000 + Math.floor(Math.random() * 10_000);
    try {
      process.kill(candidate + 1, 0);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ESRCH') return candidate;
    }
  }
}

/** The pid of a process that has already exited (and been reaped). */
function deadPid(): number {
  const result = spawnSync(process.execPath, ['-e', '']);
  return result.pid;
}

function workerSnapshot(id: SnapshotIdentity, requests: number, writtenAtMs = Date.now()): Snapshot {
  return snapshot(id, writtenAtMs, [counter(REQUESTS, [[{ method: 'GET' }, requests]]), gauge(MEMORY, [[{}, 1]])]);
}

/** What a scrape would show for worker_id=<slot>. */
async function mergedRequests(store: FileStore, slot = 0): Promise<number | undefined> {
  const rm = mergeSnapshots(await store.readAll(), { resource: resourceFromAttributes({}), labelInstance: false, nowMs: Date.now() });
  const data = rm.scopeMetrics[0]?.metrics.find((m) => m.descriptor.name === REQUESTS);
  return (data?.dataPoints as DataPoint<number>[] | undefined)?.find((p) => p.attributes['worker_id'] === String(slot))?.value;
}

test('a written snapshot reads back under its package file name, live for a running writer', async () => {
  const dir = join(root, 'nested', 'store');
  const store = new FileStore({ directory: dir });
  const id = identity(0, process.pid, { startTimeMs: Math.round(performance.timeOrigin) });
  const original = workerSnapshot(id, 5);
  await store.write(original);
  await store.write(workerSnapshot(id, 6));
  assert.deepEqual(await readdir(dir), [`ocx-worker-0-${process.pid}-${id.startTimeMs}.json`], 'one file, no temporary left');
  assert.equal((await stat(dir)).mode & 0o777, 0o700, 'directory created private');
  const [entry] = await store.readAll();
  assert.equal(entry?.live, true);
  assert.equal(entry?.snapshot.metrics[0]?.points[0]?.value, 6);
});

test('every rewrite is read back, even one of the same size moments later', async () => {
  const store = new FileStore({ directory: await freshDir() });
  const id = identity(0, process.pid);
  for (let value = 1; value <= 9; value++) {
    await store.write(workerSnapshot(id, value, 1_000));
    assert.equal((await store.readAll())[0]?.snapshot.metrics[0]?.points[0]?.value, value);
  }
});

test('a missing directory reads as empty', async () => {
  assert.deepEqual(await new FileStore({ directory: join(root, 'does-not-exist') }).readAll(), []);
});

test('a SIGKILLed worker is live while its last write is under 10 s old, then dead; its counters count throughout', async () => {
  const store = new FileStore({ directory: await freshDir() });
  const child = await startSleeper();
  const id = identity(0, child.pid, { startTimeMs: Date.now() });
  await store.write(workerSnapshot(id, 5));
  assert.equal((await store.readAll())[0]?.live, true);
  await kill(child);
  // Gone from this host, but so is a writer in another PID namespace: a fresh file keeps it live.
  assert.equal((await store.readAll())[0]?.live, true);
  await store.write(workerSnapshot(id, 5, Date.now() - UNSEEN_WRITER_LIVE_MS - 1_000));
  const [entry] = await store.readAll();
  assert.equal(entry?.live, false);
  assert.equal(await mergedRequests(store), 5);
});

test('a pid held by a process other than the writer tells nothing: fresh writes keep it live, silence makes it dead', { skip: process.platform !== 'linux' && 'needs /proc' }, async () => {
  const store = new FileStore({ directory: await freshDir() });
  const child = await startSleeper();
  // Claims to have started ten minutes before the process that now holds the pid: a reused pid,
  // or the writer's own pid number in another PID namespace (a sidecar's probe process).
  const id = identity(0, child.pid, { startTimeMs: Date.now() - 600_000 });
  await store.write(workerSnapshot(id, 5));
  assert.equal((await store.readAll())[0]?.live, true, 'still writing: live, wherever it runs');
  await store.write(workerSnapshot(id, 5, Date.now() - UNSEEN_WRITER_LIVE_MS - 1_000));
  assert.equal((await store.readAll())[0]?.live, false, 'silent past the window: the pid was reused');
  await kill(child);
});

test('a writer whose pid this host cannot see is live within 10 s of its last write and dead after', async () => {
  const store = new FileStore({ directory: await freshDir() });
  const id = identity(0, INVISIBLE_PID, { startTimeMs: Date.now() - 60_000 });
  await store.write(workerSnapshot(id, 5, Date.now() - UNSEEN_WRITER_LIVE_MS + 2_000));
  assert.equal((await store.readAll())[0]?.live, true);
  await store.write(workerSnapshot(id, 5, Date.now() - UNSEEN_WRITER_LIVE_MS - 2_000));
  assert.equal((await store.readAll())[0]?.live, false);
});

test('a worker in another PID namespace stays live and its counters keep rising across reaps', { skip: !canUnshare() && 'needs root and unshare(1)' }, async () => {
  const dir = await freshDir();
  const script = join(root, 'namespace-writer.js');
  const modulePath = resolve(__dirname, '../../src/store/FileStore.js');
  await writeFile(script, `
    const { FileStore } = require(${JSON.stringify(modulePath)});
    const store = new FileStore({ directory: ${JSON.stringify(dir)} });
    const identity = { service: 'svc', instance: 'host-a', slot: 0, pid: process.pid, startTimeMs: Math.round(performance.timeOrigin), role: 'worker' };
    let requests = 0;
    const flush = () => store.write({ identity, writtenAtMs: Date.now(), metrics: [{
      name: ${JSON.stringify(REQUESTS)}, description: '', unit: '1', kind: 'counter', valueType: 'int',
      points: [{ attributes: { method: 'GET' }, startTimeMs: identity.startTimeMs, value: ++requests }],
    }] });
    flush().then(() => console.log('ready ' + process.pid));
    setInterval(flush, 100);`);
  // A pid number taken in the new namespace that is free here, so this host cannot see the writer.
  const lastPid = freePidNumber();
  const child = spawn('unshare', ['--pid', '--fork', '--mount-proc', '--kill-child', 'sh', '-c',
    `echo ${lastPid} > /proc/sys/kernel/ns_last_pid; ${JSON.stringify(process.execPath)} ${JSON.stringify(script)}`], { stdio: ['ignore', 'pipe', 'inherit'] });
  children.add(child);
  try {
    const [line] = (await once(child.stdout!, 'data')) as [Buffer];
    const writerPid = Number(/ready (\d+)/.exec(line.toString())?.[1]);
    assert.equal(writerPid, lastPid + 1);
    assert.throws(() => process.kill(writerPid, 0), /ESRCH/, 'the writer is invisible from here');

    const store = new FileStore({ directory: dir });
    const before = await mergedRequests(store);
    for (let reap = 0; reap < 3; reap++) {
      // What the exposition's reaper does every 5 s.
      for (const entry of await store.readAll()) {
        assert.equal(entry.live, true, 'a live worker in another namespace');
        if (!entry.live) await store.retire(entry.snapshot.identity);
      }
      await new Promise((ok) => setTimeout(ok, 250));
    }
    const after = await mergedRequests(store);
    assert.ok(after !== undefined && before !== undefined && after > before, `counters kept rising: ${before} -> ${after}`);
  } finally {
    await kill(child);
  }
});

test('a stale file superseded by a newer process of its slot is not live, a fresh one is', async () => {
  const store = new FileStore({ directory: await freshDir() });
  const old = await startSleeper();
  const now = Date.now();
  const newer = identity(0, process.pid, { startTimeMs: now + 1_000 });
  await store.write(workerSnapshot(newer, 1, now));
  const staleOld = identity(0, old.pid, { startTimeMs: now });
  await store.write(workerSnapshot(staleOld, 5, now - 60_000));
  const byPid = async (pid: number): Promise<boolean | undefined> =>
    (await store.readAll()).find((e) => e.snapshot.identity.pid === pid)?.live;
  assert.equal(await byPid(old.pid), false, 'silent for 60 s while a newer process writes: pid reused');
  await store.write(workerSnapshot(staleOld, 5, now));
  assert.equal(await byPid(old.pid), true, 'still writing: a draining worker during a graceful reload');
  await kill(old);
});

test('undecodable, truncated and foreign files are skipped and counted, never deleted', async () => {
  const dir = await freshDir();
  const selfMetrics = new SelfMetrics();
  const store = new FileStore({ directory: dir, selfMetrics });
  const good = identity(0, process.pid);
  await store.write(workerSnapshot(good, 5));
  const text = encodeSnapshot(workerSnapshot(identity(1, 77), 9));
  await writeFile(join(dir, 'ocx-worker-1-77-1077.json'), text.slice(0, text.length / 2));
  await writeFile(join(dir, 'ocx-worker-2-78-1078.json'), '{"hello":"world"}');
  await writeFile(join(dir, 'ocx-worker-3-79-1.json'), text, 'utf8'); // content of another process
  await writeFile(join(dir, 'notes.json'), '{}');
  await writeFile(join(dir, 'ocx-custom.json'), '{}');
  const stored = await store.readAll();
  assert.deepEqual(stored.map((e) => e.snapshot.identity.pid), [process.pid]);
  const decodeErrors = (): number | undefined => selfMetrics.toPoints().find((p) => p.attributes['operation'] === 'decode')?.value;
  assert.equal(decodeErrors(), 3);
  assert.equal((await store.readAll()).length, 1);
  assert.equal(decodeErrors(), 3, 'an unchanged bad file is counted once, not at every scrape');
  assert.equal(await FileStore.cleanStale(dir), 4);
  assert.deepEqual((await readdir(dir)).sort(), ['notes.json', 'ocx-custom.json']);
});

test('retire folds a dead worker exactly once; the scrape total never changes', async () => {
  const dir = await freshDir();
  const store = new FileStore({ directory: dir });
  const dead = identity(0, deadPid());
  await store.write(workerSnapshot(dead, 5));
  assert.equal(await mergedRequests(store), 5);
  await store.retire(dead);
  assert.deepEqual(await readdir(dir), ['ocx-retired-0-0-0.json']);
  assert.equal(await mergedRequests(store), 5);
  await store.retire(dead);
  assert.equal(await mergedRequests(store), 5);

  const replacement = identity(0, process.pid, { startTimeMs: Date.now() });
  await store.write(workerSnapshot(replacement, 2));
  assert.equal(await mergedRequests(store), 7);
  const retired = (await store.readAll()).find((e) => e.snapshot.identity.role === 'retired');
  assert.deepEqual(retired?.snapshot.folded, [processKey(dead)]);
  assert.equal(retired?.live, false);
});

test('two processes retiring the same dead workers concurrently fold each exactly once', async () => {
  const dir = await freshDir();
  const store = new FileStore({ directory: dir });
  const dead = [identity(0, deadPid()), identity(0, deadPid()), identity(0, deadPid()), identity(1, deadPid())];
  for (const [i, id] of dead.entries()) await store.write(workerSnapshot(id, 10 ** i));
  assert.equal(await mergedRequests(store, 0), 111);

  const modulePath = resolve(__dirname, '../../src/store/FileStore.js');
  const startAt = Date.now() + 400;
  const script = `
    const { FileStore } = require(${JSON.stringify(modulePath)});
    const store = new FileStore({ directory: ${JSON.stringify(dir)} });
    const ids = ${JSON.stringify(dead)};
    while (Date.now() < ${startAt}) {}
    Promise.all(ids.map((id) => store.retire(id))).then(() => process.exit(0), (e) => { console.error(e); process.exit(1); });`;
  const runs = [0, 1].map(() => {
    const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'ignore', 'pipe'] });
    children.add(child);
    let stderr = '';
    child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    return once(child, 'exit').then(([code]) => {
      children.delete(child);
      assert.equal(code, 0, stderr);
    });
  });
  await Promise.all(runs);

  assert.deepEqual((await readdir(dir)).sort(), ['ocx-retired-0-0-0.json', 'ocx-retired-1-0-0.json']);
  assert.equal(await mergedRequests(store, 0), 111);
  assert.equal(await mergedRequests(store, 1), 1000);
  const retired0 = (await store.readAll()).find((e) => e.snapshot.identity.slot === 0)?.snapshot;
  assert.deepEqual([...(retired0?.folded ?? [])].sort(), dead.slice(0, 3).map(processKey).sort());
});

test('a fold interrupted by a crash neither loses nor double counts', async () => {
  const dir = await freshDir();
  const store = new FileStore({ directory: dir });
  const crashedClaimer = deadPid();

  // Crash after claiming, before folding: the claim is still counted, then folded by the next retire.
  const a = identity(0, deadPid());
  const claimA = `ocx-worker-0-${a.pid}-${a.startTimeMs}.json.claim-${crashedClaimer}-0a0b0c0d`;
  await writeFile(join(dir, claimA), encodeSnapshot(workerSnapshot(a, 5)));
  assert.equal(await mergedRequests(store), 5);
  await store.retire(a);
  assert.deepEqual(await readdir(dir), ['ocx-retired-0-0-0.json']);
  assert.equal(await mergedRequests(store), 5);

  // Crash after writing the retired totals, before deleting the claim: counted once.
  const claimAgain = `ocx-worker-0-${a.pid}-${a.startTimeMs}.json.claim-${crashedClaimer}-01020304`;
  await writeFile(join(dir, claimAgain), encodeSnapshot(workerSnapshot(a, 5)));
  assert.equal(await mergedRequests(store), 5);
  await store.retire(a);
  assert.deepEqual(await readdir(dir), ['ocx-retired-0-0-0.json']);
  assert.equal(await mergedRequests(store), 5);
});

test('a failed write throws and leaves no temporary file behind', async () => {
  const dir = await freshDir();
  const store = new FileStore({ directory: dir });
  const id = identity(0, process.pid);
  await mkdir(join(dir, `ocx-worker-0-${id.pid}-${id.startTimeMs}.json`)); // the target name is taken by a directory
  await assert.rejects(store.write(workerSnapshot(id, 1)));
  assert.throws(() => store.writeSync(workerSnapshot(id, 1)));
  assert.deepEqual(await readdir(dir), [`ocx-worker-0-${id.pid}-${id.startTimeMs}.json`]);

  const blocker = join(dir, 'plain-file');
  await writeFile(blocker, '');
  await assert.rejects(new FileStore({ directory: join(blocker, 'sub') }).write(workerSnapshot(id, 1)), /ENOTDIR/);
});

test('a missing directory is created by the first write, but one removed after use is left gone', async () => {
  const parent = await freshDir();
  const dir = join(parent, 'not-yet');
  const store = new FileStore({ directory: dir });
  const id = identity(0, process.pid);
  await store.write(workerSnapshot(id, 1));
  assert.equal((await store.readAll())[0]?.snapshot.metrics[0]?.points[0]?.value, 1);
  // Its owner (a primary shutting down) removes it: exiting workers must not leave a stray copy.
  await rm(dir, { recursive: true });
  assert.throws(() => store.writeSync(workerSnapshot(id, 2)), /ENOENT/);
  await assert.rejects(store.write(workerSnapshot(id, 3)), /ENOENT/);
  await assert.rejects(stat(dir), /ENOENT/);
});

test('remove deletes only the named process\'s snapshot, and twice is harmless', async () => {
  const dir = await freshDir();
  const mine = new FileStore({ directory: dir });
  const other = new FileStore({ directory: dir });
  const a = identity(0, process.pid);
  const b = identity(1, deadPid());
  await mine.write(workerSnapshot(a, 1));
  await other.write(workerSnapshot(b, 1));
  await mine.remove(a);
  assert.deepEqual(await readdir(dir), [`ocx-worker-1-${b.pid}-${b.startTimeMs}.json`]);
  await other.remove(b);
  await other.remove(b);
  assert.deepEqual(await readdir(dir), []);
  await mine.close();
});

test('cleanStale removes every package file, including temporary and claim files, and counts them', async () => {
  const dir = await freshDir();
  const names = [
    'ocx-worker-0-10-20.json',
    'ocx-primary--1-11-21.json',
    'ocx-retired-0-0-0.json',
    'ocx-worker-0-10-20.json.tmp-10-deadbeef',
    'ocx-worker-0-10-20.json.claim-12-00ff00ff',
    'ocx-retired-0-0-0.json.lock',
    'keep-me.txt',
  ];
  for (const name of names) await writeFile(join(dir, name), 'x');
  assert.equal(await FileStore.cleanStale(dir), 6);
  assert.deepEqual(await readdir(dir), ['keep-me.txt']);
  assert.equal(await readFile(join(dir, 'keep-me.txt'), 'utf8'), 'x');
  assert.equal(await FileStore.cleanStale(join(dir, 'missing')), 0);
});

test('primary snapshots keep their own slot and are live while the primary runs', async () => {
  const store = new FileStore({ directory: await freshDir() });
  const primary = identity(-1, process.pid);
  await store.write(snapshot(primary, Date.now(), [counter(CATALOGUE.masterRestarts.name, [[{ reason: 'crash' }, 2]])]));
  const stored: StoredSnapshot[] = await store.readAll();
  assert.equal(stored[0]?.snapshot.identity.role, 'primary');
  assert.equal(stored[0]?.live, true);
});

test('a slot lock whose holder this host cannot see is honoured for 10 s, then broken', async () => {
  const dir = await freshDir();
  const lockPath = join(dir, 'ocx-retired-0-0-0.json.lock');
  // The holder may be a primary in another PID namespace folding into the shared directory right now.
  await writeFile(lockPath, String(INVISIBLE_PID));
  let entered = false;
  const locked = withFileLock(lockPath, async () => {
    entered = true;
  });
  await new Promise((ok) => setTimeout(ok, 300));
  assert.equal(entered, false, 'a fresh lock of an unseen holder is not broken');
  await rm(lockPath); // the holder finishes
  await locked;
  assert.equal(entered, true);

  await writeFile(lockPath, String(INVISIBLE_PID));
  const old = new Date(Date.now() - UNSEEN_WRITER_LIVE_MS - 2_000);
  await utimes(lockPath, old, old);
  await withFileLock(lockPath, async () => undefined); // broken at once: the holder is gone
  assert.deepEqual(await readdir(dir), []);
});

test('under heavy folding the store total read back never dips: a read that keeps seeing files vanish is refused', async () => {
  const dir = await freshDir();
  const store = new FileStore({ directory: dir });
  const modulePath = resolve(__dirname, '../../src/store/FileStore.js');
  // Each child writes a dead worker's snapshot with one request and folds it, as fast as it can:
  // the sum over the store rises by one per cycle and must never be seen going down.
  const folders = [0, 1].map((slot) => {
    const child = spawn(process.execPath, ['-e', `
      const { FileStore } = require(${JSON.stringify(modulePath)});
      const store = new FileStore({ directory: ${JSON.stringify(dir)} });
      const until = Date.now() + 2000;
      (async () => {
        for (let i = 1; Date.now() < until; i++) {
          const identity = { service: 'svc', instance: 'host-a', slot: ${slot}, pid: ${INVISIBLE_PID}, startTimeMs: i, role: 'worker' };
          await store.write({ identity, writtenAtMs: Date.now() - 60000, metrics: [{ name: ${JSON.stringify(REQUESTS)}, description: '',
            unit: '1', kind: 'counter', valueType: 'int', points: [{ attributes: {}, startTimeMs: 1, value: 1 }] }] });
          await store.retire(identity);
        }
      })().then(() => process.exit(0), (e) => { console.error(e); process.exit(1); });`], { stdio: ['ignore', 'ignore', 'inherit'] });
    children.add(child);
    return once(child, 'exit').then(([code]) => {
      children.delete(child);
      assert.equal(code, 0);
    });
  });
  let running = true;
  void Promise.all(folders).finally(() => (running = false));
  let previous = 0;
  let reads = 0;
  let refused = 0;
  while (running) {
    let stored: StoredSnapshot[];
    try {
      stored = await store.readAll();
    } catch (error) {
      assert.match(String(error), /vanished while being read/);
      refused++;
      continue;
    }
    reads++;
    const total = [0, 1].reduce((sum, slot) => sum + totalOf(stored, slot), 0);
    assert.ok(total >= previous, `read ${reads}: the total went from ${previous} to ${total}`);
    previous = total;
  }
  await Promise.all(folders);
  assert.ok(reads > 10 && previous > 10, `${reads} reads, total ${previous}, ${refused} refused`);
});

test('a dangling link named like a snapshot is skipped and counted, never taken for a vanishing file', async () => {
  const dir = await freshDir();
  const selfMetrics = new SelfMetrics();
  const store = new FileStore({ directory: dir, selfMetrics });
  await store.write(workerSnapshot(identity(0, process.pid), 5));
  await symlink(join(dir, 'nowhere'), join(dir, 'ocx-worker-1-77-1077.json'));
  assert.deepEqual((await store.readAll()).map((e) => e.snapshot.identity.pid), [process.pid]);
  assert.equal(selfMetrics.toPoints().find((p) => p.attributes['operation'] === 'read')?.value, 1);
});

test('retired totals keep at most maxEndpoints endpoints however many workers die; the total is exact', async () => {
  const store = new FileStore({ directory: await freshDir(), maxEndpoints: 3 });
  let total = 0;
  for (let life = 0; life < 4; life++) {
    const id = identity(0, INVISIBLE_PID, { startTimeMs: life });
    const points: [Record<string, string>, number][] = ['alpha', 'beta', 'gamma'].map((word, i) => [{ method: 'GET', endpoint: `/page-${word}${life}` }, i + 1]);
    total += 6;
    await store.write(snapshot(id, Date.now() - 60_000, [counter(REQUESTS, points)]));
    await store.retire(id);
  }
  const stored = await store.readAll();
  assert.deepEqual(stored.map((e) => e.snapshot.identity.role), ['retired']);
  const points = stored[0]!.snapshot.metrics.find((m) => m.name === REQUESTS)!.points;
  assert.deepEqual(points.map((p) => p.attributes['endpoint']).sort(), ['/page-alpha0', '/page-beta0', '/page-gamma0', OVERFLOW_ENDPOINT].sort());
  assert.equal(await mergedRequestsTotal(store), total);
});

test('a fold across reconfigured histogram buckets keeps every count and logs one line per metric', async () => {
  const store = new FileStore({ directory: await freshDir() });
  const name = 'test_reconfigured_duration';
  const lines = await captureStderr(async () => {
    for (const [life, bounds] of [[0, [0.1, 1]], [1, [0.5, 2]], [2, [0.1, 1]]] as const) {
      const id = identity(0, INVISIBLE_PID, { startTimeMs: life + 1 });
      await store.write(snapshot(id, Date.now() - 60_000, [histogram(name, [[{}, observe(bounds, [0.3, 3])]], bounds)]));
      await store.retire(id);
    }
  });
  const retired = (await store.readAll())[0]!.snapshot.metrics.find((m) => m.name === name)!;
  assert.equal((retired.points[0]!.value as { count: number }).count, 6);
  assert.deepEqual(retired.boundaries, [0.1, 1]);
  assert.equal(lines.filter((line) => line.includes(name)).length, 1, lines.join(''));
});

function totalOf(stored: readonly StoredSnapshot[], slot: number): number {
  const rm = mergeSnapshots(stored, { resource: resourceFromAttributes({}), labelInstance: false, nowMs: Date.now() });
  const data = rm.scopeMetrics[0]?.metrics.find((m) => m.descriptor.name === REQUESTS);
  return ((data?.dataPoints ?? []) as DataPoint<number>[]).filter((p) => p.attributes['worker_id'] === String(slot)).reduce((sum, p) => sum + p.value, 0);
}

async function mergedRequestsTotal(store: FileStore): Promise<number> {
  return totalOf(await store.readAll(), 0);
}

/** What the package writes to stderr while `work` runs. */
async function captureStderr(work: () => Promise<void>): Promise<string[]> {
  const lines: string[] = [];
  const original = process.stderr.write.bind(process.stderr);
  process.stderr.write = ((chunk: string | Uint8Array) => {
    lines.push(String(chunk));
    return true;
  }) as typeof process.stderr.write;
  try {
    await work();
  } finally {
    process.stderr.write = original;
  }
  return lines;
}
