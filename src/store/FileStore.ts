import { randomBytes } from 'node:crypto';
import { readdirSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
import { lstat, mkdir, open, readdir, readFile, rename, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { DEFAULT_MAX_ENDPOINTS } from '../merge/capEndpoints';
import { foldSnapshot } from '../merge/foldSnapshot';
import { warnMergeConflict } from '../merge/warnMergeConflict';
import { warnOnce } from '../self/Logger';
import type { SelfMetrics } from '../self/SelfMetrics';
import { decodeSnapshot, encodeSnapshot, SnapshotFormatError } from '../snapshot/SnapshotCodec';
import { slotKey } from '../snapshot/Snapshot';
import type { Snapshot, SnapshotIdentity, StoredSnapshot } from '../snapshot/Snapshot';
import type { SnapshotStore } from './SnapshotStore';
import {
  isOwnFileName,
  matchesFileName,
  parseClaimFileName,
  parseSnapshotFileName,
  retiredFileName,
  snapshotFileName,
} from './fileNames';
import type { FileNameIdentity } from './fileNames';
import { isProcessAlive, sightWriter } from './processLiveness';
import { withFileLock } from './slotLock';

/** Options of {@link FileStore}. */
export interface FileStoreOptions {
  /** The store directory, shared by every process of one app on one host. Created (mode 0700) if missing. */
  readonly directory: string;
  /** Counts undecodable and unreadable files (`store_errors{store="file"}`). */
  readonly selfMetrics?: SelfMetrics;
  /**
   * Distinct `endpoint` values a slot's retired totals keep per metric; the
   * rest of a dead worker's endpoints are summed into the overflow value, so
   * restarts do not add series (`metrics.max_endpoints`). Default 100.
   */
  readonly maxEndpoints?: number;
  /**
   * Whether this store may create a missing directory (default true). A
   * cluster worker's directory belongs to its primary: a worker forked just as
   * the primary shuts down must not recreate it after the primary removed it.
   */
  readonly createDirectory?: boolean;
}

/**
 * A process whose file has not changed for this long while a newer process
 * writes for the same slot is taken as dead even if its pid answers: the pid
 * was reused. A live process rewrites its file every flush (at most 1 s).
 */
const SUPERSEDED_AFTER_MS = 30_000;
/**
 * A writer this host cannot see (its pid runs in another PID namespace, such
 * as the app container next to a `serve` sidecar, or it exited) is live while
 * its last write is at most this old. A live process rewrites its file every
 * flush (at most 1 s), so only an event loop blocked this long is mistaken
 * for a dead one; a dead one is folded this much later.
 */
export const UNSEEN_WRITER_LIVE_MS = 10_000;
/** A listing whose files vanish while being read (a concurrent fold) is read again, this many times at most. */
const READ_ATTEMPTS = 3;

/** A decoded file, remembered with what identifies its content on disk. */
interface CachedDecode {
  readonly ino: number;
  readonly size: number;
  readonly mtimeMs: number;
  /** When it was read: see {@link CACHE_SETTLE_MS}. */
  readonly readAtMs: number;
  /** Undefined for a file that could not be decoded: it is skipped without being counted again. */
  readonly snapshot: Snapshot | undefined;
}

/**
 * A decode is reused only if it was read this long after the file's mtime.
 * On file systems with coarse timestamps a rewrite within the same second can
 * reuse the freed inode with the same size and mtime; a read two seconds later
 * than that mtime has seen the last write of that second.
 */
const CACHE_SETTLE_MS = 2_000;

/** A file's text with what identifies it on disk. */
interface FreshRead {
  readonly text: string;
  readonly ino: number;
  readonly size: number;
  readonly mtimeMs: number;
  readonly readAtMs: number;
}

/** One readable entry of the directory before liveness is decided. */
interface ReadEntry {
  readonly snapshot: Snapshot;
  readonly fromName: FileNameIdentity;
  /** Claimed by a retiring process: its writer is dead by definition. */
  readonly claimed: boolean;
}

/**
 * The embedded store: one JSON file per process in a local directory.
 *
 * Writes are atomic (a unique temporary file renamed over the target), so a
 * reader sees a process's previous snapshot or its new one, never half of one.
 * A writer is live when its pid runs on this host and is the process that
 * wrote the file (see {@link sightWriter}), or, when this host cannot see it
 * (another PID namespace, e.g. a `serve` sidecar in another container of the
 * pod sharing the directory), when it wrote within the last 10 s
 * ({@link UNSEEN_WRITER_LIVE_MS}); and in both cases no newer process of its
 * slot has taken over while its file went stale. Folding a dead process into its
 * slot's `ocx-retired-<slot>-0-0.json` claims the dead file by rename, rewrites
 * the retired file under a per-slot lock file and only then removes the claim;
 * the retired file's `folded` list makes every step safe to repeat, so a crash
 * at any point neither loses nor double counts.
 *
 * Only file names of this package's pattern are ever read or deleted.
 * A slot's retired totals keep at most `maxEndpoints` distinct `endpoint`
 * values per metric, so recycled workers do not grow the series count.
 *
 * One host only: liveness relies on this host's pids and clock. Use Redis across hosts.
 */
export class FileStore implements SnapshotStore {
  readonly kind = 'file';
  readonly directory: string;
  private readonly selfMetrics: SelfMetrics | undefined;
  private readonly maxEndpoints: number;
  /**
   * Decoded snapshots by file name. Every write renames a new file into place,
   * so an unchanged inode, size and mtime means unchanged content: retired
   * totals and idle processes are not decoded again at every scrape.
   */
  private readonly decoded = new Map<string, CachedDecode>();

  /** Whether the directory has existed for this store: it is created at most once. */
  private directoryKnown = false;
  private readonly createDirectory: boolean;

  constructor(options: FileStoreOptions) {
    this.directory = options.directory;
    this.selfMetrics = options.selfMetrics;
    this.maxEndpoints = options.maxEndpoints ?? DEFAULT_MAX_ENDPOINTS;
    this.createDirectory = options.createDirectory ?? true;
  }

  /** Atomically replace this process's snapshot file. Rejects on I/O errors, leaving no temporary file. */
  async write(snapshot: Snapshot): Promise<void> {
    const target = join(this.directory, snapshotFileName(snapshot.identity));
    await this.writeAtomic(target, encodeSnapshot(snapshot));
  }

  /**
   * The synchronous form of {@link write}, for a process about to exit. Throws
   * on I/O errors. Never creates the directory: at exit a missing directory
   * means its owner (a primary shutting down) removed it, and recreating it
   * would leave a stray directory behind.
   */
  writeSync(snapshot: Snapshot): void {
    const target = join(this.directory, snapshotFileName(snapshot.identity));
    writeAtomicSync(target, encodeSnapshot(snapshot));
  }

  /**
   * Every snapshot in the directory, with liveness. A file that cannot be read
   * or decoded is skipped and counted, never fatal. Claimed files (a fold in
   * progress, or one interrupted by a crash) are returned as dead snapshots,
   * so their counts stay in the sum until the retired file lists them as folded.
   * A missing directory reads as empty.
   *
   * @throws Error when files kept vanishing between listing and reading (heavy
   * folding) on every attempt: a set with them missing would make counters
   * dip, so the caller serves its last good read instead.
   */
  async readAll(): Promise<StoredSnapshot[]> {
    for (let attempt = 1; ; attempt++) {
      const { entries, vanished } = await this.readEntries();
      // A file that vanished was being folded or replaced: read again for a consistent set.
      if (vanished === undefined) return this.withLiveness(entries);
      if (attempt >= READ_ATTEMPTS) {
        throw new Error(`${this.directory}: ${vanished} vanished while being read, ${READ_ATTEMPTS} times in a row (folds in progress)`);
      }
    }
  }

  /**
   * Fold a dead process's snapshot into its slot's retired totals and delete
   * it. Safe to call twice, concurrently from several processes, or again after
   * a crash: each process is folded exactly once. Also finishes folds left
   * unfinished by a process that died while retiring the same identity.
   */
  async retire(identity: SnapshotIdentity): Promise<void> {
    const name = snapshotFileName(identity);
    const claims: string[] = [];
    const mine = this.claimName(name);
    try {
      await rename(join(this.directory, name), join(this.directory, mine));
      claims.push(mine);
    } catch (error) {
      // Already claimed or removed by someone else: nothing of ours to fold, but maybe an orphan.
      if (!isCode(error, 'ENOENT')) throw error;
    }
    claims.push(...(await this.abandonedClaims(name, mine)));
    if (claims.length === 0) return;
    const lockPath = join(this.directory, `${retiredFileName(identity.slot)}.lock`);
    await withFileLock(lockPath, async () => {
      for (const claim of claims) await this.foldClaim(join(this.directory, claim), identity);
    });
  }

  /** Delete a process's snapshot without folding it. A missing file is not an error. */
  async remove(identity: SnapshotIdentity): Promise<void> {
    const target = join(this.directory, snapshotFileName(identity));
    await unlinkIfPresent(target);
  }

  /** Nothing to release: every operation opens and closes its own files. */
  async close(): Promise<void> {
    // No timers or handles are held between calls.
  }



  /**
   * Delete every file of this package's pattern in `directory` (snapshots,
   * retired totals, temporary, claim and lock files) and nothing else.
   * Synchronous: the primary runs it at startup, before the app forks, so a
   * previous run's counts are not added again (see runtime/startupCleanup.ts,
   * which first makes sure no writer in the directory still runs).
   *
   * @returns how many files were deleted; 0 when the directory does not exist.
   */
  static cleanStale(directory: string): number {
    let names: string[];
    try {
      names = readdirSync(directory);
    } catch {
      return 0; // no directory: nothing to clean
    }
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


  private async writeAtomic(target: string, text: string): Promise<void> {
    try {
      await writeAtomicAsync(target, text);
      this.directoryKnown = true;
    } catch (error) {
      // Create a directory that does not exist yet, once. One that vanished after
      // we wrote to it was removed by its owner (a primary shutting down): leave it gone.
      if (!isCode(error, 'ENOENT') || this.directoryKnown || !this.createDirectory) throw error;
      await mkdir(this.directory, { recursive: true, mode: 0o700 });
      this.directoryKnown = true;
      await writeAtomicAsync(target, text);
    }
  }

  /** The readable entries; `vanished` names a listed file that was gone when opened. */
  private async readEntries(): Promise<{ entries: ReadEntry[]; vanished: string | undefined }> {
    const names = await listDirectory(this.directory);
    let vanished: string | undefined;
    const results = await Promise.all(
      names.map(async (name) => {
        const claim = parseClaimFileName(name);
        const fromName = parseSnapshotFileName(claim?.snapshotName ?? name);
        if (fromName === undefined) return undefined;
        const entry = await this.readEntry(name, fromName, claim !== undefined);
        if (entry === 'vanished') vanished ??= name;
        return entry === 'vanished' ? undefined : entry;
      }),
    );
    const listed = new Set(names);
    for (const name of this.decoded.keys()) if (!listed.has(name)) this.decoded.delete(name);
    return { entries: results.filter((entry): entry is ReadEntry => entry !== undefined), vanished };
  }

  private async readEntry(name: string, fromName: FileNameIdentity, claimed: boolean): Promise<ReadEntry | 'vanished' | undefined> {
    const path = join(this.directory, name);
    let read: FreshRead | CachedDecode;
    try {
      read = await this.readIfChanged(name, path);
    } catch (error) {
      // Gone from the directory: folded or replaced meanwhile. Still listed (a dangling link): unreadable.
      if (isCode(error, 'ENOENT') && !(await exists(path))) return 'vanished';
      this.skip(path, 'read', error);
      return undefined;
    }
    if (!('text' in read)) return read.snapshot === undefined ? undefined : { snapshot: read.snapshot, fromName, claimed };
    let snapshot: Snapshot | undefined;
    try {
      snapshot = decodeSnapshot(read.text, path);
      if (!matchesFileName(snapshot.identity, fromName)) {
        throw new SnapshotFormatError(path, 'identity', 'does not match the file name (a copied or foreign file?)');
      }
    } catch (error) {
      snapshot = undefined;
      const before = this.decoded.get(name);
      const sameBadFile = before !== undefined && before.snapshot === undefined
        && before.ino === read.ino && before.size === read.size && before.mtimeMs === read.mtimeMs;
      if (!sameBadFile) this.skip(path, 'decode', error);
    }
    const { ino, size, mtimeMs, readAtMs } = read;
    this.decoded.set(name, { ino, size, mtimeMs, readAtMs, snapshot });
    return snapshot === undefined ? undefined : { snapshot, fromName, claimed };
  }

  /** The cached decode when the file is the one decoded before, else its text (stat and read on one descriptor). */
  private async readIfChanged(name: string, path: string): Promise<FreshRead | CachedDecode> {
    const handle = await open(path, 'r');
    try {
      const { ino, size, mtimeMs } = await handle.stat();
      const cached = this.decoded.get(name);
      const settled = cached !== undefined && cached.readAtMs >= mtimeMs + CACHE_SETTLE_MS;
      if (settled && cached.ino === ino && cached.size === size && cached.mtimeMs === mtimeMs) return cached;
      const readAtMs = Date.now();
      return { text: await handle.readFile('utf8'), ino, size, mtimeMs, readAtMs };
    } finally {
      await handle.close();
    }
  }

  private skip(path: string, operation: 'read' | 'decode', error: unknown): void {
    this.selfMetrics?.recordStoreError(this.kind, operation);
    warnOnce(`file-store-skip-${path}`, `skipping ${path}: ${describe(error)}`);
  }

  private async withLiveness(entries: readonly ReadEntry[]): Promise<StoredSnapshot[]> {
    const newestStart = newestStartPerSlot(entries);
    const nowMs = Date.now();
    return Promise.all(
      entries.map(async ({ snapshot, fromName, claimed }) => {
        if (claimed || fromName.role === 'retired') return { snapshot, live: false };
        const newer = newestStart.get(slotOf(snapshot));
        const superseded = newer !== undefined
          && newer.startTimeMs > snapshot.identity.startTimeMs
          && newer.writtenAtMs - snapshot.writtenAtMs > SUPERSEDED_AFTER_MS;
        if (superseded) return { snapshot, live: false };
        const sighting = await sightWriter(fromName.pid, snapshot.identity.startTimeMs);
        if (sighting !== 'unseen') return { snapshot, live: sighting === 'running' };
        return { snapshot, live: nowMs - snapshot.writtenAtMs <= UNSEEN_WRITER_LIVE_MS };
      }),
    );
  }

  /** Claims of `snapshotName` whose claimer died, or that this process left after a failed fold. */
  private async abandonedClaims(snapshotName: string, mine: string): Promise<string[]> {
    const abandoned: string[] = [];
    for (const name of await listDirectory(this.directory)) {
      const claim = parseClaimFileName(name);
      if (claim === undefined || claim.snapshotName !== snapshotName || name === mine) continue;
      if (claim.claimerPid === process.pid || !(await isProcessAlive(claim.claimerPid, Date.now()))) abandoned.push(name);
    }
    return abandoned;
  }

  /** Fold one claimed file into its slot's retired file, then delete the claim. Runs under the slot lock. */
  private async foldClaim(claimPath: string, identity: SnapshotIdentity): Promise<void> {
    let text: string;
    try {
      text = await readFile(claimPath, 'utf8');
    } catch (error) {
      if (isCode(error, 'ENOENT')) return; // finished by another fold meanwhile
      throw error;
    }
    let dead: Snapshot;
    try {
      dead = decodeSnapshot(text, claimPath);
    } catch (error) {
      // Nothing decodable to fold, and it was never counted: drop it rather than retry forever.
      this.skip(claimPath, 'decode', error);
      await unlinkIfPresent(claimPath);
      return;
    }
    const retiredPath = join(this.directory, retiredFileName(identity.slot));
    const retired = await this.readRetired(retiredPath);
    if (retired !== undefined && slotKey(retired.identity) !== slotKey(dead.identity)) {
      throw new Error(
        `${retiredPath} holds totals of ${slotKey(retired.identity)}, not ${slotKey(dead.identity)}: ` +
          'give each service its own store directory',
      );
    }
    const next = foldSnapshot(retired, dead, { maxEndpoints: this.maxEndpoints, onConflict: warnMergeConflict });
    if (next !== retired) await this.writeAtomic(retiredPath, encodeSnapshot(next));
    await unlinkIfPresent(claimPath);
  }

  private async readRetired(path: string): Promise<Snapshot | undefined> {
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch (error) {
      if (isCode(error, 'ENOENT')) return undefined;
      throw error;
    }
    try {
      return decodeSnapshot(text, path);
    } catch (error) {
      // Not ours to trust (written by something else): start the slot's totals afresh.
      this.skip(path, 'decode', error);
      return undefined;
    }
  }

  private claimName(snapshotName: string): string {
    return `${snapshotName}.claim-${process.pid}-${randomBytes(4).toString('hex')}`;
  }
}

/** Per (role, slot): the newest process's start time and last write, to spot pid reuse. */
function newestStartPerSlot(entries: readonly ReadEntry[]): Map<string, { startTimeMs: number; writtenAtMs: number }> {
  const newest = new Map<string, { startTimeMs: number; writtenAtMs: number }>();
  for (const { snapshot, claimed, fromName } of entries) {
    if (claimed || fromName.role === 'retired') continue;
    const key = slotOf(snapshot);
    const known = newest.get(key);
    if (known === undefined || snapshot.identity.startTimeMs > known.startTimeMs) {
      newest.set(key, { startTimeMs: snapshot.identity.startTimeMs, writtenAtMs: snapshot.writtenAtMs });
    }
  }
  return newest;
}

function slotOf(snapshot: Snapshot): string {
  return `${snapshot.identity.role}|${slotKey(snapshot.identity)}`;
}

function temporaryName(target: string): string {
  return `${target}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
}

async function writeAtomicAsync(target: string, text: string): Promise<void> {
  const temporary = temporaryName(target);
  try {
    await writeFile(temporary, text, { mode: 0o600 });
    await rename(temporary, target);
  } catch (error) {
    await unlink(temporary).catch(() => undefined);
    throw error;
  }
}

function writeAtomicSync(target: string, text: string): void {
  const temporary = temporaryName(target);
  try {
    writeFileSync(temporary, text, { mode: 0o600 });
    renameSync(temporary, target);
  } catch (error) {
    try {
      unlinkSync(temporary);
    } catch {
      // Never created, or already gone.
    }
    throw error;
  }
}

async function listDirectory(directory: string): Promise<string[]> {
  try {
    return await readdir(directory);
  } catch (error) {
    if (isCode(error, 'ENOENT')) return [];
    throw error;
  }
}

/** Whether a directory entry exists (a dangling symbolic link does). */
async function exists(path: string): Promise<boolean> {
  try {
    await lstat(path);
    return true;
  } catch {
    return false;
  }
}

/** Delete a file; false when it was already gone. */
async function unlinkIfPresent(path: string): Promise<boolean> {
  try {
    await unlink(path);
    return true;
  } catch (error) {
    if (isCode(error, 'ENOENT')) return false;
    throw error;
  }
}

function isCode(error: unknown, code: string): boolean {
  return (error as NodeJS.ErrnoException | undefined)?.code === code;
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
