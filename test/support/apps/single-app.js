// A single-process app (no cluster), zero configuration.
'use strict';
const http = require('node:http');
const server = http.createServer((req, res) => res.end('single\n'));
server.listen(Number(process.env.APP_PORT || 0), '127.0.0.1', () => {
  if (process.send) process.send({ type: 'listening', pid: process.pid, port: server.address().port });
});
