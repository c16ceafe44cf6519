import cluster from 'node:cluster';
import { rmSync } from 'node:fs';
import { onExit } from 'signal-exit';
import { rm } from 'node:fs/promises';
import { resourceFromAttributes } from '@opentelemetry/resources';
import type { Resource } from '@opentelemetry/resources';
import type { ExporterConfig } from '../config/Config';
import type { ClusterSupervisor } from '../primary/ClusterSupervisor';
import type * as ClusterSupervisorModule from '../primary/ClusterSupervisor';
import { SLOT_ENV } from '../primary/slotEnv';
import type { PrimaryMetrics } from '../primary/PrimaryMetrics';
import type * as PrimaryMetricsModule from '../primary/PrimaryMetrics';
import { SCOPE_NAME } from '../catalogue/MetricCatalogue';
import type { SnapshotStore } from '../store/SnapshotStore';
import { SelfMetrics } from '../self/SelfMetrics';
import { warnOnce } from '../self/Logger';
import { errorMessage } from '../self/errorMessage';
import type { ExpositionThread } from './ExpositionThread';
import type * as ExpositionThreadModule from './ExpositionThread';
import { InstrumentedProcess } from './InstrumentedProcess';
import { SUPERVISED_ENV } from '../supervisor/protocol';
import type * as WorkerAgentModule from '../supervisor/WorkerAgent';
import type * as ConfigHandoffForModule from '../config/configHandoffFor';
import type { WorkerAgent } from '../supervisor/WorkerAgent';
import { openStore, resolveStoreDirectory, STORE_DIR_ENV } from './storeFactory';
import type * as StartupCleanupModule from './startupCleanup';
import type { StoreDirectory } from './storeFactory';

/**
 * Set by a serving process for its children. A non-cluster child that
 * inherits it (a helper the app starts with child_process, which passes the
 * preload on in execArgv) stays out of the way: no endpoint on the same port,
 * no snapshot posing as worker 0.
 */
export const OWNER_ENV = 'OTEL_CLUSTER_EXPORTER_OWNER';

/** What kind of process this is, decided once at startup. */
export type ProcessRole =
  /** A worker forked by a primary that runs this package: knows its slot from the environment. */
  | 'cluster-worker'
  /** A cluster worker whose primary does not run this package (PM2 cluster mode): no endpoint. */
  | 'orphan-worker'
  /** Not a cluster worker: a single process, or a primary once it forks. Serves the merged view. */
  | 'main'
  /** A child process of an instrumented process, other than its cluster workers: does nothing. */
  | 'inactive';

/** Decide the role from the cluster module and the environment. */
export function detectRole(env: NodeJS.ProcessEnv = process.env): ProcessRole {
  if (cluster.isWorker && env[SLOT_ENV] !== undefined) return 'cluster-worker';
  if (env[OWNER_ENV] !== undefined) return 'inactive';
  if (cluster.isWorker) return 'orphan-worker';
  return env.NODE_APP_INSTANCE !== undefined ? 'orphan-worker' : 'main';
}

/** The slot of a worker: ours, else PM2's instance number, else Node's worker id. */
export function detectSlot(role: ProcessRole, env: NodeJS.ProcessEnv = process.env): number {
  const fromEnv = role === 'cluster-worker' ? env[SLOT_ENV] : env.NODE_APP_INSTANCE;
  const parsed = fromEnv === undefined ? NaN : Number.parseInt(fromEnv, 10);
  if (Number.isInteger(parsed) && parsed >= 0) return parsed;
  return cluster.worker ? cluster.worker.id - 1 : 0;
}

/** The OpenTelemetry resource of this service and instance. */
export function buildResource(config: ExporterConfig): Resource {
  return resourceFromAttributes({
    ...config.otel.resourceAttributes,
    'service.name': config.otel.serviceName,
    'service.instance.id': config.otel.instanceId,
  });
}

/** Options of {@link Runtime.start}. */
export interface RuntimeOptions {
  /** The worker count a supervisor aims for (`run`), reported as `gunicorn_workers_desired`. */
  readonly desiredWorkers?: () => number;
}

/** Start-up cleanup of store directories, loaded only where a directory is cleaned or made. */
function startupCleanup(): typeof StartupCleanupModule {
  return require('./startupCleanup') as typeof StartupCleanupModule;
}

/** Loaded only by a primary, which has the configuration's modules loaded already; workers never do. */
function configHandoffFor(forkEnv: NodeJS.ProcessEnv): Readonly<Record<string, string>> {
  const { configHandoffFor: handoff } = require('../config/configHandoffFor') as typeof ConfigHandoffForModule;
  return handoff(forkEnv);
}

/** Loaded only in supervised workers: other processes never load the supervisor's code. */
function startWorkerAgent(env: NodeJS.ProcessEnv): WorkerAgent | undefined {
  const { WorkerAgent: Agent } = require('../supervisor/WorkerAgent') as typeof WorkerAgentModule;
  return Agent.startFromEnv(env);
}

/**
 * Everything this package runs in one process, and its orderly shutdown.
 */
export class Runtime {
  private constructor(
    readonly role: ProcessRole,
    private readonly store: SnapshotStore,
    private readonly directory: StoreDirectory | undefined,
    readonly instrumented: InstrumentedProcess,
    private readonly exposition: ExpositionThread | undefined,
    /** The primary's cluster watch (slots, exits); `run`'s master forks through it. */
    readonly supervisor: ClusterSupervisor | undefined,
    /** The primary's restart and worker metrics. */
    readonly primaryMetrics: PrimaryMetrics | undefined,
    private readonly agent: WorkerAgent | undefined,
  ) {}

