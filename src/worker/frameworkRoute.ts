/**
 * Finds the route template a web framework matched for a request, from what
 * the framework leaves on the request object, publishes on diagnostics
 * channels, or what the module load hooks (src/hooks) hand over:
 *
 * - Express 4/5 (and NestJS on its Express adapter): `req.route.path` (the
 *   matched route) prefixed with the mount path it matched under (nested
 *   routers give `/api/users/:id`): `req.baseUrl`, or the base the Express
 *   hook kept when the route was dispatched (an error leaving the router
 *   resets `req.baseUrl`). Read once, when the request completes; the joined
 *   template is memoised per route object, so a route's requests share one
 *   string (no concatenation, and its hash is computed once).
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

/** Where the hooks keep a framework's own request context (Koa's `ctx`, Hapi's `request`) on the raw request. */
export const CONTEXT_SYMBOL: unique symbol = Symbol.for('otel-cluster-exporter.frameworkContext');

/**
 * Whether any request of this process was given a route or a context under
 * {@link ROUTE_SYMBOL} / {@link CONTEXT_SYMBOL} so far. Until one is, those
 * two are not looked for on a request Express dispatched a route for: an
 * Express app never sets them, and Express gives every request a hidden
 * class of its own, so each look there is an inline-cache miss that walks the
 * request's whole prototype chain (about 0.2 µs each on this project's VM).
 */
const carriers = sharedCarrierFlag();

/**
 * One flag per process, on the global object under a registered symbol like the carriers
 * themselves: a second copy of this package (the app's own, for {@link setRequestRoute}) sets the
 * same flag the recording copy reads.
 */
function sharedCarrierFlag(): { inUse: boolean } {
  const key = Symbol.for('otel-cluster-exporter.routeCarriersInUse');
  const global = globalThis as { [key: symbol]: { inUse: boolean } | undefined };
  const flag = global[key] ?? { inUse: false };
  global[key] = flag;
  return flag;
}

/** What a framework context tells: its matched route template, read when the request completes. */
export interface FrameworkContext {
  route(): string | undefined;
}

/** What we read from a request that may carry framework state. */
interface RouteCarrier {
  [ROUTE_SYMBOL]?: string;
  [CONTEXT_SYMBOL]?: FrameworkContext;
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
  carriers.inUse = true;
  (raw as RouteCarrier)[ROUTE_SYMBOL] = route;
  const stream = (raw as { stream?: unknown }).stream;
  if (typeof stream === 'object' && stream !== null) (stream as RouteCarrier)[ROUTE_SYMBOL] = route;
}

function joinMount(base: unknown, path: string): string {
  if (typeof base !== 'string' || base === '' || base === '/') return path;
  return path === '/' ? base : base + path;
}

/** The last template joined for a route object: a route mounted once always gets the same string back. */
interface JoinedTemplate {
  readonly base: unknown;
  readonly path: unknown;
  readonly template: string | undefined;
}

const joinedTemplates = new WeakMap<object, JoinedTemplate>();

/** `base` + the route's path, as {@link joinMount} gives it, memoised on the route object. */
function expressTemplate(route: { path?: unknown }, base: unknown): string | undefined {
  const path = route.path;
  const last = joinedTemplates.get(route);
  if (last !== undefined && last.base === base && last.path === path) return last.template;
  let template: string | undefined;
  if (typeof path === 'string') template = joinMount(base, path);
  // Express accepts RegExp and array paths; their source text is bounded by the app's code.
  else if (path instanceof RegExp || Array.isArray(path)) template = joinMount(base, String(path));
  joinedTemplates.set(route, { base, path, template });
  return template;
}

/**
 * The matched route template of a finished request, or undefined when no known framework matched one.
 * @param routeBase the mount path the Express hook saw when the route was dispatched; `req.baseUrl` when absent
 * @param dispatchedRoute the route object the Express hook saw dispatched (what Express sets as
 *   `req.route`); `req.route` is read when absent
 */
export function frameworkRoute(req: object, routeBase?: unknown, dispatchedRoute?: object): string | undefined {
  const carrier = req as RouteCarrier;
  // Without a dispatched route (any app but a matched Express one) they are always looked for: an
  // older copy of this package does not set the flag, and such requests' classes are stable.
  if (carriers.inUse || dispatchedRoute === undefined) {
    const stashed = carrier[ROUTE_SYMBOL];
    if (stashed !== undefined) return stashed;
    const context = carrier[CONTEXT_SYMBOL];
    if (context !== undefined) {
      const route = context.route();
      if (route !== undefined) return route;
    }
  }
  const route = dispatchedRoute ?? carrier.route;
  if (route === undefined || route === null || typeof route !== 'object') return undefined;
  return expressTemplate(route, routeBase ?? carrier.baseUrl);
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
  carriers.inUse = true;
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
