import type { Worker } from 'node:cluster';
import type { ClusterSupervisor } from '../primary/ClusterSupervisor';
import { info } from '../self/Logger';
import { Backoff } from './Backoff';
import { isRetireRequest, SUPERVISED_ENV } from './protocol';
import type { WorkerSettings } from './protocol';
import { restartTypeOf } from './restartReasons';
import type { SupervisorReason } from './restartReasons';
import { maxRequestsFor } from './SupervisorSettings';
import type { SupervisorSettings } from './SupervisorSettings';
import { Watchdog } from './Watchdog';

/** An app that never listens counts as started after this long alive (for handovers and the boot check). */
export const READY_AFTER_MS = 5000;
/** A retired worker whose servers have drained but whose process lingers (other handles) gets SIGTERM after this. */
const LINGER_MS = 1000;

/** Reasons for which a worker is handed over: its successor listens before it is retired. */
type HandoverReason = Extract<SupervisorReason, 'hup' | 'max_requests' | 'memory'>;
/** Reasons of a whole-pool stop. */
export type StopReason = Extract<SupervisorReason, 'int' | 'term' | 'quit'>;

/** What the pool tells its master. */
export interface WorkerPoolEvents {
  /** A worker died before any worker of the app ever started: the app cannot start. */
  onBootFailure(detail: string): void;
}

/** Per-worker bookkeeping. */
interface Life {
  readonly slot: number;
  readonly startedAt: number;
  ready: boolean;
  exited: boolean;
  /** Killed by the watchdog. */
  hung: boolean;
  readonly readyWaiters: ((ready: boolean) => void)[];
  readonly timers: NodeJS.Timeout[];
}

/**
 * The workers of `otel-cluster-exporter run`, slot by slot: the desired count,
 * who serves each slot, graceful handovers (the successor forked into the same
 * slot listens before the old worker is retired, so no request fails and
 * worker_id stays bounded), retirement within the graceful timeout, and
 * replacement of dead workers with back-off.
 *
 * Forks go through {@link ClusterSupervisor.forkInSlot}, so `run` has the
 * slots, store and metrics of the preload; every exit the pool causes is
 * explained to the supervisor first, so it is counted with its reason.
 * Operations that replace or remove workers (HUP, TTOU, retire requests) run
 * one at a time; a dead worker's replacement does not wait for them.
 */
export class WorkerPool {
  /** Workers the pool aims for: --workers, changed by TTIN/TTOU. */
  private desiredCount: number;
  /** The worker serving each slot. */
  private readonly serving = new Map<number, Worker>();
  /** Successors being started by a handover, by slot. */
  private readonly incoming = new Map<number, Worker>();
  /** Replacements waiting out their back-off, by slot. */
  private readonly pending = new Map<number, NodeJS.Timeout>();
  private readonly retiring = new Set<Worker>();
  private readonly lives = new Map<Worker, Life>();
  private readonly backoff = new Backoff();
  private readonly watchdog: Watchdog | undefined;
  private queue: Promise<void> = Promise.resolve();
  private reloadQueued = false;
  private everReady = false;
  private stopping = false;
  private allExited: (() => void) | undefined;
  private readonly stopped = new Promise<void>((resolve) => {
    this.allExited = resolve;
  });

  constructor(
    private readonly supervisor: ClusterSupervisor,
    private readonly settings: SupervisorSettings,
    private readonly events: WorkerPoolEvents,
  ) {
    this.desiredCount = settings.workers;
    this.watchdog = settings.timeoutS > 0 ? new Watchdog(settings.timeoutS * 1000, (worker) => this.killHung(worker)) : undefined;
  }

  /** The count the pool aims for (`gunicorn_workers_desired`). */
  get desired(): number {
    return this.desiredCount;
  }

  /** Live worker processes, retiring ones included. */
  get live(): number {
    return this.lives.size;
  }

  /** Fork the first workers, slots 0..N-1. */
  start(): void {
    for (let slot = 0; slot < this.desiredCount; slot++) this.serving.set(slot, this.spawn(slot));
  }

  /** HUP: replace every worker, one slot at a time; a second HUP while one waits is folded into it. */
  reload(): void {
    if (this.reloadQueued) return;
    this.reloadQueued = true;
    this.enqueue(async () => {
      this.reloadQueued = false;
      const slots = [...this.serving.keys()].sort((a, b) => a - b);
      info(`HUP: rolling reload of ${slots.length} worker(s)`);
      for (const slot of slots) {
        if (!(await this.handover(slot, 'hup'))) {
          info(`HUP: reload stopped at worker ${slot}; the workers not yet replaced keep serving`);
          return;
        }
      }
      info('HUP: reload complete');
    });
  }

