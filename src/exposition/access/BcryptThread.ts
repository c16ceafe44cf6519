import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { errorMessage } from '../../self/errorMessage';
import { warnOnce } from '../../self/Logger';
import type { BcryptReply, BcryptRequest } from './bcryptCheckThread';

/** A thread with nothing to check for this long is stopped; the next check starts a new one. */
const IDLE_STOP_MS = 30_000;

/**
 * bcrypt checks off the event loop.
 *
 * bcryptjs is pure JavaScript: even its asynchronous `compare` computes in
 * slices of up to 100 ms on the calling thread, and a cost-10 check is
 * 60-100 ms of CPU. The cluster primary hands connections to its workers
 * from that event loop, so checks run in one worker thread instead, started
 * on the first check, unref'd (it never keeps the process alive) and stopped
 * when idle. Should the thread fail to start or die, checks fall back to
 * bcryptjs's sliced `compare` on the main thread, logged once: a password is
 * still checked, only less politely.
 */
export class BcryptThread {
  private worker: Worker | undefined;
  private broken = false;
  private nextId = 0;
  private readonly pending = new Map<number, (matches: boolean) => void>();
  private idleTimer: NodeJS.Timeout | undefined;

  /** Whether `password` matches `hash`. Never rejects. */
  compare(password: string, hash: string): Promise<boolean> {
    const worker = this.thread();
    if (worker === undefined) return mainThreadCompare(password, hash);
    if (this.idleTimer !== undefined) clearTimeout(this.idleTimer);
    const id = this.nextId++;
    return new Promise<boolean>((resolve) => {
      this.pending.set(id, resolve);
      worker.postMessage({ id, password, hash } satisfies BcryptRequest);
    });
  }

  /** Stop the thread (tests, shutdown). Pending checks answer false. */
  async close(): Promise<void> {
    const worker = this.worker;
    this.worker = undefined;
    this.failPending();
    await worker?.terminate();
  }

  private thread(): Worker | undefined {
    if (this.worker !== undefined || this.broken) return this.worker;
    try {
      const worker = new Worker(join(__dirname, 'bcryptCheckThread.js'));
      worker.unref();
      worker.on('message', (reply: BcryptReply) => this.answer(reply));
      worker.on('error', (error) => this.lost(worker, error));
      worker.on('exit', () => this.lost(worker, undefined));
      this.worker = worker;
    } catch (error) {
      this.lost(undefined, error);
    }
    return this.worker;
  }

  private answer(reply: BcryptReply): void {
    const resolve = this.pending.get(reply.id);
    this.pending.delete(reply.id);
    resolve?.(reply.matches === true);
    if (this.pending.size === 0) this.scheduleIdleStop();
  }

  private scheduleIdleStop(): void {
    if (this.idleTimer !== undefined) clearTimeout(this.idleTimer);
    this.idleTimer = setTimeout(() => void this.close(), IDLE_STOP_MS);
    this.idleTimer.unref();
  }

  /** The thread is gone: answer what it owed, and after an error do without it. */
  private lost(worker: Worker | undefined, error: unknown): void {
    if (worker !== undefined && this.worker !== worker) return;
    this.worker = undefined;
    this.failPending();
    if (error !== undefined) {
      this.broken = true;
      warnOnce('bcrypt-thread', `the bcrypt thread failed (${errorMessage(error)}); checking passwords on the main thread`);
    }
  }

  private failPending(): void {
    for (const resolve of this.pending.values()) resolve(false);
    this.pending.clear();
  }
}

/** The fallback: bcryptjs's sliced async compare here; loaded only when needed (workers never load it). */
function mainThreadCompare(password: string, hash: string): Promise<boolean> {
  const bcrypt = require('bcryptjs') as typeof import('bcryptjs');
  return bcrypt.compare(password, hash).catch(() => false);
}
