/**
 * The value kinds configuration keys are declared with: a valibot schema that
 * reads a value from YAML (typed scalars, lists, mappings) or from an
 * environment variable (a string) and checks it, plus the words the reference
 * table and error messages use for it.
 *
 * Every schema accepts its own output again, so the merged configuration can
 * be validated as a whole (cross-key rules) after each layer was read.
 */
import { isIP } from 'node:net';
import * as v from 'valibot';

/** A configuration value kind. */
export interface ValueKind<T> {
  /** Reads and checks one raw value (YAML value or environment string). */
  readonly schema: v.GenericSchema<unknown, T>;
  /** Short type name for the reference table (`integer 1..65535`). */
  readonly label: string;
  /** What a valid value looks like, completing "expected …" (`an integer from 1 to 65535`). */
  readonly expected: string;
  /** True when a later layer's value merges key by key into an earlier one (maps) instead of replacing it. */
  readonly mergeable?: boolean;
  /** Renders a value for documentation. */
  show(value: T): string;
}

/** A `{host, port}` pair (Redis sentinels and cluster nodes). */
export interface HostPort {
  readonly host: string;
  readonly port: number;
}

/** The longest delay Node's timers accept (2^31 - 1 ms); a longer one fires after 1 ms. */
export const MAX_TIMER_MS = 2_147_483_647;

/** At most this many histogram boundaries: each adds a series per label set to every scrape. */
export const MAX_BUCKETS = 64;

const INTEGER_TEXT = /^[+-]?\d+$/;
const DECIMAL_TEXT = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

/** Reads a number from a YAML number or a decimal string (PyYAML users sometimes quote numbers); NaN otherwise. */
function toNumber(raw: unknown, pattern: RegExp): number {
  if (typeof raw === 'number') return raw;
  if (typeof raw === 'string' && pattern.test(raw.trim())) return Number(raw.trim());
  return Number.NaN;
}

/** Scalars a string-valued key accepts from YAML: `key_prefix: 123` means "123". */
function toText(raw: unknown): unknown {
  return typeof raw === 'number' || typeof raw === 'boolean' ? String(raw) : raw;
}

/** `a, b,,c` → `['a', 'b', 'c']`; lists pass through; anything else is left for the schema to refuse. */
function toList(raw: unknown): unknown {
  if (typeof raw !== 'string') return raw;
  return raw
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item !== '');
}

function preview(value: unknown): string {
  return typeof value === 'string' ? JSON.stringify(value) : String(value);
}

/** An integer within `[min, max]`; without `max`, any safe integer from `min` up (counts that set no timer or buffer). */
export function integer(min: number, max = Number.MAX_SAFE_INTEGER): ValueKind<number> {
  const bounded = max < Number.MAX_SAFE_INTEGER;
  return {
    schema: v.pipe(
      v.unknown(),
      v.transform((raw) => toNumber(raw, INTEGER_TEXT)),
      v.number(),
      v.safeInteger(),
      v.minValue(min),
      v.maxValue(max),
    ),
    label: bounded ? `integer ${min}..${max}` : `integer >= ${min}`,
    expected: bounded ? `an integer from ${min} to ${max}` : `an integer >= ${min}`,
    show: String,
  };
}

const BOOLEAN_WORDS: Readonly<Record<string, boolean>> = { true: true, '1': true, yes: true, false: false, '0': false, no: false };

/** A boolean: YAML `true`/`false`, or one of true/false/1/0/yes/no in any case. */
export function boolean(): ValueKind<boolean> {
  // YAML 1.1 files written for PyYAML use yes/no; js-yaml (YAML 1.2) reads those as strings.
  const fromWord = (raw: unknown): unknown => (typeof raw === 'boolean' ? raw : BOOLEAN_WORDS[String(raw).trim().toLowerCase()]);
  return {
    schema: v.pipe(v.unknown(), v.transform(fromWord), v.boolean()),
    label: 'boolean',
    expected: 'a boolean (true/false, 1/0, yes/no)',
    show: String,
  };
}

