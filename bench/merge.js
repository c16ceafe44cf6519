#!/usr/bin/env node
// Decode + merge cost of the primary's scrape path, against dist/ (build first: npx tsc -p tsconfig.json).
// Shape: 16 worker snapshots, each with 100 label sets x (1 counter + 3 histograms of 16 buckets) + 4 gauges,
// plus one retired snapshot per slot (a recycled worker), as the file store hands them to the merge.
'use strict';
const { mkdtempSync, rmSync } = require('node:fs');
const { tmpdir } = require('node:os');
const { join } = require('node:path');
const { median } = require('./support');
const { performance } = require('node:perf_hooks');
const { resourceFromAttributes } = require('@opentelemetry/resources');
const { encodeSnapshot, decodeSnapshot } = require('../dist/snapshot/SnapshotCodec');
const { mergeSnapshots, foldSnapshot } = require('../dist/merge/SnapshotMerger');
const { CATALOGUE, DEFAULT_DURATION_BUCKETS } = require('../dist/catalogue/MetricCatalogue');

const WORKERS = Number(process.env.WORKERS ?? 16);
const LABEL_SETS = Number(process.env.LABEL_SETS ?? 100);
const RUNS = Number(process.env.RUNS ?? 100);
const METHODS = ['GET', 'POST', 'PUT', 'DELETE'];
const STATUSES = ['200', '201', '404', '500', '302'];

function labelSets() {
  const sets = [];
  for (let i = 0; i < LABEL_SETS; i++) {
    sets.push({ method: METHODS[i % 4], endpoint: `/api/resource${i % 25}/:id`, status: STATUSES[i % 5] });
  }
  return sets;
}

function histogramValue(seed) {
  const counts = new Array(DEFAULT_DURATION_BUCKETS.length + 1).fill(0).map((_, i) => (seed * 7 + i * 3) % 50);
  const count = counts.reduce((a, b) => a + b, 0);
  return { count, sum: count * 0.123, counts, min: 0.001, max: 42 };
}

function metric(definition, kind, points, boundaries) {
  const m = { name: definition.name, description: definition.help, unit: definition.unit, kind, valueType: kind === 'counter' ? 'int' : 'double', points };
  if (boundaries) m.boundaries = boundaries;
  return m;
}

function workerSnapshot(slot, pid, now) {
  const sets = labelSets();
  const start = now - 3_600_000;
  const histograms = [CATALOGUE.requestDuration, CATALOGUE.requestSize, CATALOGUE.responseSize].map((d, h) =>
    metric(
      d,
      'histogram',
      sets.map((attributes, i) => ({ attributes, startTimeMs: start, value: histogramValue(i + h + slot) })),
      DEFAULT_DURATION_BUCKETS,
    ),
  );
  const gauges = [CATALOGUE.memory, CATALOGUE.cpu, CATALOGUE.uptime, CATALOGUE.heapUsed].map((d, g) =>
    metric(d, 'gauge', [{ attributes: {}, startTimeMs: start, value: 1e6 * (g + 1) + slot }]),
  );
  return {
    identity: { service: 'bench', instance: 'host', slot, pid, startTimeMs: start, role: 'worker' },
    writtenAtMs: now,
    metrics: [
      metric(
        CATALOGUE.requests,
        'counter',
        sets.map((attributes, i) => ({ attributes, startTimeMs: start, value: 1000 + i })),
        undefined,
      ),
      ...histograms,
      ...gauges,
    ],
  };
}

/** The encoded store contents: each live worker, plus (when withRetired) one retired snapshot per slot. */
function buildTexts(now, withRetired) {
  const texts = [];
  for (let slot = 0; slot < WORKERS; slot++) {
    texts.push({ text: encodeSnapshot(workerSnapshot(slot, 1000 + slot, now)), live: true });
    if (withRetired) texts.push({ text: encodeSnapshot(foldSnapshot(undefined, workerSnapshot(slot, 500 + slot, now - 10_000))), live: false });
  }
  return texts;
}

