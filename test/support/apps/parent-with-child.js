// A single-process app that starts a helper child with child_process.fork, which passes the
// preload on in execArgv. The helper must not start a second exporter.
'use strict';
const http = require('node:http');
const { fork } = require('node:child_process');
const path = require('node:path');

const child = fork(path.join(__dirname, 'helper-child.js'), [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
const server = http.createServer((req, res) => {
  if (req.url === '/child') {
    child.send('ping');
    child.once('message', (m) => res.end(`child says ${m}\n`));
    return;
  }
  res.end('parent\n');
});
server.listen(Number(process.env.APP_PORT || 0), '127.0.0.1', () => {
  if (process.send) process.send({ type: 'listening', pid: process.pid, port: server.address().port });
});
