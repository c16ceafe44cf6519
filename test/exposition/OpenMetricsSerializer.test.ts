import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ValueType } from '@opentelemetry/api';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { AggregationTemporality, DataPointType } from '@opentelemetry/sdk-metrics';
import type { MetricData, ResourceMetrics } from '@opentelemetry/sdk-metrics';
import { ALL_METRICS, CATALOGUE } from '../../src/catalogue/MetricCatalogue';
import { OpenMetricsSerializer } from '../../src/exposition/OpenMetricsSerializer';
import { PrometheusTextSerializer } from '../../src/exposition/PrometheusTextSerializer';
import { mergeSnapshots } from '../../src/merge/SnapshotMerger';
import type { SnapshotExemplar, SnapshotMetric, StoredSnapshot } from '../../src/snapshot/Snapshot';
import { counter, gauge, histogram, identity, observe, snapshot } from '../merge/fixtures';
import { openMetricsParserUnavailable, parseOpenMetrics } from '../support/openMetricsParser';

const SKIP = openMetricsParserUnavailable();
const TRACE_A = '0af7651916cd43dd8448eb211c80319c';
const TRACE_B = '4bf92f3577b34da6a3ce929d0e0e4736';
const SPAN = 'b7ad6b7169203331';
const NASTY = ['plain', '', 'with "quotes"', 'back\\slash', 'new\nline', 'ünïcødé ✓ 🚀', '{braces},commas=equals'];

function exemplar(bucket: number, value: number, traceId: string, timeMs = 1_700_000_000_123): SnapshotExemplar {
  return { bucket, value, timeMs, traceId, spanId: SPAN };
}

/** Every metric of the catalogue as the merge serves it, two workers, exemplars on request durations. */
function catalogueView(): ResourceMetrics {
  const bounds = [...CATALOGUE.requestDuration.buckets];
  const metricsOf = (slot: number): SnapshotMetric[] =>
    ALL_METRICS.map((definition): SnapshotMetric => {
      const labels = Object.fromEntries(definition.labels.filter((label) => label !== 'worker_id').map((label, i) => [label, NASTY[(i + slot) % NASTY.length]!]));
      if (definition.kind === 'histogram') {
        const value = observe(bounds, [0.003, 0.04, 0.3, 70]);
        const withExemplars = definition.name === CATALOGUE.requestDuration.name
          ? { ...value, exemplars: [exemplar(0, 0.003, slot === 0 ? TRACE_A : TRACE_B), exemplar(7, 0.3, TRACE_A, 1_700_000_000_000 + slot)] }
          : value;
        return { ...histogram(definition.name, [[labels, withExemplars]], bounds), description: definition.help, unit: definition.unit };
      }
      const base = definition.kind === 'counter' ? counter(definition.name, [[labels, 5 + slot]]) : gauge(definition.name, [[labels, 1.5]], definition.kind === 'updowncounter' ? 'updowncounter' : 'gauge');
      return { ...base, description: definition.help, unit: definition.unit };
    });
  const stored: StoredSnapshot[] = [0, 1].map((slot) => ({ snapshot: snapshot(identity(slot, 100 + slot), 5_000, metricsOf(slot)), live: true }));
  return mergeSnapshots(stored, { resource: resourceFromAttributes({}), labelInstance: false, nowMs: 10_000 });
}

test('the merged catalogue in OpenMetrics passes the strict Python parser: names, types, units, exemplars, EOF', { skip: SKIP }, async () => {
  const text = new OpenMetricsSerializer().serialize(catalogueView());
  assert.ok(text.endsWith('# EOF\n'));
  const families = await parseOpenMetrics(text);
  assert.equal(families.length, ALL_METRICS.length, 'one family per catalogue metric, none duplicated');
  for (const definition of ALL_METRICS) {
    const family = families.find((f) => f.name === definition.name);
    assert.ok(family, `family ${definition.name}`);
    assert.equal(family.type, definition.kind === 'updowncounter' ? 'gauge' : definition.kind);
    assert.equal(family.help, definition.help);
    if (definition.kind === 'counter') assert.ok(family.samples.every((s) => s.name === `${definition.name}_total`));
  }
  const unitOf = (name: string): string | undefined => families.find((f) => f.name === name)?.unit;
  assert.equal(unitOf(CATALOGUE.requestDuration.name), 'seconds');
  assert.equal(unitOf(CATALOGUE.memory.name), 'bytes');
  assert.equal(unitOf(CATALOGUE.cpu.name), 'percent');
  assert.equal(unitOf(CATALOGUE.activeRequests.name), '', 'no UNIT where the unit does not match the name (the reported bug)');
  assert.equal(unitOf(CATALOGUE.requests.name), '');

  const duration = families.find((f) => f.name === CATALOGUE.requestDuration.name)!;
  const withExemplars = duration.samples.filter((s) => s.exemplar !== null);
  // Per series (worker) two buckets carry one: the lowest and the 0.5 s bucket.
  assert.deepEqual(withExemplars.map((s) => [s.labels['worker_id'], s.labels['le'], s.exemplar!.labels['trace_id'], s.exemplar!.value]), [
    ['0', '0.005', TRACE_A, 0.003],
    ['0', '0.5', TRACE_A, 0.3],
    ['1', '0.005', TRACE_B, 0.003],
    ['1', '0.5', TRACE_A, 0.3],
  ]);
  assert.equal(withExemplars[0]!.exemplar!.timestamp, 1_700_000_000.123);
});

