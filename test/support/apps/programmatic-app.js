// An app that starts the exporter in code instead of with --require, and shuts it down on request.
'use strict';
const { start, shutdown } = require('../../../dist/index.js');
const started = start();
const http = require('node:http');
const server = http.createServer((req, res) => {
  if (req.url === '/shutdown') {
    res.end('bye\n');
    shutdown().then(() => server.close());
    return;
  }
  res.end(`role ${started.role}\n`);
});
server.listen(Number(process.env.APP_PORT || 0), '127.0.0.1', () => {
  if (process.send) process.send({ type: 'listening', pid: process.pid, port: server.address().port });
});
