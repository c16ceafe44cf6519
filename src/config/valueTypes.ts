/**
 * The value types configuration keys are declared with. Each type knows how
 * to read a value from YAML (already-typed scalars, lists, mappings) and from
 * an environment variable (always a string), what a valid value looks like
 * (for error messages and the reference table), and how to show a value.
 *
 * Parsers return a result instead of throwing so the caller, which knows the
 * file and key path, builds the one {@link ConfigError}.
 */

/** Outcome of reading one value. `detail` narrows down what was wrong. */
export type Parsed<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly detail?: string };

/** A configuration value type. */
export interface ValueType<T> {
  /** Short type name for the reference table (`integer 1..65535`). */
  readonly label: string;
  /** What a valid value looks like, completing "expected …" (`an integer from 1 to 65535`). */
  readonly expected: string;
  /** True when a later layer's value merges key by key into an earlier one (maps) instead of replacing it. */
  readonly mergeable?: boolean;
  /** Reads a value parsed from YAML. */
  parseYaml(raw: unknown): Parsed<T>;
  /** Reads a non-empty environment variable value. */
  parseEnv(raw: string): Parsed<T>;
  /** Renders a value for documentation. */
  show(value: T): string;
}

/** A `{host, port}` pair (Redis sentinels and cluster nodes). */
export interface HostPort {
  readonly host: string;
  readonly port: number;
}

const ok = <T>(value: T): Parsed<T> => ({ ok: true, value });
const bad = <T>(detail?: string): Parsed<T> => (detail === undefined ? { ok: false } : { ok: false, detail });

const INTEGER_TEXT = /^[+-]?\d+$/;
const DECIMAL_TEXT = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

/** Reads an integer from a YAML number or a decimal string (PyYAML users sometimes quote numbers). */
function toInteger(raw: unknown): number | undefined {
  if (typeof raw === 'number') return Number.isInteger(raw) ? raw : undefined;
  if (typeof raw === 'string' && INTEGER_TEXT.test(raw.trim())) return Number(raw.trim());
  return undefined;
}

function toDecimal(raw: unknown): number | undefined {
  if (typeof raw === 'number') return Number.isFinite(raw) ? raw : undefined;
  if (typeof raw === 'string' && DECIMAL_TEXT.test(raw.trim())) return Number(raw.trim());
  return undefined;
}

/** Scalars a string-valued key accepts from YAML: `key_prefix: 123` means "123". */
function toText(raw: unknown): string | undefined {
  if (typeof raw === 'string') return raw;
  if (typeof raw === 'number' || typeof raw === 'boolean') return String(raw);
  return undefined;
}

/** An integer within `[min, max]`. */
export function integer(min: number, max?: number): ValueType<number> {
  const expected = max === undefined ? `an integer >= ${min}` : `an integer from ${min} to ${max}`;
  const check = (n: number | undefined): Parsed<number> =>
    n !== undefined && Number.isSafeInteger(n) && n >= min && (max === undefined || n <= max) ? ok(n) : bad();
  return {
    label: max === undefined ? `integer >= ${min}` : `integer ${min}..${max}`,
    expected,
    parseYaml: (raw) => check(toInteger(raw)),
    parseEnv: (raw) => check(toInteger(raw)),
    show: (value) => String(value),
  };
}

const TRUE_WORDS = new Set(['true', '1', 'yes']);
const FALSE_WORDS = new Set(['false', '0', 'no']);

function wordToBoolean(text: string): Parsed<boolean> {
  const word = text.trim().toLowerCase();
  if (TRUE_WORDS.has(word)) return ok(true);
  if (FALSE_WORDS.has(word)) return ok(false);
  return bad();
}

/** A boolean: YAML `true`/`false`, or one of true/false/1/0/yes/no in any case. */
export function boolean(): ValueType<boolean> {
  return {
    label: 'boolean',
    expected: 'a boolean (true/false, 1/0, yes/no)',
    // YAML 1.1 files written for PyYAML use yes/no; js-yaml (YAML 1.2) reads those as strings.
    parseYaml: (raw) => (typeof raw === 'boolean' ? ok(raw) : typeof raw === 'string' || typeof raw === 'number' ? wordToBoolean(String(raw)) : bad()),
    parseEnv: wordToBoolean,
    show: (value) => String(value),
  };
}

