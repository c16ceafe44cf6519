/**
 * Which request paths are kept out of the request metrics (`metrics.exclude_paths`):
 * health checks, readiness probes, internal endpoints.
 *
 * Pure and compiled once: exact paths go into a Set, globs into one anchored
 * RegExp. A pattern is matched against the request path without its query
 * string or fragment. `*` matches within one path segment, `**` across
 * segments (so `/health*` matches `/healthz` but not `/health/deep`, and
 * `/internal/**` matches everything below `/internal/`).
 */

/** A compiled list of exclusion patterns. */
export class PathExclusion {
  private readonly exact: ReadonlySet<string>;
  private readonly globs: RegExp | undefined;

  /** @throws RangeError naming the pattern when one does not start with `/`. */
  constructor(patterns: readonly string[]) {
    const exact = new Set<string>();
    const globs: string[] = [];
    for (const pattern of patterns) {
      if (!pattern.startsWith('/')) throw new RangeError(`exclude path "${pattern}" must start with "/"`);
      if (pattern.includes('*')) globs.push(globToSource(pattern));
      else exact.add(pattern);
    }
    this.exact = exact;
    this.globs = globs.length > 0 ? new RegExp(`^(?:${globs.join('|')})$`) : undefined;
  }

  /** True when no pattern was given: callers skip the check entirely. */
  get isEmpty(): boolean {
    return this.exact.size === 0 && this.globs === undefined;
  }

  /** True when the request target's path (query string and fragment ignored) is excluded. */
  matches(url: string): boolean {
    const path = pathOf(url);
    return this.exact.has(path) || (this.globs !== undefined && this.globs.test(path));
  }
}

function pathOf(url: string): string {
  let end = url.length;
  const query = url.indexOf('?');
  if (query !== -1) end = query;
  const fragment = url.indexOf('#');
  if (fragment !== -1 && fragment < end) end = fragment;
  return end === url.length ? url : url.slice(0, end);
}

function escapeRegExp(text: string): string {
  return text.replace(/[.+?^${}()|[\]\\]/g, '\\$&');
}

function globToSource(pattern: string): string {
  return pattern
    .split('**')
    .map((part) => part.split('*').map(escapeRegExp).join('[^/]*'))
    .join('.*');
}
