// A cluster app whose handlers tell the caller the trace they ran in, so a
// test can tie an exemplar back to the request that made it. Knows nothing of
// the exporter; tracing comes from tracing.js, loaded by its own --require.
'use strict';
const cluster = require('node:cluster');
const http = require('node:http');
const { trace } = require('@opentelemetry/api');

const workers = Number(process.env.APP_WORKERS || 2);
const port = Number(process.env.APP_PORT || 0);

if (cluster.isPrimary) {
  for (let i = 0; i < workers; i++) cluster.fork();
} else {
  http
    .createServer((req, res) => {
      const traceId = trace.getActiveSpan()?.spanContext().traceId ?? '';
      const answer = () => {
        res.setHeader('x-trace-id', traceId);
        res.end(`${traceId}\n`);
      };
      if (req.url === '/slow') setTimeout(answer, 120);
      else answer();
    })
    .listen(port, '127.0.0.1');
}
