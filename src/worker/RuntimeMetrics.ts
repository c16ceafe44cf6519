/**
 * prom-client's default runtime metrics (see the catalogue's `runtime*`
 * entries), so the Node.js dashboards written for prom-client work on a
 * cluster: CPU, memory (resident; virtual and data-segment heap on Linux, as
 * prom-client), file descriptors (open, and the limit on Linux), event-loop lag and its percentiles,
 * heap and heap spaces, active handles, GC durations and the Node version.
 *
 * Everything is read when a collection happens (once per flush), except GC
 * durations, which a PerformanceObserver hands over as the GCs happen; nothing
 * runs on the request path. Values follow prom-client's definitions: CPU
 * seconds since the process started, event-loop percentiles of a
 * `monitorEventLoopDelay` histogram (as at prom-client's 10 ms resolution)
 * reset at each collection, lag as the delay of a `setImmediate` scheduled at
 * the previous collection, heap space names without their `_space` suffix.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { ValueType, type BatchObservableResult, type Meter, type Observable } from '@opentelemetry/api';
import { constants as perfConstants, PerformanceObserver, type PerformanceEntry } from 'node:perf_hooks';
import { getHeapSpaceStatistics, getHeapStatistics } from 'node:v8';
import { CATALOGUE, LABEL, type MetricDefinition } from '../catalogue/MetricCatalogue';
import { warnOnce } from '../self/Logger';
import type { GaugeOptions, ProcessMetricsHandle } from './ProcessMetrics';
import { EventLoopDelayMonitor, type EventLoopDelayStats } from './EventLoopDelayMonitor';

/**
 * prom-client's event-loop monitor resolution, ms. Its lag statistics are of
 * the monitor's samples, which include that period (an idle loop reads 10 ms).
 * The shared monitor ticks at its own (coarser) resolution; its samples are
 * shifted by the difference, so the values read as prom-client's do.
 */
const PROM_CLIENT_LAG_RESOLUTION_MS = 10;

/** GC kinds as prom-client names them. */
const GC_KINDS: Readonly<Record<number, string>> = {
  [perfConstants.NODE_PERFORMANCE_GC_MAJOR]: 'major',
  [perfConstants.NODE_PERFORMANCE_GC_MINOR]: 'minor',
  [perfConstants.NODE_PERFORMANCE_GC_INCREMENTAL]: 'incremental',
  [perfConstants.NODE_PERFORMANCE_GC_WEAKCB]: 'weakcb',
};

function options(definition: MetricDefinition, valueType: ValueType): { description: string; unit: string; valueType: ValueType } {
  return { description: definition.help, unit: definition.unit, valueType };
}

/** Number of open file descriptors, where the OS lists them (Linux); undefined elsewhere. */
function openFileDescriptors(): number | undefined {
  if (process.platform !== 'linux') return undefined;
  try {
    // One entry is the directory handle readdir itself holds open.
    return readdirSync('/proc/self/fd').length - 1;
  } catch {
    return undefined;
  }
}

/** `VmSize` and `VmData` of /proc/self/status in bytes, as prom-client reads them (Linux); undefined elsewhere. */
function memoryStatus(): { virtual: number; heap: number } | undefined {
  if (process.platform !== 'linux') return undefined;
  try {
    const status = readFileSync('/proc/self/status', 'utf8');
    const kib = (field: string): number => Number(new RegExp(`^${field}:\\s*(\\d+)`, 'm').exec(status)?.[1] ?? NaN) * 1024;
    const virtual = kib('VmSize');
    const heap = kib('VmData');
    return Number.isFinite(virtual) && Number.isFinite(heap) ? { virtual, heap } : undefined;
  } catch {
    return undefined;
  }
}

/** The soft limit on open files of /proc/self/limits (Linux), as prom-client reads it; undefined elsewhere or when unlimited. */
function maxFileDescriptors(): number | undefined {
  if (process.platform !== 'linux') return undefined;
  try {
    const limit = /^Max open files\s+(\d+)/m.exec(readFileSync('/proc/self/limits', 'utf8'))?.[1];
    return limit === undefined ? undefined : Number(limit);
  } catch {
    return undefined;
  }
}

function activeHandles(): number | undefined {
  const getter = (process as unknown as { _getActiveHandles?: () => unknown[] })._getActiveHandles;
  return typeof getter === 'function' ? getter.call(process).length : undefined;
}

