import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AggregationTemporality, DataPointType, MeterProvider, MetricReader, type MetricData } from '@opentelemetry/sdk-metrics';
import client from 'prom-client';
import { ALL_METRICS, CATALOGUE, GC_DURATION_BUCKETS, LABEL, prometheusName, type MetricDefinition } from '../../src/catalogue/MetricCatalogue';
import { withSemanticConventionName } from '../../src/exposition/otlp/SemanticConventionNames';
import { registerRuntimeMetrics } from '../../src/worker/RuntimeMetrics';

class CollectingReader extends MetricReader {
  protected override async onForceFlush(): Promise<void> {}
  protected override async onShutdown(): Promise<void> {}
}

const RUNTIME: MetricDefinition[] = ALL_METRICS.filter((definition) => /^(process_|nodejs_)/.test(definition.name));
const PROM_TYPE = { counter: 'counter', gauge: 'gauge', histogram: 'histogram', updowncounter: 'gauge' } as const;

/** prom-client's own default metrics, as its registry describes them. */
async function promClientDefaults(): Promise<Map<string, { type: string; labels: Set<string> }>> {
  const registry = new client.Registry();
  client.collectDefaultMetrics({ register: registry });
  await new Promise((resolve) => setTimeout(resolve, 50));
  const described = new Map<string, { type: string; labels: Set<string> }>();
  for (const metric of (await registry.getMetricsAsJSON()) as unknown as { name: string; type: string; values: { labels: Record<string, unknown> }[] }[]) {
    described.set(metric.name, { type: metric.type, labels: new Set(metric.values.flatMap((v) => Object.keys(v.labels)).filter((label) => label !== 'le')) });
  }
  registry.clear();
  return described;
}

async function collect(): Promise<{ metrics: Map<string, MetricData>; stop: () => Promise<void> }> {
  const reader = new CollectingReader();
  const provider = new MeterProvider({ readers: [reader] });
  const handle = registerRuntimeMetrics(provider.getMeter('test'));
  // A GC to observe, and a collection that measures the lag the next one reports.
  await reader.collect();
  // Make garbage until a GC has been observed (PerformanceObserver delivers its entries asynchronously).
  const metrics = new Map<string, MetricData>();
  for (let round = 0; round < 50 && !metrics.has(CATALOGUE.runtimeGcDuration.name); round++) {
    let garbage: unknown[] = [];
    for (let i = 0; i < 300_000; i++) garbage.push({ i, text: `item ${i}` });
    garbage = [];
    await new Promise((resolve) => setTimeout(resolve, 20));
    const { resourceMetrics } = await reader.collect();
    metrics.clear();
    for (const metric of resourceMetrics.scopeMetrics.flatMap((s) => s.metrics)) metrics.set(metric.descriptor.name, metric);
  }
  return {
    metrics,
    stop: async () => {
      handle.stop();
      await provider.shutdown();
    },
  };
}

test("the runtime metrics have prom-client's exact names, types and labels (asked of prom-client itself)", async () => {
  const promClient = await promClientDefaults();
  assert.ok(RUNTIME.length >= 18);
  for (const definition of RUNTIME) {
    const name = prometheusName(definition);
    const theirs = promClient.get(name);
    assert.ok(theirs !== undefined, `prom-client has ${name}`);
    assert.equal(PROM_TYPE[definition.kind], theirs.type, name);
    const ours = new Set(definition.labels.filter((label) => label !== LABEL.workerId));
    // prom-client's version labels are on its one sample; our labels are exactly its set.
    for (const label of theirs.labels) assert.ok(ours.has(label), `${name} has label ${label}`);
    for (const label of ours) assert.ok(theirs.labels.has(label) || name === prometheusName(CATALOGUE.runtimeGcDuration), `${name}: ${label} is prom-client's`);
    assert.ok(name.endsWith('_seconds') || name.endsWith('_seconds_total') ? definition.unit === 's' : true, `${name} unit`);
    assert.ok(name.endsWith('_bytes') ? definition.unit === 'By' : true, `${name} unit`);
  }
});

