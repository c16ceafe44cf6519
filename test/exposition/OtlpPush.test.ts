import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { OtlpProtocol } from '../../src/config/Config';
import { CATALOGUE, LABEL, SCOPE_NAME } from '../../src/catalogue/MetricCatalogue';
import { SelfMetrics } from '../../src/self/SelfMetrics';
import { startOtlpPush, type OtlpPush } from '../../src/exposition/OtlpPush';
import { CatalogueProducer } from '../support/otlp/CatalogueProducer';
import { assertExportMatches } from '../support/otlp/compareExport';
import type { ExportRecorder, ReceivedExport } from '../support/otlp/ExportRecorder';
import { OtlpGrpcReceiver } from '../support/otlp/OtlpGrpcReceiver';
import { OtlpHttpReceiver } from '../support/otlp/OtlpHttpReceiver';
import { exportErrors, otlpConfig, startManualPush, testResource } from '../support/otlp/pushTesting';

/** A hung test fails instead of holding up the whole run. */
const TEST_TIMEOUT_MS = 30_000;

type Receiver = ExportRecorder & { endpoint: string; close(): Promise<void> };

const CASES: { protocol: OtlpProtocol; compression: 'gzip' | 'none' }[] = [
  { protocol: 'http/protobuf', compression: 'none' },
  { protocol: 'http/protobuf', compression: 'gzip' },
  { protocol: 'http/json', compression: 'none' },
  { protocol: 'http/json', compression: 'gzip' },
  { protocol: 'grpc', compression: 'none' },
  { protocol: 'grpc', compression: 'gzip' },
];

async function startReceiver(protocol: OtlpProtocol): Promise<Receiver> {
  return protocol === 'grpc' ? OtlpGrpcReceiver.start() : OtlpHttpReceiver.start();
}

/** Records some traffic from two workers, as the merged view would hold it. */
function recordTraffic(producer: CatalogueProducer, round: number): void {
  for (let i = 0; i < 3 + round; i += 1) producer.recordRequest('1', 0.004 * (i + 1));
  for (let i = 0; i < 2 * round + 1; i += 1) producer.recordRequest('2', 0.3 + i, '/orders', '503');
  producer.setMemory('1', 50_000_000 + round);
  producer.setMemory('2', 60_000_000 + round);
}

for (const { protocol, compression } of CASES) {
  test(
    `${protocol}${compression === 'gzip' ? ' with gzip' : ''}: the merged series arrive as produced, named, with units, attributes and resource`,
    { timeout: TEST_TIMEOUT_MS },
    async (t) => {
      const receiver = await startReceiver(protocol);
      const producer = new CatalogueProducer();
      const selfMetrics = new SelfMetrics();
      let push: OtlpPush | undefined;
      t.after(async () => {
        await push?.shutdown();
        await producer.shutdown();
        await receiver.close();
      });
      recordTraffic(producer, 0);
      push = startOtlpPush({
        otlp: otlpConfig({ endpoint: receiver.endpoint, protocol, compression, headers: { 'X-Api-Key': 'secret-1' } }),
        // Long interval: the test drives exports with forceFlush.
        intervalMs: 60_000,
        timeoutMs: 5_000,
        resource: testResource('host-a'),
        producer,
        selfMetrics,
      });

      await push.forceFlush();
      const [first] = await receiver.waitForExports(1);
      assert.ok(first && producer.last);
      assertDelivery(first, protocol, compression);
      assert.equal(first.resources.length, 1, 'one stream for the whole service');
      const [resource] = first.resources;
      assert.ok(resource);
      assert.deepEqual(resource.attributes, { 'service.name': 'checkout', 'service.instance.id': 'host-a' });
      assertExportMatches(resource, producer.last.resourceMetrics);

      const names = resource.metrics.map((metric) => metric.name);
      assert.ok(names.includes(CATALOGUE.requests.name), 'counter goes out under its instrument name');
      assert.ok(
        names.every((name) => !name.endsWith('_total')),
        'no Prometheus _total suffix on the wire',
      );
      const requests = resource.metrics.find((metric) => metric.name === CATALOGUE.requests.name);
      assert.equal(requests?.unit, CATALOGUE.requests.unit);
      assert.equal(requests?.scope, SCOPE_NAME);
      assert.deepEqual(requests?.points.map((point) => point.attributes[LABEL.workerId]).sort(), ['1', '2'], 'worker_id travels as an attribute');

      // A second interval: new values, same cumulative start times.
      recordTraffic(producer, 1);
      await push.forceFlush();
      const [, second] = await receiver.waitForExports(2);
      assert.ok(second?.resources[0] && producer.last);
      assertExportMatches(second.resources[0], producer.last.resourceMetrics);
      assertStartTimesStayPut(resource.metrics, second.resources[0].metrics);
      assert.equal(exportErrors(selfMetrics), 0);
    },
  );
}

