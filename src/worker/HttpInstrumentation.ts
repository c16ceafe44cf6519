/**
 * Records every HTTP request a worker serves, from Node's own
 * `diagnostics_channel` events: no patching of `http`, no load-order
 * constraint, the same for CommonJS and ESM apps.
 *
 * Per request the hot path costs: one small state object, a scan of the raw
 * request header names, own-property stores on the response (`write` and `end`
 * set to shared counting functions, so response bytes are exact for chunked
 * bodies too) and, for chunked request bodies only, `req.push` (counted as the
 * parser pushes, without consuming or re-flowing the stream), two clock reads,
 * one normaliser cache hit and one accumulator Map lookup.
 *
 * The host app comes first: every subscriber body is wrapped so an exception
 * in this file is counted ({@link HttpInstrumentation.internalErrors}), logged
 * once, and never reaches the application.
 */
import diagnosticsChannel from 'node:diagnostics_channel';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { IncomingHttpHeaders, ServerHttp2Stream } from 'node:http2';
import type { Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { errorMessage } from '../self/errorMessage';
import { warnOnce } from '../self/Logger';
import type { SpanContext } from '@opentelemetry/api';
import { activeSpanContext, sampledTrace } from './activeTrace';
import { frameworkRoute, subscribeFrameworkRoutes } from './frameworkRoute';
import { Http2Streams } from './Http2Streams';
import { errorClassOf, stashedError } from './requestError';
import type { PathExclusion } from './PathExclusion';
import { methodLabeller, STANDARD_HTTP_METHODS } from './methodLabel';
import type { RequestAccumulator } from './RequestAccumulator';
import { UNMATCHED_ENDPOINT, type RouteNormaliser } from './RouteNormaliser';

/** `error_type` of requests answered with a 5xx status. */
export const ERROR_HTTP_5XX = 'http_5xx';
/** `error_type` of requests whose connection closed (by the peer) before the response finished. */
export const ERROR_CLIENT_ABORT = 'client_abort';
/** `error_type` of requests whose connection failed with an error before the response finished. */
export const ERROR_SOCKET_ERROR = 'socket_error';
/** `error_type` the runtime passes to {@link HttpInstrumentation.failInFlight} when a handler throws and the process dies. */
export const ERROR_HANDLER_ERROR = 'handler_error';
/** Status label of requests that ended without a response (nginx's convention). */
export const STATUS_CLIENT_CLOSED = 499;
/** Status label of requests failed by {@link HttpInstrumentation.failInFlight}. */
export const STATUS_HANDLER_ERROR = 500;
/** Method label when Node could not parse the request line. */
export const UNKNOWN_METHOD = 'UNKNOWN';

/** Channel our per-server `emit` observer publishes `clientError` events on. */
export const CLIENT_ERROR_CHANNEL = 'otel-cluster-exporter:http.server.client-error';

const REQUEST_START_CHANNEL = 'http.server.request.start';
const RESPONSE_FINISH_CHANNEL = 'http.server.response.finish';
const SERVER_SOCKET_CHANNEL = 'net.server.socket';

/** Error codes of a peer going away, which make a closed connection an abort rather than a failure. */
const PEER_RESET_CODES = new Set(['ECONNRESET', 'EPIPE', 'ECONNABORTED']);
/** Distinct `error_type` values taken from error codes/names before the rest fold into one. */
const MAX_ERROR_TYPES = 64;
const OTHER_ERROR_TYPE = 'other';

const kState = Symbol('otel-cluster-exporter.requestState');
const kSocketTracked = Symbol('otel-cluster-exporter.socketTracked');
const kSocketCurrent = Symbol('otel-cluster-exporter.socketCurrent');
const kSocketError = Symbol('otel-cluster-exporter.socketError');
const kServerIgnored = Symbol('otel-cluster-exporter.serverIgnored');
const kServerObserved = Symbol('otel-cluster-exporter.serverObserved');

/** One request in flight. A plain object of fixed shape, so V8 keeps every instance on one hidden class. */
interface RequestState {
  readonly owner: HttpInstrumentation;
  /** Where the route is read from: the request, or the HTTP/2 stream. */
  readonly req: IncomingMessage | ServerHttp2Stream;
  /** Where response bytes are counted: the response, or the HTTP/2 stream. */
  readonly res: ServerResponse | ServerHttp2Stream;
  /** The HTTP/1 connection; undefined for HTTP/2 streams, which settle on their own 'close'. */
  readonly socket: Socket | undefined;
  /** `req.url` as received; routers rewrite `req.url` later. */
  readonly url: string;
  readonly method: string;
  /** `performance.now()` at request start. */
  readonly start: number;
  /** Declared Content-Length of the request body, or -1 when absent. */
  readonly contentLength: number;
  /** Body bytes pushed into the request stream so far (counted only for bodies without Content-Length). */
  requestBytes: number;
  /** Body bytes handed to `res.write` / `res.end` so far. */
  responseBytes: number;
  /** The sampled trace active when the app ended the response: the duration exemplar's. */
  trace: SpanContext | undefined;
  /** The app called `end` (HTTP/1 `res.end`, or the HTTP/2 stream's): later writes are not body bytes. */
  ended: boolean;
  /** Express's `req.baseUrl` when the matched route was dispatched (see {@link noteDispatchedRoute}); undefined otherwise. */
  routeBase: unknown;
  /** The Express route object last dispatched for this request (what Express sets as `req.route`); undefined otherwise. */
  dispatchedRoute: object | undefined;
  /** A HEAD request: its response carries no body whatever the app writes. */
  readonly headRequest: boolean;
  /**
   * The request's stream state (`_readableState`, what its `errored` getter reads), taken when the
   * request starts, while the request still has Node's own hidden class. Its error is read from here
   * when the request completes: on an Express request the getter sits at the end of a prototype
   * chain of its own, and every read through it is a full lookup (under cachegrind, reading the
   * state instead, and no response stream on a clean finish, took about 200 L1 data misses off each
   * Express request, of some 1,500 the preload added).
   */
  readonly requestStream: StreamErrorState | undefined;
  done: boolean;
  /** Global in-flight list. */
  prev: RequestState | undefined;
  next: RequestState | undefined;
  /** Older request still in flight on the same connection (HTTP pipelining). */
  older: RequestState | undefined;
}

/** The one field read from a request's stream state. */
interface StreamErrorState {
  readonly errored?: unknown;
}

interface TrackedMessage {
  [kState]?: RequestState;
}
interface TrackedSocket {
  [kSocketTracked]?: boolean;
  [kSocketCurrent]?: RequestState | undefined;
  [kSocketError]?: string;
}
interface TrackedServer {
  [kServerIgnored]?: boolean;
  [kServerObserved]?: boolean;
}

/** Payload of `http.server.request.start` and `http.server.response.finish`. */
interface HttpServerMessage {
  request: IncomingMessage & TrackedMessage;
  response: ServerResponse & TrackedMessage;
  socket: Socket & TrackedSocket;
  server: Server & TrackedServer;
}

/** Payload of {@link CLIENT_ERROR_CHANNEL}. */
interface ClientErrorMessage {
  error: unknown;
  socket: (Socket & TrackedSocket) | undefined;
  server: Server & TrackedServer;
}

/** Options of {@link HttpInstrumentation}. */
export interface HttpInstrumentationOptions {
  /** Where requests are recorded. */
  readonly accumulator: RequestAccumulator;
  /** Maps each request to its bounded `endpoint` label. */
  readonly normaliser: RouteNormaliser;
  /** Requests whose path it matches are not counted at all (default: every request counts). */
  readonly exclusion?: PathExclusion;
  /** Methods recorded by name; every other one is `_OTHER` (default: the standard nine). */
  readonly methods?: readonly string[];
}

const clientErrorChannel = diagnosticsChannel.channel(CLIENT_ERROR_CHANNEL);

/** Per-request state lives under one symbol on the response, so one instance records at a time. */
let enabledInstance: HttpInstrumentation | undefined;

function byteLengthOf(chunk: unknown, encoding: unknown): number {
  if (typeof chunk === 'string') {
    return Buffer.byteLength(chunk, typeof encoding === 'string' ? (encoding as BufferEncoding) : 'utf8');
  }
  if (chunk instanceof Uint8Array) return chunk.byteLength;
  return 0;
}

type WriteFn = (this: ServerResponse, chunk: unknown, encoding?: unknown, callback?: unknown) => boolean;
type EndFn = (this: ServerResponse, chunk?: unknown, encoding?: unknown, callback?: unknown) => ServerResponse;
type PushFn = (this: IncomingMessage, chunk: unknown, encoding?: unknown) => boolean;
/** A response, or an HTTP/2 stream, that carries request state. */
type TrackedWritable = (ServerResponse | ServerHttp2Stream) & TrackedMessage;

/**
 * The request that started last, while it is in flight. Most handlers route
 * and answer in the same turn of the event loop as the request's start, so
 * the response the router's hook or `res.end` is called with is this one's:
 * an identity check then finds the state without a read on the response.
 */
let newestState: RequestState | undefined;

/**
 * The state of a response (or HTTP/2 stream) this package tracks: the newest
 * request's when it is that response, else read from the response.
 */
function stateOf(res: TrackedWritable): RequestState | undefined {
  const newest = newestState;
  if (newest !== undefined && newest.res === res) return newest;
  return res[kState];
}

/**
 * Add a chunk the app writes to its response's byte count, unless the app
 * already ended it. The end is noted on our state rather than read from
 * `res.writableEnded`: an app's own object stays untouched by reads on the
 * hot path (Express gives each response a prototype of its own, where every
 * inherited getter is a long lookup).
 */
function countResponseBytes(state: RequestState | undefined, chunk: unknown, encoding: unknown): void {
  if (state === undefined || state.ended) return;
  try {
    state.responseBytes += byteLengthOf(chunk, encoding);
  } catch (error) {
    state.owner.reportInternalError(error);
  }
}

/** Count the body bytes the app writes; the prototype's method (whatever class) does the real work. */
function countingWrite(this: TrackedWritable, chunk: unknown, encoding?: unknown, callback?: unknown): boolean {
  countResponseBytes(stateOf(this), chunk, encoding);
  const write = (Object.getPrototypeOf(this) as { write: WriteFn }).write;
  return write.call(this as ServerResponse, chunk, encoding, callback);
}

/**
 * Count the final chunk passed to `res.end`, if any, and note the trace the
 * app ends its response in: `res.end` runs in the app's context, inside the
 * server span a tracing instrumentation opened around the request handler.
 */
function countingEnd(this: TrackedWritable, chunk?: unknown, encoding?: unknown, callback?: unknown): ServerResponse {
  // At most one read of the state: every property read on an Express response is an inline-cache miss (see noteDispatchedRoute).
  const state = stateOf(this);
  if (chunk != null && typeof chunk !== 'function') countResponseBytes(state, chunk, encoding);
  if (state !== undefined && !state.ended) {
    state.ended = true;
    try {
      noteTrace(state);
    } catch (error) {
      state.owner.reportInternalError(error);
    }
  }
  const end = (Object.getPrototypeOf(this) as { end: EndFn }).end;
  return end.call(this as ServerResponse, chunk, encoding, callback);
}

/**
 * Responses to end without looking for a span, and responses in a row that
 * ended outside any span (capped at {@link SPANLESS_BEFORE_BACKOFF}). An app
 * that runs no tracing never has a span, and each look is a lookup in the
 * OpenTelemetry API's global registry: after that many spanless ends, only one
 * end in {@link SPAN_RECHECK_EVERY} looks, until one finds a span again (an
 * app that starts tracing later is noticed within that many responses).
 */
let endsToSkip = 0;
let spanlessEnds = 0;
const SPANLESS_BEFORE_BACKOFF = 1024;
const SPAN_RECHECK_EVERY = 256;

/** Note the sampled trace the response ends in: its duration exemplar's (see {@link endsToSkip}). */
function noteTrace(state: RequestState): void {
  if (endsToSkip > 0) {
    endsToSkip--;
    return;
  }
  const spanContext = activeSpanContext();
  if (spanContext === undefined) {
    if (spanlessEnds < SPANLESS_BEFORE_BACKOFF) spanlessEnds++;
    else endsToSkip = SPAN_RECHECK_EVERY - 1;
    return;
  }
  spanlessEnds = 0;
  state.trace = sampledTrace(spanContext);
}

/**
 * Count request body bytes as Node's HTTP parser pushes them. Shadowing `push`
 * on the instance leaves the stream's mode alone: no 'data' listener, no
 * flowing, nothing read, so the app consumes the body exactly as before.
 */
function countingPush(this: (IncomingMessage | ServerHttp2Stream) & TrackedMessage, chunk: unknown, encoding?: unknown): boolean {
  const state = this[kState];
  if (state !== undefined && chunk != null) {
    try {
      state.requestBytes += byteLengthOf(chunk, encoding);
    } catch (error) {
      state.owner.reportInternalError(error);
    }
  }
  const push = (Object.getPrototypeOf(this) as { push: PushFn }).push;
  return push.call(this as IncomingMessage, chunk, encoding);
}

/**
 * Keep the route a router dispatched and the mount path it was dispatched
 * under (Express's `req.route` and `req.baseUrl`; the router resets the
 * latter when an error leaves a nested router) on the request's state: two
 * stores into fields every state has, nothing written on the app's request.
 * The Express hook calls it once per matched route; a response this instance
 * does not track is left alone.
 *
 * Why the route is taken here rather than read from `req.route` when the
 * request completes: Express gives every request and response a hidden class
 * of their own (it sets their prototypes per request, and V8 copies the map
 * each time), so every property read on them after that is an inline-cache
 * miss, about 0.2 µs each on this project's VM. The hook holds the route
 * already.
 */
export function noteDispatchedRoute(res: unknown, route: object, base: unknown): void {
  if (typeof res !== 'object' || res === null) return;
  const state = stateOf(res as TrackedWritable);
  if (state === undefined) return;
  state.dispatchedRoute = route;
  state.routeBase = base;
}

/** `NGHTTP2_NO_ERROR`: the stream closed normally (not reset by either side). */
const HTTP2_NO_ERROR = 0;

/**
 * An HTTP/2 stream closed: the request is complete when the app ended its
 * response and the stream closed without a reset (Node may close it before
 * 'finish'), else the peer or the session went away first.
 */
function onStreamClose(this: ServerHttp2Stream & TrackedMessage): void {
  const state = this[kState];
  if (state === undefined || state.done) return;
  if (this.headersSent && this.writableEnded && this.rstCode === HTTP2_NO_ERROR) {
    const status = Number(this.sentHeaders[':status']);
    state.owner.settleStream(state, Number.isInteger(status) ? status : 200);
  } else {
    state.owner.abandon(state, ERROR_CLIENT_ABORT);
  }
}

/** Declared content-length of an HTTP/2 request, or {@link BODY_CHUNKED} when the body (if any) is counted as it arrives. */
function http2BodyLengthOf(headers: IncomingHttpHeaders): number {
  const declared = headers['content-length'];
  if (declared === undefined) return BODY_CHUNKED;
  const value = Number(declared);
  return Number.isFinite(value) && value >= 0 ? value : BODY_CHUNKED;
}

/** A connection closed: every request still in flight on it ended without a complete response. */
function onSocketClose(this: Socket & TrackedSocket, hadError: boolean): void {
  let state = this[kSocketCurrent];
  this[kSocketCurrent] = undefined;
  const code = this[kSocketError];
  const errorType = hadError && code !== undefined && !PEER_RESET_CODES.has(code) ? ERROR_SOCKET_ERROR : ERROR_CLIENT_ABORT;
  while (state !== undefined) {
    const older: RequestState | undefined = state.older;
    if (!state.done) state.owner.abandon(state, errorType);
    state = older;
  }
}

/** What the request head says about its body. */
const BODY_NONE = -1;
const BODY_CHUNKED = -2;

/**
 * The request's Content-Length, {@link BODY_CHUNKED} for a body without one,
 * or {@link BODY_NONE}. Scans `rawHeaders` by name length first, because
 * reading `req.headers` would build the whole header object on every request.
 */
function bodyLengthOf(req: IncomingMessage): number {
  const raw = req.rawHeaders;
  let chunked = false;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i] as string;
    if (name.length === 14 && name.toLowerCase() === 'content-length') {
      const value = Number(raw[i + 1]);
      return Number.isFinite(value) && value >= 0 ? value : BODY_NONE;
    }
    if (name.length === 17 && name.toLowerCase() === 'transfer-encoding') chunked = true;
  }
  return chunked ? BODY_CHUNKED : BODY_NONE;
}

