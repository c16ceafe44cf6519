/**
 * Turns what a request looked like into a bounded `endpoint` label value.
 *
 * Pure: no I/O, no clock, no globals. The only state is per instance (the set
 * of endpoint values handed out so far and a bounded raw-path cache), so one
 * normaliser per worker keeps that worker's series count bounded however many
 * distinct URLs the internet throws at it.
 */

/** The endpoint of a request no route matched and that was answered with 404. */
export const UNMATCHED_ENDPOINT = '__unmatched__';

/** The endpoint every request folds into once `maxEndpoints` distinct values exist. */
export const OVERFLOW_ENDPOINT = '__overflow__';

/** What an id-like path segment is replaced with. */
export const ID_PLACEHOLDER = ':id';

/** Normalised paths longer than this are not worth a series; they fold into the overflow value. */
export const MAX_ENDPOINT_LENGTH = 256;

/** Raw URLs longer than this are normalised on every request rather than cached (keeps the cache small). */
const MAX_CACHED_URL_LENGTH = 512;

/** Default number of raw URL → endpoint entries kept before the cache is cleared. */
export const DEFAULT_PATH_CACHE_SIZE = 2048;

/** Options of {@link RouteNormaliser}. */
export interface RouteNormaliserOptions {
  /** Distinct endpoint values this instance hands out before folding the rest into {@link OVERFLOW_ENDPOINT}. */
  readonly maxEndpoints: number;
  /** Entries of the raw URL cache before it is cleared (default {@link DEFAULT_PATH_CACHE_SIZE}). */
  readonly cacheSize?: number;
}

const INTEGER = /^\d+$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const HEX = /^[0-9a-f]{8,}$/i;
/** Token alphabet: base64url, base64 padding and the dots of JWT-like tokens. */
const TOKEN = /^[A-Za-z0-9_\-.=~+]{16,}$/;
const EMAIL = /^[^@\s]+@[^@\s]+\.[^@\s]+$/;

/**
 * True when a path segment looks like an identifier rather than a resource
 * name: integers, UUIDs, hex strings of 8+ characters, e-mail addresses, and
 * long (16+) tokens that mix at least two of digits, lower case and upper case
 * (so `ZXhhbXBsZS10b2tlbg` and `a1b2c3...` go, `my-long-article-slug` stays).
 */
export function isIdLikeSegment(segment: string): boolean {
  if (segment.length === 0) return false;
  if (INTEGER.test(segment) || UUID.test(segment) || HEX.test(segment)) return true;
  if (segment.includes('@') || segment.includes('%40')) {
    return EMAIL.test(segment.replace(/%40/g, '@'));
  }
  if (!TOKEN.test(segment)) return false;
  const classes = Number(/\d/.test(segment)) + Number(/[a-z]/.test(segment)) + Number(/[A-Z]/.test(segment));
  return classes >= 2;
}

/**
 * The path of a raw request target with query string and fragment removed,
 * absolute-form targets (`http://host/p`) reduced to their path, and id-like
 * segments replaced with {@link ID_PLACEHOLDER}. Does not bound cardinality by
 * itself; {@link RouteNormaliser} does.
 */
export function normalisePath(rawUrl: string): string {
  let end = rawUrl.length;
  const query = rawUrl.indexOf('?');
  if (query !== -1) end = query;
  const fragment = rawUrl.indexOf('#');
  if (fragment !== -1 && fragment < end) end = fragment;
  let path = rawUrl.slice(0, end);
  if (!path.startsWith('/')) {
    // Absolute-form (proxy) targets and `*` (OPTIONS): keep the path part only.
    const scheme = path.indexOf('://');
    const slash = scheme === -1 ? -1 : path.indexOf('/', scheme + 3);
    path = slash === -1 ? '/' : path.slice(slash);
  }
  if (path === '/') return path;
  const segments = path.split('/');
  for (let i = 0; i < segments.length; i++) {
    const segment = segments[i] as string;
    if (isIdLikeSegment(segment)) segments[i] = ID_PLACEHOLDER;
  }
  return segments.join('/');
}

/**
 * Bounded mapping from (framework route, raw URL, status) to the `endpoint`
 * label. Framework routes win; without one, the path is normalised; unmatched
 * 404s collapse into one value; past `maxEndpoints` distinct values everything
 * new folds into {@link OVERFLOW_ENDPOINT}.
 */
export class RouteNormaliser {
  private readonly maxEndpoints: number;
  private readonly cacheSize: number;
  /** Endpoint values handed out so far; never shrinks, so a value's fate is stable. */
  private readonly endpoints = new Set<string>();
  /** Raw URL → endpoint, cleared when full so random URLs cannot grow it. */
  private readonly cache = new Map<string, string>();

  /** @throws RangeError when `maxEndpoints` or `cacheSize` is not a positive integer. */
  constructor(options: RouteNormaliserOptions) {
    const { maxEndpoints, cacheSize = DEFAULT_PATH_CACHE_SIZE } = options;
    if (!Number.isInteger(maxEndpoints) || maxEndpoints < 1) {
      throw new RangeError(`RouteNormaliser: maxEndpoints must be a positive integer, got ${String(maxEndpoints)}`);
    }
    if (!Number.isInteger(cacheSize) || cacheSize < 1) {
      throw new RangeError(`RouteNormaliser: cacheSize must be a positive integer, got ${String(cacheSize)}`);
    }
    this.maxEndpoints = maxEndpoints;
    this.cacheSize = cacheSize;
  }

  /**
   * The endpoint label for a finished request.
   * @param route the framework's route template, when one matched
   * @param rawUrl the request target as received (`req.url` before any router rewrote it)
   * @param status the response status code
   */
  endpointFor(route: string | undefined, rawUrl: string, status: number): string {
    if (route !== undefined) return this.admit(route);
    if (status === 404) return UNMATCHED_ENDPOINT;
    const cached = this.cache.get(rawUrl);
    if (cached !== undefined) return cached;
    const endpoint = this.admit(normalisePath(rawUrl));
    if (rawUrl.length <= MAX_CACHED_URL_LENGTH) {
      if (this.cache.size >= this.cacheSize) this.cache.clear();
      this.cache.set(rawUrl, endpoint);
    }
    return endpoint;
  }

  /** Distinct endpoint values handed out so far (placeholders excluded). */
  get endpointCount(): number {
    return this.endpoints.size;
  }

  /** Entries currently in the raw URL cache. */
  get cachedPaths(): number {
    return this.cache.size;
  }

  private admit(endpoint: string): string {
    if (this.endpoints.has(endpoint)) return endpoint;
    if (endpoint.length > MAX_ENDPOINT_LENGTH || this.endpoints.size >= this.maxEndpoints) return OVERFLOW_ENDPOINT;
    this.endpoints.add(endpoint);
    return endpoint;
  }
}