  /** TTIN: one worker more, in the lowest free slot. */
  increase(): void {
    this.enqueue(async () => {
      this.desiredCount++;
      let slot = 0;
      while (this.serving.has(slot) || this.pending.has(slot) || this.incoming.has(slot)) slot++;
      info(`TTIN: adding worker ${slot} (${this.desiredCount} desired)`);
      this.serving.set(slot, this.spawn(slot));
    });
  }

  /** TTOU: one worker fewer (the highest slot), never below one. */
  decrease(): void {
    this.enqueue(async () => {
      if (this.desiredCount <= 1) {
        info('TTOU ignored: one worker is the minimum');
        return;
      }
      this.desiredCount--;
      const slot = Math.max(...this.serving.keys(), ...this.pending.keys());
      info(`TTOU: retiring worker ${slot} (${this.desiredCount} desired)`);
      this.cancelPending(slot);
      this.backoff.forget(slot);
      const worker = this.serving.get(slot);
      this.serving.delete(slot);
      if (worker) this.retire(worker, 'ttou');
    });
  }

  /**
   * Stop every worker: gracefully (they stop accepting, finish in-flight
   * requests within the graceful timeout, then SIGKILL) or, for `quit`, at
   * once. Resolves when every worker has exited; a second call (a QUIT
   * after a TERM) escalates and returns the same promise.
   */
  stop(reason: StopReason): Promise<void> {
    this.stopping = true;
    for (const slot of [...this.pending.keys()]) this.cancelPending(slot);
    for (const [worker, life] of this.lives) {
      if (life.exited) continue;
      if (reason === 'quit') {
        this.supervisor.explainExit(worker, reason, restartTypeOf(reason));
        worker.process.kill('SIGKILL');
      } else if (!this.retiring.has(worker)) {
        this.retire(worker, reason);
      }
    }
    if (this.lives.size === 0) this.allExited?.();
    return this.stopped;
  }

  /** Stop the watchdog (after {@link stop}). */
  close(): void {
    this.watchdog?.close();
  }

  private enqueue(task: () => Promise<void>): void {
    this.queue = this.queue.then(() => (this.stopping ? undefined : task())).catch((error: unknown) => info(`supervisor task failed: ${String(error)}`));
  }

  /** Fork a worker into `slot` with its per-worker settings and watch it. */
  private spawn(slot: number): Worker {
    const heartbeatFile = this.watchdog?.prepare();
    const { maxRequests, maxRequestsJitter } = this.settings;
    const workerSettings: WorkerSettings = {
      ...(heartbeatFile ? { heartbeatFile, heartbeatMs: Watchdog.beatIntervalMs(this.settings.timeoutS * 1000) } : {}),
      maxRequests: maxRequestsFor(maxRequests, maxRequestsJitter),
      maxMemoryBytes: this.settings.maxMemoryMb * 1024 * 1024,
      keepAliveMs: this.settings.keepaliveS * 1000,
    };
    const worker = this.supervisor.forkInSlot(slot, { [SUPERVISED_ENV]: JSON.stringify(workerSettings) });
    const life: Life = { slot, startedAt: Date.now(), ready: false, exited: false, hung: false, readyWaiters: [], timers: [] };
    this.lives.set(worker, life);
    if (heartbeatFile) this.watchdog?.watch(worker, heartbeatFile);
    worker.once('listening', () => this.markReady(worker));
    life.timers.push(setTimeout(() => this.markReady(worker), READY_AFTER_MS));
    worker.on('message', (message: unknown) => {
      if (isRetireRequest(message)) this.onRetireRequest(worker, message.reason);
    });
    worker.once('disconnect', () => this.onDisconnect(worker));
    worker.once('exit', (code: number | null, signal: string | null) => this.onExit(worker, code, signal));
    // An 'error' (IPC write to a dying worker) must not crash the master.
    worker.on('error', () => undefined);
    return worker;
  }

  private markReady(worker: Worker): void {
    const life = this.lives.get(worker);
    if (!life || life.ready || life.exited) return;
    life.ready = true;
    this.everReady = true;
    for (const waiter of life.readyWaiters.splice(0)) waiter(true);
  }

  /** True once `worker` listens (or has lived {@link READY_AFTER_MS}); false if it exits first. */
  private whenReady(worker: Worker): Promise<boolean> {
    const life = this.lives.get(worker);
    if (!life || life.exited) return Promise.resolve(false);
    if (life.ready) return Promise.resolve(true);
    return new Promise((resolve) => life.readyWaiters.push(resolve));
  }