/** True for `http.Server` and `https.Server` (both carry the HTTP server options), without loading `https`. */
function isHttpServer(server: unknown): server is Server & TrackedServer {
  return typeof server === 'object' && server !== null && 'maxHeadersCount' in server && typeof (server as Server).emit === 'function';
}

/**
 * Shadow `emit` on one server instance to see `'clientError'` without
 * listening to it: adding a listener would switch off Node's own 400/408/431
 * reply. The original `emit` runs unchanged and its result is returned.
 */
function observeClientErrors(server: Server & TrackedServer): void {
  if (server[kServerObserved] === true) return;
  server[kServerObserved] = true;
  const originalEmit = server.emit as (this: Server, event: string | symbol, ...args: unknown[]) => boolean;
  server.emit = function emitObserved(this: Server, event: string | symbol, a?: unknown, b?: unknown): boolean {
    if (event === 'clientError' && clientErrorChannel.hasSubscribers) {
      try {
        clientErrorChannel.publish({ error: a, socket: b as Socket | undefined, server: this } satisfies ClientErrorMessage);
      } catch {
        // Subscribers guard themselves; nothing here may disturb Node's reply.
      }
    }
    // Same arguments, same count: listeners that look at arguments.length see no difference.
    if (arguments.length === 3) return originalEmit.call(this, event, a, b);
    if (arguments.length === 2) return originalEmit.call(this, event, a);
    // eslint-disable-next-line prefer-rest-params
    return Reflect.apply(originalEmit, this, arguments) as boolean;
  } as Server['emit'];
}

