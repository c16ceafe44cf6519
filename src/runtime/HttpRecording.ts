import type { Server } from 'node:http';
import type { Meter } from '@opentelemetry/api';
import type { ExporterConfig } from '../config/Config';
import { HttpInstrumentation, ERROR_HANDLER_ERROR } from '../worker/HttpInstrumentation';
import { HttpMetricProducer } from '../worker/HttpMetricProducer';
import { registerProcessMetrics } from '../worker/ProcessMetrics';
import type { ProcessMetricsHandle } from '../worker/ProcessMetrics';
import { RequestAccumulator } from '../worker/RequestAccumulator';
import { RouteNormaliser } from '../worker/RouteNormaliser';

/**
 * The worker's recording, assembled from configuration: HTTP traffic from
 * diagnostics_channel into the accumulator, handed to the reader as a
 * MetricProducer, and the process gauges on the process's Meter.
 */
export class HttpRecording {
  readonly producer: HttpMetricProducer;
  private readonly instrumentation: HttpInstrumentation;
  private processMetrics: ProcessMetricsHandle | undefined;

  constructor(config: ExporterConfig) {
    const accumulator = new RequestAccumulator({
      durationBuckets: config.metrics.durationBuckets,
      sizeBuckets: config.metrics.sizeBuckets,
    });
    this.instrumentation = new HttpInstrumentation({
      accumulator,
      normaliser: new RouteNormaliser({ maxEndpoints: config.metrics.maxEndpoints }),
    });
    this.producer = new HttpMetricProducer(this.instrumentation);
  }

  /** Start recording requests, and process stats on `meter`. */
  enable(meter: Meter): void {
    this.instrumentation.enable();
    this.processMetrics = registerProcessMetrics(meter);
  }

  /** Stop recording. */
  disable(): void {
    this.instrumentation.disable();
    this.stopProcessMetrics();
  }

  /** Stop the process gauges only (a process that became a cluster primary). */
  stopProcessMetrics(): void {
    this.processMetrics?.stop();
    this.processMetrics = undefined;
  }

  /** Never count this server's requests (the exporter's own endpoint). */
  ignoreServer(server: Server): void {
    this.instrumentation.ignoreServer(server);
  }

  /** The process is dying of an uncaught exception: its requests in flight failed. */
  failInFlight(): void {
    this.instrumentation.failInFlight(ERROR_HANDLER_ERROR);
  }
}
