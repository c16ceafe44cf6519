// A plain Node.js HTTP app: no cluster code, no metrics code, no preload.
//   otel-cluster-exporter run -c examples/run/exporter.yml examples/run/app.js
// runs it as supervised workers on http://127.0.0.1:3000 with merged metrics on :9091/metrics.
'use strict';
const http = require('node:http');

const port = Number(process.env.PORT || 3000);
http
  .createServer((req, res) => {
    if (req.url === '/slow') {
      setTimeout(() => res.end(`slow answer from ${process.pid}\n`), 1000);
    } else if (req.url === '/hang') {
      // A bug that blocks the event loop for good: the master's watchdog kills this worker after `timeout`.
      res.end(`pid ${process.pid} hangs now\n`);
      setTimeout(() => {
        for (;;);
      }, 1200);
    } else if (req.url === '/crash') {
      res.end(`pid ${process.pid} crashes now\n`);
      setTimeout(() => {
        throw new Error('crash requested');
      }, 10);
    } else {
      res.end(`hello from ${process.pid}\n`);
    }
  })
  .listen(port, '127.0.0.1');
