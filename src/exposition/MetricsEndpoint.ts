import * as http from 'node:http';
import * as https from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { constants as zlibConstants, gzip } from 'node:zlib';
import type { EndpointGuard } from './access/EndpointAccess';
import { loadSecureContext, tlsServerOptions, type TlsSettings } from './access/TlsSettings';
import type { ExpositionFormat } from './negotiateFormat';
import { CONTENT_TYPES, type RenderedView } from './RenderedView';
import { errorMessage } from '../self/errorMessage';
import { recovered, warnOnce } from '../self/Logger';
import { withTimeout } from '../self/withTimeout';

/** Options of {@link MetricsEndpoint}. */
export interface MetricsEndpointOptions {
  /** TCP port; 0 picks a free one (see the port {@link MetricsEndpoint.start} resolves). */
  readonly port: number;
  /** Bind address (`0.0.0.0`, `::`, `127.0.0.1`, a host name). */
  readonly host: string;
  /** HTTPS and client certificates (see {@link TlsSettings}). Plain HTTP when absent. */
  readonly tls?: TlsSettings;
  /**
   * Produces the exposition of one scrape: classic text, or the bytes of it in
   * parts (sent in order; a part returned again by a later render is
   * compressed only once), or a view that can be served in every format. May
   * reject; it is never called concurrently with itself.
   */
  readonly render: () => Promise<string | readonly Buffer[] | RenderedView>;
  /** Path of the metrics (default `/metrics`). */
  readonly metricsPath?: string;
  /** Who may scrape, and headers for every answer. Everyone, with no extra headers, when absent. */
  readonly guard?: EndpointGuard;
  /** The format of one scrape from its `Accept` header; classic text when absent (or when render gives no view). */
  readonly negotiate?: (accept: string | undefined) => ExpositionFormat;
  /** Told how long each successful render took, in seconds. */
  readonly onScrapeDuration?: (seconds: number) => void;
  /** How long a scrape waits for a render before answering with the last good body. Default 5000. */
  readonly renderTimeoutMs?: number;
  /** Scrape connections open at once; further ones are closed as they arrive. Default {@link DEFAULT_LIMITS}. */
  readonly maxConnections?: number;
  /** Time a client has to send a request's headers, ms. */
  readonly headersTimeoutMs?: number;
  /** A connection on which nothing moves either way for this long is closed, ms (a scraper that stopped reading). */
  readonly idleTimeoutMs?: number;
  /**
   * Bytes of bodies held for responses not yet sent in full, over all
   * connections (one body shared by many counts once). A scrape that would
   * pass it answers 503. At least twice the current body is always allowed.
   */
  readonly maxPendingBytes?: number;
}

/** What bounds the endpoint when its options do not say: sized for a few Prometheus servers, not for the internet. */
export const DEFAULT_LIMITS = {
  maxConnections: 64,
  headersTimeoutMs: 10_000,
  idleTimeoutMs: 30_000,
  maxPendingBytes: 64 * 1024 * 1024,
} as const;

/** Requests a client may pipeline on one connection before the connection is closed. */
export const MAX_PIPELINED_REQUESTS = 8;

export { PROMETHEUS_CONTENT_TYPE } from './RenderedView';
/** Set (to `true`) on a `/metrics` answer that repeats an earlier render because the current one is late. */
export const STALE_HEADER = 'x-metrics-stale';

const DEFAULT_RENDER_TIMEOUT_MS = 5000;
/**
 * A render still pending after this many timeouts is presumed stuck and a new
 * one may start, so one hung render cannot freeze the endpoint on stale data.
 */
const ABANDON_AFTER_TIMEOUTS = 2;
/**
 * Level 1 compresses a 4 MB exposition to ~240 KB in ~7 ms; level 6 saves
 * another 40 KB for four times the CPU. Scrape latency is what users pay for.
 */
const GZIP_LEVEL = zlibConstants.Z_BEST_SPEED;
const TEXT_CONTENT_TYPE = 'text/plain; charset=utf-8';

type Handler = (request: http.IncomingMessage, response: http.ServerResponse) => void;

/**
 * One rendered generation of the exposition: every scrape that gets it sends
 * these same buffers (no copy per scrape), and its gzip form is made once.
 */
