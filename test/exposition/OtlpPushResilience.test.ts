import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { CollectionResult, MetricProducer } from '@opentelemetry/sdk-metrics';
import type { OtlpProtocol } from '../../src/config/Config';
import { SelfMetrics } from '../../src/self/SelfMetrics';
import { startOtlpPush, type OtlpPush } from '../../src/exposition/OtlpPush';
import { CatalogueProducer } from '../support/otlp/CatalogueProducer';
import { OtlpGrpcReceiver } from '../support/otlp/OtlpGrpcReceiver';
import { OtlpHttpReceiver } from '../support/otlp/OtlpHttpReceiver';
import { closedPort, exportErrors, LogCapture, otlpConfig, sleep, testResource, until } from '../support/otlp/pushTesting';

/** A hung test fails instead of holding up the whole run. */
const TEST_TIMEOUT_MS = 30_000;

/** Short interval so outages span many intervals within a quick test. */
const INTERVAL_MS = 60;
const TIMEOUT_MS = 60;
/** Backoff cap: about four intervals between attempts during an outage. */
const MAX_BACKOFF_MS = 240;

interface Harness {
  push: OtlpPush;
  producer: CatalogueProducer;
  selfMetrics: SelfMetrics;
  logs: LogCapture;
}

function startPush(endpoint: string, protocol: OtlpProtocol, producer: MetricProducer = new CatalogueProducer()): Harness & { producer: CatalogueProducer } {
  const catalogueProducer = producer instanceof CatalogueProducer ? producer : new CatalogueProducer();
  catalogueProducer.recordRequest('1', 0.02);
  const selfMetrics = new SelfMetrics();
  const logs = new LogCapture();
  const push = startOtlpPush({
    otlp: otlpConfig({ endpoint, protocol, timeoutMs: TIMEOUT_MS }),
    intervalMs: INTERVAL_MS,
    timeoutMs: TIMEOUT_MS,
    maxBackoffMs: MAX_BACKOFF_MS,
    resource: testResource(),
    producer,
    selfMetrics,
  });
  return { push, producer: catalogueProducer, selfMetrics, logs };
}

async function tearDown(harness: Harness, ...closers: { close(): Promise<void> }[]): Promise<void> {
  await harness.push.shutdown();
  harness.logs.stop();
  await harness.producer.shutdown();
  for (const closer of closers) await closer.close();
}

for (const protocol of ['http/protobuf', 'grpc'] as const) {
  test(`${protocol}: collector down, then back: no throw, errors counted, one line per outage, recovery`, { timeout: TEST_TIMEOUT_MS }, async (t) => {
    const port = await closedPort();
    const endpoint = `http://127.0.0.1:${port}`;
    const harness = startPush(endpoint, protocol);
    let receiver: OtlpHttpReceiver | OtlpGrpcReceiver | undefined;
    t.after(() => tearDown(harness, ...(receiver ? [receiver] : [])));

    await until('three failed exports', () => exportErrors(harness.selfMetrics) >= 3);
    assert.equal(harness.logs.matching(endpoint).length, 1, 'one log line for the outage, not one per attempt');
    assert.match(harness.logs.matching(endpoint)[0] ?? '', /otlp export .* failed/);

    receiver = protocol === 'grpc' ? await OtlpGrpcReceiver.start(port) : await OtlpHttpReceiver.start(port);
    await receiver.waitForExports(1, 10_000);
    await until('the recovery line', () => harness.logs.matching(endpoint).length === 2);
    assert.match(harness.logs.matching(endpoint)[1] ?? '', /recovered/);
  });

  test(`${protocol}: collector that never answers: exports time out, one at a time, nothing piles up, recovery`, { timeout: TEST_TIMEOUT_MS }, async (t) => {
    const receiver = protocol === 'grpc' ? await OtlpGrpcReceiver.start() : await OtlpHttpReceiver.start();
    receiver.mode = 'hang';
    const harness = startPush(receiver.endpoint, protocol);
    t.after(() => tearDown(harness, receiver));

    await until('four timed-out exports', () => exportErrors(harness.selfMetrics) >= 4);
    assert.ok(receiver.maxOpenRequests <= 1, `at most one export open at the collector, saw ${receiver.maxOpenRequests}`);
    assert.ok(receiver.openRequests <= 1);
    assert.equal(harness.logs.matching(receiver.endpoint).length, 1, 'one log line for the outage');

    receiver.mode = 'accept';
    await receiver.waitForExports(1, 10_000);
    await until('the recovery line', () => harness.logs.matching(receiver.endpoint).length === 2);
    assert.ok(receiver.maxOpenRequests <= 1);
  });
}

test('a refusing collector (HTTP 400): errors counted, one line, recovery when it accepts', { timeout: TEST_TIMEOUT_MS }, async (t) => {
  const receiver = await OtlpHttpReceiver.start();
  receiver.mode = { status: 400 };
  const harness = startPush(receiver.endpoint, 'http/json');
  t.after(() => tearDown(harness, receiver));
  await until('three refused exports', () => exportErrors(harness.selfMetrics) >= 3);
  assert.equal(harness.logs.matching(receiver.endpoint).length, 1);
  assert.ok(exportErrors(harness.selfMetrics) <= receiver.requests, 'each refused request counted once');
  receiver.mode = 'accept';
  await receiver.waitForExports(1, 10_000);
});

test('the app keeps answering every request while the collector hangs', { timeout: TEST_TIMEOUT_MS }, async (t) => {
  const collector = await OtlpHttpReceiver.start();
  collector.mode = 'hang';
  const harness = startPush(collector.endpoint, 'http/protobuf');
  const app = await startApp();
  t.after(async () => {
    await tearDown(harness, collector);
    await new Promise<void>((resolve) => app.close(() => resolve()));
  });
  const port = (app.address() as AddressInfo).port;
  const statuses: number[] = [];
  // Bounded load: 400 requests, 8 at a time, spanning many push intervals.
  for (let round = 0; round < 50; round += 1) {
    statuses.push(...(await Promise.all(Array.from({ length: 8 }, () => get(port)))));
  }
  await until('some timed-out exports', () => exportErrors(harness.selfMetrics) >= 2);
  assert.equal(statuses.length, 400);
  assert.ok(
    statuses.every((status) => status === 200),
    'no failed request',
  );
  assert.ok(collector.maxOpenRequests <= 1);
});

test('a producer that never answers: one pending collect, not one per interval; shutdown still returns', { timeout: TEST_TIMEOUT_MS }, async (t) => {
  let calls = 0;
  const stuck: MetricProducer = {
    collect: () => {
      calls += 1;
      return new Promise<CollectionResult>(() => undefined);
    },
  };
  const receiver = await OtlpHttpReceiver.start();
  const harness = startPush(receiver.endpoint, 'http/protobuf', stuck);
  t.after(async () => {
    await harness.push.shutdown();
    harness.logs.stop();
    await harness.producer.shutdown();
    await receiver.close();
  });
  await sleep(INTERVAL_MS * 10);
  assert.equal(calls, 1, 'the hung collect is not called again while it is pending');
  assert.equal(receiver.requests, 0, 'nothing to send');
  assert.equal(harness.logs.matching('collecting the merged view').length, 1, 'logged once');
  await harness.push.shutdown();
});

async function startApp(): Promise<Server> {
  const server = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return server;
}

function get(port: number): Promise<number> {
  return new Promise((resolve) => {
    const req = request({ host: '127.0.0.1', port, path: '/', agent: false }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', () => resolve(0));
    req.end();
  });
}