/** Free text; `nonEmpty` rejects the empty string. */
export function text(options: { readonly nonEmpty?: boolean } = {}): ValueType<string> {
  const check = (s: string | undefined): Parsed<string> => (s === undefined || (options.nonEmpty === true && s.trim() === '') ? bad() : ok(s));
  return {
    label: 'string',
    expected: options.nonEmpty === true ? 'a non-empty string' : 'a string',
    parseYaml: (raw) => check(toText(raw)),
    parseEnv: (raw) => check(raw),
    show: (value) => (value === '' ? '""' : value),
  };
}

/** A URL with one of `schemes` (without the colon), or the empty string for "not set". */
export function url(schemes: readonly string[]): ValueType<string> {
  const check = (s: string | undefined): Parsed<string> => {
    if (s === undefined) return bad();
    const trimmed = s.trim();
    if (trimmed === '') return ok('');
    try {
      const parsed = new URL(trimmed);
      return schemes.includes(parsed.protocol.slice(0, -1)) ? ok(trimmed) : bad(`scheme ${parsed.protocol} is not supported`);
    } catch {
      return bad();
    }
  };
  return {
    label: `URL (${schemes.map((s) => `${s}://`).join(', ')})`,
    expected: `a URL starting with ${schemes.map((s) => `${s}://`).join(' or ')}`,
    parseYaml: (raw) => check(typeof raw === 'string' ? raw : undefined),
    parseEnv: check,
    show: (value) => (value === '' ? '""' : value),
  };
}

/**
 * One of a fixed set of words, case-insensitive (the OTel specification asks
 * for case-insensitive enum values). `aliases` maps accepted synonyms onto values.
 */
export function oneOf<T extends string>(values: readonly T[], aliases: Readonly<Record<string, T>> = {}): ValueType<T> {
  const check = (raw: unknown): Parsed<T> => {
    if (typeof raw !== 'string') return bad();
    const word = raw.trim().toLowerCase();
    const direct = values.find((v) => v === word);
    if (direct !== undefined) return ok(direct);
    const alias = aliases[word];
    return alias !== undefined ? ok(alias) : bad();
  };
  const accepted = [...values, ...Object.keys(aliases)];
  return {
    label: accepted.join(' | '),
    expected: `one of ${accepted.join(', ')}`,
    parseYaml: check,
    parseEnv: check,
    show: (value) => value,
  };
}

function splitList(raw: string): string[] {
  return raw
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item !== '');
}

/** Histogram boundaries: a non-empty list of finite, non-negative, strictly increasing numbers. */
export function bucketList(): ValueType<readonly number[]> {
  const check = (items: readonly unknown[] | undefined): Parsed<readonly number[]> => {
    if (items === undefined || items.length === 0) return bad();
    const numbers: number[] = [];
    for (const item of items) {
      const n = toDecimal(item);
      if (n === undefined || n < 0) return bad(`${JSON.stringify(item)} is not a non-negative number`);
      const previous = numbers[numbers.length - 1];
      if (previous !== undefined && n <= previous) return bad(`${n} follows ${previous}; boundaries must be strictly increasing`);
      numbers.push(n);
    }
    return ok(numbers);
  };
  return {
    label: 'list of numbers',
    expected: 'a non-empty list of strictly increasing non-negative numbers',
    parseYaml: (raw) => check(Array.isArray(raw) ? raw : typeof raw === 'string' ? splitList(raw) : undefined),
    parseEnv: (raw) => check(splitList(raw)),
    show: (value) => value.join(', '),
  };
}

/**
 * A string-to-string map. YAML: a mapping of scalars. Environment: the OTel
 * `key1=value1,key2=value2` form with percent-encoded values.
 */