interface Body {
  readonly parts: readonly Buffer[];
  readonly length: number;
  gzip?: Promise<Body>;
}

/**
 * One render's result: the view it can be served from (none for a render that
 * gave classic text only) and its body in each format served so far, each
 * made once and shared by every scrape of this generation.
 */
interface Generation {
  readonly view: RenderedView | undefined;
  readonly bodies: Partial<Record<ExpositionFormat, Body>>;
}

/** One finished render: the generation, or why there is none. */
type RenderResult = { readonly ok: true; readonly body: Generation } | { readonly ok: false; readonly error: unknown };

/** What one scrape answers with. */
type Answer =
  | { readonly kind: 'fresh'; readonly body: Generation }
  | { readonly kind: 'stale'; readonly body: Generation; readonly ageSeconds: number }
  | { readonly kind: 'unavailable' }
  | { readonly kind: 'failed' };

/**
 * The HTTP(S) server Prometheus scrapes: `GET`/`HEAD` of the metrics path
 * (default `/metrics`) and `/healthz`.
 *
 * Two hooks shape a scrape and nothing else here knows their policies: the
 * `guard` (access: client certificates, basic auth, response headers;
 * `/healthz` is never guarded) runs before any render, and `negotiate` picks
 * the format (OpenMetrics or classic text) the rendered view is served in.
 *
 * Built so that a scrape can never hurt the process serving it: renders are
 * single-flight (concurrent scrapes share one, and its bytes: plain and gzip
 * are each kept once per render), a scrape waits at most `renderTimeoutMs`
 * and then gets the last good body marked stale (or 503), render failures
 * become a 500, compression runs off the event loop, and every error path
 * ends in a response or a log line, never an exception.
 *
 * Hostile clients are bounded: at most `maxConnections` connections, header
 * and idle timeouts, one response in progress per connection (pipelined
 * requests wait for the one before them to be sent, and more than
 * {@link MAX_PIPELINED_REQUESTS} close the connection), and the bytes held for
 * unsent responses are capped by `maxPendingBytes`.
 *
 * The server object exists from construction, before {@link start}, so the
 * caller can exclude it from HTTP instrumentation; `start` may be retried
 * after it rejects (a busy port).
 */
export class MetricsEndpoint {
  private readonly options: MetricsEndpointOptions;
  private readonly renderTimeoutMs: number;
  private readonly metricsPath: string;
  private readonly httpServer: http.Server;
  private starting = false;
  private pendingStart: Promise<{ port: number }> | undefined;
  private inFlight: { readonly result: Promise<RenderResult>; readonly startedAtMs: number } | undefined;
  private lastGood: { readonly body: Generation; readonly renderedAtMs: number } | undefined;
  /** Compressed parts by part: a part a later render returns again is not compressed again. */
  private gzipParts = new WeakMap<Buffer, Promise<Buffer>>();
  private readonly pending = new PendingBytes();
  private readonly maxPendingBytes: number;
  /** Per connection: the response being sent and the requests waiting behind it. */
  private readonly queues = new WeakMap<Socket, ConnectionQueue>();

  constructor(options: MetricsEndpointOptions) {
    this.options = options;
    this.renderTimeoutMs = options.renderTimeoutMs ?? DEFAULT_RENDER_TIMEOUT_MS;
    this.maxPendingBytes = options.maxPendingBytes ?? DEFAULT_LIMITS.maxPendingBytes;
    this.metricsPath = options.metricsPath ?? '/metrics';
    this.httpServer = createServer(options.tls, (request, response) => this.enqueue(request, response));
    this.httpServer.maxConnections = options.maxConnections ?? DEFAULT_LIMITS.maxConnections;
    this.httpServer.headersTimeout = options.headersTimeoutMs ?? DEFAULT_LIMITS.headersTimeoutMs;
    this.httpServer.requestTimeout = Math.max(this.httpServer.headersTimeout, this.renderTimeoutMs * ABANDON_AFTER_TIMEOUTS);
    // Without a 'timeout' listener, Node destroys a socket idle for this long.
    this.httpServer.timeout = options.idleTimeoutMs ?? DEFAULT_LIMITS.idleTimeoutMs;
    this.httpServer.on('error', (error) => {
      // Errors while listening are start()'s to report; later ones (accept
      // failures such as EMFILE) must not become an uncaught 'error' event.
      if (!this.starting) warnOnce('metrics-endpoint-server', `metrics endpoint server error: ${errorMessage(error)}`);
    });
  }

