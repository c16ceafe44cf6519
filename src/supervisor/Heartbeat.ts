import { closeSync, futimesSync, openSync } from 'node:fs';
import { warnOnce } from '../self/Logger';
import { errorMessage } from '../self/errorMessage';

/**
 * Worker side of the hung-worker check: refreshes the mtime of a file the
 * master watches, from a timer on the worker's event loop. A loop that is
 * stuck (a busy loop, a synchronous call that never returns) stops the
 * beats, and the master's {@link Watchdog} kills the worker.
 *
 * Gunicorn's mechanism (its WorkerTmp). Nothing runs on the request path:
 * one `futimes` system call per interval from an unref'd timer, and no
 * message on the IPC channel that hands connections to workers.
 */
export class Heartbeat {
  private fd: number | undefined;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly file: string,
    private readonly intervalMs: number,
  ) {}

  start(): void {
    try {
      this.fd = openSync(this.file, 'r+');
    } catch (error) {
      warnOnce('heartbeat-open', `cannot open the heartbeat file ${this.file}: ${errorMessage(error)}`);
      return;
    }
    this.beat();
    this.timer = setInterval(() => this.beat(), this.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    if (this.fd !== undefined) {
      try {
        closeSync(this.fd);
      } catch {
        // Already closed: nothing to release.
      }
    }
    this.fd = undefined;
  }

  private beat(): void {
    if (this.fd === undefined) return;
    const now = Date.now() / 1000;
    try {
      futimesSync(this.fd, now, now);
    } catch (error) {
      warnOnce('heartbeat-beat', `heartbeat failed: ${errorMessage(error)}`);
    }
  }
}
