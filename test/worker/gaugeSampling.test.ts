import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DataPointType, MeterProvider, MetricReader, type MetricData } from '@opentelemetry/sdk-metrics';
import { CATALOGUE } from '../../src/catalogue/MetricCatalogue';
import { EventLoopDelayMonitor } from '../../src/worker/EventLoopDelayMonitor';
import { GaugeProducer } from '../../src/worker/GaugeProducer';
import { registerProcessMetrics } from '../../src/worker/ProcessMetrics';
import { registerRuntimeMetrics } from '../../src/worker/RuntimeMetrics';

class CollectingReader extends MetricReader {
  protected override async onForceFlush(): Promise<void> {}
  protected override async onShutdown(): Promise<void> {}
}

/** Single-point gauge and counter values by metric name. */
async function values(reader: CollectingReader): Promise<Map<string, number>> {
  const { resourceMetrics } = await reader.collect();
  const result = new Map<string, number>();
  for (const metric of resourceMetrics.scopeMetrics.flatMap<MetricData>((s) => s.metrics)) {
    if (metric.dataPointType !== DataPointType.HISTOGRAM && metric.dataPoints.length === 1) result.set(metric.descriptor.name, metric.dataPoints[0]!.value as number);
  }
  return result;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

function blockLoop(ms: number): void {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    // Busy: the event loop cannot run its timers meanwhile.
  }
}

test('gauges are collected at most once per interval: flushes in between get the same metrics, a flush after it a fresh sample', async () => {
  let clockMs = 0;
  const gauges = new GaugeProducer({ intervalMs: 5_000, now: () => clockMs });
  const sampling = { monitor: new EventLoopDelayMonitor() };
  const handles = [registerProcessMetrics(gauges.meter('test'), sampling), registerRuntimeMetrics(gauges.meter('test'), sampling)];
  const byName = async (): Promise<Map<string, MetricData>> =>
    new Map((await gauges.collect()).resourceMetrics.scopeMetrics.flatMap((s) => s.metrics).map((metric) => [metric.descriptor.name, metric]));
  const uptimeOf = (metrics: Map<string, MetricData>): number => metrics.get(CATALOGUE.uptime.name)!.dataPoints[0]!.value as number;
  try {
    const first = await byName();
    for (const name of [CATALOGUE.uptime.name, CATALOGUE.memory.name, CATALOGUE.cpu.name, CATALOGUE.runtimeCpu.name, CATALOGUE.runtimeEventLoopLagP99.name]) {
      assert.ok(first.has(name), `${name} is reported`);
    }
    await sleep(20);
    clockMs += 4_999;
    const second = await byName();
    // The very same objects: the snapshot sees nothing new and the store only renews the lease.
    for (const [name, metric] of first) assert.equal(second.get(name), metric, `${name} repeated within the interval`);
    clockMs += 1;
    const third = await byName();
    assert.ok(uptimeOf(third) > uptimeOf(first), 'a fresh sample once the interval passed');
    const cpu = (metrics: Map<string, MetricData>): number => metrics.get(CATALOGUE.runtimeCpu.name)!.dataPoints[0]!.value as number;
    assert.ok(cpu(third) >= cpu(first), 'CPU seconds stay cumulative');
  } finally {
    for (const handle of handles) handle.stop();
    await gauges.shutdown();
  }
});

test('process and runtime gauges sharing one event-loop monitor both see a blocked loop in the same collection', async () => {
  const reader = new CollectingReader();
  const provider = new MeterProvider({ readers: [reader] });
  const monitor = new EventLoopDelayMonitor();
  const handles = [registerProcessMetrics(provider.getMeter('test'), { monitor }), registerRuntimeMetrics(provider.getMeter('test'), { monitor })];
  try {
    await values(reader);
    await sleep(60);
    blockLoop(250);
    await sleep(60);
    const blocked = await values(reader);
    // The gunicorn-style p99 is the delay beyond the monitor's period; prom-client's max reads as at its 10 ms resolution.
    assert.ok(blocked.get(CATALOGUE.eventLoopDelayP99.name)! >= 0.2, `process p99 ${blocked.get(CATALOGUE.eventLoopDelayP99.name)} s`);
    assert.ok(blocked.get(CATALOGUE.runtimeEventLoopLagMax.name)! >= 0.2, `runtime max ${blocked.get(CATALOGUE.runtimeEventLoopLagMax.name)} s`);
    await sleep(100);
    const after = await values(reader);
    // Each family's window restarted at its read: the long sample is gone from both.
    assert.ok(after.get(CATALOGUE.eventLoopDelayP99.name)! < 0.2, 'process window reset');
    assert.ok(after.get(CATALOGUE.runtimeEventLoopLagMax.name)! < 0.2, 'runtime window reset');
    // An idle loop reads about prom-client's resolution (10 ms) as its minimum, not the shared monitor's 20 ms.
    const min = after.get(CATALOGUE.runtimeEventLoopLagMin.name)!;
    assert.ok(min >= 0.005 && min < 0.05, `idle min lag ${min} s`);
  } finally {
    for (const handle of handles) handle.stop();
    await provider.shutdown();
  }
});

test('a paused event-loop monitor stops its timer: no samples, its windows read as no delay; resumed, it samples again', async () => {
  const monitor = new EventLoopDelayMonitor();
  const consumer = {};
  monitor.acquire();
  try {
    await sleep(150);
    assert.ok(monitor.read(consumer).count > 0, 'running: samples');
    monitor.pause(true);
    assert.equal(monitor.running, false);
    monitor.read(consumer);
    await sleep(150);
    blockLoop(60);
    const paused = monitor.read(consumer);
    assert.equal(paused.count, 0, 'paused: not one sample');
    assert.equal(paused.max, 0, 'and no delay, even after a block');
    // A consumer released and acquired again while paused does not restart it.
    monitor.release(consumer);
    monitor.acquire();
    assert.equal(monitor.running, false);
    monitor.pause(false);
    assert.equal(monitor.running, true);
    await sleep(150);
    assert.ok(monitor.read(consumer).count > 0, 'resumed: samples again');
  } finally {
    monitor.release(consumer);
  }
  assert.equal(monitor.running, false, 'the last consumer stops it');
});

test('the work that resumes a paused monitor is sampled: a block right after the resume reads as the window maximum', async () => {
  const monitor = new EventLoopDelayMonitor();
  const consumer = {};
  monitor.acquire();
  try {
    monitor.pause(true);
    await sleep(100);
    monitor.read(consumer);
    // As a request whose start resumed it: the handler blocks at once, before the timer ticks.
    monitor.pause(false);
    blockLoop(150);
    await sleep(60);
    const window = monitor.read(consumer);
    assert.ok(window.max >= 150e6, `max ${window.max / 1e6} ms`);
    assert.ok(window.count >= 1);
    await sleep(60);
    assert.ok(monitor.read(consumer).max < 150e6, 'one window only');
  } finally {
    monitor.release(consumer);
  }
});
