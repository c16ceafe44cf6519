import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ValueType } from '@opentelemetry/api';
import { AggregationTemporality, AggregationType, DataPointType, MeterProvider, MetricReader } from '@opentelemetry/sdk-metrics';
import type { ResourceMetrics } from '@opentelemetry/sdk-metrics';
import { snapshotMetricsFromResourceMetrics } from '../../src/snapshot/fromResourceMetrics';
import type { HistogramValue, SnapshotMetric } from '../../src/snapshot/Snapshot';

/** The smallest real reader: collects on demand, exports nothing. */
class CollectingReader extends MetricReader {
  protected override async onShutdown(): Promise<void> {}
  protected override async onForceFlush(): Promise<void> {}
}

async function collectFrom(record: (provider: MeterProvider) => void): Promise<ResourceMetrics> {
  const reader = new CollectingReader();
  const provider = new MeterProvider({
    readers: [reader],
    views: [{ instrumentName: 'exp.*', aggregation: { type: AggregationType.EXPONENTIAL_HISTOGRAM } }],
  });
  try {
    record(provider);
    const { resourceMetrics } = await reader.collect();
    return resourceMetrics;
  } finally {
    await provider.shutdown();
  }
}

function byName(metrics: SnapshotMetric[], name: string): SnapshotMetric {
  const metric = metrics.find((m) => m.name === name);
  assert.ok(metric, `${name} converted`);
  return metric;
}

test('SDK counters, up-down counters, gauges and histograms become snapshot metrics', async () => {
  const before = Date.now();
  const rm = await collectFrom((provider) => {
    const meter = provider.getMeter('t');
    meter.createCounter('c', { description: 'a counter', unit: '1', valueType: ValueType.INT }).add(3, { method: 'GET' });
    meter.createUpDownCounter('u').add(-2);
    meter.createObservableGauge('g', { unit: 'By' }).addCallback((result) => result.observe(42, { kind: 'rss' }));
    const histogram = meter.createHistogram('h', { unit: 's', advice: { explicitBucketBoundaries: [0.1, 1] } });
    histogram.record(0.05, { route: '/a' });
    histogram.record(5, { route: '/a' });
  });
  const metrics = snapshotMetricsFromResourceMetrics(rm);

  const c = byName(metrics, 'c');
  assert.equal(c.kind, 'counter');
  assert.equal(c.valueType, 'int');
  assert.equal(c.description, 'a counter');
  assert.deepEqual(
    c.points.map((p) => [p.attributes, p.value]),
    [[{ method: 'GET' }, 3]],
  );
  const start = c.points[0]?.startTimeMs ?? 0;
  assert.ok(start >= before - 1 && start <= Date.now() + 1, `start time ${start} is when the instrument started`);

  assert.equal(byName(metrics, 'u').kind, 'updowncounter');
  assert.equal(byName(metrics, 'u').points[0]?.value, -2);
  const g = byName(metrics, 'g');
  assert.equal(g.kind, 'gauge');
  assert.equal(g.unit, 'By');
  assert.deepEqual(
    g.points.map((p) => [p.attributes, p.value]),
    [[{ kind: 'rss' }, 42]],
  );

  const h = byName(metrics, 'h');
  assert.equal(h.kind, 'histogram');
  assert.deepEqual(h.boundaries, [0.1, 1]);
  const value = h.points[0]?.value as HistogramValue;
  assert.deepEqual({ ...value }, { count: 2, sum: 5.05, counts: [1, 0, 1], min: 0.05, max: 5 });
});

test('attribute values become label strings', async () => {
  const rm = await collectFrom((provider) => {
    provider
      .getMeter('t')
      .createCounter('c')
      .add(1, { status: 200, ok: true, tags: ['a', 'b'], name: 'x' });
  });
  const [metric] = snapshotMetricsFromResourceMetrics(rm);
  assert.deepEqual(metric?.points[0]?.attributes, { status: '200', ok: 'true', tags: '["a","b"]', name: 'x' });
});

test('exponential histograms are skipped and reported, the rest still converted', async () => {
  const rm = await collectFrom((provider) => {
    const meter = provider.getMeter('t');
    meter.createHistogram('exp.latency').record(3);
    meter.createCounter('c').add(1);
  });
  const skipped: [string, string][] = [];
  const metrics = snapshotMetricsFromResourceMetrics(rm, (name, reason) => skipped.push([name, reason]));
  assert.deepEqual(
    metrics.map((m) => m.name),
    ['c'],
  );
  assert.deepEqual(skipped, [['exp.latency', 'exponential histogram']]);
});

test('delta sums are skipped: adding a delta to other snapshots would be wrong', () => {
  const rm = {
    resource: undefined as unknown as ResourceMetrics['resource'],
    scopeMetrics: [
      {
        scope: { name: 't' },
        metrics: [
          {
            descriptor: { name: 'd', description: '', unit: '', valueType: ValueType.INT },
            aggregationTemporality: AggregationTemporality.DELTA,
            dataPointType: DataPointType.SUM,
            isMonotonic: true,
            dataPoints: [{ attributes: {}, startTime: [1, 0], endTime: [2, 0], value: 1 }],
          },
        ],
      },
    ],
  } as ResourceMetrics;
  const skipped: string[] = [];
  assert.deepEqual(
    snapshotMetricsFromResourceMetrics(rm, (_name, reason) => skipped.push(reason)),
    [],
  );
  assert.deepEqual(skipped, ['delta temporality']);
});
