/**
 * The store directory is untrusted input: what the file backend does with
 * links, FIFOs, oversized and undecodable files named like its own. Real
 * directories, real FIFOs (mkfifo), the real protocol on top.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, symlinkSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Retirement } from '../../../src/retirement/Retirement';
import { SelfMetrics } from '../../../src/self/SelfMetrics';
import { FileBackend, MAX_FILE_BYTES } from '../../../src/store/file/FileBackend';
import { lifeFileName } from '../../../src/store/file/fileNames';
import { withTimeout } from '../../../src/self/withTimeout';
import { counterTotal, workerIdentity, workerSnapshot } from '../support/redisFixtures';

const root = mkdtempSync(join(tmpdir(), 'ocx-filebackend-'));
after(() => rmSync(root, { recursive: true, force: true }));
let count = 0;
const self = { service: 'shop', instance: 'host-a' };

function open(): { directory: string; store: Retirement; selfMetrics: SelfMetrics } {
  const directory = mkdtempSync(join(root, `d${count++}-`));
  const selfMetrics = new SelfMetrics();
  return { directory, selfMetrics, store: new Retirement(new FileBackend({ directory, selfMetrics }), { self, selfMetrics }) };
}

function storeErrors(selfMetrics: SelfMetrics): number {
  return selfMetrics
    .toPoints()
    .filter((point) => point.attributes['store'] === 'file')
    .reduce((sum, point) => sum + point.value, 0);
}

test('links, FIFOs and oversized files named like snapshots are skipped and counted once; reading never blocks', async () => {
  const { directory, store, selfMetrics } = open();
  await store.write(workerSnapshot(workerIdentity('shop', 'host-a', 0, 4_700_000, Date.now()), 6));
  const target = join(root, 'outside.json');
  writeFileSync(target, 'secret');
  symlinkSync(target, join(directory, lifeFileName({ role: 'worker', slot: 1, pid: 4_700_001, startTimeMs: 1 })));
  execFileSync('mkfifo', [join(directory, lifeFileName({ role: 'worker', slot: 2, pid: 4_700_002, startTimeMs: 1 }))]);
  const big = join(directory, lifeFileName({ role: 'worker', slot: 3, pid: 4_700_003, startTimeMs: 1 }));
  writeFileSync(big, '');
  truncateSync(big, MAX_FILE_BYTES + 1);
  const stored = await withTimeout(store.readAll(), 5_000, 'a read of a directory with a FIFO');
  assert.equal(counterTotal(stored), 6, 'only the real snapshot counts');
  const errors = storeErrors(selfMetrics);
  assert.equal(errors, 3, 'each bad entry counted');
  await store.readAll();
  await store.readAll();
  assert.equal(storeErrors(selfMetrics), errors, 'and not again at every read');
});

test('an undecodable file is counted once and not decoded again until it changes', async () => {
  const { directory, store, selfMetrics } = open();
  const bad = join(directory, lifeFileName({ role: 'worker', slot: 0, pid: 4_700_010, startTimeMs: 1 }));
  writeFileSync(bad, '{"v":1,"identity":');
  await store.readAll();
  await store.readAll();
  assert.equal(storeErrors(selfMetrics), 1);
  writeFileSync(`${bad}.tmp`, 'still not a snapshot');
  execFileSync('mv', [`${bad}.tmp`, bad]);
  await store.readAll();
  assert.equal(storeErrors(selfMetrics), 2, 'a new version is looked at again');
});
