'use strict';
// A plain app whose GET /spin answers "spinning <pid>" and then blocks its event loop for good:
// the hung worker of the supervisor bench.
const http = require('node:http');

http
  .createServer((req, res) => {
    if (req.url !== '/spin') return res.end('ok');
    res.end(`spinning ${process.pid}`);
    setImmediate(() => {
      for (;;);
    });
  })
  .listen(Number(process.env.PORT), '127.0.0.1');
