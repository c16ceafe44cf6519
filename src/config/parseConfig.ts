/**
 * Pure configuration parsing: defaults < YAML < environment, every value
 * read, checked and documented through the table in `schema.ts`.
 *
 * No file system, no process globals: the caller passes the YAML text, the
 * environment and the host name, which keeps this testable and lets
 * `check-config` and the runtime share one code path.
 */
import type * as JsYaml from 'js-yaml';
import type { ExporterConfig } from './Config';
import { ConfigError } from './ConfigError';
import { CONFIG_KEYS, CONFIG_RULES, envName, fieldPath, type ConfigKey, type DefaultContext, type EnvVariable } from './schema';
import { closestMatch } from './suggest';
import type { Parsed } from './valueTypes';

/** Input of {@link parseConfig}. */
export interface ParseConfigInput {
  /** Contents of the YAML file, if there is one. */
  readonly yamlText?: string;
  /** Name of the YAML file, used in error messages and as `sourceFile`. */
  readonly file?: string;
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Default for `otel.instance_id`. */
  readonly hostname: string;
}

/** Where a value came from; errors point there. */
type Origin =
  | { readonly kind: 'default' }
  | { readonly kind: 'yaml'; readonly writtenPath: string }
  | { readonly kind: 'env'; readonly variable: EnvVariable };

interface Setting {
  readonly value: unknown;
  readonly origin: Origin;
}

/** Values of one layer (YAML or environment) by canonical schema path. */
type Layer = Map<string, Setting>;

const MASK = '***';
const KEY_BY_PATH = new Map<string, ConfigKey>(CONFIG_KEYS.map((k) => [k.path, k]));
const KEY_BY_YAML_PATH = new Map<string, ConfigKey>(CONFIG_KEYS.flatMap((k) => [k.path, ...(k.aliases ?? [])].map((p) => [p, k] as const)));

/** Section path ('' is the inside of `exporter:`) → names allowed directly in it. */
const SECTION_CHILDREN: ReadonlyMap<string, readonly string[]> = buildSections([...KEY_BY_YAML_PATH.keys()]);

function buildSections(paths: readonly string[]): Map<string, string[]> {
  const sections = new Map<string, string[]>();
  for (const path of paths) {
    const segments = path.split('.');
    for (let depth = 0; depth < segments.length; depth++) {
      const parent = segments.slice(0, depth).join('.');
      const children = sections.get(parent) ?? [];
      const child = segments[depth] as string;
      if (!children.includes(child)) children.push(child);
      sections.set(parent, children);
    }
  }
  return sections;
}

function keyOf(path: string): ConfigKey {
  const found = KEY_BY_PATH.get(path);
  if (found === undefined) throw new Error(`configuration schema has no key ${path}`);
  return found;
}

function isMapping(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Date);
}

/** Builds the error for a value of `key` that came from `origin`. */
function valueError(key: ConfigKey, origin: Origin, file: string | undefined, expected: string, actual: unknown, detail?: string): ConfigError {
  // Never echo a secret back into logs, even a malformed one.
  const shown = key.secret !== undefined ? MASK : actual;
  const hint = detail !== undefined && key.secret === undefined ? { hint: detail } : {};
  if (origin.kind === 'env') return new ConfigError({ keyPath: envName(origin.variable), expected, actual: shown, ...hint });
  const keyPath = `exporter.${origin.kind === 'yaml' ? origin.writtenPath : key.path}`;
  return new ConfigError({ ...(file !== undefined ? { file } : {}), keyPath, expected, actual: shown, ...hint });
}

function checked(key: ConfigKey, parsed: Parsed<unknown>, origin: Origin, file: string | undefined, raw: unknown): unknown {
  if (parsed.ok) return parsed.value;
  throw valueError(key, origin, file, key.type.expected, raw, parsed.detail);
}

// ---------------------------------------------------------------- YAML layer

/**
 * js-yaml is loaded only when there is a file to read: most processes are
 * configured by environment alone, and every worker would pay for it.
 */
function jsYaml(): typeof JsYaml {
  return require('js-yaml') as typeof JsYaml;
}

function parseYamlText(text: string, file: string | undefined): unknown {
  const yaml = jsYaml();
  try {
    return yaml.load(text, file !== undefined ? { filename: file } : {});
  } catch (error) {
    if (!(error instanceof yaml.YAMLException)) throw error;
    const line = error.mark.line + 1;
    return failYamlSyntax(file, line, error.mark.column + 1, error.reason);
  }
}

function failYamlSyntax(file: string | undefined, line: number, column: number, reason: string): never {
  throw new ConfigError({ ...(file !== undefined ? { file } : {}), keyPath: `line ${line}, column ${column}`, line, expected: 'valid YAML', actual: reason });
}

