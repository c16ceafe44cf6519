// A plain HTTP app that knows nothing about cluster or metrics, for `otel-cluster-exporter run`.
//   GET /           200 "ok <pid>"
//   GET /slow?ms=N  answers after N ms
//   GET /spin?after=N  answers, then N ms later blocks the event loop for good (a hung worker)
//   GET /crash      throws from a timer: the worker dies (exit code 1)
//   GET /grow?mb=N  retains N MiB more (RSS grows)
//   GET /execargv   the worker's process.execArgv as JSON
// APP_CRASH_AFTER_MS=N: listen, then die N ms later (a crash loop).
// APP_BOOT_FAIL=1: throw before listening (an app that cannot start).
'use strict';
const http = require('node:http');

if (process.env.APP_BOOT_FAIL === '1') throw new Error('cannot start: APP_BOOT_FAIL is set');

const retained = [];
const server = http.createServer((req, res) => {
  const url = new URL(req.url ?? '/', 'http://localhost');
  if (url.pathname === '/slow') {
    setTimeout(() => res.end(`slow ${process.pid}`), Number(url.searchParams.get('ms') ?? 100));
  } else if (url.pathname === '/spin') {
    res.end(`spinning ${process.pid}`);
    setTimeout(
      () => {
        for (;;);
      },
      Number(url.searchParams.get('after') ?? 0),
    );
  } else if (url.pathname === '/crash') {
    res.end(`crashing ${process.pid}`);
    setTimeout(() => {
      throw new Error('crash requested');
    }, 10);
  } else if (url.pathname === '/grow') {
    const mb = Number(url.searchParams.get('mb') ?? 10);
    for (let i = 0; i < mb; i++) retained.push(Buffer.alloc(1024 * 1024, 1));
    res.end(`grown ${process.pid}`);
  } else if (url.pathname === '/execargv') {
    res.end(JSON.stringify(process.execArgv));
  } else {
    res.end(`ok ${process.pid}`);
  }
});
server.listen(Number(process.env.PORT ?? 3000), '127.0.0.1');
if (process.env.APP_CRASH_AFTER_MS) {
  setTimeout(() => process.exit(3), Number(process.env.APP_CRASH_AFTER_MS));
}
