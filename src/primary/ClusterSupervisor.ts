import cluster from 'node:cluster';
import { syncBuiltinESMExports } from 'node:module';
import type { Worker } from 'node:cluster';
import { SlotAllocator } from './SlotAllocator';
import { classifyExit } from './classifyExit';
import type { ExitReason, RestartType } from './classifyExit';
import type { SupervisorReason } from '../supervisor/restartReasons';

import { SLOT_ENV } from './slotEnv';

export { SLOT_ENV };

/** Lifecycle of a worker as the primary sees it; the `state` label of `gunicorn_worker_state`. */
export const WORKER_STATES = ['starting', 'running', 'stopping'] as const;

/** One value of the `state` label. */
export type WorkerState = (typeof WORKER_STATES)[number];

/** A worker exit, classified and tied to its slot. */
export interface SlotExit {
  readonly slot: number;
  readonly pid: number | undefined;
  /** How it exited, or why the supervisor (`run`) ended it when it said so beforehand. */
  readonly reason: ExitReason | SupervisorReason;
  readonly restartType: RestartType;
}

/** Callbacks of {@link ClusterSupervisor}. */
export interface ClusterSupervisorEvents {
  /** Variables added to every fork's environment (the store directory). */
  readonly workerEnv: Readonly<Record<string, string>>;
  /**
   * Variables computed for one fork from the whole environment it will get
   * (the configuration checked for that worker); added last.
   */
  readonly forkEnv?: (env: NodeJS.ProcessEnv) => Readonly<Record<string, string>>;
  /** The first `cluster.fork()` happened: this process is a primary from now on. */
  onFirstFork(): void;
  onExit(exit: SlotExit): void;
}

const WORKER_SLOT = Symbol('otel-cluster-exporter.slot');
const EXIT_EXPLAINED = Symbol('otel-cluster-exporter.exit-reason');

type SlottedWorker = Worker & {
  [WORKER_SLOT]?: number;
  [EXIT_EXPLAINED]?: { readonly reason: SupervisorReason; readonly restartType: RestartType };
};

/**
 * Watches the cluster from the primary: gives every forked worker a stable
 * slot and reports exits.
 *
 * The slot reaches the worker as an environment variable added to the
 * `cluster.fork()` call, so the worker knows it before its first request and
 * no message is sent over the IPC channel the app (and connection handover)
 * uses. The wrapper only adds that variable; everything else is passed through.
 */
export class ClusterSupervisor {
  private readonly slots = new SlotAllocator();
  /** Live workers' states, by cluster worker id: events of one worker never touch another's state. */
  private readonly states = new Map<number, WorkerState>();
  /**
   * Live workers (cluster ids) holding each slot, oldest first. One, except
   * during a graceful handover (`run`), when the slot reports its newest
   * worker and falls back to the old one if the successor dies first.
   */
  private readonly holders = new Map<number, number[]>();
  private readonly events: ClusterSupervisorEvents;
  private originalFork: typeof cluster.fork | undefined;
  private forked = false;

  constructor(events: ClusterSupervisorEvents) {
    this.events = events;
  }

  /** Install the fork wrapper and the cluster listeners. Call before the app forks. */
  install(): void {
    if (this.originalFork) return;
    const originalFork = cluster.fork;
    this.originalFork = originalFork;
    const forkInto = (slot: number, env: NodeJS.ProcessEnv | undefined): Worker => this.forkInto(slot, env);
    const slots = this.slots;
    const wrapped = function fork(env?: NodeJS.ProcessEnv): Worker {
      return forkInto(slots.acquire(), env);
    };
    cluster.fork = wrapped as typeof cluster.fork;
    // ESM apps that `import { fork } from 'node:cluster'` see the wrapper too.
    syncBuiltinESMExports();
    cluster.on('fork', this.onFork);
    cluster.on('listening', this.onListening);
    cluster.on('disconnect', this.onDisconnect);
    cluster.on('exit', this.onExit);
  }

