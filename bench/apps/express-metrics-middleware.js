'use strict';
// What an Express user runs today instead of the preload, as benches' competitors: a metrics
// middleware recording a request counter and a duration histogram (method, route, status) when
// the response finishes, with the route template Express matched (`req.baseUrl` + `req.route.path`,
// as express-prom-bundle names it), in prom-client or in the OpenTelemetry metrics SDK.

const BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10, 30, 60];

/** The matched route template, or one bounded value when no route matched. */
function routeOf(req) {
  const route = req.route;
  if (route !== undefined && typeof route.path === 'string') return req.baseUrl + route.path;
  return '__unmatched__';
}

/** prom-client Counter + Histogram, updated on 'finish' (express-prom-bundle's way). */
function promClientMiddleware() {
  const client = require('prom-client');
  const labelNames = ['method', 'route', 'status'];
  const counter = new client.Counter({ name: 'bench_requests_total', help: 'requests', labelNames });
  const histogram = new client.Histogram({ name: 'bench_request_duration_seconds', help: 'duration', labelNames, buckets: BUCKETS });
  return (req, res, next) => {
    const start = process.hrtime.bigint();
    res.on('finish', () => {
      const labels = { method: req.method, route: routeOf(req), status: String(res.statusCode) };
      counter.inc(labels);
      histogram.observe(labels, Number(process.hrtime.bigint() - start) / 1e9);
    });
    next();
  };
}

/** @opentelemetry/sdk-metrics Counter + Histogram, recorded on 'finish', collected every second as a periodic reader would. */
function otelSdkMiddleware() {
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
  return (req, res, next) => {
    const start = performance.now();
    res.on('finish', () => {
      const attributes = { method: req.method, route: routeOf(req), status: String(res.statusCode) };
      counter.add(1, attributes);
      histogram.record((performance.now() - start) / 1000, attributes);
    });
    next();
  };
}

/** The middleware of a competitor by name; undefined for none. */
function metricsMiddleware(name) {
  if (name === undefined) return undefined;
  if (name === 'prom-client') return promClientMiddleware();
  if (name === 'otel-sdk') return otelSdkMiddleware();
  throw new Error(`unknown metrics middleware ${name}`);
}

module.exports = { metricsMiddleware };
