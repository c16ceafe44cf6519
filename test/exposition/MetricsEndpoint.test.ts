import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, rmSync } from 'node:fs';
import * as http from 'node:http';
import * as https from 'node:https';
import * as net from 'node:net';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import type { EndpointTlsConfig } from '../../src/config/Config';
import { MAX_PIPELINED_REQUESTS, MetricsEndpoint, PROMETHEUS_CONTENT_TYPE, STALE_HEADER } from '../../src/exposition/MetricsEndpoint';
import type { MetricsEndpointOptions } from '../../src/exposition/MetricsEndpoint';
import { tlsFromSsl, type TlsSettings } from '../../src/exposition/access/TlsSettings';
import { makeTlsFiles, type TlsFiles } from '../support/tlsFiles';

interface Reply {
  readonly status: number;
  readonly headers: http.IncomingHttpHeaders;
  readonly body: Buffer;
}

interface RequestOptions {
  readonly method?: string;
  readonly headers?: Record<string, string>;
  /** For HTTPS: CA to trust and optional client certificate. */
  readonly tls?: { ca: Buffer; cert?: Buffer; key?: Buffer };
}

/** One request on a fresh connection (no keep-alive to outlive the test). */
function request(port: number, path: string, options: RequestOptions = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const common = { host: '127.0.0.1', port, path, method: options.method ?? 'GET', headers: options.headers ?? {}, agent: false as const };
    const onResponse = (response: http.IncomingMessage): void => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, headers: response.headers, body: Buffer.concat(chunks) }));
      response.on('error', reject);
    };
    const req = options.tls ? https.request({ ...common, ...options.tls, servername: 'localhost' }, onResponse) : http.request(common, onResponse);
    req.on('error', reject);
    req.end();
  });
}

/** Endpoints opened by a test, closed in after() even when the test fails. */
const opened: MetricsEndpoint[] = [];

async function startEndpoint(options: Partial<MetricsEndpointOptions> & Pick<MetricsEndpointOptions, 'render'>): Promise<{ endpoint: MetricsEndpoint; port: number }> {
  const endpoint = new MetricsEndpoint({ port: 0, host: '127.0.0.1', ...options });
  opened.push(endpoint);
  const { port } = await endpoint.start();
  return { endpoint, port };
}

after(async () => {
  await Promise.all(opened.map((endpoint) => endpoint.close()));
});

/** A render the test finishes by hand, so "slower than the timeout" needs no clock. */
function deferred(): { promise: Promise<string>; resolve: (body: string) => void } {
  let resolve!: (body: string) => void;
  const promise = new Promise<string>((r) => (resolve = r));
  return { promise, resolve };
}

const SAMPLE = '# HELP up_total Ups.\n# TYPE up_total counter\nup_total{a="b"} 1\n';

