import { performance } from 'node:perf_hooks';
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
  for (const metric of resourceMetrics.scopeMetrics.flatMap<MetricData>((s) => s.metrics)) {
    if (metric.dataPointType === DataPointType.GAUGE && metric.dataPoints.length === 1) {
      values.set(metric.descriptor.name, metric.dataPoints[0]!.value);
    }
  }
  return values;
}

/** What the test itself saw over a stretch: process CPU time and wall time, both in ms. */
interface Span {
  readonly cpuMs: number;
  readonly wallMs: number;
}

/** Run `work` and measure the CPU time the whole process used and the wall time that passed. */
async function measure(work: () => unknown): Promise<Span> {
  const cpuBefore = process.cpuUsage();
  const wallBefore = performance.now();
  await work();
  const cpu = process.cpuUsage(cpuBefore);
  return { cpuMs: (cpu.user + cpu.system) / 1000, wallMs: performance.now() - wallBefore };
}

/**
 * Keep the event loop busy until the process has used `cpuMs` of CPU time.
 * Counting CPU time rather than wall time makes the work the same on a loaded
 * machine (it just takes longer there); the wall-clock cap only guards against
 * a CPU clock that does not advance.
 */
function burnCpu(cpuMs: number): void {
  const start = process.cpuUsage();
  const deadline = Date.now() + 10_000;
  let x = 0;
  for (;;) {
    for (let i = 0; i < 10_000; i++) x += Math.sqrt(x + i);
    const used = process.cpuUsage(start);
    if ((used.user + used.system) / 1000 >= cpuMs || Date.now() > deadline) break;
  }
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** CPU time the test makes the process burn, and so also how long it blocks the event loop. */
const BURN_CPU_MS = 300;

// Every bound below is a relation between what the gauges report and what the
// test measured around them, so a slow or loaded machine stretches the numbers
// without breaking the assertions.
test('process gauges are sampled at each collection', async () => {
  const reader = new CollectingReader();
  const provider = new MeterProvider({ readers: [reader] });
  let handle: ReturnType<typeof registerProcessMetrics> | undefined;
  let burn: Span | undefined;
  try {
    // `busyInterval` encloses the gauges' first interval (registration to
    // first collection); `burn` lies inside it.
    let first = new Map<string, number>();
    let cpuBeforeFirstCollect = process.cpuUsage();
    const busyInterval = await measure(async () => {
      handle = registerProcessMetrics(provider.getMeter('test'));
      // Let the event-loop monitor tick a few times, block the loop, then let
      // it tick again so the blocked stretch is recorded as one long sample.
      await sleep(60);
      burn = await measure(() => burnCpu(BURN_CPU_MS));
      await sleep(60);
      cpuBeforeFirstCollect = process.cpuUsage();
      first = await gauges(reader);
    });
    const uptimeAfterFirst = process.uptime();
    assert.ok(burn !== undefined);

    assert.ok(first.get(CATALOGUE.memory.name)! > 10 * 1024 * 1024, 'rss in bytes');
    assert.ok(first.get(CATALOGUE.heapUsed.name)! > 1024 * 1024, 'heap used in bytes');
    const uptime = first.get(CATALOGUE.uptime.name)!;
    assert.ok(uptime >= burn.wallMs / 1000 && uptime <= uptimeAfterFirst, `uptime ${uptime} in seconds`);

    // CPU percent of one core over the interval: at least the burn's CPU time
    // over the enclosing wall time, at most all CPU seen over the burn's own
    // wall time (the interval is at least that long).
    const busy = first.get(CATALOGUE.cpu.name)!;
    const busyFloor = (burn.cpuMs / busyInterval.wallMs) * 100;
    const busyCeiling = (busyInterval.cpuMs / burn.wallMs) * 100;
    assert.ok(busy >= busyFloor * 0.99 && busy <= busyCeiling * 1.01, `cpu percent ${busy} within [${busyFloor}, ${busyCeiling}]`);

    // The loop was blocked for the burn's whole wall time: p99 catches that
    // one long sample (fewer than 100 samples, so p99 is the maximum) less the
    // monitor's 20 ms period, and the mean is pulled above zero by it.
    const p99 = first.get(CATALOGUE.eventLoopDelayP99.name)!;
    const mean = first.get(CATALOGUE.eventLoopDelay.name)!;
    assert.ok(p99 >= ((burn.wallMs - 20) / 1000) * 0.95, `p99 loop delay ${p99} s after blocking ${burn.wallMs} ms`);
    assert.ok(mean > 0 && mean <= p99, `mean loop delay ${mean} s, p99 ${p99} s`);

    // An idle interval: `idleWindow` lies inside it; it starts during the
    // first collection, so `cpuBeforeFirstCollect` bounds the CPU it used.
    const idleWindow = await measure(() => sleep(200));
    const second = await gauges(reader);
    const sinceFirstCollect = process.cpuUsage(cpuBeforeFirstCollect);
    const idle = second.get(CATALOGUE.cpu.name)!;
    // Per interval, not since start: no more than the CPU the process used
    // since the first collection over the idle wait's wall time.
    const idleCeiling = ((sinceFirstCollect.user + sinceFirstCollect.system) / 1000 / idleWindow.wallMs) * 100;
    assert.ok(idle <= idleCeiling * 1.01, `idle cpu percent ${idle}, at most ${idleCeiling}`);
    // The histogram was reset by the first read, so the long sample is gone
    // (the idle wait itself would have to stall longer than the burn to tie).
    assert.ok(second.get(CATALOGUE.eventLoopDelayP99.name)! < p99, 'loop delay histogram reset after each read');
    assert.ok(second.get(CATALOGUE.uptime.name)! > first.get(CATALOGUE.uptime.name)!, 'uptime advances');
  } finally {
    handle?.stop();
    handle?.stop();
    await provider.shutdown();
  }
});

test('stop ends sampling', async () => {
  const reader = new CollectingReader();
  const provider = new MeterProvider({ readers: [reader] });
  try {
    const handle = registerProcessMetrics(provider.getMeter('test'));
    assert.ok((await gauges(reader)).has(CATALOGUE.memory.name));
    handle.stop();
    const frozen = (await gauges(reader)).get(CATALOGUE.uptime.name);
    await sleep(20);
    // The SDK may keep reporting the last value it saw (or drop the gauge);
    // a live callback would report a later uptime.
    assert.equal((await gauges(reader)).get(CATALOGUE.uptime.name), frozen);
  } finally {
    await provider.shutdown();
  }
});