  /** The underlying server (an `https.Server` when TLS is enabled). */
  get server(): http.Server {
    return this.httpServer;
  }

  /** The port actually bound (useful with port 0), or undefined while not listening. */
  get port(): number | undefined {
    const address = this.httpServer.address();
    return address !== null && typeof address === 'object' ? address.port : undefined;
  }

  /**
   * Load TLS material (if enabled) and listen. Rejects, without side effects
   * that would prevent a retry, with a message naming the configuration key
   * to change.
   */
  start(): Promise<{ port: number }> {
    if (this.httpServer.listening) return Promise.resolve({ port: (this.httpServer.address() as AddressInfo).port });
    // A second call while the first is still loading certificates or binding joins it.
    this.pendingStart ??= this.loadTlsAndListen().finally(() => (this.pendingStart = undefined));
    return this.pendingStart;
  }

  /** Stop listening and drop open connections (keep-alive scrapers included). Safe to call twice. */
  async close(): Promise<void> {
    if (!this.httpServer.listening) return;
    await new Promise<void>((resolve) => {
      this.httpServer.close(() => resolve());
      this.httpServer.closeAllConnections();
    });
  }

  private async loadTlsAndListen(): Promise<{ port: number }> {
    const { tls } = this.options;
    if (tls !== undefined) {
      const material = await loadSecureContext(tls);
      try {
        (this.httpServer as https.Server).setSecureContext(material);
      } catch (error) {
        throw new Error(
          `the metrics endpoint's TLS files are not a usable PEM certificate, key and CA ` +
            `(${tls.settings.cert.short} '${tls.certFile}', ${tls.settings.key.short} '${tls.keyFile}', ${tls.settings.clientCa.short} '${tls.clientCaFile}'): ${errorMessage(error)}`,
        );
      }
    }
    return this.listen();
  }

  private listen(): Promise<{ port: number }> {
    const { port, host } = this.options;
    return new Promise((resolve, reject) => {
      const onError = (error: Error): void => {
        this.starting = false;
        this.httpServer.off('listening', onListening);
        reject(new Error(listenErrorMessage(error, host, port)));
      };
      const onListening = (): void => {
        this.starting = false;
        this.httpServer.off('error', onError);
        resolve({ port: (this.httpServer.address() as AddressInfo).port });
      };
      this.starting = true;
      this.httpServer.once('error', onError);
      this.httpServer.once('listening', onListening);
      this.httpServer.listen(port, host);
    });
  }

  /**
   * Answer requests of one connection one at a time: a pipelined request is
   * handled once the response before it has been sent (or the connection
   * closed), so a client that does not read holds one body at most.
   */
  private enqueue(request: http.IncomingMessage, response: http.ServerResponse): void {
    const socket = request.socket;
    let queue = this.queues.get(socket);
    if (queue === undefined) {
      queue = { busy: false, waiting: [] };
      this.queues.set(socket, queue);
    }
    if (queue.waiting.length >= MAX_PIPELINED_REQUESTS) {
      warnOnce('metrics-endpoint-pipelining', `a client pipelined more than ${MAX_PIPELINED_REQUESTS} requests on one connection to /metrics; closing it`);
      socket.destroy();
      return;
    }
    queue.waiting.push({ request, response });
    this.next(queue);
  }

  private next(queue: ConnectionQueue): void {
    if (queue.busy) return;
    const item = queue.waiting.shift();
    if (item === undefined) return;
    queue.busy = true;
    whenDone(item.response, () => {
      queue.busy = false;
      this.next(queue);
    });
    this.handle(item.request, item.response);
  }

