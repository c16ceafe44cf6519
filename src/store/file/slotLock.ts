import { randomBytes } from 'node:crypto';
import { open, readFile, rename, stat, unlink } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { isProcessAlive } from './processLiveness';

/** A lock older than this is taken to belong to a stuck or dead holder. */
const STALE_LOCK_MS = 30_000;
/**
 * A lock whose holder this host cannot see is broken only once it is this
 * old: the holder may run in another PID namespace (a `serve` sidecar and the
 * app's primary both fold into one shared directory), and a fold takes
 * milliseconds. Same window as the file store's unseen writers.
 */
const UNSEEN_HOLDER_MS = 10_000;
/** How long a fold waits for another process's fold of the same slot. */
const WAIT_LIMIT_MS = 5_000;
const RETRY_DELAY_MS = 10;

/**
 * Run `work` holding an exclusive lock file (created with O_EXCL, which is
 * atomic on local file systems). Folds of one slot read, change and rewrite
 * the slot's retired file; without the lock two concurrent folds of different
 * dead workers would each overwrite the other's result.
 *
 * A lock older than 30 s, or older than 10 s with a holder pid this host
 * cannot see (exited, or in another PID namespace), is broken by renaming it
 * aside first, so two waiters cannot both break it and both enter.
 *
 * @throws Error when the lock stays held by a live process for 5 s.
 */
export async function withFileLock<T>(lockPath: string, work: () => Promise<T>): Promise<T> {
  await acquire(lockPath);
  try {
    return await work();
  } finally {
    await unlink(lockPath).catch(() => undefined);
  }
}

async function acquire(lockPath: string): Promise<void> {
  const deadline = Date.now() + WAIT_LIMIT_MS;
  for (;;) {
    if (await tryCreate(lockPath)) return;
    if (await isStale(lockPath)) {
      // Only the waiter whose rename succeeds removes it; the others simply retry.
      const aside = `${lockPath}.stale-${randomBytes(4).toString('hex')}`;
      if (
        await rename(lockPath, aside).then(
          () => true,
          () => false,
        )
      )
        await unlink(aside).catch(() => undefined);
      continue;
    }
    if (Date.now() > deadline) throw new Error(`${lockPath}: still locked by another process after ${WAIT_LIMIT_MS} ms`);
    await sleep(RETRY_DELAY_MS);
  }
}

async function tryCreate(lockPath: string): Promise<boolean> {
  try {
    const handle = await open(lockPath, 'wx', 0o600);
    try {
      await handle.writeFile(String(process.pid));
    } finally {
      await handle.close();
    }
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  }
}

async function isStale(lockPath: string): Promise<boolean> {
  try {
    const [text, info] = await Promise.all([readFile(lockPath, 'utf8'), stat(lockPath)]);
    const ageMs = Date.now() - info.mtimeMs;
    if (ageMs > STALE_LOCK_MS) return true;
    const holder = Number(text);
    // An empty file is a holder between create and write: give it time.
    if (text === '' || !Number.isSafeInteger(holder)) return false;
    return ageMs > UNSEEN_HOLDER_MS && !(await isProcessAlive(holder, Date.now()));
  } catch {
    // Released meanwhile: not stale, just retry.
    return false;
  }
}
