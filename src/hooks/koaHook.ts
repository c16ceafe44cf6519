/**
 * Koa: the route is on Koa's own context (`ctx._matchedRoute`, set by
 * @koa/router and koa-router to the matched layer's full path, prefixes
 * included), which the raw request does not point to. The hook wraps
 * `Application.prototype.createContext` to attach the context to the raw
 * request, and listens to the app's `'error'` event (Koa emits it for every
 * error a middleware throws, before it answers 500) to keep the exception.
 */
import { attachContext } from '../worker/frameworkRoute';
import { stashError } from '../worker/requestError';
import type { ModuleHook } from './ModuleLoadHooks';
import { commonJsExports, wrapMethod } from './wrapMethod';

interface KoaContext {
  req?: object;
  _matchedRoute?: unknown;
}

interface KoaApplication {
  on(event: 'error', listener: (error: unknown, ctx?: KoaContext) => void): unknown;
  listenerCount(event: string): number;
}

const listening = new WeakSet<object>();

function onKoaError(error: unknown, ctx?: KoaContext): void {
  if (ctx?.req !== undefined) stashError(ctx.req, error);
}

function onContextCreated(app: unknown, args: unknown[], ctx: unknown): void {
  const req = args[0];
  if (typeof req !== 'object' || req === null || typeof ctx !== 'object' || ctx === null) return;
  const context = ctx as KoaContext;
  attachContext(req, { route: () => (typeof context._matchedRoute === 'string' ? context._matchedRoute : undefined) });
  // Added after Koa's callback() decided on its default error logger (which checks for listeners), so that stays as it was.
  const application = app as KoaApplication;
  if (!listening.has(application) && typeof application.on === 'function') {
    listening.add(application);
    application.on('error', onKoaError);
  }
}

/** The module hook for `koa`. */
export const koaHook: ModuleHook = {
  modules: ['koa'],
  onLoad(exports) {
    const Application = commonJsExports(exports) as { prototype?: unknown };
    wrapMethod(Application.prototype, 'createContext', { after: onContextCreated });
  },
};
