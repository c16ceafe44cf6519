import cluster from 'node:cluster';
import { basename, join } from 'node:path';
import type { ExporterConfig } from '../config/Config';
import type { PrimaryMetrics } from '../primary/PrimaryMetrics';
import { Runtime } from '../runtime/Runtime';
import { info } from '../self/Logger';
import type { SupervisorSettings } from './SupervisorSettings';
import { WorkerPool } from './WorkerPool';
import type { StopReason } from './WorkerPool';

/** The preload every worker runs (this package's own). */
const REGISTER = join(__dirname, '..', 'register.js');

/** Exit status when the app cannot start at all. */
export const EXIT_APP_FAILED = 1;

/**
 * The master of `otel-cluster-exporter run`: a cluster primary for an app
 * that knows nothing about `cluster`. It runs the same {@link Runtime} as the
 * preload's primary (slots, store, /metrics endpoint, OTLP push), forks the
 * app as workers with the preload, and answers Gunicorn's master signals:
 *
 * - HUP: rolling reload, each new worker listening before its predecessor retires
 * - TTIN / TTOU: one worker more / fewer (never below one)
 * - TERM / INT: graceful stop within the graceful timeout, then exit 0; a second one stops at once
 * - QUIT: immediate stop (SIGKILL), exit 0
 * - USR1, USR2: counted and logged (nothing to reopen; re-exec is not supported)
 */
export class Master {
  private stopping: Promise<void> | undefined;

  private constructor(
    private readonly runtime: Runtime,
    private readonly metrics: PrimaryMetrics,
    private readonly pool: WorkerPool,
    private readonly settings: SupervisorSettings,
  ) {}

  /** Become the cluster primary of `settings.app` and fork its workers. */
  static start(config: ExporterConfig, settings: SupervisorSettings): Master {
    cluster.setupPrimary({
      exec: settings.app,
      args: [...settings.appArgs],
      execArgv: [...process.execArgv, ...settings.nodeArgs, '--require', REGISTER],
    });
    let pool: WorkerPool | undefined;
    const runtime = Runtime.start(config, process.env, { desiredWorkers: () => pool?.desired ?? settings.workers });
    const { supervisor, primaryMetrics } = runtime;
    if (!supervisor || !primaryMetrics) throw new Error('otel-cluster-exporter run must be the cluster primary (is it running under PM2 or as a cluster worker?)');
    let master: Master | undefined;
    pool = new WorkerPool(supervisor, settings, { onBootFailure: (detail) => master?.failBoot(detail) });
    master = new Master(runtime, primaryMetrics, pool, settings);
    master.installSignals();
    info(`run: master ${process.pid} starting ${settings.workers} worker(s) of ${basename(settings.app)}`);
    pool.start();
    return master;
  }

  private installSignals(): void {
    process.on('SIGHUP', () => this.pool.reload());
    process.on('SIGTTIN', () => {
      this.metrics.recordMasterSignal('ttin');
      this.pool.increase();
    });
    process.on('SIGTTOU', () => this.pool.decrease());
    process.on('SIGUSR1', () => {
      this.metrics.recordMasterSignal('usr1');
      info('USR1: nothing to reopen (the master logs to stdout/stderr)');
    });
    process.on('SIGUSR2', () => {
      this.metrics.recordMasterSignal('usr2');
      info('USR2: re-executing the master is not supported; use HUP for a rolling reload of the app');
    });
    process.on('SIGTERM', () => this.stop('term'));
    process.on('SIGINT', () => this.stop('int'));
    process.on('SIGQUIT', () => this.stop('quit'));
  }

  /** Stop every worker (gracefully unless `quit`), flush, and exit with `code`. A second stop request stops at once. */
  private stop(reason: StopReason, code = 0, why = ''): void {
    if (this.stopping) {
      info(`${reason.toUpperCase()} while stopping: killing the remaining workers`);
      void this.pool.stop('quit');
      return;
    }
    info(why || (reason === 'quit' ? 'QUIT: stopping now' : `${reason.toUpperCase()}: graceful stop (at most ${this.settings.gracefulTimeoutS} s)`));
    this.stopping = this.pool
      .stop(reason)
      .then(async () => {
        this.pool.close();
        await this.runtime.shutdown();
      })
      .catch((error: unknown) => info(`stop: ${String(error)}`))
      .finally(() => process.exit(code));
  }

  /** The app never started: stop now, and say why. */
  private failBoot(detail: string): void {
    if (this.stopping) return;
    this.stop('quit', EXIT_APP_FAILED, `the app could not start: ${detail}; see its output above. Stopping (exit ${EXIT_APP_FAILED}).`);
  }
}