test('the parser rejects the classic text read as OpenMetrics, so the check above can fail', { skip: SKIP }, async () => {
  const classic = new PrometheusTextSerializer().serialize(catalogueView());
  await assert.rejects(parseOpenMetrics(`${classic}# EOF\n`), /Unit does not match metric name|Clashing name|Invalid/);
  await assert.rejects(parseOpenMetrics('# TYPE x counter\nx_total 1\n'), /Missing # EOF/);
});

test('the classic text ignores exemplars: byte-identical with and without them', () => {
  const view = catalogueView();
  const withExemplars = new PrometheusTextSerializer().serialize(view);
  for (const metric of view.scopeMetrics[0]!.metrics) {
    if (metric.dataPointType !== DataPointType.HISTOGRAM) continue;
    for (const point of metric.dataPoints) delete (point.value as { exemplars?: unknown }).exemplars;
  }
  assert.equal(withExemplars, new PrometheusTextSerializer().serialize(view));
  assert.doesNotMatch(withExemplars, /trace_id|# EOF/);
});

function sum(name: string, monotonic: boolean, value: number, unit = ''): MetricData {
  return {
    descriptor: { name, description: `${name} "help"\nline \\`, unit, valueType: ValueType.DOUBLE },
    aggregationTemporality: AggregationTemporality.CUMULATIVE,
    dataPointType: DataPointType.SUM,
    isMonotonic: monotonic,
    dataPoints: [{ startTime: [0, 0], endTime: [1, 0], attributes: { k: 'v' }, value }],
  };
}

test('names OpenMetrics alone would make equal keep the first family; HELP escapes quotes', { skip: SKIP }, async () => {
  const view: ResourceMetrics = {
    resource: resourceFromAttributes({}),
    scopeMetrics: [{ scope: { name: 's' }, metrics: [sum('jobs', true, 3), sum('jobs', false, 1), sum('latency_seconds', false, 2, 's'), sum('empty', true, 0), sum('jobs_created', false, 1)] }],
  };
  const text = new OpenMetricsSerializer().serialize(view);
  const families = await parseOpenMetrics(text);
  assert.deepEqual(families.map((f) => [f.name, f.type, f.unit]), [
    ['jobs', 'counter', ''],
    ['latency_seconds', 'gauge', 'seconds'],
    ['empty', 'counter', ''],
  ]);
  assert.equal(families[0]!.help, 'jobs "help"\nline \\');
});

test('an empty view is just # EOF', () => {
  const empty: ResourceMetrics = { resource: resourceFromAttributes({}), scopeMetrics: [{ scope: { name: 's' }, metrics: [] }] };
  assert.equal(new OpenMetricsSerializer().serialize(empty), '# EOF\n');
});

/** A small deterministic PRNG so a failing random case can be replayed. */
function prng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

test('random names, labels, units and values always render as strict OpenMetrics', { skip: SKIP }, async () => {
  const words = ['a', 'a_total', 'a_count', 'b_bucket', 'c', 'c_sum', 'x.y', 'lat_seconds', 'size_bytes', '9z', 'q_created'];
  const units = ['', 's', 'By', '%', '1', '{x}', 'ms'];
  const values = [0, 1, 2.5, 1e21, 1e-7, Infinity];
  for (let seed = 1; seed <= 30; seed++) {
    const next = prng(seed);
    const pick = <T>(list: readonly T[]): T => list[Math.floor(next() * list.length)]!;
    const metrics: MetricData[] = [];
    for (let m = 0; m < 8; m++) {
      const name = pick(words);
      const unit = pick(units);
      const attributes = { [pick(['k', 'le', 'quantile', 'a.b'])]: pick(NASTY) };
      const base = { descriptor: { name, description: pick(NASTY), unit, valueType: ValueType.DOUBLE }, aggregationTemporality: AggregationTemporality.CUMULATIVE };
      const kind = Math.floor(next() * 3);
      if (kind === 0) {
        metrics.push({ ...base, dataPointType: DataPointType.SUM, isMonotonic: true, dataPoints: [{ startTime: [0, 0], endTime: [1, 0], attributes, value: pick(values) }] });
      } else if (kind === 1) {
        metrics.push({ ...base, dataPointType: DataPointType.GAUGE, dataPoints: [{ startTime: [0, 0], endTime: [1, 0], attributes, value: pick(values) * (next() < 0.5 ? -1 : 1) }] });
      } else {
        const counts = [1, 0, 2];
        metrics.push({ ...base, dataPointType: DataPointType.HISTOGRAM, dataPoints: [{ startTime: [0, 0], endTime: [1, 0], attributes: { k: pick(NASTY) }, value: { buckets: { boundaries: [0.1, 1], counts }, count: 3, sum: 1.5 } }] });
      }
    }
    const text = new OpenMetricsSerializer().serialize({ resource: resourceFromAttributes({}), scopeMetrics: [{ scope: { name: 'r' }, metrics }] });
    await parseOpenMetrics(text).catch((error: unknown) => assert.fail(`seed ${seed}: ${String(error)}\n${text}`));
  }
});