  private handle(request: http.IncomingMessage, response: http.ServerResponse): void {
    // A client that goes away mid-response must not surface as an error event.
    response.on('error', () => undefined);
    try {
      const { guard } = this.options;
      if (guard !== undefined) for (const [name, value] of Object.entries(guard.responseHeaders)) response.setHeader(name, value);
      const path = (request.url ?? '/').split('?', 1)[0];
      if (path !== this.metricsPath && path !== '/healthz') return sendText(response, 404, 'not found\n');
      if (request.method !== 'GET' && request.method !== 'HEAD') {
        response.setHeader('allow', 'GET, HEAD');
        return sendText(response, 405, 'method not allowed\n');
      }
      if (path === '/healthz') return sendText(response, 200, 'ok');
      this.authorizeThenScrape(request, response).catch((error: unknown) => this.internalError(response, error));
    } catch (error) {
      this.internalError(response, error);
    }
  }

  /** The access step: a refused request gets its status and never starts a render. */
  private async authorizeThenScrape(request: http.IncomingMessage, response: http.ServerResponse): Promise<void> {
    const denial = await this.options.guard?.authorize(request);
    if (denial === undefined) return this.scrape(request, response);
    for (const [name, value] of Object.entries(denial.headers)) response.setHeader(name, value);
    sendText(response, denial.status, denial.message);
  }

  private async scrape(request: http.IncomingMessage, response: http.ServerResponse): Promise<void> {
    const answer = await this.answer();
    switch (answer.kind) {
      case 'unavailable':
        return sendText(response, 503, `metrics not ready: the first render is taking longer than ${this.renderTimeoutMs} ms\n`);
      case 'failed':
        return sendText(response, 500, 'error rendering metrics (see the exporter log)\n');
      case 'stale':
        response.setHeader(STALE_HEADER, 'true');
        response.setHeader('age', String(answer.ageSeconds));
        break;
      case 'fresh':
        break;
    }
    const { format, body: plain } = this.negotiated(answer.body, request.headers.accept);
    response.setHeader('content-type', CONTENT_TYPES[format]);
    response.setHeader('cache-control', 'no-store');
    response.setHeader('vary', this.options.negotiate === undefined ? 'Accept-Encoding' : 'Accept, Accept-Encoding');
    const body = await this.encode(plain, request.headers['accept-encoding'], response);
    response.setHeader('content-length', body.length);
    if (request.method === 'HEAD') return void response.end();
    if (request.socket.destroyed) return;
    const limit = Math.max(this.maxPendingBytes, 2 * body.length);
    if (!this.pending.admit(body.parts, limit)) {
      response.removeHeader('content-encoding');
      warnOnce('metrics-endpoint-pending', `scrape responses not yet read by their clients hold more than ${limit} bytes; answering 503 until they drain`);
      return sendText(response, 503, 'too many scrape responses in progress\n');
    }
    this.pending.hold(body.parts);
    whenDone(response, () => this.pending.release(body.parts));
    for (let i = 0; i < body.parts.length - 1; i++) response.write(body.parts[i]);
    response.end(body.parts[body.parts.length - 1]);
  }

  /** The negotiation step: the format the scraper asked for, and this generation's body in it (made once). */
  private negotiated(generation: Generation, accept: string | undefined): { format: ExpositionFormat; body: Body } {
    const format = generation.view === undefined ? 'prometheus' : (this.options.negotiate?.(accept) ?? 'prometheus');
    let body = generation.bodies[format];
    if (body === undefined) {
      body = toBody((generation.view as RenderedView).text(format));
      generation.bodies[format] = body;
    }
    return { format, body };
  }

  /** The generation for one scrape: a render that finished in time, else the last good one. */
  private async answer(): Promise<Answer> {
    const render = this.currentRender();
    // A render never rejects (runRender catches), so a rejection here is the timeout.
    const result = await withTimeout(render.result, this.renderTimeoutMs, 'rendering /metrics').catch(() => undefined);
    if (result === undefined) {
      warnOnce('metrics-endpoint-slow', `rendering /metrics took longer than ${this.renderTimeoutMs} ms; answering with the last good body`);
      if (this.lastGood === undefined) return { kind: 'unavailable' };
      const ageSeconds = Math.max(0, Math.round((Date.now() - this.lastGood.renderedAtMs) / 1000));
      return { kind: 'stale', body: this.lastGood.body, ageSeconds };
    }
    recovered('metrics-endpoint-slow', 'rendering /metrics is back within its timeout');
    return result.ok ? { kind: 'fresh', body: result.body } : { kind: 'failed' };
  }

