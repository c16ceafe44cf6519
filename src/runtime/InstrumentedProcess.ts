import { onExit } from 'signal-exit';
import type { Resource } from '@opentelemetry/resources';
import { SCOPE_NAME } from '../catalogue/MetricCatalogue';
import type { ExporterConfig } from '../config/Config';
import { SnapshotReader } from '../reader/SnapshotReader';
import type { SnapshotIdentity, SnapshotRole } from '../snapshot/Snapshot';
import type { SnapshotStore } from '../store/SnapshotStore';
import type { SelfMetrics } from '../self/SelfMetrics';
import { HttpRecording } from './HttpRecording';
import { appMetricsProducer, hasAppReaders, registerGlobalMeterProvider } from '../coexistence/AppMeterProviders';
import { WatchedMeterProvider } from './WatchedMeterProvider';

/** Options of {@link InstrumentedProcess.start}. */
export interface InstrumentedProcessOptions {
  readonly config: ExporterConfig;
  readonly store: SnapshotStore;
  readonly resource: Resource;
  readonly selfMetrics: SelfMetrics;
  readonly slot: number;
  /** Record HTTP traffic and process stats (false for `serve`). */
  readonly recordHttp: boolean;
}

/**
 * One process's OpenTelemetry pipeline: a MeterProvider (made global, so the
 * app's own instruments join in) whose only reader is the {@link SnapshotReader}
 * that persists the process's snapshot, plus the HTTP and process recording.
 */
export class InstrumentedProcess {
  readonly meterProvider: WatchedMeterProvider;
  readonly reader: SnapshotReader;
  readonly http: HttpRecording | undefined;
  private role: SnapshotRole = 'worker';
  private slot: number;
  private readonly startTimeMs = Math.round(performance.timeOrigin);

  private constructor(private readonly options: InstrumentedProcessOptions) {
    this.slot = options.slot;
    this.http = options.recordHttp ? new HttpRecording(options.config, options.selfMetrics) : undefined;
    this.reader = new SnapshotReader({
      store: options.store,
      identity: () => this.identity(),
      intervalMs: options.config.metrics.flushIntervalMs,
      selfMetrics: options.selfMetrics,
      // The app's own MeterProviders join through the ClusterMetricReader it adds to them.
      metricProducers: this.http ? [this.http.producer, appMetricsProducer] : [appMetricsProducer],
      unchanged: () => this.unchangedSinceCollect(),
      standIn: (scope) => this.http?.standIn(scope),
    });
    this.meterProvider = new WatchedMeterProvider({ resource: options.resource, readers: [this.reader] });
  }

  /** Build the pipeline, make it the global MeterProvider and start flushing. */
  static start(options: InstrumentedProcessOptions): InstrumentedProcess {
    const instrumented = new InstrumentedProcess(options);
    // Global for apps that only use @opentelemetry/api; an app's own SDK takes the slot over (see AppMeterProviders).
    registerGlobalMeterProvider(instrumented.meterProvider);
    instrumented.http?.enable(instrumented.meterProvider.ownMeter(SCOPE_NAME));
    instrumented.reader.start();
    instrumented.installExitHooks();
    return instrumented;
  }

  /**
   * Whether no source of this process's metrics can have changed since the
   * last collection: no meter handed out but the GC histogram's (which
   * reports its recordings), no app reader, and the HTTP recording unchanged
   * with its gauges not due. An idle worker's flush then costs no SDK
   * collection; a full one still happens at least once per gauge interval.
   */
  private unchangedSinceCollect(): boolean {
    return !this.meterProvider.handedOutMeters && !hasAppReaders() && this.http?.unchangedSinceCollect() === true;
  }

  /** The identity the next snapshot is written under. */
  identity(): SnapshotIdentity {
    const { config } = this.options;
    return {
      service: config.otel.serviceName,
      instance: config.otel.instanceId,
      slot: this.slot,
      pid: process.pid,
      startTimeMs: this.startTimeMs,
      role: this.role,
    };
  }

  /**
   * A process that starts forking workers stops being worker 0 and becomes the
   * primary: its old worker snapshot goes, its process stats stop, and what it
   * writes from now on carries only primary series.
   */
  async becomePrimary(): Promise<void> {
    if (this.role === 'primary') return;
    const previous = this.identity();
    this.role = 'primary';
    this.slot = -1;
    this.http?.disable();
    // A flush already under way still writes the worker-0 file: let it land before removing it.
    await this.reader.flush();
    try {
      await this.options.store.remove(previous);
    } catch {
      this.options.selfMetrics.recordStoreError(this.options.store.kind, 'remove');
    }
  }

  /** Final flush and shutdown of the pipeline. */
  async shutdown(): Promise<void> {
    this.http?.disable();
    await this.meterProvider.shutdown().catch(() => undefined);
  }

  private installExitHooks(): void {
    // A handler that throws kills the process: count its in-flight requests as
    // failed and leave a last snapshot behind, synchronously (nothing async runs now).
    process.on('uncaughtExceptionMonitor', (error: unknown) => {
      // With an 'uncaughtException' handler the app lives on and its requests may still finish.
      if (process.listenerCount('uncaughtException') > 0) return;
      try {
        this.reader.writeLatestSync(this.http?.failInFlight(error));
      } catch {
        // The process is dying of the app's error; ours must not replace it.
      }
    });
    // On exit, and on a default-handled SIGTERM/SIGINT (signal-exit re-raises it afterwards):
    // what was recorded since the last flush is written before the process goes.
    // Its exit code or signal goes with it: a reader no primary tells can then say why the slot restarted.
    onExit((code, signal) => {
      try {
        this.reader.writeLatestSync(this.http?.seriesNow(), { code: code ?? null, signal });
      } catch {
        // Exiting anyway: the last periodic snapshot stands.
      }
    });
    // A cluster worker told to stop: persist before the event loop drains.
    process.once('disconnect', () => void this.reader.flush());
  }
}
