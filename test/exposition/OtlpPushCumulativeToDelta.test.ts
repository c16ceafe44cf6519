import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ValueType, type HrTime } from '@opentelemetry/api';
import { emptyResource } from '@opentelemetry/resources';
import { AggregationTemporality, DataPointType, type DataPoint, type Histogram, type MetricData, type ResourceMetrics } from '@opentelemetry/sdk-metrics';
import { CATALOGUE, SCOPE_NAME } from '../../src/catalogue/MetricCatalogue';
import { CumulativeToDelta } from '../../src/exposition/otlp/CumulativeToDelta';

const START: HrTime = [1_700_000_000, 0];
const at = (seconds: number): HrTime => [START[0] + seconds, 0];
const W1 = { worker_id: '1', method: 'GET', endpoint: '/', status: '200' };

function sum(points: DataPoint<number>[], monotonic = true, name: string = CATALOGUE.requests.name): MetricData {
  return {
    descriptor: { name, description: 'd', unit: '1', valueType: ValueType.DOUBLE },
    aggregationTemporality: AggregationTemporality.CUMULATIVE,
    dataPointType: DataPointType.SUM,
    isMonotonic: monotonic,
    dataPoints: points,
  };
}

function histogram(points: DataPoint<Histogram>[]): MetricData {
  return {
    descriptor: { name: CATALOGUE.requestDuration.name, description: 'd', unit: 's', valueType: ValueType.DOUBLE },
    aggregationTemporality: AggregationTemporality.CUMULATIVE,
    dataPointType: DataPointType.HISTOGRAM,
    dataPoints: points,
  };
}

function gauge(value: number, end: number): MetricData {
  return {
    descriptor: { name: CATALOGUE.memory.name, description: 'd', unit: 'By', valueType: ValueType.DOUBLE },
    aggregationTemporality: AggregationTemporality.CUMULATIVE,
    dataPointType: DataPointType.GAUGE,
    dataPoints: [{ startTime: at(end), endTime: at(end), attributes: { worker_id: '1' }, value }],
  };
}

function batch(...metrics: MetricData[]): ResourceMetrics {
  return { resource: emptyResource(), scopeMetrics: [{ scope: { name: SCOPE_NAME }, metrics }] };
}

function point<T>(value: T, end: number, start: HrTime = START, attributes: Record<string, string> = W1): DataPoint<T> {
  return { startTime: start, endTime: at(end), attributes, value };
}

function only(result: ResourceMetrics): MetricData {
  const metric = result.scopeMetrics[0]?.metrics[0];
  assert.ok(metric);
  return metric;
}

function hist(counts: number[], sumValue: number): Histogram {
  return { buckets: { boundaries: [0.1, 1], counts }, count: counts.reduce((a, b) => a + b, 0), sum: sumValue, min: 0.01, max: 5 };
}

test('a monotonic sum becomes the increase since the last delivered batch, starting where that one ended', () => {
  const converter = new CumulativeToDelta();
  const first = converter.convert(batch(sum([point(5, 10)])));
  const firstMetric = only(first.resourceMetrics);
  assert.equal(firstMetric.aggregationTemporality, AggregationTemporality.DELTA);
  assert.deepEqual(firstMetric.dataPoints[0], point(5, 10), 'first sight: the whole value since the series started');
  first.commit();

  const second = only(converter.convert(batch(sum([point(8, 20)]))).resourceMetrics);
  assert.equal(second.dataPoints[0]?.value, 3);
  assert.deepEqual(second.dataPoints[0]?.startTime, at(10));
  assert.deepEqual(second.dataPoints[0]?.endTime, at(20));
});

test('an export that was not committed (failed) is carried into the next delta', () => {
  const converter = new CumulativeToDelta();
  converter.convert(batch(sum([point(5, 10)]))).commit();
  converter.convert(batch(sum([point(7, 20)]))); // failed: no commit
  const third = only(converter.convert(batch(sum([point(9, 30)]))).resourceMetrics);
  assert.equal(third.dataPoints[0]?.value, 4, 'the failed interval is not lost');
  assert.deepEqual(third.dataPoints[0]?.startTime, at(10));
});

test('a restarted series (new start time, or a value that went down) reports its whole new value', () => {
  const converter = new CumulativeToDelta();
  converter.convert(batch(sum([point(50, 10)]))).commit();
  const restarted = only(converter.convert(batch(sum([point(4, 20, at(15))]))).resourceMetrics);
  assert.equal(restarted.dataPoints[0]?.value, 4);
  assert.deepEqual(restarted.dataPoints[0]?.startTime, at(15));

  const other = new CumulativeToDelta();
  other.convert(batch(sum([point(50, 10)]))).commit();
  const lower = only(other.convert(batch(sum([point(3, 20)]))).resourceMetrics);
  assert.equal(lower.dataPoints[0]?.value, 3);
});

test('histograms become per-interval buckets, count and sum; min and max are dropped', () => {
  const converter = new CumulativeToDelta();
  converter.convert(batch(histogram([point(hist([1, 2, 0], 2.5), 10)]))).commit();
  const delta = only(converter.convert(batch(histogram([point(hist([3, 2, 1], 9.5), 20)]))).resourceMetrics);
  assert.equal(delta.aggregationTemporality, AggregationTemporality.DELTA);
  const value = delta.dataPoints[0]?.value as Histogram;
  assert.deepEqual(value.buckets, { boundaries: [0.1, 1], counts: [2, 0, 1] });
  assert.equal(value.count, 3);
  assert.equal(value.sum, 7);
  assert.equal(value.min, undefined);
  assert.equal(value.max, undefined);
  assert.deepEqual(delta.dataPoints[0]?.startTime, at(10));
});

test('changed bucket boundaries count as a restart', () => {
  const converter = new CumulativeToDelta();
  converter.convert(batch(histogram([point(hist([1, 2, 0], 2.5), 10)]))).commit();
  const changed: Histogram = { buckets: { boundaries: [0.5, 1], counts: [4, 2, 1] }, count: 7, sum: 10 };
  const delta = only(converter.convert(batch(histogram([point(changed, 20)]))).resourceMetrics);
  assert.deepEqual(delta.dataPoints[0]?.value, changed);
});

test('gauges and up-down sums pass through unchanged (the OpenTelemetry delta preference)', () => {
  const converter = new CumulativeToDelta();
  const upDown = sum([point(7, 10)], false, CATALOGUE.activeRequests.name);
  const memory = gauge(123, 10);
  const result = converter.convert(batch(upDown, memory));
  assert.equal(result.resourceMetrics.scopeMetrics[0]?.metrics[0], upDown);
  assert.equal(result.resourceMetrics.scopeMetrics[0]?.metrics[1], memory);
});

test('series are told apart by attributes, whatever their order; vanished series are forgotten', () => {
  const converter = new CumulativeToDelta();
  const w2 = { status: '200', endpoint: '/', method: 'GET', worker_id: '2' };
  converter.convert(batch(sum([point(5, 10), point(100, 10, START, w2)]))).commit();
  assert.equal(converter.size, 2);
  const reordered = { worker_id: '1', status: '200', endpoint: '/', method: 'GET' };
  const next = only(converter.convert(batch(sum([point(6, 20, START, reordered)]))).resourceMetrics);
  assert.equal(next.dataPoints[0]?.value, 1);
  converter.convert(batch(sum([point(6, 20, START, reordered)]))).commit();
  assert.equal(converter.size, 1, 'memory follows the live series');
});