function readYamlLayer(text: string, file: string | undefined): Layer {
  const layer: Layer = new Map();
  const doc = parseYamlText(text, file);
  if (doc === null || doc === undefined) return layer;
  const at = file !== undefined ? { file } : {};
  if (!isMapping(doc)) throw new ConfigError({ ...at, keyPath: '(document)', expected: 'a mapping with the root key "exporter"', actual: doc });
  for (const [name, value] of Object.entries(doc)) {
    if (name !== 'exporter') throw unknownRootKey(name, file);
    if (value === null) continue;
    if (!isMapping(value)) throw new ConfigError({ ...at, keyPath: 'exporter', expected: `a mapping of ${childList('')}`, actual: value });
    walkSection(value, '', layer, file);
  }
  return layer;
}

function unknownRootKey(name: string, file: string | undefined): ConfigError {
  const misplaced = SECTION_CHILDREN.get('')?.includes(name) === true;
  return new ConfigError({
    ...(file !== undefined ? { file } : {}),
    keyPath: name,
    problem: 'unknown root key',
    expected: 'the single root key "exporter"',
    actual: name,
    hint: misplaced
      ? `did you mean "exporter.${name}"? (sections live under "exporter:")`
      : closestMatch(name, ['exporter']) !== undefined
        ? 'did you mean "exporter"?'
        : 'move the settings under "exporter:"',
  });
}

function childList(section: string): string {
  return (SECTION_CHILDREN.get(section) ?? []).join(', ');
}

function walkSection(node: Record<string, unknown>, prefix: string, layer: Layer, file: string | undefined): void {
  for (const [name, value] of Object.entries(node)) {
    const path = prefix === '' ? name : `${prefix}.${name}`;
    const key = KEY_BY_YAML_PATH.get(path);
    if (key !== undefined) {
      setYamlValue(layer, key, path, value, file);
    } else if (SECTION_CHILDREN.has(path)) {
      if (value === null) continue;
      if (!isMapping(value)) {
        throw new ConfigError({ ...(file !== undefined ? { file } : {}), keyPath: `exporter.${path}`, expected: `a mapping of ${childList(path)}`, actual: value });
      }
      walkSection(value, path, layer, file);
    } else {
      throw unknownKey(name, prefix, file);
    }
  }
}

function unknownKey(name: string, prefix: string, file: string | undefined): ConfigError {
  const here = prefix === '' ? 'exporter' : `exporter.${prefix}`;
  const sibling = closestMatch(name, SECTION_CHILDREN.get(prefix) ?? []);
  const elsewhere = sibling === undefined ? closestPathByLeaf(name) : undefined;
  const suggestion = sibling !== undefined ? `${here}.${sibling}` : elsewhere !== undefined ? `exporter.${elsewhere}` : undefined;
  return new ConfigError({
    ...(file !== undefined ? { file } : {}),
    keyPath: `${here}.${name}`,
    problem: 'unknown key',
    expected: `one of ${childList(prefix)}`,
    actual: name,
    ...(suggestion !== undefined ? { hint: `did you mean "${suggestion}"?` } : {}),
  });
}

/** A key placed in the wrong section: suggest the path whose last segment matches. */
function closestPathByLeaf(name: string): string | undefined {
  const paths = [...KEY_BY_PATH.keys()];
  const leaves = paths.map((p) => p.split('.').pop() as string);
  const leaf = closestMatch(name, leaves);
  return leaf === undefined ? undefined : paths[leaves.indexOf(leaf)];
}

function setYamlValue(layer: Layer, key: ConfigKey, writtenPath: string, raw: unknown, file: string | undefined): void {
  const origin: Origin = { kind: 'yaml', writtenPath };
  const value = checked(key, key.type.parseYaml(raw), origin, file, raw);
  const previous = layer.get(key.path);
  // An alias and its canonical path may both appear; only a disagreement is an error.
  if (previous !== undefined && JSON.stringify(previous.value) !== JSON.stringify(value)) {
    const other = previous.origin.kind === 'yaml' ? previous.origin.writtenPath : key.path;
    throw valueError(key, origin, file, `the same value as exporter.${other}, or only one of the two`, raw);
  }
  layer.set(key.path, { value, origin });
}

// ---------------------------------------------------------- environment layer

function readEnvLayer(env: Readonly<Record<string, string | undefined>>): Layer {
  const layer: Layer = new Map();
  for (const key of CONFIG_KEYS) {
    for (const variable of key.env) {
      const raw = env[envName(variable)];
      // Empty values count as unset: `FOO=` in a compose file should not override the YAML.
      if (raw === undefined || raw.trim() === '') continue;
      const origin: Origin = { kind: 'env', variable };
      layer.set(key.path, { value: checked(key, key.type.parseEnv(raw), origin, undefined, raw), origin });
      break;
    }
  }
  return layer;
}

// ------------------------------------------------------------------- merging

