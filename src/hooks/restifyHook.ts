/**
 * restify: the route template needs no hook, restify sets `req.route.path`
 * (`/users/:id`) on the raw request, where the Express reading finds it. Its
 * exceptions do: a handler's `next(error)` (or, with
 * `handleUncaughtExceptions`, a thrown error) reaches
 * `Server#_onHandlerError(error, req, res)` before restify answers, which the
 * hook wraps to keep the exception on the request.
 */
import { stashError } from '../worker/requestError';
import type { ModuleHook } from './ModuleLoadHooks';
import { wrapMethod } from './wrapMethod';

function keepError(_server: unknown, args: unknown[]): void {
  const [error, req] = args;
  if (typeof req === 'object' && req !== null) stashError(req, error);
}

/** The module hook for restify's server module. */
export const restifyHook: ModuleHook = {
  modules: ['restify/lib/server.js'],
  onLoad(exports) {
    wrapMethod((exports as { prototype?: unknown }).prototype, '_onHandlerError', { before: keepError });
  },
};