  /** Join the render in flight, or start one. */
  private currentRender(): { readonly result: Promise<RenderResult> } {
    const now = Date.now();
    if (this.inFlight !== undefined && now - this.inFlight.startedAtMs < this.renderTimeoutMs * ABANDON_AFTER_TIMEOUTS) {
      return this.inFlight;
    }
    const entry = { result: this.runRender(now), startedAtMs: now };
    this.inFlight = entry;
    void entry.result.then(() => {
      if (this.inFlight === entry) this.inFlight = undefined;
    });
    return entry;
  }

  /** Run the render once; never rejects. A late result still refreshes the last good body. */
  private async runRender(startedAtMs: number): Promise<RenderResult> {
    const started = performance.now();
    try {
      const body = toGeneration(await this.options.render());
      if (this.lastGood === undefined || this.lastGood.renderedAtMs <= startedAtMs) {
        this.lastGood = { body, renderedAtMs: startedAtMs };
      }
      this.reportDuration((performance.now() - started) / 1000);
      recovered('metrics-endpoint-render', 'rendering /metrics works again');
      return { ok: true, body };
    } catch (error) {
      warnOnce('metrics-endpoint-render', `rendering /metrics failed: ${errorMessage(error)}`);
      return { ok: false, error };
    }
  }

  private reportDuration(seconds: number): void {
    try {
      this.options.onScrapeDuration?.(seconds);
    } catch {
      // A faulty observer must not turn a good scrape into a failed one.
    }
  }

  /** The bytes to send, gzip-compressed when the client accepts it (and compression works). */
  private async encode(body: Body, acceptEncoding: string | undefined, response: http.ServerResponse): Promise<Body> {
    if (!acceptsGzip(acceptEncoding)) return body;
    try {
      body.gzip ??= this.compress(body);
      const compressed = await body.gzip;
      response.setHeader('content-encoding', 'gzip');
      return compressed;
    } catch (error) {
      body.gzip = undefined;
      warnOnce('metrics-endpoint-gzip', `gzip of /metrics failed, answering uncompressed: ${errorMessage(error)}`);
      return body;
    }
  }

  /**
   * Compress on the libuv thread pool, part by part: concatenated gzip members
   * are one valid gzip stream (RFC 1952), so a part that a later render
   * returns again keeps its compressed form.
   */
  private async compress(body: Body): Promise<Body> {
    const parts = await Promise.all(body.parts.map((part) => this.compressPart(part)));
    return { parts, length: parts.reduce((total, part) => total + part.length, 0) };
  }

  private compressPart(part: Buffer): Promise<Buffer> {
    let compressed = this.gzipParts.get(part);
    if (compressed === undefined) {
      compressed = new Promise<Buffer>((resolve, reject) => {
        gzip(part, { level: GZIP_LEVEL }, (error, result) => (error ? reject(error) : resolve(result)));
      });
      this.gzipParts.set(part, compressed);
      compressed.catch(() => this.gzipParts.delete(part));
    }
    return compressed;
  }

  private internalError(response: http.ServerResponse, error: unknown): void {
    warnOnce('metrics-endpoint-request', `metrics endpoint failed to answer a request: ${errorMessage(error)}`);
    try {
      if (!response.headersSent) sendText(response, 500, 'internal error\n');
      else response.destroy();
    } catch {
      // Nothing more can be done for this connection.
    }
  }
}

/** A connection's response in progress and the pipelined requests behind it. */
interface ConnectionQueue {
  busy: boolean;
  readonly waiting: { readonly request: http.IncomingMessage; readonly response: http.ServerResponse }[];
}

/**
 * The bytes held by responses not yet sent in full. A buffer shared by many
 * responses (one generation's body, a part reused across generations) counts
 * once, which is what it costs.
 */
class PendingBytes {
  private readonly holders = new Map<Buffer, number>();
  private bytes = 0;

  /** Whether holding `parts` as well keeps the total within `limit`. */
  admit(parts: readonly Buffer[], limit: number): boolean {
    let extra = 0;
    for (const part of parts) if (!this.holders.has(part)) extra += part.length;
    return extra === 0 || this.bytes + extra <= limit;
  }

