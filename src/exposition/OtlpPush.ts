import type { Resource } from '@opentelemetry/resources';
import { ConsoleMetricExporter, MeterProvider, PeriodicExportingMetricReader, type MetricProducer } from '@opentelemetry/sdk-metrics';
import type { MetricsExporterName, OtlpConfig } from '../config/Config';
import type { SelfMetrics } from '../self/SelfMetrics';
import { withTimeout } from '../self/withTimeout';
import { ExportGuard } from './otlp/ExportGuard';
import { FanOutExporter } from './otlp/FanOutExporter';
import { GatedProducer } from './otlp/GatedProducer';
import { createOtlpExporter, describeOtlpTarget } from './otlp/createOtlpExporter';

/** The push destinations this module serves (`prometheus` is pull, `none` is nothing). */
export type PushExporterName = Extract<MetricsExporterName, 'otlp' | 'console'>;

/** Default cap on the pause between attempts while a collector keeps failing. */
export const DEFAULT_MAX_BACKOFF_MS = 300_000;

/** What {@link startOtlpPush} needs. */
export interface OtlpPushOptions {
  /** The OTLP destination: endpoint, protocol, headers, compression, temporality. */
  readonly otlp: OtlpConfig;
  /** Push interval (`OTEL_METRIC_EXPORT_INTERVAL`), ms. */
  readonly intervalMs: number;
  /** Whole-export limit (`OTEL_METRIC_EXPORT_TIMEOUT`), ms; clamped to the interval. */
  readonly timeoutMs: number;
  /** Resource every batch carries (service.name, service.instance.id, ...). */
  readonly resource: Resource;
  /** The merged view; collected once per interval, only when something would be sent. */
  readonly producer: MetricProducer;
  /** Where failed exports are counted. */
  readonly selfMetrics: SelfMetrics;
  /**
   * `OTEL_METRICS_EXPORTER` as parsed; the push serves its `otlp` and `console`
   * entries (`console` prints each batch to stdout) and ignores the others.
   * Default `['otlp']`.
   */
  readonly exporters?: readonly MetricsExporterName[];
  /** Longest pause between attempts while failures go on; default {@link DEFAULT_MAX_BACKOFF_MS}. */
  readonly maxBackoffMs?: number;
}

/** A running push of the merged view. Neither method rejects. */
export interface OtlpPush {
  /** Collect and send now, ignoring any backoff; resolves when done or timed out. */
  forceFlush(): Promise<void>;
  /** Send a last batch (bounded by the timeout), stop the timer and close connections. */
  shutdown(): Promise<void>;
}

/**
 * Push the merged view to an OpenTelemetry Collector (and/or the console) once
 * per interval, as one stream for the whole service.
 *
 * Built from the SDK's own parts: a PeriodicExportingMetricReader, bound to an
 * otherwise empty MeterProvider whose only data is `producer`, hands each batch
 * to the official OTLP exporter for the configured protocol. Exactly the merged
 * series go out, named as their instruments are (no `_total`), with the units,
 * descriptions and attributes the data carries and the given resource.
 * Cumulative data passes through with its start times; `temporality: 'delta'`
 * converts monotonic sums and histograms per series.
 *
 * Each destination is wrapped in an {@link ExportGuard}, so a collector that is
 * down, slow or refusing never reaches the application: one export in flight,
 * every export bounded by the timeout, failures counted and logged once per
 * outage, exponential backoff between attempts.
 *
 * @throws Error naming the option when an interval, timeout or endpoint is invalid (at startup only).
 */
export function startOtlpPush(options: OtlpPushOptions): OtlpPush {
  const { intervalMs, deadlineMs, maxBackoffMs } = validate(options);
  const guards = pushDestinations(options.exporters).map((name) => createGuard(name, options, intervalMs, deadlineMs, maxBackoffMs));
  const fanOut = new FanOutExporter(guards);
  const reader = new PeriodicExportingMetricReader({
    exporter: fanOut,
    exportIntervalMillis: intervalMs,
    exportTimeoutMillis: deadlineMs,
    metricProducers: [new GatedProducer(options.producer, () => fanOut.ready(), deadlineMs)],
  });
  const provider = new MeterProvider({ resource: options.resource, readers: [reader] });
  let stopped: Promise<void> | undefined;
  return {
    forceFlush: () => fanOut.forcingBackoff(() => settle(reader.forceFlush(), deadlineMs * 2)),
    shutdown: () => {
      // Shutdown flushes once more; bounded so a dead collector cannot hold up exit.
      stopped ??= fanOut.forcingBackoff(() => settle(provider.shutdown(), deadlineMs * 2 + 100));
      return stopped;
    },
  };
}

/** The push destinations among the configured exporters, each once, in order. */
function pushDestinations(exporters: readonly MetricsExporterName[] = ['otlp']): PushExporterName[] {
  const pushed = exporters.filter((name): name is PushExporterName => name === 'otlp' || name === 'console');
  return [...new Set(pushed)];
}

function createGuard(name: PushExporterName, options: OtlpPushOptions, intervalMs: number, deadlineMs: number, maxBackoffMs: number): ExportGuard {
  const common = { intervalMs, deadlineMs, maxBackoffMs, selfMetrics: options.selfMetrics, delta: options.otlp.temporality === 'delta' };
  if (name === 'console') {
    return new ExportGuard({ ...common, name, target: 'stdout', exporter: new ConsoleMetricExporter() });
  }
  const requestTimeoutMs = Math.min(options.otlp.timeoutMs > 0 ? options.otlp.timeoutMs : deadlineMs, deadlineMs);
  return new ExportGuard({ ...common, name, target: describeOtlpTarget(options.otlp), exporter: createOtlpExporter(options.otlp, requestTimeoutMs) });
}

function validate(options: OtlpPushOptions): { intervalMs: number; deadlineMs: number; maxBackoffMs: number } {
  const { intervalMs, timeoutMs } = options;
  if (!Number.isFinite(intervalMs) || intervalMs <= 0) {
    throw new Error(`OTLP push: export interval must be a positive number of milliseconds, got ${String(intervalMs)}`);
  }
  if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) {
    throw new Error(`OTLP push: export timeout must be a positive number of milliseconds, got ${String(timeoutMs)}`);
  }
  const maxBackoffMs = options.maxBackoffMs ?? DEFAULT_MAX_BACKOFF_MS;
  if (!Number.isFinite(maxBackoffMs) || maxBackoffMs < 0) {
    throw new Error(`OTLP push: maxBackoffMs must be a non-negative number of milliseconds, got ${String(maxBackoffMs)}`);
  }
  // An export may not outlive its interval, or exports would overlap; the SDK
  // reader refuses that combination, so clamp instead of failing at startup.
  return { intervalMs, deadlineMs: Math.min(timeoutMs, intervalMs), maxBackoffMs };
}

/** Await `work` for at most `limitMs`, swallowing its failure: callers are shutdown paths. */
async function settle(work: Promise<void>, limitMs: number): Promise<void> {
  await withTimeout(work, limitMs, 'OTLP push').catch(() => undefined);
}
