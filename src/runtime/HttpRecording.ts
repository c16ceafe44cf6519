import type { Server } from 'node:http';
import { performance } from 'node:perf_hooks';
import type { Meter } from '@opentelemetry/api';
import { emptyResource } from '@opentelemetry/resources';
import type { CollectionResult, MetricProducer, ScopeMetrics } from '@opentelemetry/sdk-metrics';
import type { ExporterConfig } from '../config/Config';
import type { SelfMetrics } from '../self/SelfMetrics';
import type { SnapshotMetric } from '../snapshot/Snapshot';
import { HttpInstrumentation, ERROR_HANDLER_ERROR } from '../worker/HttpInstrumentation';
import { HttpMetricProducer } from '../worker/HttpMetricProducer';
import { errorClassOf } from '../worker/requestError';
import { registerProcessMetrics } from '../worker/ProcessMetrics';
import { registerRuntimeMetrics } from '../worker/RuntimeMetrics';
import { EventLoopDelayMonitor } from '../worker/EventLoopDelayMonitor';
import { LoopMonitorPacer } from '../worker/LoopMonitorPacer';
import { GaugeProducer } from '../worker/GaugeProducer';
import { SCOPE_NAME } from '../catalogue/MetricCatalogue';
import type { ProcessMetricsHandle } from '../worker/ProcessMetrics';
import { RequestAccumulator } from '../worker/RequestAccumulator';
import { RouteNormaliser } from '../worker/RouteNormaliser';
import { PathExclusion } from '../worker/PathExclusion';
import { warnOnce } from '../self/Logger';

const EMPTY_RESOURCE = emptyResource();

/**
 * Where the HTTP series sit in the collection: the snapshot reader puts them
 * there straight from the accumulator (see {@link HttpRecording.standIn}).
 */
const HTTP_PLACEHOLDER: ScopeMetrics = { scope: { name: SCOPE_NAME }, metrics: [] };

/**
 * How often a recording process samples its process and runtime gauges, ms. Flushes in between carry the last sample, so a
 * worker that served no request writes nothing new and only renews its lease
 * (see GaugeProducer; measured by bench/worker-memory.js). Prometheus scrapes
 * every 15 s or more.
 */
export const GAUGE_SAMPLE_INTERVAL_MS = 5_000;

/**
 * The worker's recording, assembled from configuration: HTTP traffic from
 * diagnostics_channel into the accumulator, handed to the reader as a
 * MetricProducer, and the process gauges on the process's Meter.
 */
export class HttpRecording {
  /** What the reader collects: the HTTP series while recording, nothing once disabled. */
  readonly producer: MetricProducer;
  private readonly http: HttpMetricProducer;
  private readonly gauges = new GaugeProducer({ intervalMs: GAUGE_SAMPLE_INTERVAL_MS });
  private readonly instrumentation: HttpInstrumentation;
  private processMetrics: ProcessMetricsHandle | undefined;
  private runtimeMetrics: ProcessMetricsHandle | undefined;
  private readonly recordRuntime: boolean;
  private readonly accumulator: RequestAccumulator;
  private recording = false;
  /** GCs recorded into the process's histogram so far. */
  private events = 0;
  /** The event-loop monitor of both gauge families, paused while the worker is quiet. */
  private loopMonitor: EventLoopDelayMonitor | undefined;
  private loopPacer: LoopMonitorPacer | undefined;
  /** What the last collection showed; undefined when the next one must collect. */
  private collected: { readonly generation: number; readonly active: number; readonly events: number; readonly errors: number } | undefined;

  constructor(
    config: ExporterConfig,
    private readonly selfMetrics: SelfMetrics,
  ) {
    const accumulator = (this.accumulator = new RequestAccumulator({
      durationBuckets: config.metrics.durationBuckets,
      sizeBuckets: config.metrics.sizeBuckets,
      maxSeries: config.metrics.maxRequestSeries,
    }));
    this.instrumentation = new HttpInstrumentation({
      accumulator,
      normaliser: new RouteNormaliser({ maxEndpoints: config.metrics.maxEndpoints }),
      exclusion: new PathExclusion(config.metrics.excludePaths),
      methods: config.metrics.httpMethods,
    });
    this.http = new HttpMetricProducer(this.instrumentation);
    this.recordRuntime = config.metrics.runtime;
    this.producer = { collect: () => this.collect() };
  }

  /** Start recording requests, and process stats (the GC histogram, recorded as GCs happen, on `meter`). */
  enable(meter: Meter): void {
    this.recording = true;
    this.instrumentation.enable();
    const sampled = this.gauges.meter(SCOPE_NAME);
    // One event-loop monitor for both families: each is a timer waking the process up and a 360 KB histogram.
    const monitor = (this.loopMonitor = new EventLoopDelayMonitor());
    this.loopPacer = new LoopMonitorPacer(performance.now(), performance.eventLoopUtilization().active);
    const sampling = { monitor, eventMeter: meter, onEventRecorded: () => void this.events++ };
    this.processMetrics = registerProcessMetrics(sampled, sampling);
    if (this.recordRuntime) this.runtimeMetrics = registerRuntimeMetrics(sampled, sampling);
    this.gauges.invalidate();
    this.collected = undefined;
  }