  hold(parts: readonly Buffer[]): void {
    for (const part of parts) {
      const count = this.holders.get(part) ?? 0;
      if (count === 0) this.bytes += part.length;
      this.holders.set(part, count + 1);
    }
  }

  release(parts: readonly Buffer[]): void {
    for (const part of parts) {
      const count = this.holders.get(part) ?? 0;
      if (count <= 1) {
        if (this.holders.delete(part)) this.bytes -= part.length;
      } else {
        this.holders.set(part, count - 1);
      }
    }
  }
}

/**
 * Run `done` once, when `response` has been sent in full or its connection is
 * gone (a response queued behind a pipelined one may never see its own 'close').
 */
function whenDone(response: http.ServerResponse, done: () => void): void {
  const socket = response.req.socket;
  const once = (): void => {
    response.off('close', once);
    socket.off('close', once);
    done();
  };
  response.once('close', once);
  socket.once('close', once);
}

/** A render's result, checked: a view is served in the formats asked for, anything else as classic text. */
function toGeneration(rendered: unknown): Generation {
  if (typeof (rendered as Partial<RenderedView> | null)?.text === 'function') return { view: rendered as RenderedView, bodies: {} };
  return { view: undefined, bodies: { prometheus: toBody(rendered) } };
}

/** A rendered text as bytes, checked: a string is encoded once here, not once per scrape. */
function toBody(rendered: unknown): Body {
  if (typeof rendered === 'string') {
    const part = Buffer.from(rendered, 'utf8');
    return { parts: [part], length: part.length };
  }
  if (Array.isArray(rendered) && rendered.every((part) => Buffer.isBuffer(part))) {
    const parts = rendered.length === 0 ? [Buffer.alloc(0)] : (rendered as Buffer[]);
    return { parts, length: parts.reduce((total, part) => total + part.length, 0) };
  }
  throw new TypeError(`render() resolved ${typeof rendered}, expected a string, an array of Buffers or a rendered view`);
}

function createServer(tls: TlsSettings | undefined, handler: Handler): http.Server {
  if (tls === undefined) return http.createServer(handler);
  // Certificates are loaded by start() through setSecureContext, so file
  // errors reach the caller as a rejected start() and a retry re-reads them.
  return https.createServer(tlsServerOptions(tls), handler);
}

/** Whether an Accept-Encoding header admits gzip (a `q=0` refuses it). */
function acceptsGzip(header: string | undefined): boolean {
  if (header === undefined) return false;
  for (const part of header.split(',')) {
    const [coding = '', ...parameters] = part.split(';').map((token) => token.trim().toLowerCase());
    if (coding !== 'gzip' && coding !== 'x-gzip') continue;
    const quality = parameters.find((parameter) => parameter.startsWith('q='));
    if (quality === undefined || Number(quality.slice(2)) > 0) return true;
  }
  return false;
}

function sendText(response: http.ServerResponse, status: number, text: string): void {
  response.statusCode = status;
  response.setHeader('content-type', TEXT_CONTENT_TYPE);
  response.setHeader('content-length', Buffer.byteLength(text));
  response.end(text);
}

function listenErrorMessage(error: Error, host: string, port: number): string {
  const code = (error as NodeJS.ErrnoException).code;
  const where = `${host.includes(':') ? `[${host}]` : host}:${port}`;
  switch (code) {
    case 'EADDRINUSE':
      return `metrics endpoint cannot listen on ${where}: the port is already in use; set PROMETHEUS_METRICS_PORT (prometheus.metrics_port) to a free port`;
    case 'EACCES':
      return `metrics endpoint cannot listen on ${where}: permission denied; set PROMETHEUS_METRICS_PORT (prometheus.metrics_port) to a port above 1023`;
    case 'EADDRNOTAVAIL':
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return `metrics endpoint cannot listen on ${where}: no such local address; check PROMETHEUS_BIND_ADDRESS (prometheus.bind_address)`;
    default:
      return `metrics endpoint cannot listen on ${where} (PROMETHEUS_BIND_ADDRESS, PROMETHEUS_METRICS_PORT): ${errorMessage(error)}`;
  }
}
