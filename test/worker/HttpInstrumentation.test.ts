import { test, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { createHash, randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { CATALOGUE, DEFAULT_DURATION_BUCKETS, DEFAULT_SIZE_BUCKETS, LABEL } from '../../src/catalogue/MetricCatalogue';
import { HttpInstrumentation } from '../../src/worker/HttpInstrumentation';
import { HttpMetricProducer } from '../../src/worker/HttpMetricProducer';
import { RequestAccumulator } from '../../src/worker/RequestAccumulator';
import { RouteNormaliser, UNMATCHED_ENDPOINT } from '../../src/worker/RouteNormaliser';
import { stashError } from '../../src/worker/requestError';
import { close, collect, createStack, eventually, histogramOf, listen, rawExchange, request, seriesOf, sumOf, type Stack } from './support';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()!();
});

async function serve(stack: Stack, handler: (req: http.IncomingMessage, res: http.ServerResponse) => unknown): Promise<number> {
  const server = http.createServer(handler);
  const port = await listen(server);
  cleanups.push(
    () => stack.instrumentation.disable(),
    () => close(server),
  );
  return port;
}

function digest(data: Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

const R = CATALOGUE.requests.name;

test('every request is counted once with its method, endpoint and status', async () => {
  const stack = createStack();
  const port = await serve(stack, (req, res) => {
    if (req.url === '/boom') res.writeHead(500).end('no');
    else if (req.url?.startsWith('/items')) res.writeHead(req.method === 'POST' ? 201 : 200).end('ok');
    else if (req.url === '/') res.end('hello');
    else res.writeHead(404).end();
  });
  for (let i = 0; i < 3; i++) await request(port);
  await request(port, { method: 'POST', path: '/items', body: 'a' });
  await request(port, { method: 'POST', path: '/items?x=1', body: 'b' });
  await request(port, { path: '/items/42' });
  await request(port, { path: '/boom' });
  await request(port, { path: '/nope/123' });
  const m = await collect(stack);
  assert.equal(sumOf(m, R, { method: 'GET', endpoint: '/', status: '200' }), 3);
  assert.equal(sumOf(m, R, { method: 'POST', endpoint: '/items', status: '201' }), 2);
  assert.equal(sumOf(m, R, { method: 'GET', endpoint: '/items/:id', status: '200' }), 1);
  assert.equal(sumOf(m, R, { method: 'GET', endpoint: '/boom', status: '500' }), 1);
  assert.equal(sumOf(m, R, { method: 'GET', endpoint: UNMATCHED_ENDPOINT, status: '404' }), 1);
  assert.equal(sumOf(m, R), 8);
  assert.equal(sumOf(m, CATALOGUE.failedRequests.name), 1);
  assert.equal(sumOf(m, CATALOGUE.failedRequests.name, { endpoint: '/boom', error_type: 'http_5xx' }), 1);
  const duration = histogramOf(m, CATALOGUE.requestDuration.name, { method: 'GET', endpoint: '/', status: '200' });
  assert.equal(duration.count, 3);
  assert.deepEqual(duration.buckets.boundaries, [...DEFAULT_DURATION_BUCKETS]);
  assert.equal(
    duration.buckets.counts.reduce((a, b) => a + b, 0),
    3,
  );
  assert.ok(duration.sum! > 0 && duration.min! > 0 && duration.max! >= duration.min!);
  for (const attributes of seriesOf(m, R)) assert.equal(attributes[LABEL.workerId], undefined);
  assert.equal(sumOf(m, CATALOGUE.activeRequests.name), 0);
});

test('Content-Length request bodies are counted and reach the app unchanged (paused-mode reader)', async () => {
  const stack = createStack();
  const body = randomBytes(100_000);
  let received = '';
  const port = await serve(stack, (req, res) => {
    const parts: Buffer[] = [];
    req.on('readable', () => {
      let part: Buffer | null;
      while ((part = req.read() as Buffer | null) !== null) parts.push(part);
    });
    req.on('end', () => {
      received = digest(Buffer.concat(parts));
      res.end('ok');
    });
  });
  await request(port, { method: 'PUT', path: '/upload', body });
  assert.equal(received, digest(body));
  const m = await collect(stack);
  const size = histogramOf(m, CATALOGUE.requestSize.name, { method: 'PUT', endpoint: '/upload' });
  assert.equal(size.sum, 100_000);
  assert.equal(size.count, 1);
  assert.deepEqual(size.buckets.boundaries, [...DEFAULT_SIZE_BUCKETS]);
});

test('chunked request bodies are counted exactly whatever way the app reads them', async () => {
  const stack = createStack();
  const chunks = [randomBytes(70_000), Buffer.from('héllo wörld'), randomBytes(3), randomBytes(250_000)];
  const whole = Buffer.concat(chunks);
  const digests = new Map<string, string>();
  const port = await serve(stack, async (req, res) => {
    const parts: Buffer[] = [];
    if (req.url === '/paused') {
      await new Promise<void>((resolve) => {
        req.on('readable', () => {
          let part: Buffer | null;
          while ((part = req.read() as Buffer | null) !== null) parts.push(part);
        });
        req.on('end', resolve);
      });
    } else if (req.url === '/for-await') {
      for await (const part of req) parts.push(part as Buffer);
    } else {
      await pipeline(
        req,
        new Writable({
          write(part: Buffer, _e, done) {
            parts.push(part);
            done();
          },
        }),
      );
    }
    digests.set(req.url ?? '', digest(Buffer.concat(parts)));
    res.end('ok');
  });
  for (const path of ['/paused', '/for-await', '/pipe']) {
    await request(port, { method: 'POST', path, chunks, headers: { 'transfer-encoding': 'chunked' } });
    assert.equal(digests.get(path), digest(whole), path);
  }
  const m = await collect(stack);
  for (const path of ['/paused', '/for-await', '/pipe']) {
    assert.equal(histogramOf(m, CATALOGUE.requestSize.name, { endpoint: path }).sum, whole.length, path);
  }
});

test('an unread request body is still counted from Content-Length', async () => {
  const stack = createStack();
  const port = await serve(stack, (_req, res) => res.end('ignored your body'));
  await request(port, { method: 'POST', path: '/ignore', body: 'x'.repeat(1234) });
  const m = await collect(stack);
  assert.equal(histogramOf(m, CATALOGUE.requestSize.name, { endpoint: '/ignore' }).sum, 1234);
});

test('response sizes are exact for Content-Length, chunked, multi-byte and body-less responses', async () => {
  const stack = createStack();
  const big = randomBytes(300_000);
  const port = await serve(stack, (req, res) => {
    switch (req.url) {
      case '/fixed':
        res.setHeader('content-length', big.length);
        res.end(big);
        return;
      case '/chunked':
        res.write('abc');
        res.write(Buffer.alloc(1000, 1));
        res.write('ü', 'utf8');
        res.end('last');
        return;
      case '/latin1':
        res.end('ÿÿ', 'latin1');
        return;
      case '/no-content':
        res.writeHead(204).end();
        return;
      default:
        res.end('a body HEAD must not count');
    }
  });
  const fixed = await request(port, { path: '/fixed' });
  assert.equal(fixed.body.length, big.length);
  const chunked = await request(port, { path: '/chunked' });
  assert.equal(chunked.headers['transfer-encoding'], 'chunked');
  await request(port, { path: '/latin1' });
  await request(port, { path: '/no-content' });
  await request(port, { method: 'HEAD', path: '/head' });
  const m = await collect(stack);
  const size = (endpoint: string): number | undefined => histogramOf(m, CATALOGUE.responseSize.name, { endpoint }).sum;
  assert.equal(size('/fixed'), 300_000);
  assert.equal(size('/chunked'), chunked.body.length);
  assert.equal(size('/chunked'), 3 + 1000 + 2 + 4);
  assert.equal(size('/latin1'), 2);
  assert.equal(size('/no-content'), 0);
  assert.equal(size('/head'), 0);
});

test('keep-alive connections: every request counted, closing an idle connection is not an abort', async () => {
  const stack = createStack();
  const port = await serve(stack, (_req, res) => res.end('ok'));
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  for (let i = 0; i < 5; i++) {
    await new Promise<void>((resolve, reject) => {
      http.get({ host: '127.0.0.1', port, path: '/ka', agent }, (res) => res.resume().on('end', resolve)).on('error', reject);
    });
  }
  agent.destroy();
  await new Promise((resolve) => setTimeout(resolve, 50));
  const m = await collect(stack);
  assert.equal(sumOf(m, R, { endpoint: '/ka', status: '200' }), 5);
  assert.equal(sumOf(m, CATALOGUE.failedRequests.name), 0);
});

test('a client abort is counted as a failed request with status 499', async () => {
  const stack = createStack();
  let arrived!: () => void;
  const inHandler = new Promise<void>((resolve) => (arrived = resolve));
  const port = await serve(stack, () => arrived()); // never answers
  const req = http.request({ host: '127.0.0.1', port, path: '/slow/7', agent: false });
  req.on('error', () => {});
  req.end();
  await inHandler;
  assert.equal(sumOf(await collect(stack), CATALOGUE.activeRequests.name), 1);
  req.destroy();
  await eventually(async () => sumOf(await collect(stack), CATALOGUE.failedRequests.name) === 1, 'abort to be counted');
  const m = await collect(stack);
  assert.equal(sumOf(m, CATALOGUE.failedRequests.name, { method: 'GET', endpoint: '/slow/:id', error_type: 'client_abort' }), 1);
  assert.equal(sumOf(m, R, { endpoint: '/slow/:id', status: '499' }), 1);
  assert.equal(sumOf(m, CATALOGUE.activeRequests.name), 0);
});

test('a response destroyed with an error is a socket_error failure and an error handled', async () => {
  const stack = createStack();
  const port = await serve(stack, (_req, res) => {
    res.write('partial');
    setImmediate(() => res.destroy(Object.assign(new Error('backend gone'), { code: 'E_BACKEND' })));
  });
  await request(port, { path: '/proxy' }).catch(() => undefined);
  await eventually(async () => sumOf(await collect(stack), CATALOGUE.failedRequests.name) === 1, 'failure to be counted');
  const m = await collect(stack);
  assert.equal(sumOf(m, CATALOGUE.failedRequests.name, { endpoint: '/proxy', error_type: 'socket_error' }), 1);
  assert.equal(sumOf(m, CATALOGUE.errorHandling.name, { endpoint: '/proxy', error_type: 'E_BACKEND' }), 1);
  assert.equal(sumOf(m, R, { endpoint: '/proxy', status: '499' }), 1);
});

test('an error the app destroys its request stream with, then answers, is counted in error_handling once', async () => {
  const stack = createStack();
  const port = await serve(stack, (req, res) => {
    req.resume();
    req.on('end', () => {
      if (req.method !== 'POST') return res.end('ok');
      // The body was read: the app gives up on the stream with an error of its own and still answers.
      req.on('error', () => undefined);
      req.destroy(new RangeError('body rejected'));
      res.writeHead(422).end('rejected');
    });
  });
  const reply = await request(port, { method: 'POST', path: '/upload', body: 'abc' });
  assert.equal(reply.status, 422);
  await request(port, { path: '/upload' });
  const m = await collect(stack);
  assert.equal(sumOf(m, R, { method: 'POST', endpoint: '/upload', status: '422' }), 1);
  assert.equal(sumOf(m, R, { method: 'GET', endpoint: '/upload', status: '200' }), 1);
  assert.equal(sumOf(m, CATALOGUE.errorHandling.name), 1);
  assert.equal(sumOf(m, CATALOGUE.errorHandling.name, { method: 'POST', endpoint: '/upload', error_type: 'RangeError' }), 1);
});

test("a malformed request gets Node's own 400 reply unchanged and is counted in error_handling", async () => {
  const stack = createStack();
  const server = http.createServer((_req, res) => res.end('ok'));
  const port = await listen(server);
  cleanups.push(
    () => stack.instrumentation.disable(),
    () => close(server),
  );
  const reply = await rawExchange(port, 'NOT A REQUEST\r\n\r\n');
  assert.equal(reply, 'HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n');
  assert.equal(server.listenerCount('clientError'), 0);
  const m = await collect(stack);
  const handled = seriesOf(m, CATALOGUE.errorHandling.name);
  assert.equal(handled.length, 1);
  assert.equal(handled[0]![LABEL.method], 'UNKNOWN');
  assert.equal(handled[0]![LABEL.endpoint], UNMATCHED_ENDPOINT);
  assert.match(String(handled[0]![LABEL.errorType]), /^HPE_/);
  assert.equal(sumOf(m, R), 0);
  // The server still serves well-formed requests afterwards.
  assert.equal((await request(port)).body.toString(), 'ok');
});

test("an app's own clientError listener keeps working and the error is still counted", async () => {
  const stack = createStack();
  const server = http.createServer((_req, res) => res.end('ok'));
  server.on('clientError', (_error, socket) => socket.end('HTTP/1.1 418 Teapot\r\nConnection: close\r\n\r\n'));
  const port = await listen(server);
  cleanups.push(
    () => stack.instrumentation.disable(),
    () => close(server),
  );
  assert.match(await rawExchange(port, 'GET / HTTP/1.1\r\nBad Header\r\n\r\n'), /^HTTP\/1.1 418 Teapot/);
  assert.equal(sumOf(await collect(stack), CATALOGUE.errorHandling.name), 1);
});

test('an ignored server is never counted', async () => {
  const stack = createStack();
  const ignored = http.createServer((_req, res) => res.writeHead(500).end('metrics'));
  stack.instrumentation.ignoreServer(ignored);
  const port = await listen(ignored);
  cleanups.push(
    () => stack.instrumentation.disable(),
    () => close(ignored),
  );
  await request(port, { path: '/metrics' });
  await rawExchange(port, 'BAD\r\n\r\n');
  const m = await collect(stack);
  assert.equal(sumOf(m, R), 0);
  assert.equal(sumOf(m, CATALOGUE.failedRequests.name), 0);
  assert.equal(sumOf(m, CATALOGUE.errorHandling.name), 0);
});

test('failInFlight counts requests in flight as handler errors with status 500', async () => {
  const stack = createStack();
  let arrived!: () => void;
  const inHandler = new Promise<void>((resolve) => (arrived = resolve));
  const port = await serve(stack, () => arrived());
  const req = http.request({ host: '127.0.0.1', port, path: '/crash', method: 'DELETE', agent: false });
  req.on('error', () => {});
  req.end();
  await inHandler;
  assert.equal(stack.instrumentation.failInFlight('handler_error'), 1);
  const m = await collect(stack);
  assert.equal(sumOf(m, R, { method: 'DELETE', endpoint: '/crash', status: '500' }), 1);
  assert.equal(sumOf(m, CATALOGUE.failedRequests.name, { endpoint: '/crash', error_type: 'handler_error' }), 1);
  assert.equal(sumOf(m, CATALOGUE.activeRequests.name), 0);
  req.destroy();
  await new Promise((resolve) => setTimeout(resolve, 30));
  // Counted once: the later close does not count it again.
  assert.equal(sumOf(await collect(stack), R, { endpoint: '/crash' }), 1);
});

class ExplodingNormaliser extends RouteNormaliser {
  override endpointFor(): string {
    throw new Error('normaliser exploded');
  }
}

test('an exception inside the instrumentation never breaks a request', async () => {
  const accumulator = new RequestAccumulator({ durationBuckets: [0.1, 1], sizeBuckets: [100] });
  const instrumentation = new HttpInstrumentation({ accumulator, normaliser: new ExplodingNormaliser({ maxEndpoints: 5 }) });
  instrumentation.enable();
  const stack: Stack = { instrumentation, producer: new HttpMetricProducer(instrumentation) };
  const uncaught: unknown[] = [];
  const onUncaught = (error: unknown): void => void uncaught.push(error);
  process.on('uncaughtException', onUncaught);
  cleanups.push(() => void process.off('uncaughtException', onUncaught));
  const port = await serve(stack, (_req, res) => res.end('still fine'));
  for (let i = 0; i < 3; i++) {
    const reply = await request(port, { method: 'POST', path: '/x', chunks: ['a', 'b'] });
    assert.equal(reply.status, 200);
    assert.equal(reply.body.toString(), 'still fine');
  }
  await new Promise((resolve) => setTimeout(resolve, 20));
  assert.deepEqual(uncaught, []);
  assert.ok(instrumentation.internalErrors >= 3);
  assert.equal(instrumentation.activeRequests(), 0);
});

test('disable stops recording', async () => {
  const stack = createStack();
  const port = await serve(stack, (_req, res) => res.end('ok'));
  await request(port);
  stack.instrumentation.disable();
  await request(port);
  assert.equal(sumOf(await collect(stack), R), 1);
});

test('a second instance cannot double-record while one is enabled', async () => {
  const first = createStack();
  const second = createStack();
  assert.equal(first.instrumentation.isEnabled, true);
  assert.equal(second.instrumentation.isEnabled, false);
  const port = await serve(first, (_req, res) => res.end('ok'));
  await request(port);
  assert.equal(sumOf(await collect(first), R), 1);
  assert.equal(sumOf(await collect(second), R), 0);
});

test('error_type of a 5xx names the class stashed for the request; distinct classes are capped, the rest fold into "other"', async () => {
  const stack = createStack();
  const port = await serve(stack, (req, res) => {
    const n = Number(req.url?.slice(1));
    if (n > 0) {
      // A framework hook would do this: a different exception class per request.
      const ErrorClass = { [`Failure${n}`]: class extends Error {} }[`Failure${n}`]!;
      stashError(req, new ErrorClass('x'));
    }
    res.statusCode = 500;
    res.end();
  });
  for (let n = 0; n <= 70; n++) await request(port, { path: `/${n}` });
  const m = await collect(stack);
  assert.equal(sumOf(m, CATALOGUE.failedRequests.name), 71);
  assert.equal(sumOf(m, CATALOGUE.failedRequests.name, { error_type: 'http_5xx' }), 1, 'no exception seen: the category');
  assert.equal(sumOf(m, CATALOGUE.failedRequests.name, { error_type: 'Failure1' }), 1);
  assert.equal(sumOf(m, CATALOGUE.failedRequests.name, { error_type: 'Failure64' }), 1);
  assert.equal(sumOf(m, CATALOGUE.failedRequests.name, { error_type: 'other' }), 70 - 64);
});

test('onNextRequest runs its hook once, before the handler of the next request of the app, not for the exporter own server', async () => {
  const stack = createStack();
  const calls: string[] = [];
  const appPort = await serve(stack, (req, res) => {
    calls.push(`handler ${req.url}`);
    res.end('ok');
  });
  const ignored = http.createServer((_req, res) => res.end('metrics'));
  stack.instrumentation.ignoreServer(ignored);
  const ignoredPort = await listen(ignored);
  cleanups.push(() => close(ignored));

  stack.instrumentation.onNextRequest(() => calls.push('hook'));
  await request(ignoredPort, { path: '/metrics' });
  assert.deepEqual(calls, [], "the exporter's own server does not run it");
  await request(appPort, { path: '/first' });
  await request(appPort, { path: '/second' });
  assert.deepEqual(calls, ['hook', 'handler /first', 'handler /second'], 'once, before the handler');
});
