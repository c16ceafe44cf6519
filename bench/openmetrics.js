#!/usr/bin/env node
'use strict';
/**
 * OpenMetrics against the classic text, side by side in ONE run, on the merged
 * view of 16 workers x 100 label sets (a counter and a 16-bucket duration
 * histogram each): what a scrape pays when Prometheus negotiates OpenMetrics,
 * without exemplars and with one on every bucket (the worst case).
 *
 *   npm run bench:openmetrics           (builds dist/, then runs this file)
 *   node bench/openmetrics.js [--runs 15]
 */
const path = require('node:path');
const { arg, median } = require('./support');

const DIST = path.join(__dirname, '..', 'dist');
const { mergeSnapshots } = require(path.join(DIST, 'merge/SnapshotMerger.js'));
const { PrometheusTextSerializer } = require(path.join(DIST, 'exposition/PrometheusTextSerializer.js'));
const { OpenMetricsSerializer } = require(path.join(DIST, 'exposition/OpenMetricsSerializer.js'));
const { DEFAULT_DURATION_BUCKETS, CATALOGUE } = require(path.join(DIST, 'catalogue/MetricCatalogue.js'));
const { resourceFromAttributes } = require('@opentelemetry/resources');

function mergedView(withExemplars) {
  const bounds = [...DEFAULT_DURATION_BUCKETS];
  const stored = [];
  for (let slot = 0; slot < 16; slot++) {
    const counterPoints = [];
    const histogramPoints = [];
    for (let l = 0; l < 100; l++) {
      const attributes = { method: 'GET', endpoint: `/route/${l}`, status: '200' };
      counterPoints.push({ attributes, startTimeMs: 1000, value: 100 + l });
      const counts = [...bounds, 0].map((_, i) => i + 1);
      const value = { count: counts.reduce((a, b) => a + b, 0), sum: 12.5, counts };
      if (withExemplars) {
        value.exemplars = counts.map((_, bucket) => ({ bucket, value: 0.01, timeMs: 1_700_000_000_000 + bucket, traceId: 'a'.repeat(32), spanId: 'b'.repeat(16) }));
      }
      histogramPoints.push({ attributes, startTimeMs: 1000, value });
    }
    stored.push({
      live: true,
      snapshot: {
        identity: { service: 's', instance: 'i', slot, pid: 100 + slot, startTimeMs: 1000 + slot, role: 'worker' },
        writtenAtMs: 5000,
        metrics: [
          { name: CATALOGUE.requests.name, description: CATALOGUE.requests.help, unit: '1', kind: 'counter', valueType: 'int', points: counterPoints },
          { name: CATALOGUE.requestDuration.name, description: CATALOGUE.requestDuration.help, unit: 's', kind: 'histogram', valueType: 'double', boundaries: bounds, points: histogramPoints },
        ],
      },
    });
  }
  return mergeSnapshots(stored, { resource: resourceFromAttributes({}), labelInstance: false, nowMs: 10_000 });
}

function timeSerializer(serializer, view, runs) {
  for (let i = 0; i < 5; i++) serializer.serialize(view); // warm-up: JIT and caches
  const times = [];
  let bytes = 0;
  for (let i = 0; i < runs; i++) {
    const started = process.hrtime.bigint();
    bytes = Buffer.byteLength(serializer.serialize(view));
    times.push(Number(process.hrtime.bigint() - started) / 1e6);
  }
  return { ms: median(times), bytes };
}

const runs = Number(arg('runs', '15'));
console.log(`node ${process.version}; median of ${runs} serializations of the same merged view`);
for (const withExemplars of [false, true]) {
  const view = mergedView(withExemplars);
  const classic = timeSerializer(new PrometheusTextSerializer(), view, runs);
  const open = timeSerializer(new OpenMetricsSerializer(), view, runs);
  console.log(
    `${withExemplars ? 'exemplar on every bucket' : 'no exemplars            '}  classic ${classic.ms.toFixed(1)} ms (${(classic.bytes / 1e6).toFixed(2)} MB)  ` +
      `OpenMetrics ${open.ms.toFixed(1)} ms (${(open.bytes / 1e6).toFixed(2)} MB)  ratio ${(open.ms / classic.ms).toFixed(2)}`,
  );
}