/** Free text; `nonEmpty` rejects a blank string. */
export function text(options: { readonly nonEmpty?: boolean } = {}): ValueKind<string> {
  const base = v.pipe(v.unknown(), v.transform(toText), v.string());
  return {
    schema:
      options.nonEmpty === true
        ? v.pipe(
            base,
            v.check((s) => s.trim() !== ''),
          )
        : base,
    label: 'string',
    expected: options.nonEmpty === true ? 'a non-empty string' : 'a string',
    show: (value) => (value === '' ? '""' : value),
  };
}

const HOST_NAME = /^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;

/** An address to listen on: an IPv4/IPv6 address or a host name, exactly (no stray whitespace or newline). */
export function listenAddress(): ValueKind<string> {
  return {
    schema: v.pipe(
      v.unknown(),
      v.string(),
      v.check((s) => isIP(s) !== 0 || HOST_NAME.test(s)),
    ),
    label: 'IP address or host name',
    expected: 'an IP address or host name (nothing around it)',
    show: (value) => value,
  };
}

/** A URL with one of `schemes` (without the colon), or the empty string for "not set". */
export function url(schemes: readonly string[]): ValueKind<string> {
  const check = v.rawCheck<string>(({ dataset, addIssue }) => {
    if (!dataset.typed || dataset.value === '') return;
    let scheme: string;
    try {
      scheme = new URL(dataset.value).protocol.slice(0, -1);
    } catch {
      addIssue({ message: 'not an absolute URL' });
      return;
    }
    if (!schemes.includes(scheme)) addIssue({ message: `scheme ${scheme}: is not supported` });
  });
  return {
    schema: v.pipe(v.unknown(), v.string(), v.trim(), check),
    label: `URL (${schemes.map((s) => `${s}://`).join(', ')})`,
    expected: `a URL starting with ${schemes.map((s) => `${s}://`).join(' or ')}`,
    show: (value) => (value === '' ? '""' : value),
  };
}

/**
 * One of a fixed set of words, case-insensitive (the OTel specification asks
 * for case-insensitive enum values). `aliases` maps accepted synonyms onto values.
 */
export function oneOf<const T extends string>(values: readonly T[], aliases: Readonly<Record<string, T>> = {}): ValueKind<T> {
  const normal = (raw: unknown): unknown => {
    if (typeof raw !== 'string') return raw;
    const word = raw.trim().toLowerCase();
    return aliases[word] ?? word;
  };
  const accepted = [...values, ...Object.keys(aliases)];
  return {
    schema: v.pipe(v.unknown(), v.transform(normal), v.picklist(values)),
    label: accepted.join(' | '),
    expected: `one of ${accepted.join(', ')}`,
    show: (value) => value,
  };
}

/** Histogram boundaries: 1 to {@link MAX_BUCKETS} finite, non-negative, strictly increasing numbers. */
export function bucketList(): ValueKind<readonly number[]> {
  const boundaries = v.rawTransform<unknown[], number[]>(({ dataset, addIssue, NEVER }) => {
    const numbers: number[] = [];
    for (const item of dataset.value) {
      const n = toNumber(item, DECIMAL_TEXT);
      if (!Number.isFinite(n) || n < 0) {
        addIssue({ message: `${preview(item)} is not a finite non-negative number` });
        return NEVER;
      }
      const previous = numbers[numbers.length - 1];
      if (previous !== undefined && n <= previous) {
        addIssue({ message: `${n} follows ${previous}; boundaries must be strictly increasing` });
        return NEVER;
      }
      numbers.push(n);
    }
    return numbers;
  });
  return {
    schema: v.pipe(v.unknown(), v.transform(toList), v.array(v.unknown()), v.minLength(1), v.maxLength(MAX_BUCKETS, `more than ${MAX_BUCKETS} boundaries`), boundaries),
    label: `list of 1..${MAX_BUCKETS} numbers`,
    expected: `a list of 1 to ${MAX_BUCKETS} strictly increasing, finite, non-negative numbers`,
    show: (value) => value.join(', '),
  };
}