/**
 * Lifts map entries such as `service.name` out of the resource attributes into
 * their own keys, unless the same layer sets those keys explicitly
 * (OTEL_SERVICE_NAME beats service.name in OTEL_RESOURCE_ATTRIBUTES).
 */
function applyDerives(layer: Layer, file: string | undefined): void {
  for (const key of CONFIG_KEYS) {
    const setting = layer.get(key.path);
    if (key.derives === undefined || setting === undefined || !isMapping(setting.value)) continue;
    const remaining: Record<string, unknown> = { ...setting.value };
    for (const derive of key.derives) {
      if (!(derive.attribute in remaining)) continue;
      const raw = remaining[derive.attribute];
      delete remaining[derive.attribute];
      if (layer.has(derive.path)) continue;
      const target = keyOf(derive.path);
      layer.set(derive.path, { value: checked(target, target.type.parseYaml(raw), setting.origin, file, raw), origin: setting.origin });
    }
    layer.set(key.path, { value: remaining, origin: setting.origin });
  }
}

function mergeLayers(layers: readonly Layer[]): Map<string, Setting> {
  const merged = new Map<string, Setting>();
  for (const layer of layers) {
    for (const [path, setting] of layer) {
      const previous = merged.get(path);
      const mergeable = keyOf(path).type.mergeable === true && previous !== undefined && isMapping(previous.value) && isMapping(setting.value);
      merged.set(path, mergeable ? { value: { ...(previous.value as object), ...(setting.value as object) }, origin: setting.origin } : setting);
    }
  }
  return merged;
}

/** Fills unset keys: plain defaults first, then computed ones (which may read the former). */
function fillDefaults(settings: Map<string, Setting>, hostname: string): void {
  const ctx: DefaultContext = { hostname, get: (path) => settings.get(path)?.value };
  const computed = CONFIG_KEYS.filter((k) => typeof k.default === 'function');
  for (const key of CONFIG_KEYS) {
    if (!settings.has(key.path) && typeof key.default !== 'function') settings.set(key.path, { value: key.default, origin: { kind: 'default' } });
  }
  for (const key of computed) {
    // An explicit empty value (`endpoint: ""`) asks for the computed default, like an absent one.
    const current = settings.get(key.path);
    if (current !== undefined && current.value !== '') continue;
    const compute = key.default as (c: DefaultContext) => unknown;
    settings.set(key.path, { value: compute(ctx), origin: { kind: 'default' } });
  }
}

/** Runs the per-variable adjustments (the OTLP `/v1/metrics` rule) now that every key is known. */
function applyEnvAdjustments(settings: Map<string, Setting>): void {
  const get = (path: string): unknown => settings.get(path)?.value;
  for (const [path, setting] of settings) {
    const origin = setting.origin;
    if (origin.kind !== 'env' || typeof origin.variable === 'string') continue;
    settings.set(path, { value: origin.variable.adjust(setting.value, get), origin });
  }
}

function checkRules(settings: Map<string, Setting>, file: string | undefined): void {
  const get = (path: string): unknown => settings.get(path)?.value;
  for (const rule of CONFIG_RULES) {
    if (rule.holds(get)) continue;
    const setting = settings.get(rule.path);
    throw valueError(keyOf(rule.path), setting?.origin ?? { kind: 'default' }, file, rule.expected, setting?.value);
  }
}

function assemble(settings: Map<string, Setting>): Record<string, unknown> {
  const root: Record<string, unknown> = {};
  for (const key of CONFIG_KEYS) {
    const fields = fieldPath(key.path);
    let node = root;
    for (const field of fields.slice(0, -1)) {
      node[field] ??= {};
      node = node[field] as Record<string, unknown>;
    }
    node[fields[fields.length - 1] as string] = settings.get(key.path)?.value;
  }
  return root;
}

/**
 * Builds the effective configuration from defaults, then the YAML text, then
 * the environment. Throws {@link ConfigError} naming the file, the key path or
 * variable, and what was expected, for the first invalid value.
 */
export function parseConfig(input: ParseConfigInput): ExporterConfig {
  const { file } = input;
  const yamlLayer = input.yamlText !== undefined ? readYamlLayer(input.yamlText, file) : new Map<string, Setting>();
  const envLayer = readEnvLayer(input.env);
  applyDerives(yamlLayer, file);
  applyDerives(envLayer, file);
  const settings = mergeLayers([yamlLayer, envLayer]);
  fillDefaults(settings, input.hostname);
  applyEnvAdjustments(settings);
  checkRules(settings, file);
  const assembled = assemble(settings);
  if (input.yamlText !== undefined && file !== undefined) assembled['sourceFile'] = file;
  // Every ExporterConfig field is a schema key (a test asserts the full shape), so the cast is sound.
  return assembled as unknown as ExporterConfig;
}
