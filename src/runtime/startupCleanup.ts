import { readdirSync, rmSync, statSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_FILE_LEASE_MS } from '../store/file/FileBackend';
import { isOwnFileName, parseLifeFileName, parseSideFileName } from '../store/file/fileNames';
import { pidExists, processStartTimeMs, START_TIME_SLACK_MS } from '../store/file/processLiveness';

/**
 * `cleanup.db_files`: at a primary's startup, remove what a previous run of
 * the app left in a configured store directory, so its counts do not join
 * this run's.
 *
 * Synchronous on purpose: it runs before the app forks, so no new worker's
 * file can be caught by it. It deletes only this package's files, and nothing
 * at all while any writer in the directory still runs (another app, or the
 * instance a `serve` sidecar is reading): their totals must not vanish.
 * Returns how many files it removed.
 */
export function cleanPreviousRun(directory: string): number {
  let names: string[];
  try {
    names = readdirSync(directory);
  } catch {
    return 0; // no directory yet: nothing to clean
  }
  if (names.some((name) => writerRuns(directory, name))) return 0;
  let removed = 0;
  for (const name of names) {
    if (!isOwnFileName(name)) continue;
    try {
      unlinkSync(join(directory, name));
      removed++;
    } catch {
      // Gone meanwhile: nothing to remove.
    }
  }
  return removed;
}

/**
 * Whether the life named by a snapshot file still runs. A life is its pid
 * *and* its start time, and it renews its lease every flush: a pid that an
 * unrelated process holds now is not the writer (its /proc start time differs),
 * and a file untouched for longer than the lease belongs to no running writer,
 * whoever holds the pid.
 */
function writerRuns(directory: string, name: string): boolean {
  const life = parseLifeFileName(parseSideFileName(name)?.life ?? name);
  if (life === undefined || life.pid <= 0 || life.pid === process.pid || !pidExists(life.pid)) return false;
  if (!renewedWithinLease(directory, name)) return false;
  const startedMs = processStartTimeMs(life.pid);
  return startedMs === undefined || Math.abs(startedMs - life.startTimeMs) <= START_TIME_SLACK_MS;
}

function renewedWithinLease(directory: string, name: string): boolean {
  try {
    return Date.now() - statSync(join(directory, name)).mtimeMs <= DEFAULT_FILE_LEASE_MS;
  } catch {
    return false;
  }
}

/** The prefix of the private directories primaries make with mkdtemp. */
export const PRIVATE_DIRECTORY_PREFIX = 'otel-cluster-exporter-';

/**
 * Remove private store directories that earlier primaries on this host left
 * behind because they were killed before their exit hook could run (SIGKILL,
 * or a second signal during shutdown). Only directories with this package's
 * prefix, holding nothing but this package's files, none written by a process
 * that still runs, and not empty. Returns how many it removed.
 */
export function sweepAbandonedDirectories(parent: string = tmpdir()): number {
  let names: string[];
  try {
    names = readdirSync(parent);
  } catch {
    return 0;
  }
  let removed = 0;
  for (const name of names) {
    if (!name.startsWith(PRIVATE_DIRECTORY_PREFIX)) continue;
    const path = join(parent, name);
    let entries: string[];
    try {
      entries = readdirSync(path);
    } catch {
      continue; // not a directory, or not ours to read
    }
    // An empty one may be a primary that started a moment ago and has not written yet: leave it.
    if (entries.length === 0 || !entries.every(isOwnFileName) || entries.some((entry) => writerRuns(path, entry))) continue;
    try {
      rmSync(path, { recursive: true, force: true });
      removed++;
    } catch {
      // Someone else's after all, or busy: leave it.
    }
  }
  return removed;
}