  /**
   * Start the package in this process according to its role (not for
   * `inactive` processes, which the caller leaves alone).
   */
  static start(config: ExporterConfig, env: NodeJS.ProcessEnv = process.env, options: RuntimeOptions = {}): Runtime {
    const role = detectRole(env);
    const selfMetrics = new SelfMetrics();
    const resource = buildResource(config);
    const directory = config.redis.enabled ? undefined : resolveStoreDirectory(config, role === 'main' ? 'primary' : 'worker');
    if (directory && role === 'main' && !directory.createdHere && config.cleanup.dbFiles) startupCleanup().cleanPreviousRun(directory.path);
    // A primary serves its own instance; `serve` is the one that reads wider scopes.
    const store = openStore(config, directory?.path ?? '', selfMetrics, 'instance', role !== 'cluster-worker');
    if (directory?.createdHere) {
      removeAtExit(directory.path);
      startupCleanup().sweepAbandonedDirectories();
    }
    const slot = role === 'main' ? 0 : detectSlot(role, env);
    const instrumented = InstrumentedProcess.start({ config, store, resource, selfMetrics, slot, recordHttp: true });
    if (role !== 'main') {
      // A worker of `otel-cluster-exporter run` also serves its master (heartbeat, limits, graceful drain).
      const agent = role === 'cluster-worker' && env[SUPERVISED_ENV] ? startWorkerAgent(env) : undefined;
      return new Runtime(role, store, directory, instrumented, undefined, undefined, undefined, agent);
    }

    process.env[OWNER_ENV] = String(process.pid);
    // What only a serving process runs, loaded here: a worker's heap never holds it.
    const { ClusterSupervisor } = require('../primary/ClusterSupervisor') as typeof ClusterSupervisorModule;
    const { PrimaryMetrics } = require('../primary/PrimaryMetrics') as typeof PrimaryMetricsModule;
    const { ExpositionThread } = require('./ExpositionThread') as typeof ExpositionThreadModule;
    const supervisor = new ClusterSupervisor({
      // Workers learn the private directory from their fork, not from an environment every child inherits.
      workerEnv: directory ? { [STORE_DIR_ENV]: directory.path } : {},
      // Workers take the configuration checked here and never load the schema (see config/configHandoff.ts).
      forkEnv: (forkEnv) => configHandoffFor(forkEnv),
      onFirstFork: () => void instrumented.becomePrimary(),
      onExit: (exit) => {
        primaryMetrics.recordExit(exit);
        // The primary sees every exit: fold the worker now (its gauges go, its counts stay), not a lease later.
        if (exit.pid !== undefined) retireExited(store, selfMetrics, exit.slot, exit.pid);
      },
    });
    const primaryMetrics = new PrimaryMetrics(instrumented.meterProvider.getMeter(SCOPE_NAME), {
      workerStates: () => (supervisor.hasForked() ? supervisor.workerStates() : SINGLE_PROCESS_STATES),
      ...(options.desiredWorkers ? { desiredWorkers: options.desiredWorkers } : {}),
    });
    instrumented.reader.addFreshMetrics(() => primaryMetrics.tableMetrics());
    supervisor.install();
    // The exposition runs on a thread of its own: nothing it does can delay the
    // app's requests or the connections the primary hands to its workers.
    const exposition = ExpositionThread.start({
      config,
      directory: directory?.path ?? '',
      labelInstance: config.redis.enabled,
      selfMetrics,
      localSnapshot: () => instrumented.reader.takeSnapshot(),
    });
    return new Runtime(role, store, directory, instrumented, exposition, supervisor, primaryMetrics, undefined);
  }

  /** Flush, stop serving, release the store; remove a private store directory. */
  async shutdown(): Promise<void> {
    this.agent?.stop();
    this.supervisor?.uninstall();
    await this.instrumented.shutdown();
    await this.exposition?.close();
    await this.store.close().catch(() => undefined);
    if (this.directory?.createdHere) {
      await rm(this.directory.path, { recursive: true, force: true }).catch((error: unknown) => {
        warnOnce('store-dir-remove', `could not remove ${this.directory?.path}: ${String(error)}`);
      });
    }
  }
}

/**
 * A private directory goes with the process that made it, however it exits:
 * `signal-exit` also runs this on a default-handled SIGTERM or SIGINT (and
 * re-raises the signal, so the exit looks exactly as it would have), but not
 * while an app's own signal handler decides what happens.
 *
 * Registered before the process's own last-snapshot hook, so it runs first:
 * a second signal arriving meanwhile (Ctrl-C to the group, then a supervisor's
 * SIGTERM) kills the process at once, and the removal must not be the part
 * that never ran. The primary's own last write into it is moot anyway.
 */
function removeAtExit(path: string): void {
  onExit(() => {
    try {
      // Workers stopped by the same Ctrl-C write their last snapshots meanwhile: retry a non-empty directory.
      rmSync(path, { recursive: true, force: true, maxRetries: 5, retryDelay: 10 });
    } catch {
      // Best effort: the OS temp cleaner gets what is left.
    }
  });
}

/** Fold an exited worker in the background; a failure is counted and left to the reaper. Never blocks the primary. */
function retireExited(store: SnapshotStore, selfMetrics: SelfMetrics, slot: number, pid: number): void {
  store.retireProcess(slot, pid).catch((error: unknown) => {
    selfMetrics.recordStoreError(store.kind, 'retire');
    warnOnce(`store-retire-${store.kind}`, `folding an exited worker failed (the reaper retries): ${errorMessage(error)}`);
  });
}

const SINGLE_PROCESS_STATES: ReadonlyMap<number, 'running'> = new Map([[0, 'running']]);
