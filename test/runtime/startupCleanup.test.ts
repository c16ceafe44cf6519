import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PRIVATE_DIRECTORY_PREFIX, cleanPreviousRun, sweepAbandonedDirectories } from '../../src/runtime/startupCleanup';
import { lifeFileName as snapshotFileName, retiredFileName } from '../../src/store/file/fileNames';

function deadPid(): number {
  // A pid far above the default pid_max is never in use.
  return 4_000_000 + Math.floor(Math.random() * 100_000);
}

test("a previous run's files are removed at startup, and nothing that is not this package's", () => {
  const dir = mkdtempSync(join(tmpdir(), 'ocx-cleanup-'));
  try {
    const dead = snapshotFileName({ role: 'worker', slot: 0, pid: deadPid(), startTimeMs: 1 });
    writeFileSync(join(dir, dead), '{}');
    writeFileSync(join(dir, retiredFileName(0)), '{}');
    writeFileSync(join(dir, 'someone-elses.db'), 'keep me');
    assert.equal(cleanPreviousRun(dir), 2);
    assert.deepEqual(readdirSync(dir), ['someone-elses.db']);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('nothing is removed while any writer in the directory still runs (their totals must not vanish)', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ocx-cleanup-'));
  const live = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 30000)']);
  try {
    writeFileSync(join(dir, snapshotFileName({ role: 'worker', slot: 1, pid: live.pid ?? 0, startTimeMs: Date.now() })), '{}');
    writeFileSync(join(dir, retiredFileName(0)), '{}');
    assert.equal(cleanPreviousRun(dir), 0);
    assert.equal(readdirSync(dir).length, 2);
  } finally {
    live.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a leftover file whose pid an unrelated process holds now is cleaned: a life is its pid and start time, and it renews its lease', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ocx-cleanup-'));
  const unrelated = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 30000)']);
  try {
    // The previous run's worker had this pid an hour ago; the process holding it now started just now.
    const stale = join(dir, snapshotFileName({ role: 'worker', slot: 0, pid: unrelated.pid ?? 0, startTimeMs: Date.now() - 3_600_000 }));
    writeFileSync(stale, '{"10000 requests":true}');
    const hourAgo = new Date(Date.now() - 3_600_000);
    utimesSync(stale, hourAgo, hourAgo);
    writeFileSync(join(dir, retiredFileName(0)), '{}');
    assert.equal(cleanPreviousRun(dir), 2);
    assert.deepEqual(readdirSync(dir), []);
  } finally {
    unrelated.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a directory that does not exist yet is nothing to clean', () => {
  assert.equal(cleanPreviousRun(join(tmpdir(), 'ocx-does-not-exist-', String(process.pid))), 0);
});

test('private directories of killed primaries are swept; live, empty and foreign ones are left', () => {
  const parent = mkdtempSync(join(tmpdir(), 'ocx-sweep-'));
  const live = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 30000)']);
  try {
    const make = (name: string, files: string[]): void => {
      const dir = join(parent, name);
      mkdirSync(dir);
      for (const file of files) writeFileSync(join(dir, file), '{}');
    };
    make(`${PRIVATE_DIRECTORY_PREFIX}dead01`, [snapshotFileName({ role: 'primary', slot: -1, pid: deadPid(), startTimeMs: 1 })]);
    make(`${PRIVATE_DIRECTORY_PREFIX}live01`, [snapshotFileName({ role: 'worker', slot: 0, pid: live.pid ?? 0, startTimeMs: Date.now() })]);
    make(`${PRIVATE_DIRECTORY_PREFIX}empty1`, []);
    make(`${PRIVATE_DIRECTORY_PREFIX}other1`, ['notes.txt']);
    make('unrelated-dir', [snapshotFileName({ role: 'worker', slot: 0, pid: deadPid(), startTimeMs: 1 })]);
    assert.equal(sweepAbandonedDirectories(parent), 1);
    assert.deepEqual(readdirSync(parent).sort(), [`${PRIVATE_DIRECTORY_PREFIX}empty1`, `${PRIVATE_DIRECTORY_PREFIX}live01`, `${PRIVATE_DIRECTORY_PREFIX}other1`, 'unrelated-dir']);
  } finally {
    live.kill('SIGKILL');
    rmSync(parent, { recursive: true, force: true });
  }
});