/**
 * The worker's HTTP recorder. Feed its accumulator to an HttpMetricProducer.
 */
export class HttpInstrumentation {
  /** Where requests are recorded (read by HttpMetricProducer). */
  readonly accumulator: RequestAccumulator;
  private readonly normaliser: RouteNormaliser;
  private readonly exclusion: PathExclusion | undefined;
  private readonly http2 = new Http2Streams((stream, headers) => this.onStream(stream, headers));
  private readonly methodLabel: (method: string) => string;
  private enabled = false;
  private unsubscribeFrameworks: (() => void) | undefined;
  private head: RequestState | undefined;
  private inFlight = 0;
  private errors = 0;
  private readonly errorTypes = new Set<string>();
  /** Run once at the next request's start (see {@link onNextRequest}); undefined almost always, so the check is one load. */
  private nextRequestHook: (() => void) | undefined;

  /** Build a disabled instrumentation; call {@link enable} to start recording. */
  constructor(options: HttpInstrumentationOptions) {
    this.accumulator = options.accumulator;
    this.normaliser = options.normaliser;
    this.exclusion = options.exclusion?.isEmpty === false ? options.exclusion : undefined;
    this.methodLabel = methodLabeller(options.methods ?? STANDARD_HTTP_METHODS);
  }

  /**
   * Start recording. Idempotent. Only one instance per process records: while
   * another is enabled this one stays off and says so once.
   */
  enable(): void {
    if (this.enabled) return;
    if (enabledInstance !== undefined) {
      warnOnce('worker.http-instrumentation-twice', 'HTTP instrumentation is already enabled in this process; the second one stays off');
      return;
    }
    // eslint-disable-next-line @typescript-eslint/no-this-alias -- the one enabled instance per process is remembered on purpose
    enabledInstance = this;
    this.enabled = true;
    diagnosticsChannel.subscribe(REQUEST_START_CHANNEL, this.onRequestStart);
    diagnosticsChannel.subscribe(RESPONSE_FINISH_CHANNEL, this.onResponseFinish);
    diagnosticsChannel.subscribe(SERVER_SOCKET_CHANNEL, this.onServerSocket);
    diagnosticsChannel.subscribe(CLIENT_ERROR_CHANNEL, this.onClientError);
    this.http2.subscribe();
    this.unsubscribeFrameworks = subscribeFrameworkRoutes();
  }

