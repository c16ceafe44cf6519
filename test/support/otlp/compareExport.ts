import assert from 'node:assert/strict';
import type { HrTime } from '@opentelemetry/api';
import { AggregationTemporality, DataPointType, type DataPoint, type Histogram, type ResourceMetrics } from '@opentelemetry/sdk-metrics';
import { TEMPORALITY, type AttributeValue, type ReceivedMetric, type ReceivedPoint, type ReceivedResource } from './ReceivedMetrics';

/** HrTime → nanoseconds since the epoch, as OTLP carries it. */
export function nanos(time: HrTime): string {
  return (BigInt(time[0]) * 1_000_000_000n + BigInt(time[1])).toString();
}

/** Order-independent identity of an attribute set. */
export function attributeKey(attributes: Readonly<Record<string, unknown>>): string {
  return JSON.stringify(
    Object.keys(attributes)
      .sort()
      .map((key) => [key, attributes[key]]),
  );
}

function flatAttributes(attributes: Readonly<Record<string, unknown>>): Record<string, AttributeValue> {
  const out: Record<string, AttributeValue> = {};
  for (const [key, value] of Object.entries(attributes)) {
    if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') out[key] = value;
  }
  return out;
}

/**
 * Assert that what a receiver decoded is, metric by metric and point by point,
 * what the producer returned: names, units, descriptions, kinds, temporality,
 * attributes, start and end times, values, counts, sums and buckets.
 */
export function assertExportMatches(received: ReceivedResource, produced: ResourceMetrics): void {
  const producedMetrics = produced.scopeMetrics.flatMap((scoped) => scoped.metrics.map((metric) => ({ scope: scoped.scope.name, metric })));
  assert.deepEqual(received.metrics.map((m) => m.name).sort(), producedMetrics.map((p) => p.metric.descriptor.name).sort(), 'the export carries exactly the produced metrics');
  for (const { scope, metric } of producedMetrics) {
    const got = received.metrics.find((m) => m.name === metric.descriptor.name);
    assert.ok(got, `metric ${metric.descriptor.name} was exported`);
    assert.equal(got.scope, scope, `${got.name}: scope`);
    assert.equal(got.unit, metric.descriptor.unit, `${got.name}: unit`);
    assert.equal(got.description, metric.descriptor.description, `${got.name}: description`);
    assertKind(got, metric.dataPointType, metric.aggregationTemporality);
    if (metric.dataPointType === DataPointType.SUM) assert.equal(got.monotonic, metric.isMonotonic, `${got.name}: monotonic`);
    assert.equal(got.points.length, metric.dataPoints.length, `${got.name}: number of series`);
    const byAttributes = new Map(got.points.map((point) => [attributeKey(point.attributes), point]));
    for (const point of metric.dataPoints as DataPoint<number | Histogram>[]) {
      const key = attributeKey(flatAttributes(point.attributes));
      const gotPoint = byAttributes.get(key);
      assert.ok(gotPoint, `${got.name}: series ${key} was exported`);
      assertPoint(got.name, gotPoint, point);
    }
  }
}

function assertKind(got: ReceivedMetric, type: DataPointType, temporality: AggregationTemporality): void {
  const expected = type === DataPointType.SUM ? 'sum' : type === DataPointType.GAUGE ? 'gauge' : type === DataPointType.HISTOGRAM ? 'histogram' : 'other';
  assert.equal(got.kind, expected, `${got.name}: kind`);
  if (expected === 'gauge') return;
  const wire = temporality === AggregationTemporality.DELTA ? TEMPORALITY.delta : TEMPORALITY.cumulative;
  assert.equal(got.temporality, wire, `${got.name}: temporality`);
}

function assertPoint(name: string, got: ReceivedPoint, point: DataPoint<number | Histogram>): void {
  assert.equal(got.startTimeUnixNano, nanos(point.startTime), `${name}: start time`);
  assert.equal(got.timeUnixNano, nanos(point.endTime), `${name}: time`);
  if (typeof point.value === 'number') {
    assert.equal(got.value, point.value, `${name}: value`);
    return;
  }
  assert.equal(got.count, point.value.count, `${name}: count`);
  assert.equal(got.sum, point.value.sum, `${name}: sum`);
  assert.deepEqual(got.bucketCounts, point.value.buckets.counts, `${name}: bucket counts`);
  assert.deepEqual(got.explicitBounds, point.value.buckets.boundaries, `${name}: bucket bounds`);
}
