/**
 * Finds the route template a web framework matched for a request, reading
 * only what the framework already leaves on the request object or publishes
 * on diagnostics channels: no framework code is patched or required.
 *
 * - Express 4/5: `req.route.path` (the matched route) prefixed with
 *   `req.baseUrl` (the mount path of the router it lives in, so nested
 *   routers give `/api/users/:id`). Express leaves both set after the handler
 *   responds, which is when we read them.
 * - Fastify 4.x late / 5: Fastify publishes `tracing:fastify.request.handler:start`
 *   with the matched route (`route.url`, also `request.routeOptions.url`) for
 *   every request that matched a route (not for its 404 handler); we stash it
 *   on the raw Node request under {@link ROUTE_SYMBOL}.
 * - Koa (+ @koa/router), Hapi and others keep the matched route on their own
 *   context object, which the raw Node request does not point to, so their
 *   requests fall back to the normalised path. Any app can name the route
 *   itself with {@link setRequestRoute}.
 */
import diagnosticsChannel from 'node:diagnostics_channel';
import type { IncomingMessage } from 'node:http';
import type { Http2ServerRequest } from 'node:http2';

/** Where a route template found elsewhere (Fastify, {@link setRequestRoute}) is kept on the raw request. */
export const ROUTE_SYMBOL: unique symbol = Symbol.for('otel-cluster-exporter.route');

/** The Fastify 5 channel fired when a matched route's handler starts. */
export const FASTIFY_HANDLER_START_CHANNEL = 'tracing:fastify.request.handler:start';

/** What we read from a request that may carry framework state. */
interface RouteCarrier {
  [ROUTE_SYMBOL]?: string;
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
  const route = carrier.route;
  if (route === undefined || route === null || typeof route !== 'object') return undefined;
  const path = route.path;
  if (typeof path === 'string') return joinMount(carrier.baseUrl, path);
  // Express accepts RegExp and array paths; their source text is bounded by the app's code.
  if (path instanceof RegExp || Array.isArray(path)) return joinMount(carrier.baseUrl, String(path));
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
 * Subscribe to the framework channels that carry routes. Returns the
 * unsubscribe function. Subscribing to a channel no framework publishes on
 * costs nothing.
 */
export function subscribeFrameworkRoutes(): () => void {
  diagnosticsChannel.subscribe(FASTIFY_HANDLER_START_CHANNEL, onFastifyHandlerStart);
  return () => {
    diagnosticsChannel.unsubscribe(FASTIFY_HANDLER_START_CHANNEL, onFastifyHandlerStart);
  };
}