describe('plain HTTP', () => {
  test('GET /metrics answers 200 with the rendered text and the 0.0.4 content type', async () => {
    const { port } = await startEndpoint({ render: async () => SAMPLE });
    const reply = await request(port, '/metrics');
    assert.equal(reply.status, 200);
    assert.equal(reply.headers['content-type'], PROMETHEUS_CONTENT_TYPE);
    assert.equal(reply.body.toString('utf8'), SAMPLE);
    assert.equal(reply.headers['content-length'], String(Buffer.byteLength(SAMPLE)));
    assert.equal(reply.headers[STALE_HEADER], undefined);
    assert.equal((await request(port, '/metrics?name[]=up_total')).body.toString(), SAMPLE);
  });

  test('HEAD /metrics sends the headers of a GET and no body', async () => {
    const { port } = await startEndpoint({ render: async () => SAMPLE });
    const reply = await request(port, '/metrics', { method: 'HEAD' });
    assert.equal(reply.status, 200);
    assert.equal(reply.headers['content-type'], PROMETHEUS_CONTENT_TYPE);
    assert.equal(reply.headers['content-length'], String(Buffer.byteLength(SAMPLE)));
    assert.equal(reply.body.length, 0);
  });

  test('compresses with gzip when the scraper accepts it, and the body round-trips', async () => {
    const big = SAMPLE.repeat(20_000) + 'ünïcode_total 1\n';
    const { port } = await startEndpoint({ render: async () => big });
    const zipped = await request(port, '/metrics', { headers: { 'accept-encoding': 'deflate, gzip;q=0.9' } });
    assert.equal(zipped.headers['content-encoding'], 'gzip');
    assert.ok(zipped.body.length < Buffer.byteLength(big) / 10);
    assert.equal(gunzipSync(zipped.body).toString('utf8'), big);

    const refused = await request(port, '/metrics', { headers: { 'accept-encoding': 'gzip;q=0, identity' } });
    assert.equal(refused.headers['content-encoding'], undefined);
    assert.equal(refused.body.toString('utf8'), big);
  });

  test('/healthz answers ok, unknown paths 404, other methods 405', async () => {
    const { port } = await startEndpoint({ render: async () => SAMPLE });
    const health = await request(port, '/healthz');
    assert.equal(health.status, 200);
    assert.equal(health.body.toString(), 'ok');
    assert.equal((await request(port, '/')).status, 404);
    assert.equal((await request(port, '/metricsx')).status, 404);
    const post = await request(port, '/metrics', { method: 'POST' });
    assert.equal(post.status, 405);
    assert.equal(post.headers.allow, 'GET, HEAD');
    assert.equal((await request(port, '/healthz', { method: 'DELETE' })).status, 405);
  });

  test('reports how long each render took', async () => {
    const seconds: number[] = [];
    const { port } = await startEndpoint({ render: async () => SAMPLE, onScrapeDuration: (s) => seconds.push(s) });
    await request(port, '/metrics');
    await request(port, '/metrics');
    assert.equal(seconds.length, 2);
    assert.ok(seconds.every((s) => Number.isFinite(s) && s >= 0));
  });

  test('an observer that throws does not break the scrape', async () => {
    const { port } = await startEndpoint({
      render: async () => SAMPLE,
      onScrapeDuration: () => {
        throw new Error('observer bug');
      },
    });
    assert.equal((await request(port, '/metrics')).status, 200);
  });
});

