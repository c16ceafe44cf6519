import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { AggregationTemporality, DataPointType, MeterProvider, MetricReader, type MetricData } from '@opentelemetry/sdk-metrics';
import { CATALOGUE, SCOPE_NAME } from '../../src/catalogue/MetricCatalogue';
import { HttpMetricProducer } from '../../src/worker/HttpMetricProducer';
import { RequestAccumulator } from '../../src/worker/RequestAccumulator';
import { snapshotMetricsFromResourceMetrics } from '../../src/snapshot/fromResourceMetrics';
import { close, createStack, listen, request } from './support';

class CollectingReader extends MetricReader {
  protected override async onForceFlush(): Promise<void> {}
  protected override async onShutdown(): Promise<void> {}
}

const cleanups: (() => Promise<void> | void)[] = [];
after(async () => {
  while (cleanups.length > 0) await cleanups.pop()!();
});

test('a real MetricReader merges the producer output under the catalogue names', async () => {
  const stack = createStack();
  const server = http.createServer((_req, res) => res.writeHead(503).end('busy'));
  const port = await listen(server);
  cleanups.push(
    () => stack.instrumentation.disable(),
    () => close(server),
  );
  await request(port, { path: '/queue' });

  const reader = new CollectingReader({ metricProducers: [stack.producer] });
  const provider = new MeterProvider({ readers: [reader] });
  cleanups.push(() => provider.shutdown());
  const { resourceMetrics, errors } = await reader.collect();
  assert.deepEqual(errors, []);
  const scope = resourceMetrics.scopeMetrics.find((s) => s.scope.name === SCOPE_NAME);
  assert.ok(scope, 'scope present');
  const byName = new Map<string, MetricData>(scope.metrics.map((m) => [m.descriptor.name, m]));
  const expected = [CATALOGUE.requests, CATALOGUE.requestDuration, CATALOGUE.requestSize, CATALOGUE.responseSize, CATALOGUE.failedRequests, CATALOGUE.activeRequests];
  for (const definition of expected) {
    const metric = byName.get(definition.name);
    assert.ok(metric, definition.name);
    assert.equal(metric.descriptor.unit, definition.unit);
    assert.equal(metric.descriptor.description, definition.help);
    assert.equal(metric.aggregationTemporality, AggregationTemporality.CUMULATIVE);
  }
  const requests = byName.get(CATALOGUE.requests.name)!;
  assert.equal(requests.dataPointType, DataPointType.SUM);
  assert.equal(requests.dataPointType === DataPointType.SUM && requests.isMonotonic, true);
  assert.equal(byName.get(CATALOGUE.requestDuration.name)!.dataPointType, DataPointType.HISTOGRAM);
  assert.equal(byName.get(CATALOGUE.activeRequests.name)!.dataPointType, DataPointType.GAUGE);
  const point = requests.dataPoints[0]!;
  assert.deepEqual(point.attributes, { method: 'GET', endpoint: '/queue', status: '503' });
  assert.equal(point.value, 1);
  // Start time precedes end time: cumulative data with a real start.
  assert.ok(point.startTime[0] * 1e9 + point.startTime[1] <= point.endTime[0] * 1e9 + point.endTime[1]);
});

test('histogram points carry boundaries, per-bucket counts, sum, count, min and max', async () => {
  const accumulator = new RequestAccumulator({ durationBuckets: [0.1, 1], sizeBuckets: [10, 100] });
  accumulator.recordRequest('GET', '/a', 200, 0.05, 0, 5);
  accumulator.recordRequest('GET', '/a', 200, 0.1, 0, 50);
  accumulator.recordRequest('GET', '/a', 200, 3, 0, 500);
  const producer = new HttpMetricProducer({ accumulator, activeRequests: () => 2 });
  const { resourceMetrics } = await producer.collect();
  const metrics = resourceMetrics.scopeMetrics[0]!.metrics;
  const duration = metrics.find((m) => m.descriptor.name === CATALOGUE.requestDuration.name)!;
  assert.equal(duration.dataPointType, DataPointType.HISTOGRAM);
  const value = duration.dataPointType === DataPointType.HISTOGRAM ? duration.dataPoints[0]!.value : undefined;
  // Boundaries are inclusive upper bounds (0.1 lands in the first bucket).
  assert.deepEqual(value?.buckets, { boundaries: [0.1, 1], counts: [2, 0, 1] });
  assert.equal(value?.count, 3);
  assert.ok(Math.abs(value.sum! - 3.15) < 1e-9);
  assert.equal(value?.min, 0.05);
  assert.equal(value?.max, 3);
  const sizes = metrics.find((m) => m.descriptor.name === CATALOGUE.responseSize.name)!;
  const sizeValue = sizes.dataPointType === DataPointType.HISTOGRAM ? sizes.dataPoints[0]!.value : undefined;
  assert.deepEqual(sizeValue?.buckets.counts, [1, 1, 1]);
  const active = metrics.find((m) => m.descriptor.name === CATALOGUE.activeRequests.name)!;
  assert.equal(active.dataPoints[0]!.value, 2);
  // No failures recorded: no empty failure metric either.
  assert.equal(
    metrics.some((m) => m.descriptor.name === CATALOGUE.failedRequests.name),
    false,
  );
});