  /** Stop recording; requests in flight are forgotten (not counted). Idempotent. */
  disable(): void {
    if (!this.enabled) return;
    this.enabled = false;
    enabledInstance = undefined;
    diagnosticsChannel.unsubscribe(REQUEST_START_CHANNEL, this.onRequestStart);
    diagnosticsChannel.unsubscribe(RESPONSE_FINISH_CHANNEL, this.onResponseFinish);
    diagnosticsChannel.unsubscribe(SERVER_SOCKET_CHANNEL, this.onServerSocket);
    diagnosticsChannel.unsubscribe(CLIENT_ERROR_CHANNEL, this.onClientError);
    this.http2.unsubscribe();
    this.unsubscribeFrameworks?.();
    this.unsubscribeFrameworks = undefined;
    for (let state = this.head; state !== undefined; state = state.next) state.done = true;
    this.head = undefined;
    newestState = undefined;
    this.inFlight = 0;
    this.nextRequestHook = undefined;
  }

  /**
   * Run `hook` once, when the next request of the app starts (excluded paths
   * too, not the exporter's own servers), before its handler: the worker's
   * event-loop monitor, paused while quiet, resumes in time to sample it.
   */
  onNextRequest(hook: () => void): void {
    this.nextRequestHook = hook;
  }

  private runNextRequestHook(): void {
    const hook = this.nextRequestHook;
    this.nextRequestHook = undefined;
    hook?.();
  }