/** The OTel `key1=value1,key2=value2` form with percent-encoded values. */
const keyValueText = v.rawTransform<string, Record<string, string>>(({ dataset, addIssue, NEVER }) => {
  const out: Record<string, string> = {};
  for (const item of toList(dataset.value) as string[]) {
    const eq = item.indexOf('=');
    const key = eq > 0 ? item.slice(0, eq).trim() : '';
    if (key === '') {
      addIssue({ message: `"${item.split('=')[0] ?? ''}" has no key=value form` });
      return NEVER;
    }
    try {
      out[key] = decodeURIComponent(item.slice(eq + 1).trim());
    } catch {
      addIssue({ message: `the value of "${key}" is not valid percent-encoding` });
      return NEVER;
    }
  }
  return out;
});

/** A string-to-string map: a YAML mapping of scalars, or the OTel `key=value,…` text. */
export function stringMap(): ValueKind<Readonly<Record<string, string>>> {
  const mapping = v.pipe(
    v.union([v.null(), v.record(v.string(), v.pipe(v.unknown(), v.transform(toText), v.string()))]),
    v.transform((value) => value ?? {}),
  );
  return {
    schema: v.union([v.pipe(v.string(), keyValueText), mapping]),
    label: 'map',
    expected: 'comma-separated key=value pairs (values percent-encoded) or a YAML mapping',
    mergeable: true,
    show: (value) =>
      Object.keys(value).length === 0
        ? '{}'
        : Object.entries(value)
            .map(([k, val]) => `${k}=${val}`)
            .join(','),
  };
}

const HOST_PORT_TEXT = /^(?:\[([^\]]+)\]|([^:[\]]+))(?::(\d+))?$/;

/** `host:port`, `[v6]:port` or `host` (the port defaults to `defaultPort`), as `{host, port}`. */
function hostPortSchema(defaultPort: number): v.GenericSchema<unknown, HostPort> {
  const fromText = v.pipe(
    v.string(),
    v.transform((item) => {
      const match = HOST_PORT_TEXT.exec(item.trim());
      return { host: match?.[1] ?? match?.[2] ?? '', port: match?.[3] ?? defaultPort };
    }),
  );
  const fromMapping = v.strictObject({ host: v.string(), port: v.optional(v.unknown(), defaultPort) });
  const port = integer(1, 65535).schema;
  return v.pipe(
    v.union([fromText, fromMapping]),
    v.transform(({ host, port: p }) => ({ host: host.trim(), port: p })),
    v.strictObject({ host: v.pipe(v.string(), v.nonEmpty()), port }),
  );
}

/** What reading one list item gave: its value, or why it is not one (a message naming the item). */
type ItemRead<T> = { readonly value: T } | { readonly problem: string };

/**
 * Reads every item of a list with `readItem`; the first bad item fails the
 * list with its message. `unique` drops repeated values.
 */
function eachItem<T>(readItem: (item: unknown) => ItemRead<T>, unique: boolean) {
  return v.rawTransform<unknown[], T[]>(({ dataset, addIssue, NEVER }) => {
    const out: T[] = [];
    for (const item of dataset.value) {
      const read = readItem(item);
      if ('problem' in read) {
        addIssue({ message: read.problem });
        return NEVER;
      }
      if (!unique || !out.includes(read.value)) out.push(read.value);
    }
    return out;
  });
}

/** A list item checked by `schema`, or `problem` for it. */
function bySchema<T>(schema: v.GenericSchema<unknown, T>, problem: (item: unknown) => string): (item: unknown) => ItemRead<T> {
  return (item) => {
    const parsed = v.safeParse(schema, item);
    return parsed.success ? { value: parsed.output } : { problem: problem(item) };
  };
}

/** A list of Redis nodes. YAML: `[{host, port}]` or `["host:port"]`; environment: `host:port,host:port`. */
export function hostPortList(defaultPort: number): ValueKind<readonly HostPort[]> {
  const node = hostPortSchema(defaultPort);
  const nodes = eachItem(
    bySchema(node, (item) => `${JSON.stringify(item)} is not a host with a port from 1 to 65535`),
    false,
  );
  return {
    schema: v.pipe(
      v.unknown(),
      v.transform((raw) => (raw === null ? [] : toList(raw))),
      v.array(v.unknown()),
      nodes,
    ),
    label: 'list of host:port',
    expected: `a list of {host, port} (port 1..65535, default ${defaultPort}) or "host:port,host:port"`,
    show: (value) => (value.length === 0 ? '[]' : value.map((n) => `${n.host}:${n.port}`).join(', ')),
  };
}

