/**
 * Process gauges of a worker, sampled when a collection happens (not on
 * requests, as upstream does), so an idle worker's memory and CPU stay
 * current in every snapshot.
 */
import { ValueType, type BatchObservableResult, type Meter, type Observable } from '@opentelemetry/api';
import { performance } from 'node:perf_hooks';
import { CATALOGUE, type MetricDefinition } from '../catalogue/MetricCatalogue';
import { warnOnce } from '../self/Logger';
import { EventLoopDelayMonitor } from './EventLoopDelayMonitor';

/** Handle returned by {@link registerProcessMetrics}. */
export interface ProcessMetricsHandle {
  /** Stop sampling: removes the callback and stops the event-loop monitor. Idempotent. */
  stop(): void;
}

/** Options of {@link registerProcessMetrics} and {@link registerRuntimeMetrics}. */
export interface GaugeOptions {
  /** The event-loop monitor to read, shared by every gauge family of the process (default: one of their own). */
  readonly monitor?: EventLoopDelayMonitor;
  /**
   * Where instruments recorded as things happen (the GC duration histogram)
   * go, when not on the sampled gauges' meter: they change only when
   * something happened, so they are collected at every flush (default: the same meter).
   */
  readonly eventMeter?: Meter;
  /** Called after the event instruments recorded (a GC): until then, what they report is unchanged. */
  readonly onEventRecorded?: () => void;
}

function gauge(meter: Meter, definition: MetricDefinition, valueType: ValueType): Observable {
  return meter.createObservableGauge(definition.name, { description: definition.help, unit: definition.unit, valueType });
}

/**
 * A sample of `monitorEventLoopDelay` is the whole time between two ticks of
 * its timer, which includes the timer's own period; the delay is what exceeds
 * it. Nanoseconds in, seconds out, and "no samples yet" (NaN) reported as 0.
 */
function delaySeconds(sampleNanoseconds: number, resolutionMs: number): number {
  if (!Number.isFinite(sampleNanoseconds)) return 0;
  return Math.max(0, sampleNanoseconds - resolutionMs * 1e6) / 1e9;
}

/**
 * Register the worker's process gauges on `meter`: RSS, CPU percent of one
 * core since the previous observation, uptime, V8 heap used, and event-loop
 * delay mean and p99 over the interval since the previous observation.
 */
export function registerProcessMetrics(meter: Meter, options: GaugeOptions = {}): ProcessMetricsHandle {
  const memory = gauge(meter, CATALOGUE.memory, ValueType.INT);
  const cpu = gauge(meter, CATALOGUE.cpu, ValueType.DOUBLE);
  const uptime = gauge(meter, CATALOGUE.uptime, ValueType.DOUBLE);
  const heapUsed = gauge(meter, CATALOGUE.heapUsed, ValueType.INT);
  const loopMean = gauge(meter, CATALOGUE.eventLoopDelay, ValueType.DOUBLE);
  const loopP99 = gauge(meter, CATALOGUE.eventLoopDelayP99, ValueType.DOUBLE);
  const observables = [memory, cpu, uptime, heapUsed, loopMean, loopP99];

  const loop = options.monitor ?? new EventLoopDelayMonitor();
  loop.acquire();
  let lastCpu = process.cpuUsage();
  let lastWallMs = performance.now();

  const observe = (result: BatchObservableResult): void => {
    try {
      const usage = process.memoryUsage();
      result.observe(memory, usage.rss);
      result.observe(heapUsed, usage.heapUsed);
      const cpuNow = process.cpuUsage();
      const wallMs = performance.now();
      const usedMicros = cpuNow.user - lastCpu.user + (cpuNow.system - lastCpu.system);
      const elapsedMicros = (wallMs - lastWallMs) * 1000;
      lastCpu = cpuNow;
      lastWallMs = wallMs;
      result.observe(cpu, elapsedMicros > 0 ? (usedMicros / elapsedMicros) * 100 : 0);
      result.observe(uptime, process.uptime());
      const delays = loop.read(observe);
      result.observe(loopMean, delaySeconds(delays.mean, loop.resolutionMs));
      result.observe(loopP99, delaySeconds(delays.p99, loop.resolutionMs));
    } catch (error) {
      warnOnce('worker.process-metrics', `process metrics could not be sampled: ${String(error)}`);
    }
  };
  meter.addBatchObservableCallback(observe, observables);

  let stopped = false;
  return {
    stop(): void {
      if (stopped) return;
      stopped = true;
      meter.removeBatchObservableCallback(observe, observables);
      loop.release(observe);
    },
  };
}