describe('slow and failing renders', () => {
  test('concurrent scrapes share one render', async () => {
    let calls = 0;
    const slow = deferred();
    const { endpoint, port } = await startEndpoint({
      render: () => {
        calls += 1;
        return slow.promise;
      },
    });
    // The endpoint's own handler runs first, so once the server has emitted
    // three requests all three scrapes have joined a render.
    let arrived = 0;
    const allArrived = new Promise<void>((resolve) => {
      endpoint.server.on('request', () => {
        if (++arrived === 3) resolve();
      });
    });
    const scrapes = [request(port, '/metrics'), request(port, '/metrics'), request(port, '/metrics', { headers: { 'accept-encoding': 'gzip' } })];
    await allArrived;
    slow.resolve(SAMPLE);
    const replies = await Promise.all(scrapes);
    assert.equal(calls, 1);
    assert.deepEqual(
      replies.map((r) => r.status),
      [200, 200, 200],
    );
    assert.equal(gunzipSync(replies[2]!.body).toString(), SAMPLE);
  });

  test('a render slower than the timeout gets the last good body, marked stale', async () => {
    let call = 0;
    const slow = deferred();
    const { port } = await startEndpoint({
      renderTimeoutMs: 200,
      render: async () => (++call === 1 ? 'first 1\n' : slow.promise),
    });
    assert.equal((await request(port, '/metrics')).body.toString(), 'first 1\n');

    // The second render never finishes before the reply: the reply cannot have waited for it.
    const stale = await request(port, '/metrics');
    assert.equal(stale.status, 200);
    assert.equal(stale.body.toString(), 'first 1\n');
    assert.equal(stale.headers[STALE_HEADER], 'true');
    assert.match(String(stale.headers.age), /^\d+$/);

    // Once the late render lands, it becomes the answer.
    slow.resolve('second 2\n');
    await new Promise((r) => setImmediate(r));
    const fresh = await request(port, '/metrics');
    assert.equal(fresh.headers[STALE_HEADER], undefined);
    assert.equal(fresh.body.toString(), 'second 2\n');
  });

  test('a first render slower than the timeout answers 503 rather than hanging', async () => {
    const slow = deferred();
    const { port } = await startEndpoint({ renderTimeoutMs: 100, render: () => slow.promise });
    const reply = await request(port, '/metrics');
    assert.equal(reply.status, 503);
    assert.match(reply.body.toString(), /100 ms/);
    slow.resolve(SAMPLE);
  });

  test('a render stuck for good is abandoned after two timeouts, so the endpoint recovers', async () => {
    let calls = 0;
    const { port } = await startEndpoint({
      renderTimeoutMs: 50,
      render: () => (++calls === 1 ? new Promise<string>(() => undefined) : Promise.resolve(SAMPLE)),
    });
    assert.equal((await request(port, '/metrics')).status, 503);
    await new Promise((r) => setTimeout(r, 120));
    const reply = await request(port, '/metrics');
    assert.equal(calls, 2);
    assert.equal(reply.status, 200);
    assert.equal(reply.body.toString(), SAMPLE);
  });

  test('a render that rejects answers 500 with a short message, and the next scrape recovers', async () => {
    let fail = true;
    const { port } = await startEndpoint({
      render: async () => {
        if (fail) throw new Error('store unreachable: secret-host:6379');
        return SAMPLE;
      },
    });
    const failed = await request(port, '/metrics');
    assert.equal(failed.status, 500);
    assert.ok(failed.body.length < 200);
    assert.doesNotMatch(failed.body.toString(), /secret-host/);
    fail = false;
    const ok = await request(port, '/metrics');
    assert.equal(ok.status, 200);
    assert.equal(ok.body.toString(), SAMPLE);
  });

  test('a render that throws synchronously or resolves a non-string answers 500', async () => {
    const { port: throwing } = await startEndpoint({
      render: () => {
        throw new Error('sync bug');
      },
    });
    assert.equal((await request(throwing, '/metrics')).status, 500);
    const { port: wrongType } = await startEndpoint({ render: async () => 42 as unknown as string });
    assert.equal((await request(wrongType, '/metrics')).status, 500);
    assert.equal((await request(wrongType, '/healthz')).status, 200);
  });
});

/** Send `count` pipelined GET /metrics on one raw connection; resolves what came back until the server closed it or `waitMs` passed. */
function pipelined(port: number, count: number, waitMs = 1000): Promise<{ text: string; closedByServer: boolean }> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    let closedByServer = false;
    const timer = setTimeout(() => socket.destroy(), waitMs);
    socket.on('data', (chunk) => chunks.push(chunk));
    socket.on('end', () => (closedByServer = true));
    socket.on('close', () => {
      clearTimeout(timer);
      resolve({ text: Buffer.concat(chunks).toString('latin1'), closedByServer });
    });
    socket.on('error', (error: NodeJS.ErrnoException) => (error.code === 'ECONNRESET' ? (closedByServer = true) : reject(error)));
    socket.write('GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n'.repeat(count));
  });
}

