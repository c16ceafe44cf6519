/**
 * The one way the hooks touch a framework: wrap a method on one of its
 * prototypes (or export objects) so that `after` sees the call's arguments
 * and result. The original runs first, unchanged, with the same `this` and
 * arguments; its result (or exception) is what the caller gets. Wrapping the
 * same method twice is a no-op, so a package loaded under two names (require
 * and import) is hooked once.
 */
const kWrapped = Symbol.for('otel-cluster-exporter.wrapped');

type AnyFunction = (this: unknown, ...args: unknown[]) => unknown;

/** True when `target[name]` is a function this package has not wrapped yet. */
function wrappable(target: unknown, name: string): target is Record<string, AnyFunction> {
  if (typeof target !== 'object' && typeof target !== 'function') return false;
  if (target === null) return false;
  const method = (target as Record<string, unknown>)[name];
  return typeof method === 'function' && (method as { [kWrapped]?: boolean })[kWrapped] !== true;
}

/**
 * Wrap `target[name]`; `before` runs before the original, `after` after it
 * with its result. Hook callbacks must not throw (each guards itself).
 */
export function wrapMethod(
  target: unknown,
  name: string,
  hooks: { before?: (self: unknown, args: unknown[]) => void; after?: (self: unknown, args: unknown[], result: unknown) => void },
): boolean {
  if (!wrappable(target, name)) return false;
  const original = target[name] as AnyFunction;
  const { before, after } = hooks;
  // `arguments` rather than rest parameters and no closures: Koa's createContext runs on every request.
  const wrapped = function (this: unknown): unknown {
    // eslint-disable-next-line prefer-rest-params
    const args = arguments as unknown as unknown[];
    if (before !== undefined) {
      try {
        before(this, args);
      } catch {
        // A hook must never change what the app's call does.
      }
    }
    const result: unknown = new.target === undefined ? original.apply(this, args) : Reflect.construct(original, args, new.target);
    if (after !== undefined) {
      try {
        after(this, args, result);
      } catch {
        // As above.
      }
    }
    return result;
  };
  install(target, name, original, wrapped);
  return true;
}

/** Put `wrapped` in place of `original`, looking like it (name, length, statics, prototype). */
function install(target: Record<string, AnyFunction>, name: string, original: AnyFunction, wrapped: AnyFunction): void {
  Object.defineProperty(wrapped, 'name', { value: original.name });
  Object.defineProperty(wrapped, 'length', { value: original.length });
  Object.defineProperty(wrapped, kWrapped, { value: true });
  // Static members (Hapi's `server.Server` style exports) stay reachable.
  Object.setPrototypeOf(wrapped, original);
  const prototype: unknown = original.prototype;
  if (prototype !== undefined) wrapped.prototype = prototype;
  target[name] = wrapped;
}

type ThreeArgumentMethod = (this: unknown, a: unknown, b: unknown, c: unknown) => unknown;

/**
 * Wrap a method that its callers always call with exactly three arguments
 * (a router's `(req, res, next)`), for the hottest hooks: no `arguments`
 * object, no argument array, one direct call. `before` sees `this` and the
 * first two arguments and must not throw (it is guarded all the same). Same
 * no-op on a second wrap as {@link wrapMethod}.
 */
export function wrapThreeArgumentMethod(target: unknown, name: string, before: (self: unknown, a: unknown, b: unknown) => void): boolean {
  if (!wrappable(target, name)) return false;
  const original = target[name] as ThreeArgumentMethod;
  const wrapped = function (this: unknown, a: unknown, b: unknown, c: unknown): unknown {
    try {
      before(this, a, b);
    } catch {
      // A hook must never change what the app's call does.
    }
    return original.call(this, a, b, c);
  };
  install(target, name, original, wrapped);
  return true;
}

/** The CommonJS exports object behind what a hook receives: `module.exports`, or the `default` of a module namespace. */
export function commonJsExports(exports: unknown): unknown {
  if (typeof exports === 'object' && exports !== null && 'default' in exports) {
    const inner = (exports as { default?: unknown }).default;
    if (typeof inner === 'object' || typeof inner === 'function') return inner;
  }
  return exports;
}