/**
 * A non-empty list of words from `values`, duplicates dropped; `exclusive` may
 * only appear alone (`none` together with `otlp` is a contradiction, not a preference).
 */
export function wordList<const T extends string>(values: readonly T[], exclusive: T): ValueKind<readonly T[]> {
  const word = oneOf(values).schema;
  const items = eachItem(
    bySchema(word, (item) => `${JSON.stringify(item)} is not one of ${values.join(', ')}`),
    true,
  );
  const alone = v.check((words: T[]) => !(words.includes(exclusive) && words.length > 1), `"${exclusive}" cannot be combined with other values`);
  return {
    schema: v.pipe(v.unknown(), v.transform(toList), v.array(v.unknown()), v.minLength(1), items, alone),
    label: `list of ${values.join(' | ')}`,
    expected: `a non-empty list of ${values.join(', ')} (${exclusive} alone)`,
    show: (value) => value.join(','),
  };
}

/**
 * Command-line arguments (`gunicorn.node_args`). YAML: a list of strings;
 * environment: arguments separated by whitespace. Each must start with `-`:
 * these are Node options, and a stray word would be taken for the script.
 */
export function argList(): ValueKind<readonly string[]> {
  const split = (raw: unknown): unknown => (raw === null ? [] : typeof raw === 'string' ? raw.split(/\s+/).filter(Boolean) : raw);
  const args = eachItem((item) => {
    const arg = toText(item);
    return typeof arg === 'string' && arg.startsWith('-') ? { value: arg } : { problem: `${JSON.stringify(item)} is not a Node option (starting with "-")` };
  }, false);
  return {
    schema: v.pipe(v.unknown(), v.transform(split), v.array(v.unknown()), args),
    label: 'list of Node options',
    expected: 'a list of Node options such as --max-old-space-size=512 (whitespace-separated in the environment)',
    show: (value) => (value.length === 0 ? '[]' : value.join(' ')),
  };
}

/**
 * A list of request paths or globs (`/health`, `/health*`, `/internal/**`), each
 * starting with `/`, duplicates dropped; empty means none. Comma-separated in the environment.
 */
export function pathList(): ValueKind<readonly string[]> {
  const paths = eachItem((item) => {
    const path = typeof item === 'string' ? item.trim() : '';
    return path.startsWith('/') ? { value: path } : { problem: `${JSON.stringify(item)} does not start with "/"` };
  }, true);
  return {
    schema: v.pipe(
      v.unknown(),
      v.transform((raw) => (raw === null ? [] : toList(raw))),
      v.array(v.unknown()),
      paths,
    ),
    label: 'list of paths',
    expected: 'a list of paths or globs starting with "/" (`*` within a segment, `**` across segments)',
    show: (value) => (value.length === 0 ? '[]' : value.join(',')),
  };
}

/** An HTTP method as Node's parser reports it: upper-case letters and `-` (`M-SEARCH`). */
const METHOD_TOKEN = /^[A-Z][A-Z-]*$/;

/** A non-empty list of HTTP method names (upper case; duplicates dropped). YAML list or `GET,POST`. */
export function methodList(): ValueKind<readonly string[]> {
  const methods = eachItem((item) => {
    const method = typeof item === 'string' ? item.trim() : '';
    return METHOD_TOKEN.test(method) ? { value: method } : { problem: `${JSON.stringify(item)} is not an upper-case HTTP method name` };
  }, true);
  return {
    schema: v.pipe(v.unknown(), v.transform(toList), v.array(v.unknown()), v.minLength(1), methods),
    label: 'list of HTTP methods',
    expected: 'a non-empty list of upper-case HTTP method names (GET, POST, M-SEARCH ...)',
    show: (value) => value.join(','),
  };
}
