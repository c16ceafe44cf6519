import { test, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import http2 from 'node:http2';
import https from 'node:https';
import { readFileSync } from 'node:fs';
import { CATALOGUE } from '../../src/catalogue/MetricCatalogue';
import { hasNativeHttp2Channels, isHttp2Server } from '../../src/worker/Http2Streams';
import { UNMATCHED_ENDPOINT } from '../../src/worker/RouteNormaliser';
import { makeTlsFiles } from '../support/tlsFiles';
import { close, collect, createStack, eventually, histogramOf, listen, request, sumOf, type Stack } from './support';

const R = CATALOGUE.requests.name;
const RESPONSE = CATALOGUE.responseSize.name;
const REQUEST = CATALOGUE.requestSize.name;
const FAILED = CATALOGUE.failedRequests.name;

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()!();
});

const tls = makeTlsFiles();
const secure = { key: readFileSync(tls.serverKey), cert: readFileSync(tls.serverCert) };
const ca = readFileSync(tls.ca);

/** One exchange over an HTTP/2 session; resolves with status and body once the stream ends. */
function h2Request(session: http2.ClientHttp2Session, headers: http2.OutgoingHttpHeaders, body?: Buffer | string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const stream = session.request(headers, { endStream: body === undefined });
    let status = 0;
    const parts: Buffer[] = [];
    stream.on('response', (h) => (status = Number(h[':status'])));
    stream.on('data', (part: Buffer) => parts.push(part));
    stream.on('end', () => resolve({ status, body: Buffer.concat(parts).toString() }));
    stream.on('error', reject);
    if (body !== undefined) stream.end(body);
  });
}

/** The app under test, written once for both request APIs: same statuses, bodies, sizes. */
function reply(method: string, path: string, body: string): { status: number; chunks: string[] } {
  if (path === '/boom') return { status: 500, chunks: ['broken'] };
  if (path.startsWith('/users/')) return { status: 200, chunks: ['{"user":', '"x"}'] };
  if (method === 'POST') return { status: 201, chunks: [`got ${body.length}`] };
  if (path === '/') return { status: 200, chunks: ['hello world'] };
  return { status: 404, chunks: [] };
}

function compatHandler(req: http.IncomingMessage | http2.Http2ServerRequest, res: http.ServerResponse | http2.Http2ServerResponse): void {
  const parts: Buffer[] = [];
  req.on('data', (part: Buffer) => parts.push(part));
  req.on('end', () => {
    const { status, chunks } = reply(req.method ?? '', req.url ?? '', Buffer.concat(parts).toString());
    res.statusCode = status;
    for (const chunk of chunks.slice(0, -1)) (res as http.ServerResponse).write(chunk);
    (res as http.ServerResponse).end(chunks.at(-1));
  });
}

function streamHandler(stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders): void {
  const parts: Buffer[] = [];
  stream.on('data', (part: Buffer) => parts.push(part));
  stream.on('end', () => {
    const { status, chunks } = reply(String(headers[':method']), String(headers[':path']), Buffer.concat(parts).toString());
    // A HEAD stream ends with its headers (Node's rule, not ours): no body may follow.
    if (headers[':method'] === 'HEAD') return void stream.respond({ ':status': status }, { endStream: true });
    stream.respond({ ':status': status });
    for (const chunk of chunks.slice(0, -1)) stream.write(chunk);
    stream.end(chunks.at(-1));
  });
}

/** The same 8 requests: 3 × GET /, 2 × /users/<id>, POST with and without content-length, one 500, one 404, one HEAD. */
async function traffic(send: (headers: http2.OutgoingHttpHeaders, body?: string) => Promise<{ status: number }>): Promise<number[]> {
  const statuses: number[] = [];
  for (let i = 0; i < 3; i++) statuses.push((await send({ ':path': '/' })).status);
  statuses.push((await send({ ':path': '/users/42' })).status);
  statuses.push((await send({ ':path': '/users/43?full=1' })).status);
  statuses.push((await send({ ':path': '/items', ':method': 'POST', 'content-length': '5' }, 'abcde')).status);
  statuses.push((await send({ ':path': '/items', ':method': 'POST' }, 'x'.repeat(300))).status);
  statuses.push((await send({ ':path': '/boom' })).status);
  statuses.push((await send({ ':path': '/nope' })).status);
  statuses.push((await send({ ':path': '/', ':method': 'HEAD' })).status);
  return statuses;
}

function assertTraffic(m: Awaited<ReturnType<typeof collect>>, statuses: number[]): void {
  assert.deepEqual(statuses, [200, 200, 200, 200, 200, 201, 201, 500, 404, 200]);
  assert.equal(sumOf(m, R), 10);
  assert.equal(sumOf(m, R, { method: 'GET', endpoint: '/', status: '200' }), 3);
  assert.equal(sumOf(m, R, { method: 'GET', endpoint: '/users/:id', status: '200' }), 2);
  assert.equal(sumOf(m, R, { method: 'POST', endpoint: '/items', status: '201' }), 2);
  assert.equal(sumOf(m, R, { method: 'GET', endpoint: '/boom', status: '500' }), 1);
  assert.equal(sumOf(m, R, { method: 'GET', endpoint: UNMATCHED_ENDPOINT, status: '404' }), 1);
  assert.equal(sumOf(m, R, { method: 'HEAD', endpoint: '/', status: '200' }), 1);
  assert.equal(sumOf(m, FAILED, { endpoint: '/boom', error_type: 'http_5xx' }), 1);
  assert.equal(histogramOf(m, RESPONSE, { method: 'GET', endpoint: '/', status: '200' }).sum, 33);
  assert.equal(histogramOf(m, RESPONSE, { method: 'GET', endpoint: '/users/:id', status: '200' }).sum, 24);
  assert.equal(histogramOf(m, RESPONSE, { method: 'HEAD', endpoint: '/', status: '200' }).sum, 0);
  assert.equal(histogramOf(m, RESPONSE, { method: 'POST', endpoint: '/items', status: '201' }).sum, 5 + 7);
  assert.equal(histogramOf(m, REQUEST, { method: 'POST', endpoint: '/items', status: '201' }).sum, 305);
  assert.equal(histogramOf(m, REQUEST, { method: 'GET', endpoint: '/', status: '200' }).sum, 0);
  assert.equal(sumOf(m, CATALOGUE.activeRequests.name), 0);
}