test('values: CPU seconds since start, memory, heap spaces by name, version info, GC durations by kind in prom-client buckets', async () => {
  const { metrics, stop } = await collect();
  try {
    const single = (definition: MetricDefinition): number => {
      const metric = metrics.get(definition.name);
      assert.ok(metric, definition.name);
      return metric.dataPoints[0]!.value as number;
    };
    const cpu = process.cpuUsage();
    assert.equal(metrics.get(CATALOGUE.runtimeCpu.name)?.dataPointType, DataPointType.SUM);
    assert.equal(metrics.get(CATALOGUE.runtimeCpu.name)?.aggregationTemporality, AggregationTemporality.CUMULATIVE);
    const total = single(CATALOGUE.runtimeCpu);
    assert.ok(total > 0 && total <= (cpu.user + cpu.system) / 1e6, `cpu ${total}`);
    assert.ok(Math.abs(single(CATALOGUE.runtimeCpuUser) + single(CATALOGUE.runtimeCpuSystem) - total) < 1e-9);
    assert.ok(Math.abs(single(CATALOGUE.runtimeStartTime) - (Date.now() / 1000 - process.uptime())) <= 1);
    assert.ok(single(CATALOGUE.runtimeResidentMemory) > 10 * 1024 * 1024);
    assert.ok(single(CATALOGUE.runtimeOpenFds) > 2);
    if (process.platform === 'linux') {
      // prom-client's Linux-only three, from /proc/self/status and /proc/self/limits.
      assert.ok(single(CATALOGUE.runtimeVirtualMemory) >= single(CATALOGUE.runtimeResidentMemory));
      assert.ok(single(CATALOGUE.runtimeProcessHeap) > 0);
      assert.ok(single(CATALOGUE.runtimeMaxFds) >= single(CATALOGUE.runtimeOpenFds));
    }
    assert.ok(single(CATALOGUE.runtimeActiveHandles) >= 0);
    assert.ok(single(CATALOGUE.runtimeHeapUsed) <= single(CATALOGUE.runtimeHeapTotal));
    assert.ok(single(CATALOGUE.runtimeEventLoopLagP99) >= single(CATALOGUE.runtimeEventLoopLagP50));
    const spaces = metrics.get(CATALOGUE.runtimeHeapSpaceUsed.name)!.dataPoints.map((p) => p.attributes[LABEL.space]);
    assert.ok(spaces.includes('old') && spaces.includes('new'), spaces.join(','));
    const version = metrics.get(CATALOGUE.runtimeVersionInfo.name)!.dataPoints[0]!;
    assert.equal(version.value, 1);
    assert.equal(version.attributes[LABEL.version], process.version);
    assert.equal(version.attributes[LABEL.major], process.versions.node.split('.')[0]);
    const gc = metrics.get(CATALOGUE.runtimeGcDuration.name);
    assert.ok(gc && gc.dataPointType === DataPointType.HISTOGRAM, 'a GC was recorded');
    for (const point of gc.dataPoints) {
      assert.ok(['major', 'minor', 'incremental', 'weakcb'].includes(String(point.attributes[LABEL.gcKind])));
      assert.deepEqual((point.value as { buckets: { boundaries: number[] } }).buckets.boundaries, [...GC_DURATION_BUCKETS]);
    }
  } finally {
    await stop();
  }
});

test("on OTLP the runtime metrics carry OpenTelemetry's runtime names and attribute keys", async () => {
  const { metrics, stop } = await collect();
  try {
    const renamed = (definition: MetricDefinition) => withSemanticConventionName(metrics.get(definition.name)!);
    assert.equal(renamed(CATALOGUE.runtimeGcDuration).descriptor.name, 'v8js.gc.duration');
    assert.ok(renamed(CATALOGUE.runtimeGcDuration).dataPoints.every((p) => 'v8js.gc.type' in p.attributes && !('kind' in p.attributes)));
    assert.equal(renamed(CATALOGUE.runtimeHeapSpaceUsed).descriptor.name, 'v8js.memory.heap.used');
    assert.ok(renamed(CATALOGUE.runtimeHeapSpaceUsed).dataPoints.every((p) => 'v8js.heap.space.name' in p.attributes));
    assert.equal(renamed(CATALOGUE.runtimeEventLoopLagP99).descriptor.name, 'nodejs.eventloop.delay.p99');
    assert.equal(renamed(CATALOGUE.runtimeCpu).descriptor.name, 'process.cpu.time');
    assert.equal(renamed(CATALOGUE.runtimeResidentMemory).descriptor.name, 'process.memory.usage');
    // Others keep their name.
    assert.equal(renamed(CATALOGUE.runtimeVersionInfo).descriptor.name, 'nodejs_version_info');
  } finally {
    await stop();
  }
});
