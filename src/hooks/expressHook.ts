/**
 * Express keeps the matched route on the request (`req.route`, see
 * frameworkRoute), but two things leave with the router it matched in:
 *
 * - The mount path. `req.baseUrl` is restored when an error travels out of a
 *   nested router, so by the time an outer error middleware answers 500 it
 *   no longer names the route's prefix. `Route#dispatch` (one call per
 *   matched route) keeps the route itself (its `this`, which Express also
 *   sets as `req.route`) and the base it matched under, on the request's
 *   state (not on the app's request object), so a successful request is not
 *   read again when it completes (an error response reads `req.route`, see
 *   HttpInstrumentation's complete).
 * - The exception a handler threw, which only travels through the router's
 *   `next(err)`. Two places see it, neither on the success path: the
 *   router's `Layer#handleError` (Express 5's `router` package; Express 4's
 *   `handle_error`), run for each layer the error passes, and
 *   `finalhandler`, which answers when no error middleware did.
 */
import { noteDispatchedRoute } from '../worker/HttpInstrumentation';
import { stashError } from '../worker/requestError';
import type { ModuleHook } from './ModuleLoadHooks';
import { wrapMethod, wrapThreeArgumentMethod } from './wrapMethod';

function keepError(_self: unknown, args: unknown[]): void {
  const [error, req] = args;
  // 'route' and 'router' are Express's routing signals, not errors.
  if (typeof req === 'object' && req !== null && typeof error === 'object' && error !== null) stashError(req, error);
}

/** The module hook for the routers' layers. */
export const expressLayerHook: ModuleHook = {
  modules: ['router/lib/layer.js', 'express/lib/router/layer.js'],
  onLoad(exports) {
    const Layer = exports as { prototype?: unknown };
    wrapMethod(Layer.prototype, 'handleError', { before: keepError });
    wrapMethod(Layer.prototype, 'handle_error', { before: keepError });
  },
};

function keepRoute(route: unknown, req: unknown, res: unknown): void {
  if (typeof req === 'object' && req !== null && typeof route === 'object' && route !== null) {
    noteDispatchedRoute(res, route, (req as { baseUrl?: unknown }).baseUrl);
  }
}

/**
 * The module hook for the routers' routes. `Route#dispatch` runs once per
 * matched route on every request, so it gets the three-argument wrapper (its
 * only caller, the router's `Layer`, always passes `req, res, next`).
 */
export const expressRouteHook: ModuleHook = {
  modules: ['router/lib/route.js', 'express/lib/router/route.js'],
  onLoad(exports) {
    wrapThreeArgumentMethod((exports as { prototype?: unknown }).prototype, 'dispatch', keepRoute);
  },
};

type FinalHandler = (req: object, res: object, options?: unknown) => (error?: unknown) => void;

/** The module hook for `finalhandler`, Express's last resort: it exports one function, so the export is wrapped. */
export const finalHandlerHook: ModuleHook = {
  modules: ['finalhandler'],
  replace(exports: unknown): unknown {
    if (typeof exports !== 'function') return exports;
    const original = exports as FinalHandler;
    const wrapped = function finalhandler(this: unknown, req: object, res: object, options?: unknown) {
      const done = original.call(this, req, res, options);
      return function (this: unknown, error?: unknown) {
        if (typeof error === 'object' && error !== null && typeof req === 'object' && req !== null) {
          try {
            stashError(req, error);
          } catch {
            // Never in the way of the response.
          }
        }
        return done.call(this, error);
      };
    };
    return Object.assign(wrapped, original);
  },
};
