/**
 * A configuration problem, reported in terms the user can act on: which file,
 * which key (or environment variable), what was expected and what was found.
 *
 * The message reads like
 * `config.yaml: exporter.redis.port: expected an integer from 1 to 65535, got "abc"`.
 */

/** What a {@link ConfigError} is built from. */
export interface ConfigErrorDetails {
  /** The YAML file the value came from (absent for environment variables and defaults). */
  readonly file?: string;
  /** `exporter.redis.port`, an environment variable name such as `REDIS_PORT`, or `line 3, column 5`. */
  readonly keyPath: string;
  /** What a valid value looks like: `an integer from 1 to 65535`. */
  readonly expected: string;
  /** The offending value (already masked when it is a secret). */
  readonly actual: unknown;
  /** 1-based line in the file, when known (YAML syntax errors). */
  readonly line?: number;
  /** A short statement of the problem before the expectation, e.g. `unknown key`. */
  readonly problem?: string;
  /** A follow-up such as `did you mean "exporter.redis.key_prefix"?`. */
  readonly hint?: string;
}

const MAX_ACTUAL_CHARS = 80;

/**
 * Renders the offending value for a message: strings quoted (so an empty
 * string is visible), mappings and lists named rather than dumped.
 */
export function describeActual(actual: unknown): string {
  if (actual === undefined) return 'nothing';
  if (actual === null) return 'null';
  if (typeof actual === 'string') return truncate(JSON.stringify(actual));
  if (typeof actual === 'number' || typeof actual === 'boolean' || typeof actual === 'bigint') return String(actual);
  if (actual instanceof Date) return `a date (${actual.toISOString()})`;
  if (Array.isArray(actual)) return truncate(`a list ${safeJson(actual)}`);
  if (typeof actual === 'object') return truncate(`a mapping ${safeJson(actual)}`);
  return typeof actual;
}

function safeJson(value: unknown): string {
  try {
    return JSON.stringify(value) ?? '';
  } catch {
    return '';
  }
}

function truncate(text: string): string {
  return text.length > MAX_ACTUAL_CHARS ? `${text.slice(0, MAX_ACTUAL_CHARS - 1)}…` : text;
}

function composeMessage(d: ConfigErrorDetails): string {
  const where = [d.file, d.keyPath].filter((part): part is string => part !== undefined && part !== '');
  const prefix = where.length > 0 ? `${where.join(': ')}: ` : '';
  const problem = d.problem !== undefined ? `${d.problem}; ` : '';
  const hint = d.hint !== undefined ? `; ${d.hint}` : '';
  return `${prefix}${problem}expected ${d.expected}, got ${describeActual(d.actual)}${hint}`;
}

/** Thrown by configuration parsing and loading for any invalid input. */
export class ConfigError extends Error {
  readonly file?: string;
  readonly keyPath: string;
  readonly expected: string;
  readonly actual: unknown;
  readonly line?: number;

  constructor(details: ConfigErrorDetails) {
    super(composeMessage(details));
    this.name = 'ConfigError';
    if (details.file !== undefined) this.file = details.file;
    this.keyPath = details.keyPath;
    this.expected = details.expected;
    this.actual = details.actual;
    if (details.line !== undefined) this.line = details.line;
  }
}
