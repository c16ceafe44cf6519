import { randomBytes } from 'node:crypto';
import { closeSync, constants, fstatSync, openSync, readSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
import type { Stats } from 'node:fs';
import { link, lstat, mkdir, open, readdir, rename, stat, unlink, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { warnOnce } from '../../self/Logger';
import type { SelfMetrics } from '../../self/SelfMetrics';
import { retiredKey } from '../LifeBackend';
import type { LifeBackend, LifeRef, ListedLife, RetiredRecord, ScopeRead, WriteReply } from '../LifeBackend';
import { lifeFileName, parseLifeFileName, parseRetiredFileName, parseSideFileName, retiredFileName } from './fileNames';
import { withFileLock } from './slotLock';

/** Options of {@link FileBackend}. */
export interface FileBackendOptions {
  /** The store directory, shared by every process of one app on one host. Created (mode 0700) if missing. */
  readonly directory: string;
  /** Counts files skipped as unsafe or unreadable (`store_errors{store="file"}`). */
  readonly selfMetrics?: SelfMetrics;
  /** Lease of a life after its last write or renewal, ms. Default {@link DEFAULT_FILE_LEASE_MS}. */
  readonly leaseMs?: number;
  /**
   * Whether this store may create a missing directory (default true). A
   * cluster worker's directory belongs to its primary: a worker forked just as
   * the primary shuts down must not recreate it after the primary removed it.
   */
  readonly createDirectory?: boolean;
}

/** Five flush intervals at the longest allowed interval (1 s), as Redis. */
export const DEFAULT_FILE_LEASE_MS = 5_000;
/** Files larger than this are not read: no snapshot of a sane app comes near it. */
export const MAX_FILE_BYTES = 64 * 1024 * 1024;
/** Tombstones (folded lives whose writer may still run) kept per slot, newest first. */
const TOMBSTONES_PER_SLOT = 4;
/** A tombstone older than this is dropped: a writer paused for an hour is counted from its new life only. */
const TOMBSTONE_TTL_MS = 3_600_000;
/** A listing whose files vanish while being read (a concurrent claim) is read again, this many times at most. */
const READ_ATTEMPTS = 3;
/** Open for reading without following a symbolic link and without blocking on a FIFO or a device. */
const SAFE_READ = constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK;

/** The files of one life in a listing. */
interface LifeFiles {
  readonly name: string;
  readonly identity: NonNullable<ReturnType<typeof parseLifeFileName>>;
  snapshot: boolean;
  lease: boolean;
  claim: boolean;
  tomb: boolean;
}

/** A file read safely: its version and, unless known, its text. */
interface SafeRead {
  readonly version: string;
  readonly mtimeMs: number;
  readonly text: string | undefined;
}

/**
 * The embedded store's primitives on one local directory (see
 * {@link LifeBackend}). Writes are atomic (a unique temporary file renamed
 * over the target), so a reader sees a life's previous snapshot or its new
 * one, never half of one. A claim is a hard link of the life's snapshot
 * (`link` fails if it exists: exactly one claimer freezes it); a writer checks
 * for a claim after each rename, so a write that raced the claim is never
 * counted and the writer learns it was fenced. A slot's retired file changes
 * only under its lock, compared on its version (inode, size, mtime).
 *
 * The directory is untrusted: only this package's file names are touched,
 * files are opened without following links and without blocking, only regular
 * files up to {@link MAX_FILE_BYTES} are read, and a file that failed once is
 * not read again until it changes.
 */
export class FileBackend implements LifeBackend {
  readonly kind = 'file';
  readonly directory: string;
  readonly leaseMs: number;
  /** Files never expire on their own. */
  readonly expiresAfterMs = 0;
  private readonly selfMetrics: SelfMetrics | undefined;
  private readonly createDirectory: boolean;
  /** Whether the directory has existed for this store: it is created at most once. */
  private directoryKnown = false;
  /** Versions of files skipped as unsafe, so they are counted and logged once. */
  private readonly skipped = new Map<string, string>();

  constructor(options: FileBackendOptions) {
    this.directory = options.directory;
    this.selfMetrics = options.selfMetrics;
    this.leaseMs = options.leaseMs ?? DEFAULT_FILE_LEASE_MS;
    this.createDirectory = options.createDirectory ?? true;
  }

  /** One directory is one scope, whoever writes into it. */
  scopeOf(): string {
    return this.directory;
  }

  async write(life: LifeRef, text: string): Promise<WriteReply> {
    const name = lifeFileName(life);
    await this.writeAtomic(this.path(name), text);
    const reply = await this.fenceCheck(name);
    // A write that raced a claim is never counted (the claim wins): take it back.
    if (reply !== 'written') await unlinkIfPresent(this.path(name));
    return reply;
  }

  /**
   * The synchronous form of {@link write}, for a process about to exit. Never
   * creates the directory: at exit a missing directory means its owner (a
   * primary shutting down) removed it.
   */
  writeSync(life: LifeRef, text: string): WriteReply {
    const name = lifeFileName(life);
    writeAtomicSync(this.path(name), text);
    for (const side of ['claim', 'tomb']) {
      const fenced = readIfExistsSync(this.path(`${name}.${side}`));
      if (fenced === undefined) continue;
      try {
        unlinkSync(this.path(name));
      } catch {
        // Already gone.
      }
      return { fenced };
    }
    return 'written';
  }

  async renew(life: LifeRef): Promise<WriteReply | 'missing'> {
    const name = lifeFileName(life);
    const fenced = await this.fenceCheck(name);
    if (fenced !== 'written') return fenced;
    if (!(await exists(this.path(name)))) return 'missing';
    const lease = this.path(`${name}.lease`);
    const now = new Date();
    try {
      await utimes(lease, now, now);
    } catch (error) {
      if (!isCode(error, 'ENOENT')) throw error;
      await writeFile(lease, '', { mode: 0o600, flag: 'w' });
    }
    return 'written';
  }

  async read(known: (key: string, version: string) => boolean): Promise<ScopeRead[]> {
    for (let attempt = 1; ; attempt++) {
      const result = await this.readOnce(known);
      if (result !== 'vanished') return [result];
      if (attempt >= READ_ATTEMPTS) {
        throw new Error(`${this.directory}: files kept vanishing while being read, ${READ_ATTEMPTS} times in a row (claims in progress)`);
      }
    }
  }

  async claim(life: LifeRef, expiredOnly: boolean): Promise<{ readonly text: string } | 'live' | 'gone'> {
    const name = lifeFileName(life);
    const snapshotPath = this.path(name);
    const claimPath = this.path(`${name}.claim`);
    if (await exists(this.path(`${name}.tomb`))) return 'gone';
    if (expiredOnly && !(await exists(claimPath))) {
      const renewed = await this.renewedAtMs(name);
      if (renewed !== undefined && Date.now() - renewed <= this.leaseMs) return 'live';
    }
    try {
      await link(snapshotPath, claimPath);
    } catch (error) {
      if (!isCode(error, 'EEXIST') && !isCode(error, 'ENOENT')) throw error;
    }
    const claimed = await this.readSafely(claimPath, undefined);
    if (claimed === undefined || claimed === 'vanished' || claimed.text === undefined) return 'gone';
    // The snapshot itself goes: a writer that renames a new one in is fenced by the claim.
    await unlinkIfPresent(snapshotPath);
    await unlinkIfPresent(this.path(`${name}.lease`));
    return { text: claimed.text };
  }

  async restoreClaim(life: LifeRef, text: string): Promise<boolean> {
    const name = lifeFileName(life);
    for (const candidate of [name, `${name}.claim`, `${name}.tomb`]) {
      if (await exists(this.path(candidate))) return false;
    }
    const claimPath = this.path(`${name}.claim`);
    const temporary = temporaryName(claimPath);
    try {
      await writeFile(temporary, text, { mode: 0o600, flag: 'wx' });
    } catch (error) {
      if (isCode(error, 'ENOENT')) return false; // the directory is gone: nothing to restore into
      throw error;
    }
    try {
      await link(temporary, claimPath);
      return true;
    } catch (error) {
      if (isCode(error, 'EEXIST')) return false;
      throw error;
    } finally {
      await unlinkIfPresent(temporary);
    }
  }

  async release(life: LifeRef, keepTombstone: boolean): Promise<void> {
    const name = lifeFileName(life);
    const claimPath = this.path(`${name}.claim`);
    if (keepTombstone) {
      await rename(claimPath, this.path(`${name}.tomb`)).catch((error: unknown) => {
        if (!isCode(error, 'ENOENT')) throw error;
      });
    } else {
      await unlinkIfPresent(claimPath);
    }
    // A snapshot a fenced writer renamed in after the claim is never counted: drop it.
    await unlinkIfPresent(this.path(name));
    await unlinkIfPresent(this.path(`${name}.lease`));
  }

  async compareAndSetRetired(_scope: string, slot: number, expected: string | undefined, text: string): Promise<string | undefined> {
    const path = this.path(retiredFileName(slot));
    return withFileLock(`${path}.lock`, async () => {
      let current: string | undefined;
      try {
        current = versionOf(await stat(path));
      } catch (error) {
        if (!isCode(error, 'ENOENT')) throw error;
      }
      if (current !== expected) return undefined;
      await this.writeAtomic(path, text);
      return versionOf(await stat(path));
    });
  }

  /** Nothing to release: every operation opens and closes its own files. */
  async close(): Promise<void> {
    // No timers or handles are held between calls.
  }

  private async readOnce(known: (key: string, version: string) => boolean): Promise<ScopeRead | 'vanished'> {
    const names = await listDirectory(this.directory);
    const lives = new Map<string, LifeFiles>();
    const retiredSlots: number[] = [];
    const tombs: { name: string; life: LifeFiles }[] = [];
    for (const name of names) {
      const slot = parseRetiredFileName(name);
      if (slot !== undefined) {
        retiredSlots.push(slot);
        continue;
      }
      const side = parseSideFileName(name);
      const lifeName = side?.life ?? name;
      const identity = parseLifeFileName(lifeName);
      if (identity === undefined) continue;
      let files = lives.get(lifeName);
      if (files === undefined) {
        files = { name: lifeName, identity, snapshot: false, lease: false, claim: false, tomb: false };
        lives.set(lifeName, files);
      }
      if (side === undefined) files.snapshot = true;
      else files[side.side] = true;
      if (side?.side === 'tomb') tombs.push({ name, life: files });
    }
    const nowMs = Date.now();
    let vanished = false;
    const listed = await Promise.all(
      [...lives.values()].map(async (files): Promise<ListedLife | undefined> => {
        if (files.tomb) return undefined; // folded: never counted again
        if (!files.snapshot && !files.claim) return undefined; // a lease alone
        const read = await this.readSafely(this.path(files.claim ? `${files.name}.claim` : files.name), (version) => known(files.name, version));
        if (read === 'vanished') {
          vanished = true;
          return undefined;
        }
        if (read === undefined) return undefined;
        const renewedAtMs = files.claim ? undefined : Math.max(read.mtimeMs, (await this.leaseMtime(files.name)) ?? -Infinity);
        const state = files.claim ? 'claimed' : nowMs - (renewedAtMs as number) <= this.leaseMs ? 'live' : 'expired';
        return {
          scope: this.directory,
          ...files.identity,
          key: files.name,
          version: read.version,
          state,
          renewedAtMs,
          text: read.text,
        };
      }),
    );
    if (vanished) return 'vanished';
    const retired = await Promise.all(
      retiredSlots.map(async (slot): Promise<RetiredRecord | undefined> => {
        const read = await this.readSafely(this.path(retiredFileName(slot)), (version) => known(retiredKey(this.directory, slot), version));
        return read === undefined || read === 'vanished' ? undefined : { slot, version: read.version, text: read.text };
      }),
    );
    await this.collectTombstones(tombs, nowMs);
    return {
      scope: this.directory,
      owner: undefined,
      lives: listed.filter((life): life is ListedLife => life !== undefined),
      retired: retired.filter((record): record is RetiredRecord => record !== undefined),
    };
  }

  /**
   * Bound the tombstones: at most {@link TOMBSTONES_PER_SLOT} per slot and
   * none older than an hour. A fenced writer's leftover snapshot goes first,
   * so it can never be listed as a life of its own.
   */
  private async collectTombstones(tombs: readonly { name: string; life: LifeFiles }[], nowMs: number): Promise<void> {
    const bySlot = new Map<string, { name: string; life: LifeFiles; mtimeMs: number }[]>();
    for (const tomb of tombs) {
      const info = await stat(this.path(tomb.name)).catch(() => undefined);
      if (info === undefined) continue;
      const slot = `${tomb.life.identity.role}|${tomb.life.identity.slot}`;
      const group = bySlot.get(slot) ?? [];
      group.push({ ...tomb, mtimeMs: info.mtimeMs });
      bySlot.set(slot, group);
    }
    for (const group of bySlot.values()) {
      group.sort((a, b) => b.mtimeMs - a.mtimeMs);
      for (const [index, tomb] of group.entries()) {
        if (index < TOMBSTONES_PER_SLOT && nowMs - tomb.mtimeMs <= TOMBSTONE_TTL_MS) continue;
        await unlinkIfPresent(this.path(tomb.life.name));
        await unlinkIfPresent(this.path(`${tomb.life.name}.lease`));
        await unlinkIfPresent(this.path(tomb.name));
      }
    }
  }

  /**
   * Read a file without following links or blocking; undefined (counted,
   * logged once per version) for anything but a regular file within the size
   * bound, 'vanished' when it is gone. The text is left out when `isKnown`
   * says the caller holds this version.
   */
  private async readSafely(path: string, isKnown: ((version: string) => boolean) | undefined): Promise<SafeRead | 'vanished' | undefined> {
    let handle;
    try {
      handle = await open(path, SAFE_READ);
    } catch (error) {
      if (isCode(error, 'ENOENT')) return 'vanished';
      this.skip(path, 'unreadable', `could not be opened (${(error as NodeJS.ErrnoException).code ?? 'error'})`);
      return undefined;
    }
    try {
      const info = await handle.stat();
      const version = versionOf(info);
      if (!info.isFile()) return this.skip(path, version, 'is not a regular file');
      if (info.size > MAX_FILE_BYTES) return this.skip(path, version, `is larger than ${MAX_FILE_BYTES} bytes`);
      if (isKnown?.(version) === true) return { version, mtimeMs: info.mtimeMs, text: undefined };
      return { version, mtimeMs: info.mtimeMs, text: await handle.readFile('utf8') };
    } finally {
      await handle.close();
    }
  }

  private skip(path: string, version: string, problem: string): undefined {
    if (this.skipped.get(path) === version) return undefined;
    if (this.skipped.size > 1024) this.skipped.clear();
    this.skipped.set(path, version);
    this.selfMetrics?.recordStoreError(this.kind, 'read');
    warnOnce(`store-file-skip-${path}`, `file store: skipping ${path}: it ${problem}`);
    return undefined;
  }

  /** Whether a claim or tombstone fences this life: then its frozen text. One `lstat` each while there is none. */
  private async fenceCheck(name: string): Promise<WriteReply> {
    for (const side of ['claim', 'tomb']) {
      const path = this.path(`${name}.${side}`);
      if (!(await exists(path))) continue;
      const read = await this.readSafely(path, undefined);
      if (read === undefined || read === 'vanished' || read.text === undefined) continue;
      return { fenced: read.text };
    }
    return 'written';
  }

  private async renewedAtMs(name: string): Promise<number | undefined> {
    const snapshot = await stat(this.path(name)).catch(() => undefined);
    const lease = await this.leaseMtime(name);
    if (snapshot === undefined) return lease;
    return Math.max(snapshot.mtimeMs, lease ?? -Infinity);
  }

  private async leaseMtime(name: string): Promise<number | undefined> {
    const info = await stat(this.path(`${name}.lease`)).catch(() => undefined);
    return info?.mtimeMs;
  }

  private path(name: string): string {
    return join(this.directory, name);
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
}

/** What identifies a file's content on disk: a rewrite renames a new inode into place. */
function versionOf(info: Stats): string {
  return `${info.ino}:${info.size}:${info.mtimeMs}`;
}

/** Temporary names are unique per process by a counter, across processes by the pid and a nonce. */
const TEMPORARY_NONCE = randomBytes(2).toString('hex');
let temporaryCount = 0;

function temporaryName(target: string): string {
  temporaryCount = (temporaryCount + 1) % 0x1000000;
  return `${target}.tmp-${process.pid}-${TEMPORARY_NONCE}${temporaryCount.toString(16)}`;
}

async function writeAtomicAsync(target: string, text: string): Promise<void> {
  const temporary = temporaryName(target);
  try {
    await writeFile(temporary, text, { mode: 0o600, flag: 'wx' });
    await rename(temporary, target);
  } catch (error) {
    await unlink(temporary).catch(() => undefined);
    throw error;
  }
}

function writeAtomicSync(target: string, text: string): void {
  const temporary = temporaryName(target);
  try {
    writeFileSync(temporary, text, { mode: 0o600, flag: 'wx' });
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

/** A side file's text, synchronously and safely; undefined when absent or not a regular file. */
function readIfExistsSync(path: string): string | undefined {
  let fd: number;
  try {
    fd = openSync(path, SAFE_READ);
  } catch {
    return undefined;
  }
  try {
    const info = fstatSync(fd);
    if (!info.isFile() || info.size > MAX_FILE_BYTES) return undefined;
    const buffer = Buffer.alloc(info.size);
    let offset = 0;
    while (offset < buffer.length) {
      const read = readSync(fd, buffer, offset, buffer.length - offset, offset);
      if (read === 0) break;
      offset += read;
    }
    return buffer.subarray(0, offset).toString('utf8');
  } finally {
    closeSync(fd);
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

/** Whether a directory entry exists (never following a link). */
async function exists(path: string): Promise<boolean> {
  try {
    await lstat(path);
    return true;
  } catch {
    return false;
  }
}

async function unlinkIfPresent(path: string): Promise<void> {
  try {
    await unlink(path);
  } catch (error) {
    if (!isCode(error, 'ENOENT')) throw error;
  }
}

function isCode(error: unknown, code: string): boolean {
  return (error as NodeJS.ErrnoException | undefined)?.code === code;
}