  /**
   * Fork a worker into `slot`, held or not: the supervisor's graceful handover
   * starts the successor in the slot of the worker it replaces, so the slot's
   * counters continue and worker_id stays bounded. Call after {@link install}.
   */
  forkInSlot(slot: number, env?: NodeJS.ProcessEnv): Worker {
    this.slots.hold(slot);
    return this.forkInto(slot, env);
  }

  /**
   * Say why the coming exit of `worker` happens, before causing it: its exit is
   * then counted with this reason instead of how it died (a worker retired for
   * max_requests may still end by SIGKILL after the graceful timeout).
   */
  explainExit(worker: Worker, reason: SupervisorReason, restartType: RestartType): void {
    const slotted = worker as SlottedWorker;
    slotted[EXIT_EXPLAINED] ??= { reason, restartType };
  }

  private forkInto(slot: number, env: NodeJS.ProcessEnv | undefined): Worker {
    const originalFork = this.originalFork ?? cluster.fork;
    // The app's own env wins over ours, except for the slot, which must be ours.
    const own = { ...this.events.workerEnv, ...env, [SLOT_ENV]: String(slot) };
    // cluster.fork gives the worker process.env under the variables passed.
    const computed = this.events.forkEnv?.({ ...process.env, ...own }) ?? {};
    const worker = originalFork.call(cluster, { ...own, ...computed }) as SlottedWorker;
    worker[WORKER_SLOT] = slot;
    return worker;
  }

  /** Restore `cluster.fork` and remove the listeners. */
  uninstall(): void {
    if (!this.originalFork) return;
    cluster.fork = this.originalFork;
    syncBuiltinESMExports();
    this.originalFork = undefined;
    cluster.off('fork', this.onFork);
    cluster.off('listening', this.onListening);
    cluster.off('disconnect', this.onDisconnect);
    cluster.off('exit', this.onExit);
  }

  /** Whether the app has forked at least one worker. */
  hasForked(): boolean {
    return this.forked;
  }

  /** Live workers' states by slot (the newest worker of each slot). */
  workerStates(): ReadonlyMap<number, WorkerState> {
    const bySlot = new Map<number, WorkerState>();
    for (const [slot, ids] of this.holders) {
      const state = this.states.get(ids[ids.length - 1] ?? -1);
      if (state !== undefined) bySlot.set(slot, state);
    }
    return bySlot;
  }

  private readonly onFork = (worker: SlottedWorker): void => {
    const slot = worker[WORKER_SLOT];
    if (slot === undefined) return;
    this.holders.set(slot, [...(this.holders.get(slot) ?? []), worker.id]);
    this.states.set(worker.id, 'starting');
    if (!this.forked) {
      this.forked = true;
      this.events.onFirstFork();
    }
  };

  private readonly onListening = (worker: SlottedWorker): void => {
    if (this.states.has(worker.id)) this.states.set(worker.id, 'running');
  };

  private readonly onDisconnect = (worker: SlottedWorker): void => {
    if (this.states.has(worker.id)) this.states.set(worker.id, 'stopping');
  };

  private readonly onExit = (worker: SlottedWorker, code: number | null, signal: string | null): void => {
    const slot = worker[WORKER_SLOT];
    if (slot === undefined) return;
    // Free the slot first: apps commonly fork the replacement from their own 'exit' listener.
    this.states.delete(worker.id);
    const rest = (this.holders.get(slot) ?? []).filter((id) => id !== worker.id);
    if (rest.length > 0) this.holders.set(slot, rest);
    else this.holders.delete(slot);
    this.slots.release(slot);
    const { reason, restartType } = worker[EXIT_EXPLAINED] ?? classifyExit({ code, signal, exitedAfterDisconnect: worker.exitedAfterDisconnect });
    this.events.onExit({ slot, pid: worker.process.pid, reason, restartType });
  };
}
