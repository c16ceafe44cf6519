// A helper process: answers pings, and serves HTTP of its own that must not be counted as worker 0.
'use strict';
const http = require('node:http');
http.createServer((req, res) => res.end('helper\n')).listen(0, '127.0.0.1');
process.on('message', () => process.send(`pong from ${process.pid}`));
