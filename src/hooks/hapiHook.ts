/**
 * Hapi: the route template is `request.route.path` on Hapi's request object.
 * The hook wraps the `server()` factory (also exported as `Server`) to add
 * one `onPreResponse` extension to each new server, which runs for every
 * response (errors included) before it is sent, returns `h.continue` and so
 * changes nothing: it hands the raw request Hapi's route and, for a 5xx, the
 * exception Hapi caught (a Boom-wrapped error keeps its own class).
 */
import { stashRoute } from '../worker/frameworkRoute';
import { stashError } from '../worker/requestError';
import type { ModuleHook } from './ModuleLoadHooks';
import { commonJsExports, wrapMethod } from './wrapMethod';

interface HapiRequest {
  route?: { path?: unknown; method?: unknown };
  raw?: { req?: object };
  response?: { isBoom?: boolean; output?: { statusCode?: number } } | null;
}

interface HapiToolkit {
  continue: symbol;
}

interface HapiServer {
  ext(event: 'onPreResponse', method: (request: HapiRequest, h: HapiToolkit) => symbol): void;
}

function onPreResponse(request: HapiRequest, h: HapiToolkit): symbol {
  try {
    const raw = request.raw?.req;
    const route = request.route;
    // Hapi's own not-found route has the special method `_special`: that request matched no route.
    if (raw !== undefined && typeof route?.path === 'string' && route.method !== '_special') stashRoute(raw, route.path);
    const response = request.response;
    if (raw !== undefined && response?.isBoom === true && (response.output?.statusCode ?? 0) >= 500) stashError(raw, response);
  } catch {
    // Never in the way of the response.
  }
  return h.continue;
}

function onServerCreated(_self: unknown, _args: unknown[], server: unknown): void {
  if (typeof server === 'object' && server !== null && typeof (server as HapiServer).ext === 'function') {
    (server as HapiServer).ext('onPreResponse', onPreResponse);
  }
}

/** The module hook for `@hapi/hapi`. */
export const hapiHook: ModuleHook = {
  modules: ['@hapi/hapi'],
  onLoad(exports) {
    for (const target of new Set([exports, commonJsExports(exports)])) {
      wrapMethod(target, 'server', { after: onServerCreated });
      wrapMethod(target, 'Server', { after: onServerCreated });
    }
  },
};