function assertDelivery(received: ReceivedExport, protocol: OtlpProtocol, compression: 'gzip' | 'none'): void {
  assert.equal(received.protocol, protocol);
  if (protocol !== 'grpc') assert.equal(received.compressed, compression === 'gzip', 'compression as configured');
  assert.equal(received.headers['x-api-key'], 'secret-1', 'configured headers (gRPC: metadata) are sent');
  if (protocol !== 'grpc') assert.equal(received.path, '/v1/metrics', 'a base endpoint gets /v1/metrics appended');
}

function assertStartTimesStayPut(
  before: readonly { name: string; points: readonly { attributes: object; startTimeUnixNano: string; timeUnixNano: string }[] }[],
  after: typeof before,
): void {
  let compared = 0;
  for (const metric of before) {
    if (metric.name === CATALOGUE.memory.name) continue; // gauges carry no meaningful start
    const later = after.find((m) => m.name === metric.name);
    for (const point of metric.points) {
      const match = later?.points.find((p) => JSON.stringify(p.attributes) === JSON.stringify(point.attributes));
      assert.ok(match, `${metric.name} still exported`);
      assert.equal(match.startTimeUnixNano, point.startTimeUnixNano, `${metric.name}: cumulative start time stays put`);
      assert.ok(BigInt(match.timeUnixNano) > BigInt(point.timeUnixNano), `${metric.name}: time moves on`);
      compared += 1;
    }
  }
  assert.ok(compared >= 4);
}

test('console and otlp together: one collect per interval feeds both', { timeout: TEST_TIMEOUT_MS }, async (t) => {
  const receiver = await OtlpHttpReceiver.start();
  const producer = new CatalogueProducer();
  const printed: string[] = [];
  const originalDir = console.dir;
  console.dir = (item: unknown) => {
    printed.push(JSON.stringify(item));
  };
  let push: OtlpPush | undefined;
  t.after(async () => {
    await push?.shutdown();
    console.dir = originalDir;
    await producer.shutdown();
    await receiver.close();
  });
  recordTraffic(producer, 0);
  push = startOtlpPush({
    otlp: otlpConfig({ endpoint: receiver.endpoint }),
    exporters: ['prometheus', 'otlp', 'console'],
    intervalMs: 60_000,
    timeoutMs: 5_000,
    resource: testResource(),
    producer,
    selfMetrics: new SelfMetrics(),
  });
  await push.forceFlush();
  await receiver.waitForExports(1);
  assert.equal(producer.collects, 1, 'the merged view is collected once for both destinations');
  assert.ok(
    printed.some((line) => line.includes(CATALOGUE.requests.name)),
    'the console exporter printed the batch',
  );
});

test('an endpoint with a path is used as given', { timeout: TEST_TIMEOUT_MS }, async (t) => {
  const { receiver, producer, push } = await startManualPush(t, (endpoint) => otlpConfig({ endpoint: `${endpoint}/custom/metrics`, protocol: 'http/json' }));
  recordTraffic(producer, 0);
  await push.forceFlush();
  const [received] = await receiver.waitForExports(1);
  assert.equal(received?.path, '/custom/metrics');
});

test('bad settings fail at startup with an error naming them', () => {
  const base = { resource: testResource(), producer: new CatalogueProducer(), selfMetrics: new SelfMetrics() };
  assert.throws(() => startOtlpPush({ ...base, otlp: otlpConfig({ endpoint: 'localhost:4318' }), intervalMs: 1000, timeoutMs: 500 }), /OTLP endpoint "localhost:4318"/);
  assert.throws(() => startOtlpPush({ ...base, otlp: otlpConfig({ endpoint: '' }), intervalMs: 0, timeoutMs: 500 }), /export interval/);
  assert.throws(() => startOtlpPush({ ...base, otlp: otlpConfig({ endpoint: '' }), intervalMs: 1000, timeoutMs: -1 }), /export timeout/);
});