test('bucket boundaries that are not strictly increasing are rejected with the option named', () => {
  assert.throws(() => new RequestAccumulator({ durationBuckets: [1, 0.5], sizeBuckets: [1] }), /durationBuckets/);
  assert.throws(() => new RequestAccumulator({ durationBuckets: [1], sizeBuckets: [Infinity] }), /sizeBuckets/);
});

test('times a hair below a whole second become the next second, never 1e9 nanoseconds', async () => {
  const accumulator = new RequestAccumulator({ durationBuckets: [0.1, 1], sizeBuckets: [10, 100] });
  accumulator.recordRequest('GET', '/a', 200, 0.05, 0, 5);
  const producer = new HttpMetricProducer({ accumulator, activeRequests: () => 0 }, { now: () => 1999.9999999 });
  const { resourceMetrics } = await producer.collect();
  const points = resourceMetrics.scopeMetrics[0]!.metrics.flatMap((m) => m.dataPoints as { startTime: [number, number]; endTime: [number, number] }[]);
  assert.ok(points.length > 0);
  for (const point of points) {
    assert.deepEqual(point.endTime, [2, 0]);
    for (const [, nanos] of [point.startTime, point.endTime]) assert.ok(nanos >= 0 && nanos < 1e9, `nanoseconds ${nanos}`);
  }
  const active = resourceMetrics.scopeMetrics[0]!.metrics.find((m) => m.descriptor.name === CATALOGUE.activeRequests.name)!;
  assert.deepEqual(active.dataPoints[0]!.startTime, [2, 0]);
});

test('a collection after new requests shows them; one with nothing new keeps the totals and moves the end time', async () => {
  const accumulator = new RequestAccumulator({ durationBuckets: [0.1, 1], sizeBuckets: [10, 100] });
  let nowMs = 10_000;
  let active = 1;
  const producer = new HttpMetricProducer({ accumulator, activeRequests: () => active }, { now: () => nowMs });
  const totals = async (): Promise<{ requests: number[]; failures: number[]; active: number; endTimes: number[] }> => {
    const metrics = (await producer.collect()).resourceMetrics.scopeMetrics[0]!.metrics;
    const values = (definition: { name: string }): number[] => (metrics.find((m) => m.descriptor.name === definition.name)?.dataPoints ?? []).map((p) => p.value as number);
    const endTimes = metrics.flatMap((m) => (m.dataPoints as { endTime: [number, number] }[]).map((p) => p.endTime[0]));
    return { requests: values(CATALOGUE.requests), failures: values(CATALOGUE.failedRequests), active: values(CATALOGUE.activeRequests)[0]!, endTimes };
  };
  accumulator.recordRequest('GET', '/a', 200, 0.05, 0, 5);
  assert.deepEqual((await totals()).requests, [1]);

  nowMs = 20_000;
  active = 3;
  const idle = await totals();
  assert.deepEqual(idle.requests, [1]);
  assert.equal(idle.active, 3);
  assert.ok(
    idle.endTimes.every((seconds) => seconds === 20),
    `end times ${idle.endTimes}`,
  );

  accumulator.recordRequest('GET', '/a', 200, 0.05, 0, 5);
  accumulator.recordRequest('GET', '/b', 200, 0.05, 0, 5);
  assert.deepEqual((await totals()).requests, [2, 1]);
  accumulator.recordFailure('GET', '/b', 'timeout');
  assert.deepEqual((await totals()).failures, [1]);
});

test('the snapshot view built from the accumulator equals the conversion of the OpenTelemetry view, and is reused while nothing changes', () => {
  const accumulator = new RequestAccumulator({ durationBuckets: [0.1, 1], sizeBuckets: [10, 100] });
  accumulator.recordRequest('GET', '/a', 200, 0.05, 0, 5);
  accumulator.recordRequest('GET', '/a', 200, 2, 50, 500, { traceId: '0af7651916cd43dd8448eb211c80319c', spanId: 'b7ad6b7169203331' });
  accumulator.recordRequest('POST', '/b', 500, 0.5, 20, 0);
  accumulator.recordFailure('POST', '/b', 'ECONNRESET');
  accumulator.recordErrorHandled('GET', '/a', 'TypeError');
  let active = 2;
  const producer = new HttpMetricProducer({ accumulator, activeRequests: () => active }, { now: () => 1_700_000_000_123 });
  const viaOpenTelemetry = snapshotMetricsFromResourceMetrics(producer.collectSync());
  const direct = producer.snapshotMetrics();
  assert.deepEqual(direct, viaOpenTelemetry);
  assert.equal((direct[1]!.points[0]!.value as { exemplars?: unknown[] }).exemplars?.length, 1, 'the traced request left an exemplar');
  const again = producer.snapshotMetrics();
  direct.forEach((metric, i) => assert.equal(again[i], metric, `${metric.name} is the same object`));
  active = 1;
  const moved = producer.snapshotMetrics();
  assert.equal(moved.at(-1)!.points[0]!.value, 1);
  assert.equal(moved[0], direct[0]);
  accumulator.recordRequest('GET', '/a', 200, 0.05, 0, 5);
  const next = producer.snapshotMetrics();
  assert.notEqual(next[0], direct[0]);
  assert.deepEqual(next, snapshotMetricsFromResourceMetrics(producer.collectSync()));
});
