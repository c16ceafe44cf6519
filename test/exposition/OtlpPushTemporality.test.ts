import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CATALOGUE, LABEL } from '../../src/catalogue/MetricCatalogue';
import { nanos } from '../support/otlp/compareExport';
import type { ReceivedExport } from '../support/otlp/ExportRecorder';
import { TEMPORALITY, type ReceivedMetric } from '../support/otlp/ReceivedMetrics';
import { exportErrors, LogCapture, otlpConfig, startManualPush } from '../support/otlp/pushTesting';

/** A hung test fails instead of holding up the whole run. */
const TEST_TIMEOUT_MS = 30_000;

function metric(received: ReceivedExport | undefined, name: string): ReceivedMetric {
  const found = received?.resources[0]?.metrics.find((m) => m.name === name);
  assert.ok(found, `${name} exported`);
  return found;
}

function worker(found: ReceivedMetric, workerId: string): NonNullable<ReceivedMetric['points'][number]> {
  const point = found.points.find((p) => p.attributes[LABEL.workerId] === workerId);
  assert.ok(point, `${found.name} has worker ${workerId}`);
  return point;
}

test('delta: each export carries the increase since the previous one, starting where it ended', { timeout: TEST_TIMEOUT_MS }, async (t) => {
  const logs = new LogCapture();
  t.after(() => logs.stop());
  const { receiver, producer, selfMetrics, push } = await startManualPush(t, (endpoint) => otlpConfig({ endpoint, protocol: 'http/json', temporality: 'delta' }));

  for (let i = 0; i < 3; i += 1) producer.recordRequest('1', 0.01);
  producer.setMemory('1', 1000);
  await push.forceFlush();
  const [first] = await receiver.waitForExports(1);
  const firstRequests = metric(first, CATALOGUE.requests.name);
  assert.equal(firstRequests.temporality, TEMPORALITY.delta);
  assert.equal(firstRequests.monotonic, true);
  assert.equal(worker(firstRequests, '1').value, 3);
  const produced = producer.last?.resourceMetrics.scopeMetrics[0]?.metrics.find((m) => m.descriptor.name === CATALOGUE.requests.name);
  assert.equal(worker(firstRequests, '1').startTimeUnixNano, nanos(produced?.dataPoints[0]?.startTime ?? [0, 0]), 'first delta starts where the series started');
  assert.equal(worker(metric(first, CATALOGUE.requestDuration.name), '1').count, 3);
  assert.equal(metric(first, CATALOGUE.requestDuration.name).temporality, TEMPORALITY.delta);

  for (let i = 0; i < 2; i += 1) producer.recordRequest('1', 0.5);
  await push.forceFlush();
  const [, second] = await receiver.waitForExports(2);
  const secondRequests = worker(metric(second, CATALOGUE.requests.name), '1');
  assert.equal(secondRequests.value, 2, 'the difference, not the running total');
  assert.equal(secondRequests.startTimeUnixNano, worker(firstRequests, '1').timeUnixNano, 'intervals join up');
  const secondDuration = worker(metric(second, CATALOGUE.requestDuration.name), '1');
  assert.equal(secondDuration.count, 2);
  assert.ok(Math.abs((secondDuration.sum ?? 0) - 1) < 1e-9, 'histogram sum of the interval');
  assert.equal(worker(metric(second, CATALOGUE.memory.name), '1').value, 1000, 'gauges stay as they are');

  // A refused export: its increase is carried into the next delivered one.
  receiver.mode = { status: 400 };
  for (let i = 0; i < 4; i += 1) producer.recordRequest('1', 0.01);
  await push.forceFlush();
  assert.equal(exportErrors(selfMetrics), 1);
  receiver.mode = 'accept';
  producer.recordRequest('1', 0.01);
  await push.forceFlush();
  const [, , third] = await receiver.waitForExports(3);
  assert.equal(worker(metric(third, CATALOGUE.requests.name), '1').value, 5, 'nothing lost across the failure');
});

test('cumulative (default): running totals with the producer start time', { timeout: TEST_TIMEOUT_MS }, async (t) => {
  const { receiver, producer, push } = await startManualPush(t, (endpoint) => otlpConfig({ endpoint }));
  for (let i = 0; i < 3; i += 1) producer.recordRequest('1', 0.01);
  await push.forceFlush();
  for (let i = 0; i < 2; i += 1) producer.recordRequest('1', 0.01);
  await push.forceFlush();
  const [first, second] = await receiver.waitForExports(2);
  const a = worker(metric(first, CATALOGUE.requests.name), '1');
  const b = worker(metric(second, CATALOGUE.requests.name), '1');
  assert.equal(metric(second, CATALOGUE.requests.name).temporality, TEMPORALITY.cumulative);
  assert.equal(a.value, 3);
  assert.equal(b.value, 5);
  assert.equal(b.startTimeUnixNano, a.startTimeUnixNano);
});
