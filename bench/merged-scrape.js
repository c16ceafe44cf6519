'use strict';
/**
 * Merged-scrape cost, side by side in one run:
 *
 *   (a) prom-client's AggregatorRegistry: 16 real cluster workers, each holding
 *       a counter and a 16-bucket histogram over 500 label sets (worker_id kept
 *       as a label so series stay per worker, as ours do); the primary answers
 *       an HTTP GET with clusterMetrics().
 *   (b) this package: the same series as 16 snapshot files written by the
 *       file store (Retirement over FileBackend) in a process of its own, as
 *       workers write them; an HTTP GET to MetricsEndpoint runs the primary's path:
 *       MergedView (readAll) -> ExpositionRenderer (merge and render
 *       per worker slot, only slots whose snapshots changed) -> shared buffers.
 *       Timed with no worker changed since the last scrape, one, and all 16
 *       (each flush adds requests to every counter of that worker), and all 16
 *       with every series changed (histograms too: nothing is reusable).
 *
 * Both are timed end to end by the same HTTP clients, interleaved, and reported
 * as medians and a ratio to prom-client's uncompressed scrape (ours also with
 * gzip, as Prometheus asks; prom-client's cluster mode is timed without): once
 * by a client in a process of its own, as Prometheus scrapes (the figure the
 * goal is measured by), and once by a client on this process's own event
 * loop, which adds the client's reading of the 22 MB body to both servers'
 * uncompressed time (20-30 ms: a third of ours, a fiftieth of prom-client's). Also
 * reports our serializer against @opentelemetry/exporter-prometheus's on the
 * same merged ResourceMetrics.
 *
 * Run: npx tsc -p tsconfig.json && node bench/merged-scrape.js [--compare <other dist/register.js>]
 * With --compare, a second copy of (b) runs from that build (its own writer, its own store
 * directory), interleaved with this one in the same run, and is reported beside it.
 * Env: BENCH_WORKERS (16), BENCH_LABEL_SETS (500: 9,500 series per worker), BENCH_SCRAPES (21).
 */
const cluster = require('node:cluster');
const { fork } = require('node:child_process');
const http = require('node:http');
const path = require('node:path');
const { arg, median } = require('./support');
const { mkdtempSync, rmSync } = require('node:fs');
const { tmpdir } = require('node:os');
const { performance } = require('node:perf_hooks');

const ownDist = path.join(__dirname, '..', 'dist');
// The writer child of a --compare build runs from that build (its snapshot format, its store code).
const dist = process.env.BENCH_DIST ?? ownDist;
const { CATALOGUE, DEFAULT_DURATION_BUCKETS, LABEL, prometheusName } = require(path.join(dist, 'catalogue/MetricCatalogue'));

const WORKERS = Number(process.env.BENCH_WORKERS ?? 16);
// 500 label sets x (1 counter + 18 histogram lines) = 9,500 series per worker, the scale.
const LABEL_SETS = Number(process.env.BENCH_LABEL_SETS ?? 500);
const SCRAPES = Math.max(15, Number(process.env.BENCH_SCRAPES ?? 21));
const WARMUP = 3;
const OBSERVATIONS_PER_SET = 20;
const BOUNDARIES = [...DEFAULT_DURATION_BUCKETS];
const METHODS = ['GET', 'POST', 'PUT', 'DELETE'];

/** The label values of set `s` (worker_id is added per worker). */
function labelSet(s) {
  return { [LABEL.method]: METHODS[s % METHODS.length], [LABEL.endpoint]: `/api/v1/resource${s}/{id}`, [LABEL.status]: String(200 + (s % 5)) };
}

/** Deterministic observations of set `s` in worker `w`, identical for both contenders. */
function observations(w, s) {
  const values = [];
  for (let i = 0; i < OBSERVATIONS_PER_SET; i++) values.push(((w * 7 + s * 13 + i * 31) % 1000) / 400);
  return values;
}

function requestCount(w, s) {
  return s * 17 + w + 1;
}

