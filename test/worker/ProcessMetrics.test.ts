import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DataPointType, MeterProvider, MetricReader, type MetricData } from '@opentelemetry/sdk-metrics';
import { CATALOGUE } from '../../src/catalogue/MetricCatalogue';
import { registerProcessMetrics } from '../../src/worker/ProcessMetrics';

class CollectingReader extends MetricReader {
  protected override async onForceFlush(): Promise<void> {}
  protected override async onShutdown(): Promise<void> {}
}

async function gauges(reader: CollectingReader): Promise<Map<string, number>> {
  const { resourceMetrics } = await reader.collect();
  const values = new Map<string, number>();
  for (const metric of resourceMetrics.scopeMetrics.flatMap((s) => s.metrics) as MetricData[]) {
    if (metric.dataPointType === DataPointType.GAUGE && metric.dataPoints.length === 1) {
      values.set(metric.descriptor.name, metric.dataPoints[0]!.value);
    }
  }
  return values;
}

function burnCpu(ms: number): void {
  const end = Date.now() + ms;
  let x = 0;
  while (Date.now() < end) x += Math.sqrt(x + 1);
}

test('process gauges are sampled at each collection', async () => {
  const reader = new CollectingReader();
  const provider = new MeterProvider({ readers: [reader] });
  const handle = registerProcessMetrics(provider.getMeter('test'));
  try {
    // Let the event-loop monitor's timer run once, then block the loop.
    await new Promise((resolve) => setTimeout(resolve, 30));
    burnCpu(150);
    await new Promise((resolve) => setTimeout(resolve, 50));
    const first = await gauges(reader);
    assert.ok(first.get(CATALOGUE.memory.name)! > 10 * 1024 * 1024, 'rss in bytes');
    assert.ok(first.get(CATALOGUE.heapUsed.name)! > 1024 * 1024, 'heap used in bytes');
    assert.ok(first.get(CATALOGUE.uptime.name)! > 0);
    // Mostly busy since registration: a large share of one core.
    const busy = first.get(CATALOGUE.cpu.name)!;
    assert.ok(busy > 30 && busy < 250, `cpu percent while busy: ${busy}`);
    assert.ok(first.get(CATALOGUE.eventLoopDelay.name)! >= 0);
    // The 150 ms of blocking shows up as event-loop delay at the tail.
    assert.ok(first.get(CATALOGUE.eventLoopDelayP99.name)! > 0.05, 'p99 loop delay in seconds');

    await new Promise((resolve) => setTimeout(resolve, 300));
    const second = await gauges(reader);
    // Idle interval: CPU since the previous observation is small, loop delay was reset.
    assert.ok(second.get(CATALOGUE.cpu.name)! < busy, 'cpu is per interval, not since start');
    assert.ok(second.get(CATALOGUE.eventLoopDelayP99.name)! < 0.05, 'histogram reset after each read');
    assert.ok(second.get(CATALOGUE.uptime.name)! > first.get(CATALOGUE.uptime.name)!);
  } finally {
    handle.stop();
    handle.stop();
    await provider.shutdown();
  }
});

test('stop ends sampling', async () => {
  const reader = new CollectingReader();
  const provider = new MeterProvider({ readers: [reader] });
  const handle = registerProcessMetrics(provider.getMeter('test'));
  assert.ok((await gauges(reader)).has(CATALOGUE.memory.name));
  handle.stop();
  const frozen = (await gauges(reader)).get(CATALOGUE.uptime.name);
  await new Promise((resolve) => setTimeout(resolve, 20));
  // The SDK may keep reporting the last value it saw; it is no longer refreshed.
  assert.equal((await gauges(reader)).get(CATALOGUE.uptime.name), frozen);
  await provider.shutdown();
});
