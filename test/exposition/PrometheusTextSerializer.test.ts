import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { ValueType } from '@opentelemetry/api';
import type { Attributes } from '@opentelemetry/api';
import { PrometheusSerializer } from '@opentelemetry/exporter-prometheus';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { AggregationTemporality, DataPointType, MeterProvider, MetricReader } from '@opentelemetry/sdk-metrics';
import type { Histogram, MetricData, ResourceMetrics } from '@opentelemetry/sdk-metrics';
import { PrometheusTextSerializer } from '../../src/exposition/PrometheusTextSerializer';

/** A reader that only collects on demand: the corpus comes from the real SDK. */
class ManualReader extends MetricReader {
  protected override async onShutdown(): Promise<void> {}
  protected override async onForceFlush(): Promise<void> {}
}

/** The reference output: the OpenTelemetry exporter's serializer, configured as ours claims to be. */
function oracle(rm: ResourceMetrics): string {
  return new PrometheusSerializer(undefined, false, undefined, true, true).serialize(rm);
}

function assertSameAsOracle(rm: ResourceMetrics): string {
  const ours = new PrometheusTextSerializer().serialize(rm);
  assert.equal(ours, oracle(rm));
  return ours;
}

const NASTY_VALUES = [
  'plain',
  '',
  'with "quotes"',
  'back\\slash',
  'new\nline',
  'all \\ " \n at once \\n',
  'ünïcødé ✓ 日本語 🚀',
  'trailing backslash \\',
  '{braces},commas=equals',
  '\t tab and \r carriage return',
];

async function sdkCorpus(): Promise<ResourceMetrics> {
  const reader = new ManualReader();
  const provider = new MeterProvider({ resource: resourceFromAttributes({ 'service.name': 'corpus' }), readers: [reader] });
  const meter = provider.getMeter('corpus-scope', '1.2.3');
  const other = provider.getMeter('second-scope');

  const requests = meter.createCounter('http.server.requests', { description: 'Requests served.', unit: '1' });
  const alreadyTotal = meter.createCounter('jobs_total', { description: 'Already suffixed.' });
  const active = meter.createUpDownCounter('active-requests', { description: 'In flight.\nSecond line with \\ backslash.' });
  const temperature = meter.createGauge('room.Temperature__C', { unit: 'Cel', valueType: ValueType.DOUBLE });
  const duration = meter.createHistogram('http.server.duration', { description: 'Latency.', unit: 's' });
  const sizes = meter.createHistogram('payload_bytes', {
    unit: 'By',
    advice: { explicitBucketBoundaries: [0, 100, 1_000, 10_000] },
  });
  const unbucketed = meter.createHistogram('single_bucket', { advice: { explicitBucketBoundaries: [] } });
  meter.createHistogram('never_recorded', { description: 'No points at all.' });
  meter.createCounter('never_counted');
  other.createObservableGauge('queue.depth', { description: 'Observed.' }).addCallback((result) => {
    result.observe(3, { queue: 'a' });
    result.observe(-0.5, { queue: 'b"c' });
  });

  NASTY_VALUES.forEach((value, i) => {
    requests.add(i + 1, { method: 'GET', 'http.route': value, status: 200 + i });
    active.add(-i, { 'odd-label.name': value });
    duration.record(i / 10, { route: value });
    duration.record(i * 3.7, { route: value });
    sizes.record(i * 777, { kind: value, flag: i % 2 === 0 });
  });
  requests.add(1);
  alreadyTotal.add(5, { ünïcode_key: 'x', a__b: 'collapsed', __reserved: 'r' });
  temperature.record(21.5, { room: 'kitchen' });
  meter.createObservableCounter('camelCaseRestarts').addCallback((result) => result.observe(2));
  temperature.record(1e21, { room: 'huge' });
  temperature.record(1e-7, { room: 'tiny' });
  temperature.record(-Infinity, { room: 'cold' });
  temperature.record(Infinity, { room: 'hot' });
  temperature.record(NaN, { room: 'broken' });
  unbucketed.record(42, { only: 'inf' });
  unbucketed.record(7);

  const { resourceMetrics, errors } = await reader.collect();
  assert.deepEqual(errors, []);
  await provider.shutdown();
  return resourceMetrics;
}