  /** Never count requests or errors of this server (the exporter's own /metrics server). */
  ignoreServer(server: Server): void {
    (server as Server & TrackedServer)[kServerIgnored] = true;
  }

  /** Requests started and not yet finished or abandoned. */
  activeRequests(): number {
    return this.inFlight;
  }

  /** True while this instance records. */
  get isEnabled(): boolean {
    return this.enabled;
  }

  /** Exceptions caught inside this instrumentation since it was built. */
  get internalErrors(): number {
    return this.errors;
  }

  /**
   * Count every request in flight as failed with `errorType` (status label
   * 500). The worker runtime calls this from an `uncaughtExceptionMonitor`
   * so requests that die with the process are not lost. Returns how many
   * were counted.
   */
  failInFlight(errorType: string): number {
    let counted = 0;
    let state = this.head;
    while (state !== undefined) {
      const next: RequestState | undefined = state.next;
      if (!state.done) {
        this.guard(() => this.complete(state as RequestState, STATUS_HANDLER_ERROR, this.bounded(errorType)));
        counted++;
      }
      state = next;
    }
    return counted;
  }

  /**
   * Abandon requests whose connection is gone without the close being seen
   * (a safety net; socket 'close' normally does it). Called before each collection.
   */
  sweep(): void {
    let state = this.head;
    while (state !== undefined) {
      const next: RequestState | undefined = state.next;
      if (!state.done && state.socket !== undefined && state.socket.destroyed) {
        const current = state;
        this.guard(() => this.abandon(current, ERROR_CLIENT_ABORT));
      }
      state = next;
    }
  }

