import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ResourceMetrics } from '@opentelemetry/sdk-metrics';
import { SelfMetrics } from '../../src/self/SelfMetrics';
import { ExportGuard, type ExportOutcome } from '../../src/exposition/otlp/ExportGuard';
import { createOtlpExporter } from '../../src/exposition/otlp/createOtlpExporter';
import { CatalogueProducer } from '../support/otlp/CatalogueProducer';
import { OtlpHttpReceiver } from '../support/otlp/OtlpHttpReceiver';
import { exportErrors, LogCapture, otlpConfig } from '../support/otlp/pushTesting';

/** A hung test fails instead of holding up the whole run. */
const TEST_TIMEOUT_MS = 30_000;

const INTERVAL = 1000;

/** A guard around the real http/protobuf exporter, with a clock the test moves. */
async function setUp(maxBackoffMs = 60_000): Promise<{
  receiver: OtlpHttpReceiver;
  guard: ExportGuard;
  clock: { now: number };
  selfMetrics: SelfMetrics;
  batch: ResourceMetrics;
  cleanUp: () => Promise<void>;
}> {
  const receiver = await OtlpHttpReceiver.start();
  const producer = new CatalogueProducer();
  producer.recordRequest('1', 0.01);
  const batch = (await producer.collect()).resourceMetrics;
  const clock = { now: 0 };
  const selfMetrics = new SelfMetrics();
  const guard = new ExportGuard({
    name: 'otlp',
    target: receiver.endpoint,
    exporter: createOtlpExporter(otlpConfig({ endpoint: receiver.endpoint }), 300),
    deadlineMs: 300,
    intervalMs: INTERVAL,
    maxBackoffMs,
    delta: false,
    selfMetrics,
    now: () => clock.now,
  });
  const cleanUp = async (): Promise<void> => {
    await guard.shutdown();
    await producer.shutdown();
    await receiver.close();
  };
  return { receiver, guard, clock, selfMetrics, batch, cleanUp };
}

test('after consecutive failures, attempts are spaced 1, 2, 4 ... intervals apart up to the cap', { timeout: TEST_TIMEOUT_MS }, async (t) => {
  const { receiver, guard, clock, selfMetrics, batch, cleanUp } = await setUp(4 * INTERVAL);
  const logs = new LogCapture();
  t.after(async () => {
    logs.stop();
    await cleanUp();
  });
  receiver.mode = { status: 400 }; // refused, not retryable: each attempt fails at once
  const outcomes: ExportOutcome[] = [];
  for (let tick = 0; tick < 16; tick += 1) {
    clock.now = tick * INTERVAL + 3; // ticks land a few ms off the exact multiple
    outcomes.push(await guard.send(batch));
  }
  const attempts = outcomes.flatMap((outcome, tick) => (outcome === 'failed' ? [tick] : []));
  assert.deepEqual(attempts, [0, 1, 3, 7, 11, 15], 'backoff doubles, then holds at the 4-interval cap');
  assert.ok(outcomes.every((outcome) => outcome === 'failed' || outcome === 'backoff'));
  assert.equal(exportErrors(selfMetrics), attempts.length, 'each failed export is counted once');
  assert.equal(receiver.requests, attempts.length, 'skipped intervals send nothing');
  assert.equal(logs.matching(receiver.endpoint).length, 1, 'one log line for the whole outage');

  receiver.mode = 'accept';
  clock.now = 19 * INTERVAL;
  assert.equal(await guard.send(batch), 'sent');
  assert.equal(guard.failures, 0);
  assert.equal(logs.matching(receiver.endpoint).length, 2, 'and one line when it recovers');
  assert.match(logs.lines.at(-1) ?? '', /recovered after 6 failed attempt/);
  clock.now += INTERVAL;
  assert.equal(await guard.send(batch), 'sent', 'no backoff once recovered');
});

test('a forced send ignores the backoff', { timeout: TEST_TIMEOUT_MS }, async (t) => {
  const { receiver, guard, clock, batch, cleanUp } = await setUp();
  const logs = new LogCapture();
  t.after(async () => {
    logs.stop();
    await cleanUp();
  });
  receiver.mode = { status: 400 };
  assert.equal(await guard.send(batch), 'failed');
  clock.now = INTERVAL;
  assert.equal(await guard.send(batch), 'failed');
  clock.now = 2 * INTERVAL;
  assert.equal(guard.ready(), false);
  assert.equal(await guard.send(batch), 'backoff');
  receiver.mode = 'accept';
  assert.equal(guard.ready(true), true);
  assert.equal(await guard.send(batch, true), 'sent');
});

test('one export in flight: a batch offered meanwhile is dropped, and a hung export ends at the deadline', { timeout: TEST_TIMEOUT_MS }, async (t) => {
  const { receiver, guard, selfMetrics, batch, cleanUp } = await setUp();
  const logs = new LogCapture();
  t.after(async () => {
    logs.stop();
    await cleanUp();
  });
  receiver.mode = 'hang';
  const first = guard.send(batch);
  const meanwhile = await Promise.all([guard.send(batch), guard.send(batch), guard.send(batch)]);
  assert.deepEqual(meanwhile, ['busy', 'busy', 'busy'], 'dropped, not queued');
  assert.equal(await first, 'failed', 'the hung export gives up at the deadline');
  assert.equal(exportErrors(selfMetrics), 1);
  assert.equal(receiver.maxOpenRequests, 1, 'never more than one request at the collector');
  assert.match(logs.lines[0] ?? '', /timed out|timeout/i);
});
