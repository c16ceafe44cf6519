'use strict';
// The app every supervisor bench variant runs: hello world on $PORT. With
// HELLO_CLUSTER=N and run directly it is its own cluster primary (the
// hand-written `cluster` code users write today); under
// `otel-cluster-exporter run` it is a plain app and the master forks it.
const cluster = require('node:cluster');
const http = require('node:http');

const forks = Number(process.env.HELLO_CLUSTER || 0);
if (forks > 0 && cluster.isPrimary) {
  for (let i = 0; i < forks; i++) cluster.fork();
  process.on('SIGTERM', () => {
    for (const worker of Object.values(cluster.workers)) worker.kill();
    process.exit(0);
  });
} else {
  http.createServer((_req, res) => res.end('hello world')).listen(Number(process.env.PORT), '127.0.0.1');
}