// ---------------------------------------------------------------- the scraper process
if (process.env.BENCH_SCRAPER === '1') {
  // One keep-alive connection per server, as a Prometheus scrape job keeps; timed here, in this process.
  const agents = new Map();
  process.on('message', ({ id, port, headers }) => {
    if (!agents.has(port)) agents.set(port, new http.Agent({ keepAlive: true, maxSockets: 1 }));
    const started = performance.now();
    http
      .get({ host: '127.0.0.1', port, path: '/metrics', agent: agents.get(port), headers }, (response) => {
        let bytes = 0;
        response.on('data', (chunk) => (bytes += chunk.length));
        response.on('end', () => process.send({ id, ms: performance.now() - started, bytes, status: response.statusCode }));
        response.on('error', (error) => process.send({ id, error: String(error) }));
      })
      .on('error', (error) => process.send({ id, error: String(error) }));
  });
  process.on('disconnect', () => process.exit(0));
  return;
}

// ---------------------------------------------------------------- (a) worker side
if (cluster.isWorker) {
  const client = require('prom-client');
  // Constructing it installs the worker's answer to the primary's metrics requests.
  new client.AggregatorRegistry();
  const w = Number(process.env.BENCH_SLOT);
  const labelNames = [LABEL.workerId, LABEL.method, LABEL.endpoint, LABEL.status];
  const counter = new client.Counter({ name: prometheusName(CATALOGUE.requests), help: CATALOGUE.requests.help, labelNames });
  const histogram = new client.Histogram({
    name: prometheusName(CATALOGUE.requestDuration),
    help: CATALOGUE.requestDuration.help,
    labelNames,
    buckets: BOUNDARIES,
  });
  for (let s = 0; s < LABEL_SETS; s++) {
    const labels = { [LABEL.workerId]: String(w), ...labelSet(s) };
    counter.inc(labels, requestCount(w, s));
    for (const value of observations(w, s)) histogram.observe(labels, value);
  }
  process.send({ ready: true });
  return;
}

// ---------------------------------------------------------------- primary
const { AggregatorRegistry } = require('prom-client');
const { PrometheusSerializer } = require('@opentelemetry/exporter-prometheus');
const { resourceFromAttributes } = require('@opentelemetry/resources');

/** The modules of (b) from one build's dist directory. */
function oursFrom(distDirectory) {
  return {
    Retirement: require(path.join(distDirectory, 'retirement/Retirement')).Retirement,
    FileBackend: require(path.join(distDirectory, 'store/file/FileBackend')).FileBackend,
    MergedView: require(path.join(distDirectory, 'exposition/MergedView')).MergedView,
    ExpositionRenderer: require(path.join(distDirectory, 'exposition/ExpositionRenderer')).ExpositionRenderer,
    SelfMetrics: require(path.join(distDirectory, 'self/SelfMetrics')).SelfMetrics,
    MetricsEndpoint: require(path.join(distDirectory, 'exposition/MetricsEndpoint')).MetricsEndpoint,
    PrometheusTextSerializer: require(path.join(distDirectory, 'exposition/PrometheusTextSerializer')).PrometheusTextSerializer,
  };
}
const { Retirement, FileBackend, PrometheusTextSerializer } = oursFrom(dist);
const compareArg = arg('compare', undefined);
/** --compare takes a build's dist/register.js (as every bench does) or its dist directory. */
const compareDist = compareArg === undefined ? undefined : path.resolve(compareArg.endsWith('.js') ? path.dirname(compareArg) : compareArg);

// ---------------------------------------------------------------- (b) workers' side of ours
if (process.env.BENCH_WRITER_DIR !== undefined) {
  // The snapshots are written by a process of its own, as workers write theirs: the primary's
  // timings then carry none of the encoding (nor its garbage), which no primary does in production.
  const store = new Retirement(new FileBackend({ directory: process.env.BENCH_WRITER_DIR }));
  const startedMs = Number(process.env.BENCH_STARTED_MS);
  let flushes = 0;
  const histogramMoves = [];
  /**
   * `count` workers flush new totals (one more request on every counter series), as between two
   * scrapes; with `everySeries`, every histogram series also moves (one more observation each).
   */
  const flush = async (count, everySeries) => {
    for (let i = 0; i < count; i++) {
      const w = flushes++ % WORKERS;
      const next = snapshotOf(w, startedMs + w);
      for (const point of next.metrics[0].points) point.value += flushes;
      // Histograms keep what they last moved to: a counters-only flush must not change them back.
      if (everySeries) histogramMoves[w] = flushes;
      const moved = histogramMoves[w] ?? 0;
      if (moved > 0) {
        for (const { value } of next.metrics[1].points) {
          value.count += moved;
          value.sum += moved;
          value.counts[value.counts.length - 1] += moved;
        }
      }
      await store.write(next);
    }
  };
  process.on('message', ({ count, everySeries }) => void flush(count, everySeries).then(() => process.send('flushed')));
  void (async () => {
    for (let w = 0; w < WORKERS; w++) await store.write(snapshotOf(w, startedMs + w));
    process.send('ready');
  })();
  return;
}