/** Median decode, merge and decode+merge times over RUNS runs after a warm-up. */
function measure(texts) {
  const resource = resourceFromAttributes({ 'service.name': 'bench' });
  const decode = [];
  const merge = [];
  const total = [];
  let points = 0;
  for (let run = 0; run < RUNS + 10; run++) {
    const t0 = performance.now();
    const stored = texts.map(({ text, live }, i) => ({ snapshot: decodeSnapshot(text, `bench-${i}`), live }));
    const t1 = performance.now();
    const rm = mergeSnapshots(stored, { resource, labelInstance: false, nowMs: Date.now() });
    const t2 = performance.now();
    if (run < 10) continue; // warm-up
    decode.push(t1 - t0);
    merge.push(t2 - t1);
    total.push(t2 - t0);
    points = rm.scopeMetrics[0].metrics.reduce((n, m) => n + m.dataPoints.length, 0);
  }
  const bytes = texts.reduce((n, { text }) => n + Buffer.byteLength(text), 0);
  return { bytes, points, decode: median(decode), merge: median(merge), total: median(total), best: Math.min(...total) };
}

function report(label, texts) {
  const r = measure(texts);
  console.log(
    `${label}: ${texts.length} snapshots, ${(r.bytes / 1024).toFixed(0)} KiB, ${r.points} merged points | ` +
      `decode ${r.decode.toFixed(2)} ms, merge ${r.merge.toFixed(2)} ms, decode+merge median ${r.total.toFixed(2)} ms (best ${r.best.toFixed(2)})`,
  );
}

/**
 * The primary's real scrape path: FileStore.readAll (every live file rewritten
 * since the last scrape, as workers flush every second; retired files unchanged)
 * then merge. Live files are rewritten between runs, outside the timed part.
 */
async function measureFileStore() {
  const { Retirement } = require('../dist/retirement/Retirement');
  const { FileBackend } = require('../dist/store/file/FileBackend');
  const directory = mkdtempSync(join(tmpdir(), 'ocx-bench-'));
  const backend = new FileBackend({ directory });
  const store = new Retirement(backend);
  const resource = resourceFromAttributes({ 'service.name': 'bench' });
  const now = Date.now();
  // pid: this process, so every worker file counts as live (distinct start times keep the names apart).
  const workers = [];
  for (let slot = 0; slot < WORKERS; slot++) {
    const s = workerSnapshot(slot, process.pid, now);
    workers.push({ ...s, identity: { ...s.identity, slot, startTimeMs: Math.round(performance.timeOrigin) } });
    await backend.compareAndSetRetired(directory, slot, undefined, encodeSnapshot(foldSnapshot(undefined, workerSnapshot(slot, 500 + slot, now - 10_000))));
  }
  const times = [];
  try {
    for (let run = 0; run < RUNS + 10; run++) {
      // Every worker counted something since the last scrape: its file is rewritten, not only renewed.
      for (const w of workers) await store.write(withOneMore(w, run));
      const t0 = performance.now();
      mergeSnapshots(await store.readAll(), { resource, labelInstance: false, nowMs: Date.now() });
      if (run >= 10) times.push(performance.now() - t0);
    }
  } finally {
    rmSync(directory, { recursive: true, force: true });
  }
  return { median: median(times), best: Math.min(...times) };
}

/** The snapshot with its first counter point raised by `run`: a changed snapshot. */
function withOneMore(snapshot, run) {
  const [first, ...rest] = snapshot.metrics;
  const [point, ...others] = first.points;
  return { ...snapshot, writtenAtMs: Date.now(), metrics: [{ ...first, points: [{ ...point, value: point.value + run }, ...others] }, ...rest] };
}

if (require.main === module) {
  const now = Date.now();
  console.log(`${WORKERS} workers x ${LABEL_SETS} label sets x (1 counter + 3 histograms of ${DEFAULT_DURATION_BUCKETS.length} buckets) + 4 gauges, ${RUNS} runs`);
  report('live workers only        ', buildTexts(now, false));
  report('live + one retired / slot', buildTexts(now, true));
  measureFileStore().then((r) => {
    console.log(`FileStore.readAll + merge, ${WORKERS} live files rewritten each run + ${WORKERS} retired: median ${r.median.toFixed(2)} ms (best ${r.best.toFixed(2)})`);
  });
}

module.exports = { buildTexts, measure };