function point<T>(attributes: Attributes, value: T) {
  return { startTime: [0, 0] as [number, number], endTime: [1, 0] as [number, number], attributes, value };
}

function histogramValue(boundaries: number[], counts: number[], sum?: number): Histogram {
  const count = counts.reduce((a, b) => a + b, 0);
  return sum === undefined ? { buckets: { boundaries, counts }, count } : { buckets: { boundaries, counts }, count, sum };
}

function descriptor(name: string, description = '', unit = '') {
  return { name, description, unit, valueType: ValueType.DOUBLE };
}

/** Data the SDK would never produce but a merge or a hand-written producer might. */
function handBuiltCorpus(): ResourceMetrics {
  const metrics: MetricData[] = [
    {
      descriptor: descriptor('9starts.with-digit', 'digit', 'ms'),
      aggregationTemporality: AggregationTemporality.CUMULATIVE,
      dataPointType: DataPointType.SUM,
      isMonotonic: true,
      dataPoints: [point({ 'http.method': 'POST', list: ['a', 'b"'], nothing: undefined, n: null as unknown as string }, 12)],
    },
    {
      descriptor: descriptor('_'),
      aggregationTemporality: AggregationTemporality.CUMULATIVE,
      dataPointType: DataPointType.GAUGE,
      dataPoints: [point({}, 1)],
    },
    {
      descriptor: descriptor(''),
      aggregationTemporality: AggregationTemporality.CUMULATIVE,
      dataPointType: DataPointType.GAUGE,
      dataPoints: [point({}, 1)],
    },
    {
      descriptor: descriptor('name\nwith\\escapes and spaces ünï', 'help\\ with \n newline', 'unit\nline'),
      aggregationTemporality: AggregationTemporality.CUMULATIVE,
      dataPointType: DataPointType.SUM,
      isMonotonic: false,
      dataPoints: [point({ a: '1' }, -3.25), point({}, -Infinity), point({ b: 'x' }, NaN)],
    },
    {
      descriptor: descriptor('explicit_inf_histogram', 'boundaries list +Inf'),
      aggregationTemporality: AggregationTemporality.CUMULATIVE,
      dataPointType: DataPointType.HISTOGRAM,
      dataPoints: [
        point({ s: 'with inf' }, histogramValue([0.1, 1, Infinity], [1, 2, 3, 4], 9.5)),
        point({ s: 'no sum' }, histogramValue([0.1, 1], [0, 0, 0])),
        point({}, histogramValue([0.1, 1], [5, 0, 1], NaN)),
        point({ s: 'extra counts' }, histogramValue([0.5], [1, 1, 1, 1], 3)),
        point({ s: 'other bounds' }, histogramValue([-1, 0, 2.5e-9, 1e21], [1, 2, 3, 4, 5], -0.5)),
        point({ le: 'clashes' }, histogramValue([1], [0.5, 0.25], 0.1 + 0.2)),
      ],
    },
    {
      descriptor: descriptor('histogram_without_points', 'No points at all.', 's'),
      aggregationTemporality: AggregationTemporality.CUMULATIVE,
      dataPointType: DataPointType.HISTOGRAM,
      dataPoints: [],
    },
    {
      descriptor: descriptor('counter_without_points'),
      aggregationTemporality: AggregationTemporality.CUMULATIVE,
      dataPointType: DataPointType.SUM,
      isMonotonic: true,
      dataPoints: [],
    },
    {
      descriptor: descriptor('exponential'),
      aggregationTemporality: AggregationTemporality.CUMULATIVE,
      dataPointType: DataPointType.EXPONENTIAL_HISTOGRAM,
      dataPoints: [point({}, { count: 1, sum: 1, scale: 0, zeroCount: 0, positive: { offset: 0, bucketCounts: [1] }, negative: { offset: 0, bucketCounts: [] } })],
    },
  ];
  return {
    resource: resourceFromAttributes({ 'service.name': 'hand' }),
    scopeMetrics: [
      { scope: { name: 'hand' }, metrics },
      { scope: { name: 'empty scope' }, metrics: [] },
    ],
  };
}

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