const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });

/** One timed GET; resolves { ms, bytes, text }. */
function scrape(port, headers = {}) {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    http
      .get({ host: '127.0.0.1', port, path: '/metrics', agent, headers }, (response) => {
        const chunks = [];
        response.on('data', (chunk) => chunks.push(chunk));
        response.on('end', () => {
          const ms = performance.now() - started;
          if (response.statusCode !== 200) return reject(new Error(`HTTP ${response.statusCode} from port ${port}`));
          const body = Buffer.concat(chunks);
          resolve({ ms, bytes: body.length, text: response.headers['content-encoding'] ? '' : body.toString('utf8') });
        });
      })
      .on('error', reject);
  });
}

/** A scraper in a process of its own: scrape(port, headers) resolves { ms, bytes } as timed there. */
function startScraperProcess() {
  const child = fork(__filename, [], { env: { ...process.env, BENCH_SCRAPER: '1' } });
  const pending = new Map();
  let nextId = 0;
  let gone;
  child.on('message', ({ id, ms, bytes, status, error }) => {
    const waiting = pending.get(id);
    if (waiting === undefined) return;
    pending.delete(id);
    if (error !== undefined) waiting.reject(new Error(error));
    else if (status !== 200) waiting.reject(new Error(`HTTP ${status} from port ${waiting.port}`));
    else waiting.resolve({ ms, bytes });
  });
  // A scraper that dies fails the scrapes it owed, so the bench ends (and cleans up) instead of hanging.
  const fail = (error) => {
    gone ??= error;
    for (const { reject } of pending.values()) reject(gone);
    pending.clear();
  };
  child.on('error', fail);
  child.on('exit', (code, signal) => fail(new Error(`the scraper process exited (${signal ?? code})`)));
  return {
    scrape: (port, headers = {}) =>
      new Promise((resolve, reject) => {
        if (gone !== undefined) return reject(gone);
        const id = nextId++;
        pending.set(id, { resolve, reject, port });
        child.send({ id, port, headers }, (error) => error && fail(error));
      }),
    close: () => {
      if (child.connected) child.disconnect();
    },
  };
}

function listen(server) {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve(server.address().port));
  });
}

async function startPromClient() {
  const aggregator = new AggregatorRegistry();
  const workers = [];
  const ready = [];
  for (let w = 0; w < WORKERS; w++) {
    const worker = cluster.fork({ BENCH_SLOT: String(w) });
    workers.push(worker);
    ready.push(new Promise((resolve) => worker.once('message', resolve)));
  }
  await Promise.all(ready);
  const server = http.createServer((request, response) => {
    aggregator.clusterMetrics().then(
      (text) => {
        response.setHeader('content-type', aggregator.contentType);
        response.end(text);
      },
      (error) => {
        response.statusCode = 500;
        response.end(String(error));
      },
    );
  });
  return { port: await listen(server), workers, server };
}

/** The snapshot a worker of this package would have written for the same traffic. */
function snapshotOf(w, startTimeMs) {
  const counterPoints = [];
  const histogramPoints = [];
  for (let s = 0; s < LABEL_SETS; s++) {
    const attributes = labelSet(s);
    counterPoints.push({ attributes, startTimeMs, value: requestCount(w, s) });
    const counts = new Array(BOUNDARIES.length + 1).fill(0);
    let sum = 0;
    for (const value of observations(w, s)) {
      sum += value;
      const index = BOUNDARIES.findIndex((bound) => value <= bound);
      counts[index === -1 ? BOUNDARIES.length : index] += 1;
    }
    histogramPoints.push({ attributes, startTimeMs, value: { count: OBSERVATIONS_PER_SET, sum, counts } });
  }
  return {
    identity: { service: 'bench', instance: 'bench-host', slot: w, pid: process.pid, startTimeMs, role: 'worker' },
    writtenAtMs: Date.now(),
    metrics: [
      { name: CATALOGUE.requests.name, description: CATALOGUE.requests.help, unit: CATALOGUE.requests.unit, kind: 'counter', valueType: 'int', points: counterPoints },
      {
        name: CATALOGUE.requestDuration.name,
        description: CATALOGUE.requestDuration.help,
        unit: CATALOGUE.requestDuration.unit,
        kind: 'histogram',
        valueType: 'double',
        boundaries: BOUNDARIES,
        points: histogramPoints,
      },
    ],
  };
}

