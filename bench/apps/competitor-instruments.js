'use strict';
// The competitors' request instruments, shared by the benches: a request counter and a duration
// histogram, in prom-client or in @opentelemetry/sdk-metrics (collected every second, as a
// periodic reader would), each behind one `record(method, route, status, seconds)`.
const path = require('node:path');

// The package's own duration boundaries (the benches need dist/ anyway): the competitors' histograms
// then have exactly as many buckets to fill as ours, whatever the catalogue says.
const { DEFAULT_DURATION_BUCKETS: BUCKETS } = require(path.join(__dirname, '..', '..', 'dist', 'catalogue', 'MetricCatalogue.js'));

/** prom-client Counter + Histogram labelled (method, route, status). */
function promClientInstruments() {
  const client = require('prom-client');
  const labelNames = ['method', 'route', 'status'];
  const counter = new client.Counter({ name: 'bench_requests_total', help: 'requests', labelNames });
  const histogram = new client.Histogram({ name: 'bench_request_duration_seconds', help: 'duration', labelNames, buckets: BUCKETS });
  return {
    record(method, route, status, seconds) {
      const labels = { method, route, status: String(status) };
      counter.inc(labels);
      histogram.observe(labels, seconds);
    },
  };
}

/** @opentelemetry/sdk-metrics Counter + Histogram with the same attributes, collected every second. */
function otelSdkInstruments() {
  const { MeterProvider, MetricReader, AggregationType } = require('@opentelemetry/sdk-metrics');
  class CollectingReader extends MetricReader {
    async onForceFlush() {}
    async onShutdown() {}
  }
  const reader = new CollectingReader();
  const provider = new MeterProvider({
    readers: [reader],
    views: [{ instrumentName: 'bench_request_duration', aggregation: { type: AggregationType.EXPLICIT_BUCKET_HISTOGRAM, options: { boundaries: BUCKETS } } }],
  });
  const meter = provider.getMeter('bench');
  const counter = meter.createCounter('bench_requests');
  const histogram = meter.createHistogram('bench_request_duration', { unit: 's' });
  setInterval(() => void reader.collect(), 1000).unref();
  return {
    record(method, route, status, seconds) {
      const attributes = { method, route, status: String(status) };
      counter.add(1, attributes);
      histogram.record(seconds, attributes);
    },
  };
}

module.exports = { promClientInstruments, otelSdkInstruments };