describe('hostile clients', () => {
  test('pipelined scrapes are answered in order, one render each at most, and all share its bytes', async () => {
    let renders = 0;
    const { port } = await startEndpoint({ render: async () => `n ${++renders}\n` });
    const { text } = await pipelined(port, 5);
    const bodies = [...text.matchAll(/\r\n\r\n(n \d+)\n/g)].map((m) => m[1]);
    assert.equal(bodies.length, 5);
    assert.deepEqual([...bodies].sort(), bodies, 'answered in order');
    assert.ok(renders <= 5);
  });

  test('a client pipelining more than the limit has its connection closed', async () => {
    const { port } = await startEndpoint({ render: () => new Promise<string>((r) => setTimeout(() => r(SAMPLE), 50)) });
    const { closedByServer } = await pipelined(port, MAX_PIPELINED_REQUESTS + 5, 3000);
    assert.equal(closedByServer, true);
    assert.equal((await request(port, '/metrics')).status, 200, 'others are still served');
  });

  test('a body in parts is sent whole, and gzip of its parts round-trips as one stream', async () => {
    const stable = Buffer.from(SAMPLE.repeat(1000));
    let n = 0;
    const { port } = await startEndpoint({ render: async () => [stable, Buffer.from(`tail_total ${++n}\n`)] });
    const plain = await request(port, '/metrics');
    assert.equal(plain.body.toString(), `${SAMPLE.repeat(1000)}tail_total 1\n`);
    const zipped = await request(port, '/metrics', { headers: { 'accept-encoding': 'gzip' } });
    assert.equal(gunzipSync(zipped.body).toString(), `${SAMPLE.repeat(1000)}tail_total 2\n`);
  });

  test('bodies held for clients that do not read are capped: past the cap a scrape gets 503, and it drains', async () => {
    let n = 0;
    // Every render a fresh 16 MB body (more than loopback socket buffers take), so each stuck client holds its own.
    const { port } = await startEndpoint({ maxPendingBytes: 1, render: async () => `${String(++n).padEnd(16_000_000, '#')}\n` });
    const stuck = net.connect(port, '127.0.0.1');
    stuck.write('GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n');
    stuck.pause();
    await new Promise((r) => setTimeout(r, 300));
    const stuck2 = net.connect(port, '127.0.0.1');
    stuck2.write('GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n');
    stuck2.pause();
    await new Promise((r) => setTimeout(r, 300));
    assert.equal((await request(port, '/metrics')).status, 503, 'two bodies held: a third is refused');
    stuck.destroy();
    stuck2.destroy();
    await new Promise((r) => setTimeout(r, 100));
    assert.equal((await request(port, '/metrics')).status, 200);
  });

  test('connections past the cap are closed, and the endpoint serves again once they go', async () => {
    const { port } = await startEndpoint({ maxConnections: 2, render: async () => SAMPLE });
    const idle = [net.connect(port, '127.0.0.1'), net.connect(port, '127.0.0.1')];
    await Promise.all(idle.map((socket) => new Promise((r) => socket.once('connect', r))));
    await new Promise((r) => setTimeout(r, 100));
    await assert.rejects(request(port, '/metrics'));
    for (const socket of idle) socket.destroy();
    await new Promise((r) => setTimeout(r, 100));
    assert.equal((await request(port, '/metrics')).status, 200);
  });

  test('a connection that sends nothing is closed after the idle timeout', async () => {
    const { port } = await startEndpoint({ idleTimeoutMs: 200, headersTimeoutMs: 200, render: async () => SAMPLE });
    const socket = net.connect(port, '127.0.0.1');
    socket.write('GET /metrics HTTP/1.1\r\n'); // headers never finished
    const closed = await new Promise<boolean>((r) => {
      const timer = setTimeout(() => r(false), 5000);
      socket.on('close', () => {
        clearTimeout(timer);
        r(true);
      });
      socket.on('error', () => undefined);
    });
    assert.equal(closed, true);
  });
});

describe('listening', () => {
  test('a busy port rejects start() naming the address and the setting, and start() can be retried', async () => {
    const { endpoint: first, port } = await startEndpoint({ render: async () => SAMPLE });
    const second = new MetricsEndpoint({ port, host: '127.0.0.1', render: async () => 'second 1\n' });
    opened.push(second);
    await assert.rejects(second.start(), (error: Error) => {
      assert.match(error.message, new RegExp(`127\\.0\\.0\\.1:${port}`));
      assert.match(error.message, /PROMETHEUS_METRICS_PORT/);
      return true;
    });
    await first.close();
    assert.deepEqual(await second.start(), { port });
    assert.equal((await request(port, '/metrics')).body.toString(), 'second 1\n');
  });

  test('exposes its server before start and closes idempotently', async () => {
    const endpoint = new MetricsEndpoint({ port: 0, host: '127.0.0.1', render: async () => SAMPLE });
    assert.ok(endpoint.server instanceof http.Server);
    assert.equal(endpoint.port, undefined);
    await endpoint.close();
    const { port } = await endpoint.start();
    assert.equal(endpoint.server.listening, true);
    assert.equal(endpoint.port, port);
    await endpoint.close();
    await endpoint.close();
    assert.equal(endpoint.server.listening, false);
  });
});