export function stringMap(): ValueType<Readonly<Record<string, string>>> {
  const fromYaml = (raw: unknown): Parsed<Readonly<Record<string, string>>> => {
    if (raw === null) return ok({});
    if (typeof raw !== 'object' || Array.isArray(raw) || raw instanceof Date) return bad();
    const out: Record<string, string> = {};
    for (const [key, value] of Object.entries(raw)) {
      const s = toText(value);
      if (s === undefined) return bad(`the value of "${key}" is not a scalar`);
      out[key] = s;
    }
    return ok(out);
  };
  return {
    label: 'map',
    expected: 'comma-separated key=value pairs (values percent-encoded) or a YAML mapping',
    mergeable: true,
    parseYaml: fromYaml,
    parseEnv: parseKeyValueList,
    show: (value) => (Object.keys(value).length === 0 ? '{}' : Object.entries(value).map(([k, v]) => `${k}=${v}`).join(',')),
  };
}

function parseKeyValueList(raw: string): Parsed<Readonly<Record<string, string>>> {
  const out: Record<string, string> = {};
  for (const item of splitList(raw)) {
    const eq = item.indexOf('=');
    const key = eq > 0 ? item.slice(0, eq).trim() : '';
    if (key === '') return bad(`"${item.split('=')[0] ?? ''}" has no key=value form`);
    try {
      out[key] = decodeURIComponent(item.slice(eq + 1).trim());
    } catch {
      return bad(`the value of "${key}" is not valid percent-encoding`);
    }
  }
  return ok(out);
}

/** Splits `host:port` or `[v6]:port`; the port defaults to `defaultPort`. */
function parseHostPortText(item: string, defaultPort: number): HostPort | undefined {
  const match = /^(?:\[([^\]]+)\]|([^:[\]]+))(?::(\d+))?$/.exec(item.trim());
  if (match === null) return undefined;
  const host = match[1] ?? match[2] ?? '';
  const port = match[3] === undefined ? defaultPort : Number(match[3]);
  return host !== '' && port >= 1 && port <= 65535 ? { host, port } : undefined;
}

function parseHostPortMapping(raw: object, defaultPort: number): HostPort | undefined {
  const entries = Object.entries(raw);
  if (entries.some(([key]) => key !== 'host' && key !== 'port')) return undefined;
  const record = Object.fromEntries(entries);
  const host = record['host'];
  const port = record['port'] === undefined ? defaultPort : toInteger(record['port']);
  if (typeof host !== 'string' || host.trim() === '' || port === undefined || port < 1 || port > 65535) return undefined;
  return { host: host.trim(), port };
}

/**
 * A list of Redis nodes. YAML: `[{host, port}]` or `["host:port"]`;
 * environment: `host:port,host:port`.
 */
export function hostPortList(defaultPort: number): ValueType<readonly HostPort[]> {
  const readItem = (item: unknown): HostPort | undefined => {
    if (typeof item === 'string') return parseHostPortText(item, defaultPort);
    if (typeof item === 'object' && item !== null && !Array.isArray(item)) return parseHostPortMapping(item, defaultPort);
    return undefined;
  };
  const check = (items: readonly unknown[] | undefined): Parsed<readonly HostPort[]> => {
    if (items === undefined) return bad();
    const nodes: HostPort[] = [];
    for (const item of items) {
      const node = readItem(item);
      if (node === undefined) return bad(`${JSON.stringify(item)} is not a host with a port from 1 to 65535`);
      nodes.push(node);
    }
    return ok(nodes);
  };
  return {
    label: 'list of host:port',
    expected: `a list of {host, port} (port 1..65535, default ${defaultPort}) or "host:port,host:port"`,
    parseYaml: (raw) => check(raw === null ? [] : Array.isArray(raw) ? raw : typeof raw === 'string' ? splitList(raw) : undefined),
    parseEnv: (raw) => check(splitList(raw)),
    show: (value) => (value.length === 0 ? '[]' : value.map((n) => `${n.host}:${n.port}`).join(', ')),
  };
}

/**
 * A list of words from `values`; `exclusive` may only appear alone
 * (`none` together with `otlp` is a contradiction, not a preference).
 */
