/**
 * NestJS: routes need no hook (on the Express adapter Express sets
 * `req.route`, on the Fastify adapter Fastify publishes the route), but Nest
 * catches every exception in its own exception filter and answers 500
 * itself, so neither framework sees it. The hook wraps
 * `BaseExceptionFilter#catch` (Nest's default filter) to keep the exception
 * on the raw request first.
 */
import { stashError } from '../worker/requestError';
import type { ModuleHook } from './ModuleLoadHooks';
import { commonJsExports, wrapMethod } from './wrapMethod';

interface ArgumentsHost {
  getType?(): string;
  switchToHttp?(): { getRequest(): unknown };
}

function keepError(_self: unknown, args: unknown[]): void {
  const [exception, host] = args as [unknown, ArgumentsHost | undefined];
  if (host?.getType?.() !== 'http' || typeof host.switchToHttp !== 'function') return;
  const request = host.switchToHttp().getRequest() as { raw?: unknown } | undefined;
  if (typeof request !== 'object' || request === null) return;
  // The Fastify adapter hands Fastify's request; its Node request is `raw`.
  const raw = typeof request.raw === 'object' && request.raw !== null ? request.raw : request;
  stashError(raw, exception);
}

/** The module hook for `@nestjs/core`. */
export const nestErrorHook: ModuleHook = {
  modules: ['@nestjs/core'],
  onLoad(exports) {
    const core = commonJsExports(exports) as { BaseExceptionFilter?: { prototype?: unknown } };
    wrapMethod(core.BaseExceptionFilter?.prototype, 'catch', { before: keepError });
  },
};
