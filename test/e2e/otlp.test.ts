/**
 * The merged view over OTLP: a real cluster app pushes to a loopback OTLP
 * receiver (official protobuf definitions) while serving /metrics, and the two
 * carry the same numbers — one stream for the whole app, not one per worker.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ALL_METRICS, CATALOGUE, LABEL, prometheusName } from '../../src/catalogue/MetricCatalogue';
import { load, scrape, sleep, startApp } from '../support/processes';
import type { RunningApp } from '../support/processes';
import { OtlpHttpReceiver } from '../support/otlp/OtlpHttpReceiver';
import type { ReceivedMetric } from '../support/otlp/ReceivedMetrics';

describe('OTLP push from a cluster primary', () => {
  let receiver: OtlpHttpReceiver;
  let app: RunningApp;

  before(async () => {
    receiver = await OtlpHttpReceiver.start();
    app = await startApp('cluster-app.js', {
      APP_WORKERS: '2',
      OTEL_SERVICE_NAME: 'checkout',
      OTEL_RESOURCE_ATTRIBUTES: 'service.instance.id=host-a,deployment.environment=test',
      OTEL_METRICS_EXPORTER: 'prometheus,otlp',
      OTEL_EXPORTER_OTLP_ENDPOINT: receiver.endpoint,
      OTEL_EXPORTER_OTLP_PROTOCOL: 'http/protobuf',
      OTEL_METRIC_EXPORT_INTERVAL: '1000',
    });
  });
  after(async () => {
    await app?.stop();
    await receiver?.close();
  });

  test('every exported series equals what /metrics shows, under instrument names, from one stream', async () => {
    await load(app.appPort, '/users/1', 40);
    await load(app.appPort, '/boom', 5);
    await sleep(1500); // both views settle: flushes are done and traffic has stopped
    const seen = receiver.exports.length;
    const [latest] = (await receiver.waitForExports(seen + 1, 5000)).slice(-1);
    const exposition = await scrape(app.metricsPort);
    assert.ok(latest, 'an export arrived');

    assert.equal(latest.resources.length, 1, 'one resource: the merged view, not one per worker');
    const [resource] = latest.resources;
    assert.equal(resource?.attributes['service.name'], 'checkout');
    assert.equal(resource?.attributes['service.instance.id'], 'host-a');
    assert.equal(resource?.attributes['deployment.environment'], 'test');

    const metrics = new Map<string, ReceivedMetric>((resource?.metrics ?? []).map((metric) => [metric.name, metric]));
    const requests = metrics.get(CATALOGUE.requests.name);
    assert.ok(requests, `${CATALOGUE.requests.name} is exported under its instrument name`);
    assert.equal(metrics.has(prometheusName(CATALOGUE.requests)), false, 'no _total suffix over OTLP');
    assert.equal(requests.unit, CATALOGUE.requests.unit);
    assert.equal(requests.monotonic, true);

    for (const point of requests.points) {
      const labels = Object.fromEntries(Object.entries(point.attributes).map(([k, v]) => [k, String(v)]));
      assert.equal(exposition.sum(prometheusName(CATALOGUE.requests), labels), point.value, JSON.stringify(labels));
    }
    const exportedTotal = requests.points.reduce((sum, point) => sum + (point.value ?? 0), 0);
    assert.equal(exportedTotal, exposition.sum(prometheusName(CATALOGUE.requests)));

    const duration = metrics.get(CATALOGUE.requestDuration.name);
    assert.ok(duration);
    const exportedCount = duration.points.reduce((sum, point) => sum + (point.count ?? 0), 0);
    assert.equal(exportedCount, exposition.sum(`${CATALOGUE.requestDuration.name}_count`));
    assert.deepEqual(duration.points[0]?.explicitBounds, [...CATALOGUE.requestDuration.buckets]);
  });

  test('cumulative start times stay put from one export to the next', async () => {
    const count = receiver.exports.length;
    const [first, second] = (await receiver.waitForExports(count + 2, 5000)).slice(-2);
    const startTimes = (exported: typeof first): Map<string, string> => {
      const requests = exported?.resources[0]?.metrics.find((metric) => metric.name === CATALOGUE.requests.name);
      return new Map((requests?.points ?? []).map((point) => [JSON.stringify(point.attributes), point.startTimeUnixNano]));
    };
    const before = startTimes(first);
    const after = startTimes(second);
    assert.ok(before.size > 0);
    for (const [series, start] of before) assert.equal(after.get(series), start, series);
  });

  test("runtime metrics go out under OpenTelemetry's runtime names and attributes, per worker, with /metrics' numbers", async () => {
    const count = receiver.exports.length;
    const [latest] = (await receiver.waitForExports(count + 1, 5000)).slice(-1);
    const exported = new Map<string, ReceivedMetric>((latest?.resources[0]?.metrics ?? []).map((metric) => [metric.name, metric]));
    // The names OpenTelemetry's runtime semantic conventions give them, as a user's OTLP dashboards query them.
    for (const name of ['process.cpu.time', 'nodejs.eventloop.delay.p99', 'nodejs.eventloop.delay.min', 'v8js.memory.heap.used']) {
      const metric = exported.get(name);
      assert.ok(metric, `${name} is exported (got ${[...exported.keys()].join(', ')})`);
      assert.deepEqual([...new Set(metric.points.map((point) => String(point.attributes.worker_id)))].sort(), ['0', '1'], name);
    }
    const renamed = ALL_METRICS.filter((definition) => definition.otlp !== undefined);
    assert.ok(renamed.length >= 10);
    for (const definition of renamed) assert.equal(exported.has(definition.name), false, `${definition.name} leaves only as ${definition.otlp?.name}`);
    const heap = exported.get('v8js.memory.heap.used');
    assert.ok(
      heap?.points.some((point) => point.attributes['v8js.heap.space.name'] === 'old_space' || point.attributes['v8js.heap.space.name'] === 'old'),
      'heap spaces under v8js.heap.space.name',
    );
    assert.ok(heap?.points.every((point) => point.attributes[LABEL.space] === undefined));
    // CPU seconds are a cumulative counter whose per-worker values never go back between the export and a later scrape.
    const cpu = exported.get('process.cpu.time');
    assert.equal(cpu?.monotonic, true);
    const exposition = await scrape(app.metricsPort);
    for (const point of cpu?.points ?? []) {
      const scraped = exposition.sum(prometheusName(CATALOGUE.runtimeCpu), { worker_id: String(point.attributes.worker_id) });
      assert.ok(scraped >= (point.value ?? Infinity) && (point.value ?? 0) > 0, `worker ${String(point.attributes.worker_id)}: exported ${point.value}, scraped ${scraped}`);
    }
    const gc = exported.get('v8js.gc.duration');
    if (exposition.sum(`${CATALOGUE.runtimeGcDuration.name}_count`) > 0 && gc !== undefined) {
      assert.equal(gc.kind, 'histogram');
      assert.ok(gc.points.every((point) => typeof point.attributes['v8js.gc.type'] === 'string' && point.attributes[LABEL.gcKind] === undefined));
    }
  });
});