  /** @internal Count one request whose connection closed before its response finished. */
  abandon(state: RequestState, errorType: string): void {
    this.guard(() => this.complete(state, STATUS_CLIENT_CLOSED, errorType));
  }

  /** @internal Count one HTTP/2 request whose response was sent in full. */
  settleStream(state: RequestState, status: number): void {
    this.guard(() => this.complete(state, status, undefined));
  }

  /** @internal Count and log once an exception caught in this instrumentation. */
  reportInternalError(error: unknown): void {
    this.errors++;
    // The class name (`TypeError: ...`) tells a bug in this package from an I/O failure.
    const kind = error instanceof Error ? `${error.name}: ` : '';
    warnOnce('worker.http-instrumentation', `HTTP instrumentation error, the request was served but may be missing from metrics: ${kind}${errorMessage(error)}`);
  }

  private readonly onRequestStart = (message: unknown): void => {
    try {
      this.start(message as HttpServerMessage);
    } catch (error) {
      this.reportInternalError(error);
    }
  };

  private readonly onResponseFinish = (message: unknown): void => {
    try {
      const state = finishedState(message as HttpServerMessage);
      if (state === undefined || state.done || state.owner !== this) return;
      this.complete(state, (state.res as ServerResponse).statusCode, undefined);
    } catch (error) {
      this.reportInternalError(error);
    }
  };

  private readonly onServerSocket = (message: unknown): void => {
    try {
      const server = (message as { socket?: { server?: unknown } }).socket?.server;
      if (isHttpServer(server) && server[kServerIgnored] !== true) observeClientErrors(server);
      else if (typeof server === 'object' && server !== null) this.http2.observeServer(server);
    } catch (error) {
      this.reportInternalError(error);
    }
  };

  private readonly onClientError = (message: unknown): void => {
    try {
      this.clientError(message as ClientErrorMessage);
    } catch (error) {
      this.reportInternalError(error);
    }
  };

  private readonly onStream = (stream: ServerHttp2Stream & TrackedMessage, headers: IncomingHttpHeaders): void => {
    try {
      this.startStream(stream, headers);
    } catch (error) {
      this.reportInternalError(error);
    }
  };

