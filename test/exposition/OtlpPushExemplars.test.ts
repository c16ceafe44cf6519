import { test } from 'node:test';
import assert from 'node:assert/strict';
import { resourceFromAttributes } from '@opentelemetry/resources';
import type { CollectionResult, MetricProducer } from '@opentelemetry/sdk-metrics';
import type { OtlpProtocol } from '../../src/config/Config';
import { CATALOGUE } from '../../src/catalogue/MetricCatalogue';
import { startOtlpPush, type OtlpPush } from '../../src/exposition/OtlpPush';
import { mergeSnapshots } from '../../src/merge/SnapshotMerger';
import { SelfMetrics } from '../../src/self/SelfMetrics';
import type { SnapshotExemplar, StoredSnapshot } from '../../src/snapshot/Snapshot';
import { counter, histogram, identity, observe, snapshot } from '../merge/fixtures';
import { assertExportMatches } from '../support/otlp/compareExport';
import { OtlpGrpcReceiver } from '../support/otlp/OtlpGrpcReceiver';
import { OtlpHttpReceiver } from '../support/otlp/OtlpHttpReceiver';
import type { ReceivedResource } from '../support/otlp/ReceivedMetrics';
import { otlpConfig, testResource } from '../support/otlp/pushTesting';

const DURATION = CATALOGUE.requestDuration.name;
const BOUNDS = [0.1, 0.5, 1];
const GET = { method: 'GET', endpoint: '/a', status: '200' };

function exemplar(bucket: number, value: number, timeMs: number, id: string): SnapshotExemplar {
  return { bucket, value, timeMs, traceId: id.repeat(32), spanId: id.repeat(16) };
}

/** The merged view of one worker whose exemplars the test sets; everything else as the merge makes it. */
class MergedProducer implements MetricProducer {
  exemplars: SnapshotExemplar[] = [];
  values = [0.05, 0.7];
  last: CollectionResult | undefined;

  async collect(): Promise<CollectionResult> {
    const stored: StoredSnapshot[] = [{
      live: true,
      snapshot: snapshot(identity(0, 10), Date.now(), [
        counter(CATALOGUE.requests.name, [[GET, this.values.length]]),
        histogram(DURATION, [[GET, { ...observe(BOUNDS, this.values), exemplars: this.exemplars }], [{ ...GET, status: '500' }, observe(BOUNDS, [2])]], BOUNDS),
      ]),
    }];
    this.last = { resourceMetrics: mergeSnapshots(stored, { resource: resourceFromAttributes({}), labelInstance: false, nowMs: Date.now() }), errors: [] };
    return this.last;
  }
}

function exemplarsOf(resource: ReceivedResource, status: string): unknown {
  const point = resource.metrics.find((m) => m.name === DURATION)?.points.find((p) => p.attributes['status'] === status);
  return point?.exemplars?.map(({ traceId, spanId, value, timeUnixNano }) => ({ traceId, spanId, value, timeUnixNano }));
}

const nanos = (ms: number): string => (BigInt(ms) * 1_000_000n).toString();

for (const protocol of ['http/protobuf', 'http/json', 'grpc'] as OtlpProtocol[]) {
  test(`${protocol}: histogram exemplars arrive as OTLP exemplars, the rest of the batch unchanged`, { timeout: 30_000 }, async (t) => {
    const receiver = protocol === 'grpc' ? await OtlpGrpcReceiver.start() : await OtlpHttpReceiver.start();
    const producer = new MergedProducer();
    let push: OtlpPush | undefined;
    t.after(async () => {
      await push?.shutdown();
      await receiver.close();
    });
    const now = Date.now();
    producer.exemplars = [exemplar(0, 0.05, now - 2_000, 'a'), exemplar(2, 0.7, now - 1_000, 'b')];
    push = startOtlpPush({ otlp: otlpConfig({ endpoint: receiver.endpoint, protocol }), intervalMs: 60_000, timeoutMs: 5_000, resource: testResource(), producer, selfMetrics: new SelfMetrics() });
    await push.forceFlush();
    const [first] = await receiver.waitForExports(1);
    const resource = first!.resources[0]!;
    assertExportMatches(resource, producer.last!.resourceMetrics);
    assert.deepEqual(exemplarsOf(resource, '200'), [
      { traceId: 'a'.repeat(32), spanId: 'a'.repeat(16), value: 0.05, timeUnixNano: nanos(now - 2_000) },
      { traceId: 'b'.repeat(32), spanId: 'b'.repeat(16), value: 0.7, timeUnixNano: nanos(now - 1_000) },
    ]);
    assert.deepEqual(exemplarsOf(resource, '500') ?? [], [], 'a point without exemplars gets none');
  });
}

test('delta temporality: each interval carries only the exemplars observed in it', { timeout: 30_000 }, async (t) => {
  const receiver = await OtlpHttpReceiver.start();
  const producer = new MergedProducer();
  let push: OtlpPush | undefined;
  t.after(async () => {
    await push?.shutdown();
    await receiver.close();
  });
  const start = Date.now() - 10_000;
  producer.exemplars = [exemplar(0, 0.05, start, 'a')];
  push = startOtlpPush({ otlp: otlpConfig({ endpoint: receiver.endpoint, protocol: 'http/protobuf', temporality: 'delta' }), intervalMs: 60_000, timeoutMs: 5_000, resource: testResource(), producer, selfMetrics: new SelfMetrics() });
  await push.forceFlush();
  await receiver.waitForExports(1);
  // One more traced request lands in the 1 s bucket; the 0.1 s bucket's exemplar is from the earlier interval.
  producer.values = [0.05, 0.7, 0.8];
  producer.exemplars = [exemplar(0, 0.05, start, 'a'), exemplar(2, 0.8, Date.now() + 1_000, 'c')];
  await push.forceFlush();
  const [, second] = await receiver.waitForExports(2);
  const exemplars = exemplarsOf(second!.resources[0]!, '200') as { traceId: string }[];
  assert.deepEqual(exemplars.map((e) => e.traceId), ['c'.repeat(32)]);
});
