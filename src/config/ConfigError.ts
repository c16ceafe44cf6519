/**
 * Configuration problems, reported in terms the user can act on: which file,
 * which key (or environment variable), what was expected and what was found.
 * One {@link ConfigError} carries every problem found, so a user fixes them
 * all in one round.
 *
 * A problem reads like
 * `config.yaml: exporter.redis.port: expected an integer from 1 to 65535, got "abc"`.
 */

/** One configuration problem. */
export interface ConfigIssue {
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

const MAX_ACTUAL_CHARS = 200;
/** Values looked at to describe a list or mapping; a YAML alias bomb must not be expanded into a message. */
const MAX_PREVIEW_VALUES = 40;

/**
 * Renders the offending value for a message: strings quoted (so an empty
 * string is visible), mappings and lists shown briefly, never expanded in full.
 */
export function describeActual(actual: unknown): string {
  if (actual === undefined) return 'nothing';
  if (actual === null) return 'null';
  if (typeof actual === 'string') return truncate(JSON.stringify(actual));
  if (typeof actual === 'number' || typeof actual === 'boolean' || typeof actual === 'bigint') return String(actual);
  if (actual instanceof Date) return `a date (${actual.toISOString()})`;
  if (Array.isArray(actual)) return truncate(`a list ${preview(actual, { left: MAX_PREVIEW_VALUES })}`);
  if (typeof actual === 'object') return truncate(`a mapping ${preview(actual, { left: MAX_PREVIEW_VALUES })}`);
  return typeof actual;
}

/** JSON-like text of a value, visiting at most `budget.left` values. */
function preview(value: unknown, budget: { left: number }): string {
  if (budget.left-- <= 0) return '…';
  if (Array.isArray(value)) return `[${value.map((item) => preview(item, budget)).join(',')}]`;
  if (typeof value === 'object' && value !== null && !(value instanceof Date)) {
    return `{${Object.entries(value)
      .map(([k, item]) => `${JSON.stringify(k)}:${preview(item, budget)}`)
      .join(',')}}`;
  }
  return typeof value === 'string' ? JSON.stringify(value) : String(value);
}

function truncate(text: string): string {
  return text.length > MAX_ACTUAL_CHARS ? `${text.slice(0, MAX_ACTUAL_CHARS - 1)}…` : text;
}

/** One problem as a line of text. */
export function formatIssue(d: ConfigIssue): string {
  const where = [d.file, d.keyPath].filter((part): part is string => part !== undefined && part !== '');
  const prefix = where.length > 0 ? `${where.join(': ')}: ` : '';
  const problem = d.problem !== undefined ? `${d.problem}; ` : '';
  const hint = d.hint !== undefined ? `; ${d.hint}` : '';
  return `${prefix}${problem}expected ${d.expected}, got ${describeActual(d.actual)}${hint}`;
}

function composeMessage(issues: readonly ConfigIssue[]): string {
  if (issues.length === 1) return formatIssue(issues[0] as ConfigIssue);
  return `${issues.length} problems:\n${issues.map((issue) => `  - ${formatIssue(issue)}`).join('\n')}`;
}

/**
 * Thrown by configuration parsing and loading for invalid input, with every
 * problem found in {@link ConfigError.issues}. The other fields describe the
 * first problem.
 */
export class ConfigError extends Error {
  /** Every problem, in the order of the file, then the environment, then the cross-key rules and resources. */
  readonly issues: readonly ConfigIssue[];
  readonly file?: string;
  readonly keyPath: string;
  readonly expected: string;
  readonly actual: unknown;
  readonly line?: number;

  constructor(issues: ConfigIssue | readonly ConfigIssue[]) {
    const list: readonly ConfigIssue[] = Array.isArray(issues) ? issues : [issues as ConfigIssue];
    const first = list[0];
    if (first === undefined) throw new Error('ConfigError needs at least one issue');
    super(composeMessage(list));
    this.name = 'ConfigError';
    this.issues = list;
    if (first.file !== undefined) this.file = first.file;
    this.keyPath = first.keyPath;
    this.expected = first.expected;
    this.actual = first.actual;
    if (first.line !== undefined) this.line = first.line;
  }
}
