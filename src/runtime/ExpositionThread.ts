import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import type { ExporterConfig } from '../config/Config';
import type { Snapshot } from '../snapshot/Snapshot';
import type { SelfMetrics } from '../self/SelfMetrics';
import { errorMessage } from '../self/errorMessage';
import { recovered, warnOnce } from '../self/Logger';

/** Options of {@link ExpositionThread.start}. */
export interface ExpositionThreadOptions {
  readonly config: ExporterConfig;
  /** The file store's directory ('' with Redis). */
  readonly directory: string;
  readonly labelInstance: boolean;
  /** Where the thread's store, scrape and export outcomes are recorded (this thread's self-metrics). */
  readonly selfMetrics: SelfMetrics;
  /** This process's own fresh snapshot, asked for at every collection. */
  readonly localSnapshot: () => Promise<Snapshot | undefined>;
}

/** What the thread is started with (structured-cloned). */
export interface ExpositionThreadData {
  readonly config: ExporterConfig;
  readonly directory: string;
  readonly labelInstance: boolean;
}

/** SelfMetrics methods the thread may call on the process's self-metrics. */
export const FORWARDED_SELF_METRICS = ['recordStoreError', 'recordExportError', 'recordIdentityConflict', 'setStoreUp', 'setScrapeDuration'] as const;
export type ForwardedSelfMetric = (typeof FORWARDED_SELF_METRICS)[number];

/** Messages from the thread. */
export type ThreadMessage =
  | { readonly type: 'self'; readonly method: ForwardedSelfMetric; readonly args: readonly (string | number | boolean)[] }
  | { readonly type: 'snapshot-request'; readonly id: number };

/** Messages to the thread. */
export type ParentMessage = { readonly type: 'snapshot'; readonly id: number; readonly snapshot: Snapshot | undefined } | { readonly type: 'close' };

/** A thread that died unexpectedly is started again after this long. */
const RESTART_DELAY_MS = 5000;
/** How long close() waits for the thread's last push and store release before ending it. */
const CLOSE_TIMEOUT_MS = 10_000;
/**
 * The thread's young generation, MB. Left to V8, a thread that renders
 * megabytes per scrape grows it to its maximum, and from Node 22 on that is
 * 128 MB, which it keeps touched after the load is gone: measured on Node 24
 * with a 2.9 MB view scraped back to back, the primary's RSS rose by 130 MB
 * (new space 128 MB of the thread's heap) and never came back, with or
 * without an attack before. At 16 MB the same run stays within 15 MB of its
 * idle size; short-lived render garbage is still collected young (more
 * often), and the old generation is left unlimited, so a big view can never
 * make the thread run out of heap.
 */
const YOUNG_GENERATION_MB = 16;

/**
 * The merged view's exposition — store reads, merges, renders, the metrics
 * endpoint's sockets and the OTLP push — on a worker thread of its own, so
 * none of it runs on the event loop that serves the app (a single process) or
 * hands connections to the workers (a cluster primary). The thread runs the
 * same {@link Exposition} the `serve` command runs in-process; this side only
 * answers its requests for the process's own snapshot and records its
 * self-metrics. A thread that dies is logged once and started again.
 */
export class ExpositionThread {
  private worker: Worker | undefined;
  private restart: NodeJS.Timeout | undefined;
  private closing = false;

  private constructor(private readonly options: ExpositionThreadOptions) {}

  static start(options: ExpositionThreadOptions): ExpositionThread {
    const thread = new ExpositionThread(options);
    thread.spawn();
    return thread;
  }

  /** Stop serving: the thread closes its endpoint, pushes a last time and releases its store. */
  async close(): Promise<void> {
    this.closing = true;
    if (this.restart) clearTimeout(this.restart);
    const worker = this.worker;
    if (worker === undefined) return;
    // Kept alive while it finishes, even though it never holds the app open otherwise.
    worker.ref();
    const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
    worker.postMessage({ type: 'close' } satisfies ParentMessage);
    const timer = setTimeout(() => void worker.terminate(), CLOSE_TIMEOUT_MS);
    await exited;
    clearTimeout(timer);
  }

  private spawn(): void {
    const { config, directory, labelInstance } = this.options;
    const workerData: ExpositionThreadData = { config, directory, labelInstance };
    let worker: Worker;
    try {
      // No preloads in the thread: the app's --require/--import are for the app.
      worker = new Worker(join(__dirname, 'expositionThreadMain.js'), {
        workerData,
        execArgv: [],
        stdout: false,
        stderr: false,
        resourceLimits: { maxYoungGenerationSizeMb: YOUNG_GENERATION_MB },
      });
    } catch (error) {
      this.failed(error);
      return;
    }
    this.worker = worker;
    worker.on('message', (message: ThreadMessage) => this.onMessage(worker, message));
    worker.on('online', () => recovered('exposition-thread', 'the exposition thread runs again'));
    worker.on('error', (error) => this.failed(error));
    worker.on('exit', (code) => {
      if (this.worker === worker) this.worker = undefined;
      if (!this.closing) this.failed(new Error(`it exited with code ${code}`));
    });
    // After the listeners: adding a 'message' listener refs the thread again.
    // The app decides when the process exits, not its metrics.
    worker.unref();
  }

  private onMessage(worker: Worker, message: ThreadMessage): void {
    switch (message.type) {
      case 'self':
        if (FORWARDED_SELF_METRICS.includes(message.method)) {
          (this.options.selfMetrics[message.method] as (...args: readonly (string | number | boolean)[]) => void)(...message.args);
        }
        return;
      case 'snapshot-request':
        this.options.localSnapshot().then(
          (snapshot) => worker.postMessage({ type: 'snapshot', id: message.id, snapshot } satisfies ParentMessage),
          () => worker.postMessage({ type: 'snapshot', id: message.id, snapshot: undefined } satisfies ParentMessage),
        );
        return;
    }
  }

  private failed(error: unknown): void {
    if (this.closing) return;
    warnOnce('exposition-thread', `the exposition thread failed (metrics are not served until it restarts in ${RESTART_DELAY_MS / 1000} s): ${errorMessage(error)}`);
    if (this.restart || this.worker !== undefined) return;
    this.restart = setTimeout(() => {
      this.restart = undefined;
      if (!this.closing) this.spawn();
    }, RESTART_DELAY_MS);
    this.restart.unref();
  }
}
