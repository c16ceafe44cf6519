// The app PM2 runs in cluster mode: a plain HTTP server with no metrics code.
// PM2 starts it under `--require otel-cluster-exporter/register` (see ecosystem.config.js).
'use strict';
const http = require('node:http');

const port = Number(process.env.PORT || 3000);

http
  .createServer((req, res) => {
    if (req.url.startsWith('/users/')) {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ id: req.url.split('/')[2], instance: process.env.NODE_APP_INSTANCE }));
      return;
    }
    res.end(`hello from PM2 instance ${process.env.NODE_APP_INSTANCE}\n`);
  })
  .listen(port, () => console.log(`instance ${process.env.NODE_APP_INSTANCE} (pid ${process.pid}) on :${port}`));