async function startOurs(directory, distDirectory) {
  const { Retirement, FileBackend, MergedView, ExpositionRenderer, SelfMetrics, MetricsEndpoint } = oursFrom(distDirectory);
  const writer = fork(__filename, [], {
    env: { ...process.env, BENCH_WRITER_DIR: directory, BENCH_DIST: distDirectory, BENCH_STARTED_MS: String(Date.now() - 60_000) },
  });
  await new Promise((resolve) => writer.once('message', resolve));
  const store = new Retirement(new FileBackend({ directory }));
  const resource = resourceFromAttributes({ 'service.name': 'bench' });
  // The primary's real path: MergedView reads the store, ExpositionRenderer renders per slot.
  const view = new MergedView({ store, resource, labelInstance: false, selfMetrics: new SelfMetrics(), readTimeoutMs: 10_000 });
  const renderer = new ExpositionRenderer(view);
  const endpoint = new MetricsEndpoint({ port: 0, host: '127.0.0.1', render: () => renderer.render() });
  const { port } = await endpoint.start();
  /** `count` workers flush (see the writer above); resolves once their snapshots are written. */
  const flush = (count, everySeries = false) =>
    count === 0
      ? Promise.resolve()
      : new Promise((resolve) => {
          writer.once('message', resolve);
          writer.send({ count, everySeries });
        });
  return { port, endpoint, store, view, flush, writer };
}

function countSamples(text) {
  let n = 0;
  // Our view adds its own staleness gauge (otel_cluster_exporter_*): not one of the compared series.
  for (const line of text.split('\n')) if (line !== '' && line[0] !== '#' && !line.startsWith('otel_cluster_exporter_')) n++;
  return n;
}

