import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MeterProvider, MetricReader } from '@opentelemetry/sdk-metrics';
import { CATALOGUE } from '../../src/catalogue/MetricCatalogue';
import { snapshotMetricsFromResourceMetrics } from '../../src/snapshot/fromResourceMetrics';
import { decodeSnapshot, encodeSnapshot } from '../../src/snapshot/SnapshotCodec';
import type { HistogramValue } from '../../src/snapshot/Snapshot';
import { HttpMetricProducer } from '../../src/worker/HttpMetricProducer';
import { RequestAccumulator } from '../../src/worker/RequestAccumulator';
import { identity, snapshot } from '../merge/fixtures';

class CollectingReader extends MetricReader {
  protected override async onForceFlush(): Promise<void> {}
  protected override async onShutdown(): Promise<void> {}
}

const trace = (n: number): { traceId: string; spanId: string } => ({ traceId: n.toString(16).padStart(32, '0'), spanId: n.toString(16).padStart(16, '0') });

test('each duration bucket keeps the latest traced observation, through a real reader into a snapshot and the codec', async () => {
  let now = 1_000;
  const accumulator = new RequestAccumulator({ durationBuckets: [0.1, 1], sizeBuckets: [10], now: () => now });
  accumulator.recordRequest('GET', '/a', 200, 0.05, 0, 0, trace(1));
  now = 2_000;
  accumulator.recordRequest('GET', '/a', 200, 0.07, 0, 0, trace(2)); // same bucket: replaces trace 1
  accumulator.recordRequest('GET', '/a', 200, 0.5, 0, 0); // untraced: counted, no exemplar
  accumulator.recordRequest('GET', '/a', 200, 3, 0, 0, trace(3)); // overflow bucket
  accumulator.recordRequest('GET', '/b', 200, 0.5, 0, 0); // a series with no traced request carries none

  const producer = new HttpMetricProducer({ accumulator, activeRequests: () => 0 });
  const reader = new CollectingReader({ metricProducers: [producer] });
  const provider = new MeterProvider({ readers: [reader] });
  const { resourceMetrics } = await reader.collect();
  await provider.shutdown();

  const metrics = snapshotMetricsFromResourceMetrics(resourceMetrics);
  const decoded = decodeSnapshot(encodeSnapshot(snapshot(identity(0, 1), 3_000, metrics)), 'mem');
  const duration = decoded.metrics.find((m) => m.name === CATALOGUE.requestDuration.name)!;
  const byEndpoint = (endpoint: string): HistogramValue => duration.points.find((p) => p.attributes['endpoint'] === endpoint)!.value as HistogramValue;
  assert.deepEqual(byEndpoint('/a').exemplars, [
    { bucket: 0, value: 0.07, timeMs: 2_000, ...trace(2) },
    { bucket: 2, value: 3, timeMs: 2_000, ...trace(3) },
  ]);
  assert.equal(byEndpoint('/b').exemplars, undefined);
  assert.deepEqual(byEndpoint('/a').counts, [2, 1, 1], 'exemplars change no count');
  const size = decoded.metrics.find((m) => m.name === CATALOGUE.requestSize.name)!;
  assert.ok(size.points.every((p) => (p.value as HistogramValue).exemplars === undefined), 'only durations carry exemplars');
});