export function wordList<T extends string>(values: readonly T[], exclusive: T): ValueType<readonly T[]> {
  const word = oneOf(values);
  const check = (items: readonly unknown[] | undefined): Parsed<readonly T[]> => {
    if (items === undefined || items.length === 0) return bad();
    const out: T[] = [];
    for (const item of items) {
      const parsed = word.parseYaml(item);
      if (!parsed.ok) return bad(`${JSON.stringify(item)} is not one of ${values.join(', ')}`);
      if (!out.includes(parsed.value)) out.push(parsed.value);
    }
    if (out.includes(exclusive) && out.length > 1) return bad(`"${exclusive}" cannot be combined with other values`);
    return ok(out);
  };
  return {
    label: `list of ${values.join(' | ')}`,
    expected: `a non-empty list of ${values.join(', ')} (${exclusive} alone)`,
    parseYaml: (raw) => check(Array.isArray(raw) ? raw : typeof raw === 'string' ? splitList(raw) : undefined),
    parseEnv: (raw) => check(splitList(raw)),
    show: (value) => value.join(','),
  };
}

/**
 * Command-line arguments (`gunicorn.node_args`). YAML: a list of strings;
 * environment: arguments separated by whitespace. Each must start with `-`:
 * these are Node options, and a stray word would be taken for the script.
 */
export function argList(): ValueType<readonly string[]> {
  const check = (items: readonly unknown[] | undefined): Parsed<readonly string[]> => {
    if (items === undefined) return bad();
    const out: string[] = [];
    for (const item of items) {
      const arg = toText(item);
      if (arg === undefined || !arg.startsWith('-')) return bad(`${JSON.stringify(item)} is not a Node option (starting with "-")`);
      out.push(arg);
    }
    return ok(out);
  };
  return {
    label: 'list of Node options',
    expected: 'a list of Node options such as --max-old-space-size=512 (whitespace-separated in the environment)',
    parseYaml: (raw) => check(Array.isArray(raw) ? raw : raw === null ? [] : typeof raw === 'string' ? raw.split(/\s+/).filter(Boolean) : undefined),
    parseEnv: (raw) => check(raw.split(/\s+/).filter(Boolean)),
    show: (value) => (value.length === 0 ? '[]' : value.join(' ')),
  };
}

/**
 * A list of request paths or globs (`/health`, `/health*`, `/internal/**`), each
 * starting with `/`; empty means none. Comma-separated in the environment.
 */
export function pathList(): ValueType<readonly string[]> {
  const check = (items: readonly unknown[] | undefined): Parsed<readonly string[]> => {
    if (items === undefined) return bad();
    const out: string[] = [];
    for (const item of items) {
      if (typeof item !== 'string' || !item.trim().startsWith('/')) return bad(`${JSON.stringify(item)} does not start with "/"`);
      const path = item.trim();
      if (!out.includes(path)) out.push(path);
    }
    return ok(out);
  };
  return {
    label: 'list of paths',
    expected: 'a list of paths or globs starting with "/" (`*` within a segment, `**` across segments)',
    parseYaml: (raw) => check(Array.isArray(raw) ? raw : typeof raw === 'string' ? splitList(raw) : raw === null ? [] : undefined),
    parseEnv: (raw) => check(splitList(raw)),
    show: (value) => (value.length === 0 ? '[]' : value.join(',')),
  };
}

/** An HTTP method as Node's parser reports it: upper-case letters and `-` (`M-SEARCH`). */
const METHOD_TOKEN = /^[A-Z][A-Z-]*$/;

/** A non-empty list of HTTP method names (upper case; duplicates dropped). YAML list or `GET,POST`. */
export function methodList(): ValueType<readonly string[]> {
  const check = (items: readonly unknown[] | undefined): Parsed<readonly string[]> => {
    if (items === undefined || items.length === 0) return bad();
    const out: string[] = [];
    for (const item of items) {
      if (typeof item !== 'string' || !METHOD_TOKEN.test(item.trim())) return bad(`${JSON.stringify(item)} is not an upper-case HTTP method name`);
      if (!out.includes(item.trim())) out.push(item.trim());
    }
    return ok(out);
  };
  return {
    label: 'list of HTTP methods',
    expected: 'a non-empty list of upper-case HTTP method names (GET, POST, M-SEARCH ...)',
    parseYaml: (raw) => check(Array.isArray(raw) ? raw : typeof raw === 'string' ? splitList(raw) : undefined),
    parseEnv: (raw) => check(splitList(raw)),
    show: (value) => value.join(','),
  };
}