function randomString(next: () => number): string {
  const alphabet = ['a', 'Z', '0', '9', '_', '.', '-', ' ', '"', '\\', '\n', 'é', '日', '🚀', ':', '{', '}', ',', '='];
  let out = '';
  const length = Math.floor(next() * 8);
  for (let i = 0; i < length; i++) out += alphabet[Math.floor(next() * alphabet.length)];
  return out;
}

function randomCorpus(seed: number): ResourceMetrics {
  const next = prng(seed);
  const metrics: MetricData[] = [];
  for (let m = 0; m < 20; m++) {
    const kind = Math.floor(next() * 4);
    const points = Array.from({ length: Math.floor(next() * 4) }, () => {
      const attributes: Attributes = {};
      for (let a = Math.floor(next() * 3); a > 0; a--) attributes[randomString(next)] = randomString(next);
      return attributes;
    });
    const name = randomString(next) + 'm';
    const base = { descriptor: descriptor(name, randomString(next), randomString(next)), aggregationTemporality: AggregationTemporality.CUMULATIVE };
    const numbers = [0, 1, -1, 0.1, 1e300, -1e-300, Infinity, NaN, 123456789.123];
    const pick = (): number => numbers[Math.floor(next() * numbers.length)]!;
    if (kind === 0 || kind === 1) {
      metrics.push({ ...base, dataPointType: DataPointType.SUM, isMonotonic: kind === 0, dataPoints: points.map((p) => point(p, pick())) });
    } else if (kind === 2) {
      metrics.push({ ...base, dataPointType: DataPointType.GAUGE, dataPoints: points.map((p) => point(p, pick())) });
    } else {
      const boundaries = [0.001, 0.5, 7, 1000].slice(0, Math.floor(next() * 5));
      metrics.push({
        ...base,
        dataPointType: DataPointType.HISTOGRAM,
        dataPoints: points.map((p) =>
          point(
            p,
            histogramValue(
              boundaries,
              [...boundaries, 0].map(() => Math.floor(next() * 5)),
              pick(),
            ),
          ),
        ),
      });
    }
  }
  return { resource: resourceFromAttributes({}), scopeMetrics: [{ scope: { name: 'random' }, metrics }] };
}

/** Runs `promtool check metrics` on a text; resolves its exit code and what it printed. */
function promtoolCheck(text: string): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('promtool', ['check', 'metrics'], { stdio: ['pipe', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, output }));
    child.stdin.end(text);
  });
}