describe('TLS', () => {
  let files: TlsFiles;
  let ca: Buffer;
  let clientCert: Buffer;
  let clientKey: Buffer;

  before(() => {
    files = makeTlsFiles();
    ca = readFileSync(files.ca);
    clientCert = readFileSync(files.clientCert);
    clientKey = readFileSync(files.clientKey);
  });

  after(() => rmSync(files.dir, { recursive: true, force: true }));

  /** The upstream `prometheus.ssl` keys, as the endpoint receives them. */
  function tlsConfig(overrides: Partial<EndpointTlsConfig> = {}): TlsSettings {
    return tlsFromSsl({
      enabled: true,
      certfile: files.serverCert,
      keyfile: files.serverKey,
      clientCafile: '',
      clientAuthRequired: false,
      ...overrides,
    })!;
  }

  test('serves HTTPS with the configured certificate', async () => {
    const { endpoint, port } = await startEndpoint({ tls: tlsConfig(), render: async () => SAMPLE });
    assert.ok(endpoint.server instanceof https.Server);
    const reply = await request(port, '/metrics', { tls: { ca } });
    assert.equal(reply.status, 200);
    assert.equal(reply.body.toString(), SAMPLE);
    await assert.rejects(request(port, '/metrics'), 'plain HTTP is not answered on a TLS port');
  });

  test('with a client CA and client auth required, refuses a scraper without a certificate', async () => {
    const { port } = await startEndpoint({
      tls: tlsConfig({ clientCafile: files.ca, clientAuthRequired: true }),
      render: async () => SAMPLE,
    });
    await assert.rejects(request(port, '/metrics', { tls: { ca } }));
    const reply = await request(port, '/metrics', { tls: { ca, cert: clientCert, key: clientKey } });
    assert.equal(reply.status, 200);
    assert.equal(reply.body.toString(), SAMPLE);
  });

  test('with a client CA but client auth optional, a scraper without a certificate is served', async () => {
    const { port } = await startEndpoint({
      tls: tlsConfig({ clientCafile: files.ca, clientAuthRequired: false }),
      render: async () => SAMPLE,
    });
    assert.equal((await request(port, '/metrics', { tls: { ca } })).status, 200);
  });

  test('a missing certificate file rejects start() naming the setting and the path', async () => {
    const endpoint = new MetricsEndpoint({ port: 0, host: '127.0.0.1', tls: tlsConfig({ certfile: join(files.dir, 'absent.crt') }), render: async () => SAMPLE });
    opened.push(endpoint);
    await assert.rejects(endpoint.start(), /PROMETHEUS_SSL_CERTFILE.*absent\.crt/);
    const empty = new MetricsEndpoint({ port: 0, host: '127.0.0.1', tls: tlsConfig({ keyfile: '' }), render: async () => SAMPLE });
    opened.push(empty);
    await assert.rejects(empty.start(), /PROMETHEUS_SSL_KEYFILE.*empty/);
    // A readable file that is not a key: the error names the settings, not just OpenSSL's complaint.
    const notPem = new MetricsEndpoint({ port: 0, host: '127.0.0.1', tls: tlsConfig({ keyfile: join(files.dir, 'server.ext') }), render: async () => SAMPLE });
    opened.push(notPem);
    await assert.rejects(notPem.start(), /PROMETHEUS_SSL_KEYFILE '.*server\.ext'/);
  });
});