/** Register the runtime metrics on `meter`. Stop them with the returned handle. */
export function registerRuntimeMetrics(meter: Meter, sampling: GaugeOptions = {}): ProcessMetricsHandle {
  const c = CATALOGUE;
  const cpuUser = meter.createObservableCounter(c.runtimeCpuUser.name, options(c.runtimeCpuUser, ValueType.DOUBLE));
  const cpuSystem = meter.createObservableCounter(c.runtimeCpuSystem.name, options(c.runtimeCpuSystem, ValueType.DOUBLE));
  const cpuTotal = meter.createObservableCounter(c.runtimeCpu.name, options(c.runtimeCpu, ValueType.DOUBLE));
  const gauge = (definition: MetricDefinition, valueType = ValueType.DOUBLE): Observable => meter.createObservableGauge(definition.name, options(definition, valueType));
  const startTime = gauge(c.runtimeStartTime, ValueType.INT);
  const rss = gauge(c.runtimeResidentMemory, ValueType.INT);
  const fds = gauge(c.runtimeOpenFds, ValueType.INT);
  const virtualMemory = gauge(c.runtimeVirtualMemory, ValueType.INT);
  const processHeap = gauge(c.runtimeProcessHeap, ValueType.INT);
  const maxFds = gauge(c.runtimeMaxFds, ValueType.INT);
  const lag = gauge(c.runtimeEventLoopLag);
  // Each statistic of a sample, shifted to prom-client's resolution (see PROM_CLIENT_LAG_RESOLUTION_MS); a spread is not shifted.
  const lagStats: [Observable, (h: EventLoopDelayStats, shift: number) => number][] = [
    [gauge(c.runtimeEventLoopLagMin), (h, shift) => h.min - shift],
    [gauge(c.runtimeEventLoopLagMax), (h, shift) => h.max - shift],
    [gauge(c.runtimeEventLoopLagMean), (h, shift) => h.mean - shift],
    [gauge(c.runtimeEventLoopLagStddev), (h) => h.stddev],
    [gauge(c.runtimeEventLoopLagP50), (h, shift) => h.p50 - shift],
    [gauge(c.runtimeEventLoopLagP90), (h, shift) => h.p90 - shift],
    [gauge(c.runtimeEventLoopLagP99), (h, shift) => h.p99 - shift],
  ];
  const handles = gauge(c.runtimeActiveHandles, ValueType.INT);
  const heapTotal = gauge(c.runtimeHeapTotal, ValueType.INT);
  const heapUsed = gauge(c.runtimeHeapUsed, ValueType.INT);
  const heapSpaceUsed = gauge(c.runtimeHeapSpaceUsed, ValueType.INT);
  const version = gauge(c.runtimeVersionInfo, ValueType.INT);
  const observables = [
    cpuUser,
    cpuSystem,
    cpuTotal,
    startTime,
    rss,
    fds,
    virtualMemory,
    processHeap,
    maxFds,
    lag,
    ...lagStats.map(([o]) => o),
    handles,
    heapTotal,
    heapUsed,
    heapSpaceUsed,
    version,
  ];

  const [major = '', minor = '', patch = ''] = process.versions.node.split('.');
  const versionLabels = { [LABEL.version]: process.version, [LABEL.major]: major, [LABEL.minor]: minor, [LABEL.patch]: patch };
  const startSeconds = Math.round(Date.now() / 1000 - process.uptime());
  const delays = sampling.monitor ?? new EventLoopDelayMonitor(PROM_CLIENT_LAG_RESOLUTION_MS);
  delays.acquire();
  const shiftNs = (delays.resolutionMs - PROM_CLIENT_LAG_RESOLUTION_MS) * 1e6;
  let lagSeconds = 0;
  const measureLag = (): void => {
    const start = process.hrtime.bigint();
    setImmediate(() => {
      lagSeconds = Number(process.hrtime.bigint() - start) / 1e9;
    }).unref();
  };
  measureLag();

  const observe = (result: BatchObservableResult): void => {
    try {
      const cpu = process.cpuUsage();
      result.observe(cpuUser, cpu.user / 1e6);
      result.observe(cpuSystem, cpu.system / 1e6);
      result.observe(cpuTotal, (cpu.user + cpu.system) / 1e6);
      result.observe(startTime, startSeconds);
      result.observe(rss, process.memoryUsage.rss());
      const open = openFileDescriptors();
      if (open !== undefined) result.observe(fds, open);
      const memory = memoryStatus();
      if (memory !== undefined) {
        result.observe(virtualMemory, memory.virtual);
        result.observe(processHeap, memory.heap);
      }
      const max = maxFileDescriptors();
      if (max !== undefined) result.observe(maxFds, max);
      result.observe(lag, lagSeconds);
      measureLag();
      const window = delays.read(observe);
      for (const [observable, read] of lagStats) {
        const nanoseconds = window.count > 0 ? Math.max(0, read(window, shiftNs)) : 0;
        result.observe(observable, Number.isFinite(nanoseconds) ? nanoseconds / 1e9 : 0);
      }
      const active = activeHandles();
      if (active !== undefined) result.observe(handles, active);
      const heap = getHeapStatistics();
      result.observe(heapTotal, heap.total_heap_size);
      result.observe(heapUsed, heap.used_heap_size);
      for (const space of getHeapSpaceStatistics()) {
        const name = space.space_name.endsWith('_space') ? space.space_name.slice(0, -'_space'.length) : space.space_name;
        result.observe(heapSpaceUsed, space.space_used_size, { [LABEL.space]: name });
      }
      result.observe(version, 1, versionLabels);
    } catch (error) {
      warnOnce('worker.runtime-metrics', `runtime metrics could not be sampled: ${String(error)}`);
    }
  };
  meter.addBatchObservableCallback(observe, observables);

  const gcDuration = (sampling.eventMeter ?? meter).createHistogram(c.runtimeGcDuration.name, {
    ...options(c.runtimeGcDuration, ValueType.DOUBLE),
    advice: { explicitBucketBoundaries: [...c.runtimeGcDuration.buckets] },
  });
  const gcAttributes = new Map(Object.entries(GC_KINDS).map(([kind, name]) => [Number(kind), { [LABEL.gcKind]: name }]));
  const gc = new PerformanceObserver((list) => {
    for (const entry of list.getEntries() as (PerformanceEntry & { detail?: { kind?: number } })[]) {
      const attributes = gcAttributes.get(entry.detail?.kind ?? -1);
      if (attributes !== undefined) gcDuration.record(entry.duration / 1000, attributes);
    }
    sampling.onEventRecorded?.();
  });
  gc.observe({ entryTypes: ['gc'] });

  let stopped = false;
  return {
    stop(): void {
      if (stopped) return;
      stopped = true;
      meter.removeBatchObservableCallback(observe, observables);
      delays.release(observe);
      gc.disconnect();
    },
  };
}