  /**
   * Replace the worker of `slot`: fork the successor into the same slot, wait
   * until it listens, then retire the old one. If the successor dies first,
   * the old worker keeps serving and the result is false.
   */
  private async handover(slot: number, reason: HandoverReason): Promise<boolean> {
    const old = this.serving.get(slot);
    if (!old || this.stopping) return true;
    const successor = this.spawn(slot);
    this.incoming.set(slot, successor);
    const ready = await this.whenReady(successor);
    this.incoming.delete(slot);
    if (!ready) {
      if (this.stopping) return false;
      info(`${reason}: the new worker ${slot} exited before it listened; pid ${old.process.pid ?? '?'} keeps serving`);
      // The old worker may have died meanwhile: then the slot needs a plain replacement.
      if (!this.serving.has(slot)) this.replaceLater(slot, 0);
      return false;
    }
    // A stop meanwhile retires every worker, the successor included.
    if (this.stopping) return true;
    const current = this.serving.get(slot);
    this.serving.set(slot, successor);
    if (current === old) this.retire(old, reason);
    return true;
  }

  /**
   * Retire a worker gracefully: it stops accepting (the master hands it no
   * more connections), drains, and exits; SIGTERM if it lingers after its
   * servers closed, SIGKILL at the graceful timeout.
   */
  private retire(worker: Worker, reason: SupervisorReason): void {
    const life = this.lives.get(worker);
    if (!life || life.exited || this.retiring.has(worker)) return;
    this.retiring.add(worker);
    this.supervisor.explainExit(worker, reason, restartTypeOf(reason));
    life.timers.push(setTimeout(() => worker.process.kill('SIGKILL'), this.settings.gracefulTimeoutS * 1000));
    if (worker.isConnected()) worker.disconnect();
    else worker.process.kill('SIGTERM');
  }

  private onDisconnect(worker: Worker): void {
    const life = this.lives.get(worker);
    if (!life || life.exited || !this.retiring.has(worker)) return;
    // Servers drained and the IPC channel closed; a timer or a database pool may still hold the process.
    life.timers.push(setTimeout(() => worker.process.kill('SIGTERM'), LINGER_MS));
  }

  private onRetireRequest(worker: Worker, reason: Extract<HandoverReason, 'max_requests' | 'memory'>): void {
    const life = this.lives.get(worker);
    if (!life || this.retiring.has(worker)) return;
    this.enqueue(async () => {
      if (this.serving.get(life.slot) !== worker || this.retiring.has(worker)) return;
      if (await this.handover(life.slot, reason)) return;
      // The successor died before it listened: the worker asked once, so the master asks again, backing off.
      const retry = setTimeout(() => this.onRetireRequest(worker, reason), this.backoff.delayAfter(life.slot, 0));
      life.timers.push(retry);
    });
  }

  private killHung(worker: Worker): void {
    const life = this.lives.get(worker);
    if (!life || life.exited) return;
    info(`worker ${life.slot} (pid ${worker.process.pid ?? '?'}) missed its heartbeat for ${this.settings.timeoutS} s: SIGKILL`);
    this.supervisor.explainExit(worker, 'timeout', restartTypeOf('timeout'));
    life.hung = true;
    worker.process.kill('SIGKILL');
  }

  private onExit(worker: Worker, code: number | null, signal: string | null): void {
    const life = this.lives.get(worker);
    if (!life) return;
    life.exited = true;
    for (const timer of life.timers) clearTimeout(timer);
    for (const waiter of life.readyWaiters.splice(0)) waiter(false);
    this.lives.delete(worker);
    this.watchdog?.forget(worker);
    const wasRetiring = this.retiring.delete(worker);
    const wasServing = this.serving.get(life.slot) === worker;
    if (wasServing) this.serving.delete(life.slot);

    if (this.stopping) {
      if (this.lives.size === 0) this.allExited?.();
      return;
    }
    if (!this.everReady) {
      const how = life.hung
        ? `was killed after no heartbeat for ${this.settings.timeoutS} s (a slow start counts against --timeout)`
        : `exited with ${signal ?? `code ${code ?? '?'}`}`;
      this.events.onBootFailure(`worker ${life.slot} (pid ${worker.process.pid ?? '?'}) ${how} before the app started listening`);
      return;
    }
    if (wasRetiring || !wasServing || life.slot >= this.desiredCount || this.incoming.has(life.slot)) return;
    const delay = this.backoff.delayAfter(life.slot, Date.now() - life.startedAt);
    if (delay > 0) info(`worker ${life.slot} died ${Date.now() - life.startedAt} ms after it started (${signal ?? `code ${code ?? '?'}`}): restarting in ${delay} ms`);
    this.replaceLater(life.slot, delay);
  }

  /** Fork a plain replacement (nothing to hand over from) after `delayMs`. */
  private replaceLater(slot: number, delayMs: number): void {
    if (this.pending.has(slot)) return;
    const start = (): void => {
      this.pending.delete(slot);
      if (this.stopping || this.serving.has(slot) || slot >= this.desiredCount) return;
      this.serving.set(slot, this.spawn(slot));
    };
    if (delayMs === 0) {
      start();
      return;
    }
    this.pending.set(slot, setTimeout(start, delayMs));
  }

  private cancelPending(slot: number): void {
    const timer = this.pending.get(slot);
    if (timer) clearTimeout(timer);
    this.pending.delete(slot);
  }
}
