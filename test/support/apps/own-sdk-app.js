// A cluster app (2 workers) that runs its own OpenTelemetry metrics SDK, as
// OpenTelemetry users write it: OWN_SDK=metrics (a MeterProvider from
// @opentelemetry/sdk-metrics, registered globally) or OWN_SDK=node (NodeSDK).
// Its own reader is a plain pull MetricReader; CLUSTER_READER=1 adds the one
// line from the README that also feeds the exporter's merged view.
//   GET /order  counts one order on a counter from the global API
//   GET /own    what the app's own reader collects, and how registration went
'use strict';
const cluster = require('node:cluster');
const http = require('node:http');

if (cluster.isPrimary) {
  for (let i = 0; i < Number(process.env.APP_WORKERS || 2); i++) cluster.fork();
  cluster.on('exit', () => cluster.fork());
} else {
  const { diag, DiagLogLevel, metrics } = require('@opentelemetry/api');
  const diagErrors = [];
  const quiet = () => undefined;
  diag.setLogger({ error: (...args) => diagErrors.push(args.join(' ')), warn: quiet, info: quiet, debug: quiet, verbose: quiet }, DiagLogLevel.ERROR);
  const { MeterProvider, MetricReader } = require('@opentelemetry/sdk-metrics');

  class OwnReader extends MetricReader {
    async onForceFlush() {}
    async onShutdown() {}
  }
  const own = new OwnReader();
  const readers = [own];
  if (process.env.CLUSTER_READER === '1') {
    const { ClusterMetricReader } = require('otel-cluster-exporter');
    readers.push(new ClusterMetricReader());
  }

  let registered;
  if (process.env.OWN_SDK === 'node') {
    const { NodeSDK } = require('@opentelemetry/sdk-node');
    const sdk = new NodeSDK({ metricReaders: readers, instrumentations: [], autoDetectResources: false });
    sdk.start();
    // NodeSDK ignores setGlobalMeterProvider's answer: ask the API who is global now.
    registered = metrics.getMeterProvider() === sdk._meterProvider;
  } else {
    const provider = new MeterProvider({ readers });
    registered = metrics.setGlobalMeterProvider(provider);
  }
  // Obtained from the global API after the app's own registration, as libraries do.
  const orders = metrics.getMeter('shop').createCounter('shop_orders', { description: 'Orders placed' });
  let served = 0;

  http
    .createServer(async (req, res) => {
      if (req.url === '/order') {
        orders.add(1, { kind: 'book' });
        served++;
        return res.end('ok');
      }
      if (req.url === '/own') {
        const { resourceMetrics } = await own.collect();
        const metric = resourceMetrics.scopeMetrics.flatMap((s) => s.metrics).find((m) => m.descriptor.name === 'shop_orders');
        const value = metric ? metric.dataPoints.reduce((total, p) => total + p.value, 0) : 0;
        res.setHeader('content-type', 'application/json');
        return res.end(JSON.stringify({ pid: process.pid, served, ownReaderSees: value, registered, diagErrors }));
      }
      res.end('ok');
    })
    .listen(Number(process.env.APP_PORT));
}
