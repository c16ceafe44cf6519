/**
 * `object[name]`, read without an inline cache. For objects whose hidden
 * class is new on every request: Express sets the prototype of each request
 * and response, and V8 copies their map each time, so a plain `res.statusCode`
 * at a fixed place in our code misses its inline cache on every request, takes
 * V8's runtime lookup and evicts an entry of the megamorphic stub cache the
 * app's own code shares. `Reflect.get` looks the property up generically in
 * a builtin instead (same result, getters included): about half the time of
 * the missing load for such objects on this project's VM, and nothing cached.
 */
export function readUncached(object: object, name: string): unknown {
  return Reflect.get(object, name);
}
