// A plain Node.js cluster app with no metrics code at all.
//   node --require otel-cluster-exporter/register examples/cluster/app.js
// Workers serve http://127.0.0.1:3000; the primary serves the merged metrics on :9091/metrics.
'use strict';
const cluster = require('node:cluster');
const http = require('node:http');
const os = require('node:os');

const port = Number(process.env.PORT || 3000);
const workers = Number(process.env.WORKERS || Math.min(4, os.availableParallelism()));

if (cluster.isPrimary) {
  for (let i = 0; i < workers; i++) cluster.fork();
  // Replace workers that die, as production cluster apps do.
  cluster.on('exit', (worker, code, signal) => {
    console.log(`worker ${worker.process.pid} exited (${signal || code}); forking a replacement`);
    cluster.fork();
  });
  console.log(`primary ${process.pid}: ${workers} workers on http://127.0.0.1:${port}`);
} else {
  const server = http.createServer((req, res) => {
    if (req.url === '/slow') {
      setTimeout(() => res.end('slow\n'), 50 + Math.random() * 200);
    } else if (req.url.startsWith('/users/')) {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ id: req.url.split('/')[2], worker: cluster.worker.id }));
    } else if (req.url === '/error') {
      res.statusCode = 500;
      res.end('something broke\n');
    } else {
      res.end(`hello from worker ${cluster.worker.id}\n`);
    }
  });
  server.listen(port, '127.0.0.1', () => console.log(`worker ${cluster.worker.id} pid ${process.pid} listening`));
}