  private start(message: HttpServerMessage): void {
    const { request, response, socket, server } = message;
    if (server[kServerIgnored] === true) return;
    // Before the exclusion: an excluded request (a health check) is work of the app's loop too.
    if (this.nextRequestHook !== undefined) this.runNextRequestHook();
    if (this.exclusion !== undefined && this.exclusion.matches(request.url ?? '/')) return;
    if (server[kServerObserved] !== true && isHttpServer(server)) observeClientErrors(server);
    const current = socket[kSocketCurrent];
    const bodyLength = bodyLengthOf(request);
    const state = this.newState(request, response, socket, request.url ?? '/', request.method, bodyLength, current !== undefined && !current.done ? current : undefined);
    response[kState] = state;
    response.write = countingWrite as ServerResponse['write'];
    response.end = countingEnd as ServerResponse['end'];
    if (bodyLength === BODY_CHUNKED) {
      // Only bodies without a Content-Length are counted as they arrive.
      request[kState] = state;
      request.push = countingPush as IncomingMessage['push'];
    }
    socket[kSocketCurrent] = state;
    if (socket[kSocketTracked] !== true) {
      socket[kSocketTracked] = true;
      socket.on('close', onSocketClose);
    }
  }

  /** One HTTP/2 stream, from either API: the stream is both the request and the response. */
  private startStream(stream: ServerHttp2Stream & TrackedMessage, headers: IncomingHttpHeaders): void {
    if (stream[kState] !== undefined) return;
    if (this.nextRequestHook !== undefined) this.runNextRequestHook();
    const url = headers[':path'] ?? '/';
    if (this.exclusion !== undefined && this.exclusion.matches(url)) return;
    const bodyLength = http2BodyLengthOf(headers);
    const state = this.newState(stream, stream, undefined, url, headers[':method'], bodyLength, undefined);
    stream[kState] = state;
    stream.write = countingWrite as ServerHttp2Stream['write'];
    stream.end = countingEnd as unknown as ServerHttp2Stream['end'];
    if (bodyLength === BODY_CHUNKED) stream.push = countingPush as ServerHttp2Stream['push'];
    stream.once('close', onStreamClose);
  }

  /**
   * The state of one request, linked in as the newest. One literal for HTTP/1 and HTTP/2, so both
   * have one shape (the hot path stays monomorphic) and no field can be left out of either. The
   * method is whatever the client sent: bounded here for both protocols.
   */
  private newState(
    req: RequestState['req'],
    res: RequestState['res'],
    socket: RequestState['socket'],
    url: string,
    rawMethod: string | undefined,
    bodyLength: number,
    older: RequestState | undefined,
  ): RequestState {
    const state: RequestState = {
      owner: this,
      req,
      res,
      socket,
      url,
      method: rawMethod === undefined ? UNKNOWN_METHOD : this.methodLabel(rawMethod),
      start: performance.now(),
      contentLength: bodyLength >= 0 ? bodyLength : 0,
      requestBytes: 0,
      responseBytes: 0,
      trace: undefined,
      ended: false,
      routeBase: undefined,
      dispatchedRoute: undefined,
      headRequest: rawMethod === 'HEAD',
      requestStream: streamStateOf(req),
      done: false,
      prev: undefined,
      next: this.head,
      older,
    };
    this.link(state);
    return state;
  }

  private link(state: RequestState): void {
    if (this.head !== undefined) this.head.prev = state;
    this.head = state;
    this.inFlight++;
    newestState = state;
  }

  private complete(state: RequestState, status: number, failure: string | undefined): void {
    const seconds = (performance.now() - state.start) / 1000;
    this.unlink(state);
    const { req, res } = state;
    // An error response takes `req.route` as before: the router sets it for a route whose parameter
    // callbacks then answer (a 404 for an unknown id) without that route ever being dispatched.
    const dispatchedRoute = status < 400 ? state.dispatchedRoute : undefined;
    const endpoint = this.normaliser.endpointFor(frameworkRoute(req, state.routeBase, dispatchedRoute), state.url, status);
    const requestBytes = state.contentLength + state.requestBytes;
    // HEAD, 1xx, 204 and 304 responses carry no body whatever the app wrote (Node drops it).
    const responseBytes = hasNoBody(state, status) ? 0 : state.responseBytes;
    const accumulator = this.accumulator;
    accumulator.recordRequest(state.method, endpoint, status, seconds, requestBytes, responseBytes, state.trace);
    if (failure !== undefined) accumulator.recordFailure(state.method, endpoint, failure);
    else if (status >= 500) accumulator.recordFailure(state.method, endpoint, this.failureTypeOf(req));
    // A clean finish has no response stream error to look for: Node finishes no response whose connection failed.
    const requestError = handledStreamError(state.requestStream?.errored, failure);
    const streamError = failure === undefined ? requestError : (handledStreamError(res.errored, failure) ?? requestError);
    if (streamError !== undefined) accumulator.recordErrorHandled(state.method, endpoint, this.errorTypeOf(streamError));
  }