async function main() {
  const directory = mkdtempSync(path.join(tmpdir(), 'merged-scrape-bench-'));
  const compareDirectory = compareDist === undefined ? undefined : mkdtempSync(path.join(tmpdir(), 'merged-scrape-bench-compare-'));
  const theirs = await startPromClient();
  const ours = await startOurs(directory, ownDist);
  const compared = compareDist === undefined ? undefined : await startOurs(compareDirectory, compareDist);
  /** This build, then the --compare one: each scenario is timed on both, one after the other. */
  const contenders = compared === undefined ? [ours] : [ours, compared];
  const scraper = startScraperProcess();
  try {
    const first = { theirs: await scrape(theirs.port), ours: await scrape(ours.port) };
    const theirSamples = countSamples(first.theirs.text);
    const ourSamples = countSamples(first.ours.text);
    console.log(`shape: ${WORKERS} workers x ${LABEL_SETS} label sets x (counter + ${BOUNDARIES.length}-bucket histogram)`);
    console.log(`  prom-client AggregatorRegistry: ${theirSamples} samples, ${(first.theirs.bytes / 1e6).toFixed(2)} MB`);
    console.log(`  otel-cluster-exporter:          ${ourSamples} samples, ${(first.ours.bytes / 1e6).toFixed(2)} MB`);
    if (theirSamples !== ourSamples) console.log('  WARNING: the two outputs do not hold the same number of samples');

    // Scenarios for ours: nothing changed since the last scrape, one worker flushed, every worker flushed.
    const scenarios = [
      ['unchanged view', 0, {}],
      ['unchanged view, gzip (as Prometheus scrapes)', 0, { 'accept-encoding': 'gzip' }],
      ['1 of 16 workers flushed since the last scrape', 1, {}],
      ['1 of 16 workers flushed, gzip', 1, { 'accept-encoding': 'gzip' }],
      ['every worker flushed since the last scrape', WORKERS, {}],
      ['every worker flushed, gzip', WORKERS, { 'accept-encoding': 'gzip' }],
      // Counters and histograms of every series of every worker moved: nothing of the last render is reusable.
      ['every series of every worker changed', WORKERS, {}, true],
      ['every series of every worker changed, gzip', WORKERS, { 'accept-encoding': 'gzip' }, true],
    ];
    // The scraper in a process of its own first: the figure the goal is measured by.
    const clients = [
      { name: 'scraper in a process of its own (as Prometheus)', scrape: scraper.scrape },
      { name: "scraper on the serving process's event loop", scrape },
    ];
    const times = clients.map(() => ({ theirs: [], ours: contenders.map(() => scenarios.map(() => [])) }));
    for (let i = 0; i < WARMUP + SCRAPES; i++) {
      for (let l = 0; l < clients.length; l++) {
        const client = clients[l];
        const a = await client.scrape(theirs.port);
        if (i >= WARMUP) times[l].theirs.push(a.ms);
        for (let k = 0; k < scenarios.length; k++) {
          const [, flushed, headers, everySeries] = scenarios[k];
          // Alternate which build goes first, so neither always scrapes right after prom-client.
          const order = i % 2 === 0 ? contenders.keys() : [...contenders.keys()].reverse();
          for (const c of order) {
            await contenders[c].flush(flushed, everySeries);
            const b = await client.scrape(contenders[c].port, headers);
            if (i >= WARMUP) times[l].ours[c][k].push(b.ms);
          }
        }
      }
    }
    clients.forEach((client, l) => {
      const mTheirs = median(times[l].theirs);
      console.log(`\nwhole scrape over HTTP, ${client.name}, median of ${SCRAPES} (interleaved, after ${WARMUP} warm-up):`);
      console.log(`  prom-client clusterMetrics():  ${mTheirs.toFixed(1)} ms   (ratio 1)`);
      scenarios.forEach(([name], k) => {
        const m = median(times[l].ours[0][k]);
        let line = `  ours, ${name.padEnd(50)} ${m.toFixed(1).padStart(7)} ms   ratio to prom-client ${(m / mTheirs).toFixed(3)}`;
        if (compared !== undefined) {
          const c = median(times[l].ours[1][k]);
          line += `   | --compare ${c.toFixed(1).padStart(7)} ms, ratio ${(c / mTheirs).toFixed(3)}`;
        }
        console.log(line);
      });
    });
    if (compared !== undefined) console.log(`  (--compare: ${compareDist})`);

    const merged = (await ours.view.collect()).resourceMetrics;
    const reference = new PrometheusSerializer(undefined, false, undefined, true, true);
    const serializer = new PrometheusTextSerializer();
    if (reference.serialize(merged) !== serializer.serialize(merged)) console.log('  WARNING: serializer output differs from the OpenTelemetry one');
    const ser = { otel: [], ours: [] };
    for (let i = 0; i < WARMUP + SCRAPES; i++) {
      let t = performance.now();
      Buffer.byteLength(reference.serialize(merged)); // flatten the string, as sending it would
      const otelMs = performance.now() - t;
      t = performance.now();
      Buffer.byteLength(serializer.serialize(merged));
      const oursMs = performance.now() - t;
      if (i < WARMUP) continue;
      ser.otel.push(otelMs);
      ser.ours.push(oursMs);
    }
    const mOtel = median(ser.otel);
    const mSer = median(ser.ours);
    console.log(`\nserializer only, same merged ResourceMetrics, median of ${SCRAPES}:`);
    console.log(`  @opentelemetry/exporter-prometheus PrometheusSerializer: ${mOtel.toFixed(1)} ms`);
    console.log(`  PrometheusTextSerializer:                               ${mSer.toFixed(1)} ms`);
    console.log(`  ratio OTel / ours: ${(mOtel / mSer).toFixed(1)}x`);
  } finally {
    agent.destroy();
    scraper.close();
    for (const contender of contenders) {
      await contender.endpoint.close();
      await contender.store.close();
      contender.writer.kill();
    }
    await new Promise((resolve) => theirs.server.close(resolve));
    await Promise.all(
      theirs.workers.map(
        (worker) =>
          new Promise((resolve) => {
            if (worker.isDead()) return resolve();
            worker.once('exit', resolve);
            worker.kill();
          }),
      ),
    );
    rmSync(directory, { recursive: true, force: true });
    if (compareDirectory !== undefined) rmSync(compareDirectory, { recursive: true, force: true });
  }
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
  for (const worker of Object.values(cluster.workers ?? {})) worker?.kill();
});