async function h2Traffic(stack: Stack, server: http2.Http2Server | http2.Http2SecureServer, scheme: 'http' | 'https'): Promise<void> {
  const port = await listen(server);
  cleanups.push(
    () => stack.instrumentation.disable(),
    () => new Promise<void>((resolve) => server.close(() => resolve())),
  );
  const session = http2.connect(`${scheme}://127.0.0.1:${port}`, { ca });
  cleanups.push(() => void session.destroy());
  const statuses = await traffic((headers, body) => h2Request(session, headers, body));
  assertTraffic(await collect(stack), statuses);
}

test(`this Node ${process.versions.node} ${hasNativeHttp2Channels() ? 'publishes' : 'does not publish'} HTTP/2 stream channels; HTTP/2 servers are told apart from HTTP/1`, () => {
  assert.equal(hasNativeHttp2Channels('20.20.2'), false);
  assert.equal(hasNativeHttp2Channels('24.22.3'), true);
  assert.equal(isHttp2Server(http2.createServer()), true);
  assert.equal(isHttp2Server(http.createServer()), false);
});

test('HTTP/1 baseline: the app served over http counts 10 requests with these labels and sizes', async () => {
  const stack = createStack();
  const server = http.createServer(compatHandler);
  const port = await listen(server);
  cleanups.push(
    () => stack.instrumentation.disable(),
    () => close(server),
  );
  const statuses = await traffic(async (headers, body) => {
    const reply = await request(port, {
      method: String(headers[':method'] ?? 'GET'),
      path: String(headers[':path']),
      body,
      headers: headers['content-length'] === undefined && body !== undefined ? { 'transfer-encoding': 'chunked' } : undefined,
    });
    return reply;
  });
  assertTraffic(await collect(stack), statuses);
});

test('HTTP/2 compatibility API (cleartext h2c) counts exactly as HTTP/1', async () => {
  const stack = createStack();
  await h2Traffic(stack, http2.createServer(compatHandler), 'http');
});

test('HTTP/2 stream API (cleartext h2c) counts exactly as HTTP/1', async () => {
  const stack = createStack();
  const server = http2.createServer();
  server.on('stream', streamHandler);
  await h2Traffic(stack, server, 'http');
});

test('HTTP/2 over TLS, compatibility API with allowHTTP1: h2 and HTTP/1.1 clients both counted once each', async () => {
  const stack = createStack();
  const server = http2.createSecureServer({ ...secure, allowHTTP1: true }, compatHandler);
  await h2Traffic(stack, server, 'https');
  const port = (server.address() as { port: number }).port;
  const h1 = await new Promise<number>((resolve, reject) => {
    https
      .get({ host: '127.0.0.1', port, path: '/users/7', ca, agent: false }, (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      })
      .on('error', reject);
  });
  assert.equal(h1, 200);
  const m = await collect(stack);
  assert.equal(sumOf(m, R), 11);
  assert.equal(sumOf(m, R, { method: 'GET', endpoint: '/users/:id', status: '200' }), 3);
  assert.equal(histogramOf(m, RESPONSE, { method: 'GET', endpoint: '/users/:id', status: '200' }).sum, 36);
});

test('HTTP/2 over TLS, stream API: counted', async () => {
  const stack = createStack();
  const server = http2.createSecureServer(secure);
  server.on('stream', streamHandler);
  await h2Traffic(stack, server, 'https');
});

test('an HTTP/2 stream the client resets before the response is an abort (499), not a success', async () => {
  const stack = createStack();
  const server = http2.createServer();
  let started!: () => void;
  const handlerRan = new Promise<void>((resolve) => (started = resolve));
  server.on('stream', (stream) => {
    stream.on('error', () => undefined);
    started(); // never answers
  });
  const port = await listen(server);
  cleanups.push(
    () => stack.instrumentation.disable(),
    () => new Promise<void>((resolve) => server.close(() => resolve())),
  );
  const session = http2.connect(`http://127.0.0.1:${port}`);
  cleanups.push(() => void session.destroy());
  const stream = session.request({ ':path': '/slow/1' });
  stream.on('error', () => undefined);
  await handlerRan;
  assert.equal(stack.instrumentation.activeRequests(), 1);
  stream.close(http2.constants.NGHTTP2_CANCEL);
  await eventually(async () => stack.instrumentation.activeRequests() === 0, 'the reset stream to settle');
  const m = await collect(stack);
  assert.equal(sumOf(m, R, { method: 'GET', endpoint: '/slow/:id', status: '499' }), 1);
  assert.equal(sumOf(m, FAILED, { endpoint: '/slow/:id', error_type: 'client_abort' }), 1);
});
