import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Worker } from 'node:cluster';
import { warnOnce } from '../self/Logger';
import { errorMessage } from '../self/errorMessage';

/**
 * Master side of the hung-worker check (`--timeout`): each worker refreshes
 * the mtime of its own heartbeat file from its event loop ({@link Heartbeat});
 * a worker whose file is older than the timeout is reported once to
 * `onHung`, which kills it. Checks run on a timer with asynchronous `stat`s,
 * so the master's event loop, which hands connections to the workers, never
 * blocks on them.
 */
export class Watchdog {
  /** Where the heartbeat files live; undefined if it could not be made (the check is then off, said once). */
  private readonly directory: string | undefined;
  private readonly files = new Map<Worker, string>();
  private readonly reported = new WeakSet<Worker>();
  private readonly timer: NodeJS.Timeout;
  private checking = false;
  private sequence = 0;

  constructor(
    private readonly timeoutMs: number,
    private readonly onHung: (worker: Worker) => void,
  ) {
    this.directory = Watchdog.makeDirectory();
    this.timer = setInterval(() => void this.check(), Watchdog.checkIntervalMs(timeoutMs));
    this.timer.unref();
  }

  /** How often workers beat: several beats per timeout, at most one a second. */
  static beatIntervalMs(timeoutMs: number): number {
    return Math.max(50, Math.min(1000, Math.floor(timeoutMs / 4)));
  }

  /** How often the master looks: often enough to kill within the timeout plus a fraction of a second. */
  static checkIntervalMs(timeoutMs: number): number {
    return Math.max(50, Math.min(250, Math.floor(timeoutMs / 4)));
  }

  private static makeDirectory(): string | undefined {
    try {
      return mkdtempSync(join(tmpdir(), 'ocx-heartbeat-'));
    } catch (error) {
      warnOnce('watchdog-dir', `hung-worker check off: cannot create its directory in ${tmpdir()}: ${errorMessage(error)}`);
      return undefined;
    }
  }

  /**
   * A fresh heartbeat file for the next fork (its mtime is now: boot time
   * counts against the timeout, as in Gunicorn); undefined when it cannot be
   * made, and that worker is then not watched rather than not started.
   */
  prepare(): string | undefined {
    if (this.directory === undefined) return undefined;
    const file = join(this.directory, `worker-${++this.sequence}`);
    try {
      writeFileSync(file, '');
      return file;
    } catch (error) {
      warnOnce('watchdog-file', `a worker starts without the hung-worker check: ${errorMessage(error)}`);
      return undefined;
    }
  }

  /** Watch `worker`, which beats on `file`. */
  watch(worker: Worker, file: string): void {
    this.files.set(worker, file);
  }

  /** Stop watching a worker that exited, and remove its file. */
  forget(worker: Worker): void {
    const file = this.files.get(worker);
    this.files.delete(worker);
    if (file) rmSync(file, { force: true });
  }

  /** Stop checking and remove every heartbeat file. */
  close(): void {
    clearInterval(this.timer);
    this.files.clear();
    if (this.directory !== undefined) rmSync(this.directory, { recursive: true, force: true });
  }

  private async check(): Promise<void> {
    if (this.checking) return;
    this.checking = true;
    try {
      const now = Date.now();
      await Promise.all(
        [...this.files].map(async ([worker, file]) => {
          const { mtimeMs } = await stat(file).catch(() => ({ mtimeMs: now }));
          if (now - mtimeMs <= this.timeoutMs || this.reported.has(worker) || !this.files.has(worker)) return;
          this.reported.add(worker);
          this.onHung(worker);
        }),
      );
    } finally {
      this.checking = false;
    }
  }
}