  /**
   * Stop recording: HTTP series and process gauges. A process that becomes a
   * cluster primary does this, so its snapshot carries primary series only.
   */
  disable(): void {
    this.recording = false;
    this.instrumentation.disable();
    this.processMetrics?.stop();
    this.processMetrics = undefined;
    this.runtimeMetrics?.stop();
    this.runtimeMetrics = undefined;
    this.loopMonitor = undefined;
    this.loopPacer = undefined;
    this.gauges.invalidate();
    this.collected = undefined;
  }

  /**
   * Whether nothing this recording reports can have changed since its last
   * collection: no request recorded or settled, the same requests in
   * flight, no GC, no internal error, and the sampled gauges not due.
   */
  unchangedSinceCollect(): boolean {
    const last = this.collected;
    if (!this.recording || last === undefined || this.gauges.due()) return false;
    // Settles requests whose connection is gone, as a collection would first.
    this.instrumentation.sweep();
    this.paceLoopMonitor();
    return (
      last.generation === this.accumulator.generation &&
      last.active === this.instrumentation.activeRequests() &&
      last.events === this.events &&
      last.errors === this.instrumentation.internalErrors
    );
  }

  /** Pause the event-loop monitor while the worker is quiet, resume it once it is not (see LoopMonitorPacer); at every flush. */
  private paceLoopMonitor(): void {
    const monitor = this.loopMonitor;
    const pacer = this.loopPacer;
    if (monitor === undefined || pacer === undefined) return;
    const run = pacer.observe(performance.now(), {
      recorded: this.accumulator.generation,
      inFlight: this.instrumentation.activeRequests(),
      loopActiveMs: performance.eventLoopUtilization().active,
    });
    const changed = monitor.pause(!run);
    if (!changed || run) return;
    // Just paused: the next request resumes it before its handler runs, so that request's delays are sampled.
    this.instrumentation.onNextRequest(() => {
      pacer.wake(performance.now());
      monitor.pause(false);
    });
  }

  /** Never count this server's requests (the exporter's own endpoint). */
  ignoreServer(server: Server): void {
    this.instrumentation.ignoreServer(server);
  }

  private async collect(): Promise<CollectionResult> {
    this.selfMetrics.setInstrumentationErrors(this.instrumentation.internalErrors);
    if (!this.recording) return { resourceMetrics: { resource: EMPTY_RESOURCE, scopeMetrics: [] }, errors: [] };
    this.instrumentation.sweep();
    this.paceLoopMonitor();
    // Read before collecting: a change made while the collection awaits is seen by the next flush.
    const mark = {
      generation: this.accumulator.generation,
      active: this.instrumentation.activeRequests(),
      events: this.events,
      errors: this.instrumentation.internalErrors,
    };
    const gauges = await this.gauges.collect();
    // A failed part is collected again next time.
    this.collected = gauges.errors.length === 0 ? mark : undefined;
    return {
      resourceMetrics: { resource: EMPTY_RESOURCE, scopeMetrics: [HTTP_PLACEHOLDER, ...gauges.resourceMetrics.scopeMetrics] },
      errors: gauges.errors,
    };
  }

  /**
   * The snapshot reader's stand-in for the HTTP placeholder: the HTTP series
   * as snapshot metrics, the same objects while nothing changed. A failure
   * leaves them out of this flush (logged once), as a failed producer did.
   */
  standIn(scope: ScopeMetrics): readonly SnapshotMetric[] | undefined {
    if (scope !== HTTP_PLACEHOLDER) return undefined;
    try {
      return this.http.snapshotMetrics();
    } catch (error) {
      // Not reused: the next flush collects again.
      this.collected = undefined;
      warnOnce('worker.http-snapshot', `HTTP metrics could not be collected: ${String(error)}`);
      return [];
    }
  }

  /**
   * The process is dying of an uncaught exception: its requests in flight
   * failed. Returns the HTTP series as they stand now, synchronously, for the
   * last snapshot the process leaves behind.
   */
  failInFlight(error?: unknown): SnapshotMetric[] {
    if (!this.recording) return [];
    // Every request in flight died of this exception: its class names them, `handler_error` when it has none.
    this.instrumentation.failInFlight(errorClassOf(error) ?? ERROR_HANDLER_ERROR);
    return this.seriesNow();
  }

  /** The HTTP series as they stand now, synchronously (a process exiting). */
  seriesNow(): SnapshotMetric[] {
    return this.recording ? this.http.snapshotMetrics() : [];
  }
}
