// A plain cluster app: N workers serve a tiny HTTP API; the primary replaces dead workers.
// The test talks to it over real HTTP and signals. It knows nothing of the exporter.
'use strict';
const cluster = require('node:cluster');
const http = require('node:http');

const workers = Number(process.env.APP_WORKERS || 2);
const port = Number(process.env.APP_PORT || 0);

if (cluster.isPrimary) {
  for (let i = 0; i < workers; i++) cluster.fork();
  cluster.on('exit', () => {
    if (process.env.APP_NO_RESPAWN !== '1') cluster.fork();
  });
  cluster.on('listening', (worker, address) => {
    if (process.send) process.send({ type: 'listening', pid: worker.process.pid, port: address.port });
  });
  // Let the test ask for worker pids.
  process.on('message', (message) => {
    if (message === 'pids' && process.send) {
      process.send({ type: 'pids', pids: Object.values(cluster.workers).map((w) => w.process.pid) });
    }
  });
} else {
  http
    .createServer((req, res) => {
      if (req.url === '/boom') {
        res.statusCode = 500;
        res.end('boom');
        return;
      }
      if (req.url.startsWith('/users/')) {
        res.setHeader('content-type', 'application/json');
        res.end(JSON.stringify({ id: req.url.slice(7), pid: process.pid }));
        return;
      }
      if (req.url === '/crash') {
        // A handler whose exception escapes: the worker dies with this request in flight.
        setTimeout(() => {
          throw new Error('handler crashed');
        }, 20);
        return;
      }
      if (req.url === '/hang') return; // never answers; in flight until the worker dies
      if (req.url === '/echo') {
        const chunks = [];
        req.on('data', (c) => chunks.push(c));
        req.on('end', () => res.end(Buffer.concat(chunks)));
        return;
      }
      res.end(`hello from ${process.pid}\n`);
    })
    .listen(port, '127.0.0.1');
}
