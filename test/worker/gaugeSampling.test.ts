import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DataPointType, MeterProvider, MetricReader, type MetricData } from '@opentelemetry/sdk-metrics';
import { CATALOGUE } from '../../src/catalogue/MetricCatalogue';
import { EventLoopDelayMonitor } from '../../src/worker/EventLoopDelayMonitor';
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

test('with a sampling interval, collections in between report the last sample again, and a new one once it is due', async () => {
  const reader = new CollectingReader();
  const provider = new MeterProvider({ readers: [reader] });
  const sampling = { monitor: new EventLoopDelayMonitor(), sampleIntervalMs: 1_500 };
  const handles = [registerProcessMetrics(provider.getMeter('test'), sampling), registerRuntimeMetrics(provider.getMeter('test'), sampling)];
  try {
    const first = await values(reader);
    await sleep(50);
    const second = await values(reader);
    // Nothing in the process changed as far as the snapshot is concerned: the store only renews it.
    for (const name of [CATALOGUE.uptime.name, CATALOGUE.memory.name, CATALOGUE.cpu.name, CATALOGUE.runtimeCpu.name, CATALOGUE.runtimeEventLoopLagP99.name]) {
      assert.ok(first.has(name), `${name} is reported`);
      assert.equal(second.get(name), first.get(name), `${name} repeated within the interval`);
    }
    await sleep(1_600);
    const third = await values(reader);
    assert.ok(third.get(CATALOGUE.uptime.name)! > first.get(CATALOGUE.uptime.name)!, 'a fresh sample once the interval passed');
    assert.ok(third.get(CATALOGUE.runtimeCpu.name)! >= first.get(CATALOGUE.runtimeCpu.name)!, 'CPU seconds stay cumulative');
  } finally {
    for (const handle of handles) handle.stop();
    await provider.shutdown();
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
