/**
 * Finds the route template a web framework matched for a request, from what
 * the framework leaves on the request object, publishes on diagnostics
 * channels, or what the module load hooks (src/hooks) hand over:
 *
 * - Express 4/5 (and NestJS on its Express adapter): `req.route.path` (the
 *   matched route) prefixed with the mount path it matched under (nested
 *   routers give `/api/users/:id`): `req.baseUrl`, or the base the Express
 *   hook kept when the route was dispatched (an error leaving the router
 *   resets `req.baseUrl`).
 * - Fastify 4.x late / 5 (and NestJS on its Fastify adapter): Fastify publishes
 *   `tracing:fastify.request.handler:start` with the matched route for every
 *   request that matched one (not for its 404 handler); it is stashed on the
 *   raw Node request under {@link ROUTE_SYMBOL}.
 * - Koa (@koa/router, koa-router) and Hapi keep the route on their own
 *   context object; the hooks attach it ({@link CONTEXT_SYMBOL}) or stash the
 *   route itself.
 * - Any other router: the app names the route with {@link setRequestRoute}.
 */
import diagnosticsChannel from 'node:diagnostics_channel';
import type { IncomingMessage } from 'node:http';
import type { Http2ServerRequest } from 'node:http2';
import { stashError } from './requestError';

/** Where a route template found elsewhere (Fastify, {@link setRequestRoute}) is kept on the raw request. */
export const ROUTE_SYMBOL: unique symbol = Symbol.for('otel-cluster-exporter.route');

/** The Fastify 5 channel fired when a matched route's handler starts. */
export const FASTIFY_HANDLER_START_CHANNEL = 'tracing:fastify.request.handler:start';
/** The Fastify 5 channel fired when a route's handler throws or rejects. */
export const FASTIFY_HANDLER_ERROR_CHANNEL = 'tracing:fastify.request.handler:error';

/** Where the Express hook keeps the mount path a route matched under (`req.baseUrl` then). */
export const EXPRESS_BASE_SYMBOL: unique symbol = Symbol.for('otel-cluster-exporter.expressBase');

/** Where the hooks keep a framework's own request context (Koa's `ctx`, Hapi's `request`) on the raw request. */
export const CONTEXT_SYMBOL: unique symbol = Symbol.for('otel-cluster-exporter.frameworkContext');

/** What a framework context tells: its matched route template, read when the request completes. */
export interface FrameworkContext {
  route(): string | undefined;
}

/** What we read from a request that may carry framework state. */
interface RouteCarrier {
  [ROUTE_SYMBOL]?: string;
  [CONTEXT_SYMBOL]?: FrameworkContext;
  [EXPRESS_BASE_SYMBOL]?: unknown;
  route?: { path?: unknown };
  baseUrl?: unknown;
}

/** What we read from Fastify's handler-start message. */
interface FastifyHandlerStart {
  route?: { url?: unknown };
  request?: { raw?: object; routeOptions?: { url?: unknown } };
}

/**
 * Name the route template of a request explicitly (for frameworks we cannot
 * see into). Call it any time before the response finishes.
 */
export function setRequestRoute(req: IncomingMessage | Http2ServerRequest, route: string): void {
  stashRoute(req, route);
}

/**
 * Keep a route on the raw request. An HTTP/2 compatibility request also gets
 * it on its stream, which is what the HTTP/2 recorder reads (the stream API
 * has no request object).
 */
export function stashRoute(raw: object, route: string): void {
  (raw as RouteCarrier)[ROUTE_SYMBOL] = route;
  const stream = (raw as { stream?: unknown }).stream;
  if (typeof stream === 'object' && stream !== null) (stream as RouteCarrier)[ROUTE_SYMBOL] = route;
}

function joinMount(base: unknown, path: string): string {
  if (typeof base !== 'string' || base === '' || base === '/') return path;
  return path === '/' ? base : base + path;
}

/** The matched route template of a finished request, or undefined when no known framework matched one. */
export function frameworkRoute(req: object): string | undefined {
  const carrier = req as RouteCarrier;
  const stashed = carrier[ROUTE_SYMBOL];
  if (stashed !== undefined) return stashed;
  const context = carrier[CONTEXT_SYMBOL];
  if (context !== undefined) {
    const route = context.route();
    if (route !== undefined) return route;
  }
  const route = carrier.route;
  if (route === undefined || route === null || typeof route !== 'object') return undefined;
  const path = route.path;
  // The base the route matched under, when the hook saw it; else the current one.
  const base = carrier[EXPRESS_BASE_SYMBOL] ?? carrier.baseUrl;
  if (typeof path === 'string') return joinMount(base, path);
  // Express accepts RegExp and array paths; their source text is bounded by the app's code.
  if (path instanceof RegExp || Array.isArray(path)) return joinMount(base, String(path));
  return undefined;
}

function onFastifyHandlerStart(message: unknown): void {
  try {
    const start = message as FastifyHandlerStart;
    const url = start.route?.url ?? start.request?.routeOptions?.url;
    const raw = start.request?.raw;
    if (typeof url === 'string' && typeof raw === 'object' && raw !== null) stashRoute(raw, url);
  } catch {
    // A malformed message from some other publisher: no route, nothing else to do.
  }
}

/**
 * Keep a framework's request context on the raw request (and on an HTTP/2
 * compatibility request's stream), so its route is read when the request completes.
 */
export function attachContext(raw: object, context: FrameworkContext): void {
  (raw as RouteCarrier)[CONTEXT_SYMBOL] = context;
  const stream = (raw as { stream?: unknown }).stream;
  if (typeof stream === 'object' && stream !== null) (stream as RouteCarrier)[CONTEXT_SYMBOL] = context;
}

function onFastifyHandlerError(message: unknown): void {
  try {
    const { request, error } = message as { request?: { raw?: unknown }; error?: unknown };
    const raw = request?.raw;
    if (typeof raw === 'object' && raw !== null) stashError(raw, error);
  } catch {
    // Not Fastify's message shape: nothing to record.
  }
}

/**
 * Subscribe to the framework channels that carry routes. Returns the
 * unsubscribe function. Subscribing to a channel no framework publishes on
 * costs nothing.
 */
export function subscribeFrameworkRoutes(): () => void {
  diagnosticsChannel.subscribe(FASTIFY_HANDLER_START_CHANNEL, onFastifyHandlerStart);
  diagnosticsChannel.subscribe(FASTIFY_HANDLER_ERROR_CHANNEL, onFastifyHandlerError);
  return () => {
    diagnosticsChannel.unsubscribe(FASTIFY_HANDLER_START_CHANNEL, onFastifyHandlerStart);
    diagnosticsChannel.unsubscribe(FASTIFY_HANDLER_ERROR_CHANNEL, onFastifyHandlerError);
  };
}