  private unlink(state: RequestState): void {
    state.done = true;
    this.inFlight--;
    // Not kept past its completion: the app's response goes when the app lets it go.
    if (newestState === state) newestState = undefined;
    if (state.prev !== undefined) state.prev.next = state.next;
    else if (this.head === state) this.head = state.next;
    if (state.next !== undefined) state.next.prev = state.prev;
    state.prev = undefined;
    state.next = undefined;
    const socket = state.socket as (Socket & TrackedSocket) | undefined;
    if (socket !== undefined && socket[kSocketCurrent] === state) socket[kSocketCurrent] = state.older;
    // Pipelined responses finish oldest first, so nothing older is still in flight.
    state.older = undefined;
  }

  private clientError(message: ClientErrorMessage): void {
    const { error, socket, server } = message;
    if (server[kServerIgnored] === true) return;
    const code = codeOf(error);
    if (code !== undefined && socket !== undefined) socket[kSocketError] = code;
    // Parse errors and request timeouts are what Node answers itself (400/408/413/431).
    if (code !== undefined && (code.startsWith('HPE_') || code === 'ERR_HTTP_REQUEST_TIMEOUT')) {
      this.accumulator.recordErrorHandled(UNKNOWN_METHOD, UNMATCHED_ENDPOINT, this.errorTypeOf(error));
    }
  }

  /** A 5xx: the class of the exception the framework caught for it, else {@link ERROR_HTTP_5XX}; bounded. */
  private failureTypeOf(req: object): string {
    const type = errorClassOf(stashedError(req));
    return type === undefined ? ERROR_HTTP_5XX : this.bounded(type);
  }

  /** The `error_type` of an error: its code, else its class name; bounded to {@link MAX_ERROR_TYPES} values. */
  private errorTypeOf(error: unknown): string {
    const code = codeOf(error);
    return this.bounded(code ?? (error instanceof Error ? error.name : typeof error));
  }

  /** Distinct error types are capped: past {@link MAX_ERROR_TYPES} (or a silly long name) they fold into `other`. */
  private bounded(type: string): string {
    if (this.errorTypes.has(type)) return type;
    if (this.errorTypes.size >= MAX_ERROR_TYPES || type.length > 64) return OTHER_ERROR_TYPE;
    this.errorTypes.add(type);
    return type;
  }

  private guard(work: () => void): void {
    try {
      work();
    } catch (error) {
      this.reportInternalError(error);
    }
  }
}

/**
 * True when the response carries no body whatever the app wrote (Node drops
 * it): HEAD, 1xx, 204 and 304, the cases where Node's HTTP/1 response sets
 * `_hasBody` to false. Decided from what the state holds, not read from the
 * response (see {@link noteDispatchedRoute} for why reads there are avoided).
 */
function hasNoBody(state: RequestState, status: number): boolean {
  return state.headRequest || status === 204 || status === 304 || (status >= 100 && status < 200);
}

/**
 * The state of the response a finish message is about: the connection's
 * newest request when it is that response (the connection's hidden class is
 * the same from request to request; the response's is new for every Express
 * request), else read from the response. No walk through older pipelined
 * requests: a client that pipelines many would make each finish pay for all.
 */
function finishedState(message: HttpServerMessage): RequestState | undefined {
  const { response } = message;
  const newest = message.socket?.[kSocketCurrent];
  return newest !== undefined && newest.res === response ? newest : response[kState];
}

/** The request's stream state, or undefined for a request object that is no stream (then it has no stream error either). */
function streamStateOf(req: object): StreamErrorState | undefined {
  const streamState = (req as { _readableState?: unknown })._readableState;
  return typeof streamState === 'object' && streamState !== null ? streamState : undefined;
}

/**
 * The error a request or response stream was destroyed with, unless it is
 * Node's own 'aborted' reset of a closed connection: that is the abort itself,
 * already counted as a failure.
 */
function handledStreamError(error: unknown, failure: string | undefined): unknown {
  if (error === null || error === undefined) return undefined;
  if (failure !== undefined && codeOf(error) === 'ECONNRESET') return undefined;
  return error;
}

function codeOf(error: unknown): string | undefined {
  const code = typeof error === 'object' && error !== null ? (error as { code?: unknown }).code : undefined;
  return typeof code === 'string' ? code : undefined;
}