test('matches the OpenTelemetry serializer byte for byte on data recorded through a real MeterProvider', async () => {
  const text = assertSameAsOracle(await sdkCorpus());
  // Guard against a vacuous pass: the corpus really exercises what it claims.
  assert.match(text, /^http_server_requests_total\{method="GET",http_route="with \\"quotes\\"",status="202"\} 3$/m);
  assert.match(text, /^# TYPE active_requests gauge$/m);
  assert.match(text, /^http_server_duration_bucket\{route="new\\nline",le="\+Inf"\} 2$/m);
  assert.match(text, /^room_Temperature_C\{room="hot"\} \+Inf$/m);
  // The SDK leaves instruments that never recorded out of a collection entirely.
  assert.doesNotMatch(text, /never_recorded|never_counted/);
});

test('matches the OpenTelemetry serializer on hand-built data the SDK would not produce', () => {
  const text = assertSameAsOracle(handBuiltCorpus());
  assert.match(text, /^_9starts_with_digit_total\{http_method="POST",list="\[\\"a\\",\\"b\\\\\\"\\"\]",nothing="",n="null"\} 12$/m);
  assert.match(text, /^explicit_inf_histogram_bucket\{s="with inf",le="\+Inf"\} 6$/m);
  assert.doesNotMatch(text, /^_ 1$/m);
  assert.match(
    text,
    /^# HELP histogram_without_points No points at all\.\n# UNIT histogram_without_points s\n# TYPE histogram_without_points histogram\n# HELP counter_without_points_total/m,
  );
});

/** Two metrics that share a Prometheus name, the second with a unit the first lacks. */
function sameNameCorpus(secondType: DataPointType.HISTOGRAM | DataPointType.GAUGE): ResourceMetrics {
  const base = { aggregationTemporality: AggregationTemporality.CUMULATIVE };
  const first: MetricData = { ...base, descriptor: descriptor('queue.depth', '', ''), dataPointType: DataPointType.GAUGE, dataPoints: [point({ q: 'a' }, 1)] };
  const between: MetricData = { ...base, descriptor: descriptor('other', 'Other.'), dataPointType: DataPointType.GAUGE, dataPoints: [point({}, 5)] };
  const second: MetricData =
    secondType === DataPointType.GAUGE
      ? { ...base, descriptor: descriptor('queue_depth', 'Depth.', 'items'), dataPointType: DataPointType.GAUGE, dataPoints: [point({ q: 'b' }, 2)] }
      : { ...base, descriptor: descriptor('queue_depth', 'Depth.'), dataPointType: DataPointType.HISTOGRAM, dataPoints: [point({ q: 'b' }, histogramValue([1], [1, 0], 0.5))] };
  return {
    resource: resourceFromAttributes({}),
    scopeMetrics: [
      { scope: { name: 's1' }, metrics: [first, between] },
      { scope: { name: 's2' }, metrics: [second] },
    ],
  };
}

/**
 * The exporter's 0.2xx line (the one that runs on Node 20) repeats HELP/TYPE for
 * same-named metrics; from 0.300 on it writes one family, as the text format
 * requires and as ours does. Byte comparison with the installed oracle is only
 * meaningful where the two agree.
 */
const ORACLE_GROUPS_FAMILIES = oracle(sameNameCorpus(DataPointType.GAUGE)).split('# TYPE queue_depth').length === 2;

function familyNames(text: string): string[] {
  return [...text.matchAll(/^# TYPE (\S+) /gm)].map((match) => match[1]!);
}

test('metrics that share a Prometheus name are rendered as one family', () => {
  const text = new PrometheusTextSerializer().serialize(sameNameCorpus(DataPointType.GAUGE));
  assert.equal(
    text,
    '# HELP queue_depth Depth.\n# UNIT queue_depth items\n# TYPE queue_depth gauge\nqueue_depth{q="a"} 1\nqueue_depth{q="b"} 2\n' +
      '# HELP other Other.\n# TYPE other gauge\nother 5\n',
  );
  if (ORACLE_GROUPS_FAMILIES) assert.equal(text, oracle(sameNameCorpus(DataPointType.GAUGE)));
});

test('a name used with two different types is left out rather than mislabelled', () => {
  const text = new PrometheusTextSerializer().serialize(sameNameCorpus(DataPointType.HISTOGRAM));
  assert.equal(text, '# HELP other Other.\n# TYPE other gauge\nother 5\n');
  if (ORACLE_GROUPS_FAMILIES) assert.equal(text, oracle(sameNameCorpus(DataPointType.HISTOGRAM)));
});

test('matches the OpenTelemetry serializer on randomly generated names, labels and values', () => {
  let compared = 0;
  for (let seed = 1; seed <= 200; seed++) {
    const rm = randomCorpus(seed);
    const ours = new PrometheusTextSerializer().serialize(rm);
    const names = familyNames(ours);
    // Whatever the oracle's version, no family is announced twice.
    assert.equal(new Set(names).size, names.length, `seed ${seed}: a family is announced twice`);
    if (ORACLE_GROUPS_FAMILIES) assert.equal(ours, oracle(rm), `seed ${seed}`);
    // On either oracle line, the metrics whose names do not collide render identically.
    const unique = withoutNameCollisions(rm);
    compared += unique.scopeMetrics[0]!.metrics.length;
    assert.equal(new PrometheusTextSerializer().serialize(unique), oracle(unique), `seed ${seed}, colliding names removed`);
  }
  assert.ok(compared >= 1000, `only ${compared} metrics compared`);
});

/** The corpus minus every metric whose Prometheus name (as the oracle renders it) is shared with another. */
function withoutNameCollisions(rm: ResourceMetrics): ResourceMetrics {
  const { resource, scopeMetrics } = rm;
  const metrics = scopeMetrics.flatMap((scope) => scope.metrics);
  const nameOf = (metric: MetricData): string | undefined => familyNames(oracle({ resource, scopeMetrics: [{ scope: { name: 'one' }, metrics: [metric] }] }))[0];
  const counts = new Map<string | undefined, number>();
  for (const metric of metrics) counts.set(nameOf(metric), (counts.get(nameOf(metric)) ?? 0) + 1);
  return { resource, scopeMetrics: [{ scope: { name: 'unique' }, metrics: metrics.filter((metric) => counts.get(nameOf(metric)) === 1) }] };
}

test('reuses one serializer across scrapes without carrying state between them', async () => {
  const serializer = new PrometheusTextSerializer();
  const first = await sdkCorpus();
  const second = handBuiltCorpus();
  assert.equal(serializer.serialize(first), oracle(first));
  assert.equal(serializer.serialize(second), oracle(second));
  assert.equal(serializer.serialize(first), oracle(first));
});

test('an empty collection renders the same placeholder comment as the OpenTelemetry exporter', () => {
  const empty: ResourceMetrics = { resource: resourceFromAttributes({}), scopeMetrics: [{ scope: { name: 's' }, metrics: [] }] };
  assert.equal(assertSameAsOracle(empty), '# no registered metrics');
});

/**
 * promtool exits 1 when the text does not parse and 3 when it parses but its
 * linter complains. These complaints are about the user's own naming, passed
 * through unchanged (as the OpenTelemetry exporter does), not defects of the
 * rendering; any other complaint fails the test.
 */
const ACCEPTED_LINTS = [/metric names should be written in 'snake_case' not 'camelCase'/, /counter metrics should have "_total" suffix/, /no help text/];
const PROMTOOL_LINT_EXIT = 3;

test('promtool accepts the rendering of the SDK corpus, with only naming lints', { skip: !existsSync('/usr/bin/promtool') && 'promtool not installed' }, async () => {
  const text = new PrometheusTextSerializer().serialize(await sdkCorpus());
  const { code, output } = await promtoolCheck(text);
  const complaints = output.split('\n').filter((line) => line.trim() !== '');
  assert.ok(code === 0 || (code === PROMTOOL_LINT_EXIT && complaints.length > 0), `exit ${code}: ${output}`);
  assert.deepEqual(
    complaints.filter((line) => !ACCEPTED_LINTS.some((lint) => lint.test(line))),
    [],
  );
  // The corpus has a camelCase name on purpose, so the lint path above is exercised.
  assert.equal(code, PROMTOOL_LINT_EXIT);
});

test('promtool rejects a broken exposition, so the check above can fail', { skip: !existsSync('/usr/bin/promtool') && 'promtool not installed' }, async () => {
  const { code } = await promtoolCheck('# TYPE x counter\nx{a="unterminated} 1\n');
  assert.equal(code, 1);
});
