// A cluster app for hostile-traffic tests: workers answer every method and path,
// and (APP_EXTRA_SERIES) record a counter over that many label sets through the
// OpenTelemetry API at start, so the merged view is megabytes, as a big app's is.
// The primary replaces dead workers and tells the test its workers' pids.
'use strict';
const cluster = require('node:cluster');
const http = require('node:http');

const workers = Number(process.env.APP_WORKERS || 2);
const port = Number(process.env.APP_PORT || 0);
const extraSeries = Number(process.env.APP_EXTRA_SERIES || 0);

if (cluster.isPrimary) {
  for (let i = 0; i < workers; i++) cluster.fork();
  cluster.on('exit', () => cluster.fork());
  process.on('message', (message) => {
    if (message === 'pids' && process.send) {
      process.send({ type: 'pids', pids: Object.values(cluster.workers).map((w) => w.process.pid) });
    }
  });
} else {
  // The SDK keeps 2,000 attribute sets per instrument: spread them over enough counters.
  const meter = require('@opentelemetry/api').metrics.getMeter('wide-app');
  const perCounter = 1900;
  for (let c = 0; c * perCounter < extraSeries; c++) {
    const counter = meter.createCounter(`wide_app_items_${c}`, { description: 'Items.' });
    for (let i = c * perCounter; i < Math.min(extraSeries, (c + 1) * perCounter); i++) counter.add(1 + (i % 7), { item: `item-${i}`, shelf: `shelf-${i % 50}` });
  }
  http.createServer((req, res) => res.end(req.method === 'HEAD' ? undefined : 'ok\n')).listen(port, '127.0.0.1');
}
