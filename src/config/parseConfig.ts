/**
 * Pure configuration parsing: defaults < YAML < environment, every value read
 * and checked by the schema in `schema.ts`, every problem collected.
 *
 * No file system, no process globals: the caller passes the YAML text, the
 * environment and the host name, which keeps this testable and lets
 * `check-config` and the runtime share one code path.
 */
import type * as JsYaml from 'js-yaml';
import * as v from 'valibot';
import type { ExporterConfig } from './Config';
import { ConfigError, type ConfigIssue } from './ConfigError';
import { CONFIG_KEYS, EXPORTER_SCHEMA, envName, type ConfigKey, type DefaultContext, type EnvVariable } from './schema';
import { closestMatch } from './suggest';

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

/** Where a value was written, for a problem found later (resource checks at startup). */
export type ValueLocation = Pick<ConfigIssue, 'file' | 'keyPath'>;

/** A parsed configuration and where each of its values came from. */
export interface ParsedConfig {
  readonly config: ExporterConfig;
  /** Where the value of a key (snake_case path) came from. */
  locate(path: string): ValueLocation;
}

/**
 * Everything one parse found, without throwing: the configuration when it is
 * valid, every problem otherwise, and a stand-in the startup checks of files
 * and directories can still look at, so one run lists the value problems and
 * the resource problems together.
 */
export interface ConfigParse {
  /** The effective configuration; undefined when there is any problem. */
  readonly config: ExporterConfig | undefined;
  /** Every problem found, in the order found. */
  readonly problems: readonly ConfigIssue[];
  /**
   * The configuration with each faulty value replaced by its default (the
   * effective one when there is no problem); undefined when even that fails.
   */
  readonly standIn: ExporterConfig | undefined;
  /** Keys (snake_case paths) whose value is already reported: a check of the stand-in must stay silent on them. */
  readonly faulty: ReadonlySet<string>;
  /** Where the value of a key (snake_case path) came from. */
  locate(path: string): ValueLocation;
}

/** At most this many values (scalars, lists, mappings) after YAML aliases are expanded. */
export const MAX_YAML_VALUES = 10_000;

/** Where a value came from; problems point there. */
type Origin = { readonly kind: 'default' } | { readonly kind: 'yaml'; readonly writtenPath: string } | { readonly kind: 'env'; readonly variable: EnvVariable };

interface Setting {
  readonly value: unknown;
  readonly origin: Origin;
  /** False when the value failed its key's check (already reported); it is kept so rules reading it stay silent. */
  readonly valid: boolean;
}

/** Values of one layer (YAML or environment) by snake_case schema path. */
type Layer = Map<string, Setting>;

const MASK = '***';
const KEY_BY_PATH = new Map<string, ConfigKey>(CONFIG_KEYS.map((k) => [k.path, k]));
const KEY_BY_FIELDS = new Map<string, ConfigKey>(CONFIG_KEYS.map((k) => [k.fields.join('.'), k]));
const KEY_BY_YAML_PATH = new Map<string, ConfigKey>(CONFIG_KEYS.flatMap((k) => [k.path, ...(k.aliases ?? [])].map((p) => [p, k] as const)));

/** Section path ('' is the inside of `exporter:`) → names allowed directly in it. */
const SECTION_CHILDREN: ReadonlyMap<string, readonly string[]> = buildSections([...KEY_BY_YAML_PATH.keys()]);

function buildSections(paths: readonly string[]): Map<string, string[]> {
  const sections = new Map<string, string[]>();
  for (const path of paths) {
    const segments = path.split('.');
    segments.forEach((child, depth) => {
      const parent = segments.slice(0, depth).join('.');
      const children = sections.get(parent) ?? [];
      if (!children.includes(child)) children.push(child);
      sections.set(parent, children);
    });
  }
  return sections;
}

function isMapping(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Date);
}

/** Collects every problem of one parse. */
class Problems {
  readonly list: ConfigIssue[] = [];

  constructor(private readonly file: string | undefined) {}

  /** A problem in the file (or, without one, in the defaults). */
  inFile(issue: Omit<ConfigIssue, 'file'>): void {
    this.list.push(this.file !== undefined ? { ...issue, file: this.file } : issue);
  }

  /** A problem with the value of `key` that came from `origin`. */
  value(key: ConfigKey, origin: Origin, expected: string, actual: unknown, hint?: string): void {
    // Never echo a secret back into logs, even a malformed one.
    const shown = key.secret !== undefined ? MASK : actual;
    this.list.push({ ...this.locate(key, origin), expected, actual: shown, ...(hint !== undefined && key.secret === undefined ? { hint } : {}) });
  }

  /** Where a value of `key` from `origin` was written: the variable, or the file and key path. */
  locate(key: ConfigKey, origin: Origin): ValueLocation {
    if (origin.kind === 'env') return { keyPath: envName(origin.variable) };
    const keyPath = `exporter.${origin.kind === 'yaml' ? origin.writtenPath : key.path}`;
    return this.file !== undefined ? { file: this.file, keyPath } : { keyPath };
  }
}

/** A detail worth showing from a failed check: the messages this package wrote, not valibot's generic ones. */
function detailOf(issues: readonly v.BaseIssue<unknown>[]): string | undefined {
  return issues.find((issue) => !issue.message.startsWith('Invalid '))?.message;
}

/** Checks one raw value with its key's schema; a failure is reported and the raw value kept, marked invalid. */
function read(key: ConfigKey, raw: unknown, origin: Origin, problems: Problems): Setting {
  const result = v.safeParse(key.schema, raw);
  if (result.success) return { value: result.output, origin, valid: true };
  problems.value(key, origin, key.kind.expected, raw, detailOf(result.issues));
  return { value: raw, origin, valid: false };
}

// ---------------------------------------------------------------- YAML layer

/**
 * js-yaml is loaded only when there is a file to read: most processes are
 * configured by environment alone, and every worker would pay for it.
 */
function jsYaml(): typeof JsYaml {
  return require('js-yaml') as typeof JsYaml;
}

function parseYamlText(text: string, problems: Problems): unknown {
  const yaml = jsYaml();
  try {
    return yaml.load(text);
  } catch (error) {
    if (!(error instanceof yaml.YAMLException)) throw error;
    const line = error.mark.line + 1;
    problems.inFile({ keyPath: `line ${line}, column ${error.mark.column + 1}`, line, expected: 'valid YAML', actual: error.reason });
    return undefined;
  }
}

/** True when the document stays within {@link MAX_YAML_VALUES} once aliases are expanded (an alias bomb does not). */
function withinValueBudget(doc: unknown): boolean {
  let left = MAX_YAML_VALUES;
  const visit = (node: unknown): boolean => {
    if (--left < 0) return false;
    if (Array.isArray(node)) return node.every(visit);
    return isMapping(node) ? Object.values(node).every(visit) : true;
  };
  return visit(doc);
}

function readYamlLayer(text: string, problems: Problems): Layer {
  const layer: Layer = new Map();
  const doc = parseYamlText(text, problems);
  if (doc === null || doc === undefined) return layer;
  if (!withinValueBudget(doc)) {
    problems.inFile({
      keyPath: '(document)',
      expected: `at most ${MAX_YAML_VALUES} values once YAML aliases are expanded`,
      actual: `more than ${MAX_YAML_VALUES} (a very long list, or an alias expanding too far)`,
    });
    return layer;
  }
  if (!isMapping(doc)) {
    problems.inFile({ keyPath: '(document)', expected: 'a mapping with the root key "exporter"', actual: doc });
    return layer;
  }
  for (const [name, value] of Object.entries(doc)) {
    if (name !== 'exporter') problems.inFile(unknownRootKey(name));
    else if (isMapping(value)) walkSection(value, '', layer, problems);
    else if (value !== null) problems.inFile({ keyPath: 'exporter', expected: `a mapping of ${childList('')}`, actual: value });
  }
  return layer;
}

function unknownRootKey(name: string): Omit<ConfigIssue, 'file'> {
  const misplaced = SECTION_CHILDREN.get('')?.includes(name) === true;
  const hint = misplaced
    ? `did you mean "exporter.${name}"? (sections live under "exporter:")`
    : closestMatch(name, ['exporter']) !== undefined
      ? 'did you mean "exporter"?'
      : 'move the settings under "exporter:"';
  return { keyPath: name, problem: 'unknown root key', expected: 'the single root key "exporter"', actual: name, hint };
}

function childList(section: string): string {
  return (SECTION_CHILDREN.get(section) ?? []).join(', ');
}

function walkSection(node: Record<string, unknown>, prefix: string, layer: Layer, problems: Problems): void {
  for (const [name, value] of Object.entries(node)) {
    const path = prefix === '' ? name : `${prefix}.${name}`;
    const key = KEY_BY_YAML_PATH.get(path);
    if (key !== undefined) setYamlValue(layer, key, path, value, problems);
    else if (!SECTION_CHILDREN.has(path)) problems.inFile(unknownKey(name, prefix));
    else if (isMapping(value)) walkSection(value, path, layer, problems);
    else if (value !== null) problems.inFile({ keyPath: `exporter.${path}`, expected: `a mapping of ${childList(path)}`, actual: value });
  }
}

function unknownKey(name: string, prefix: string): Omit<ConfigIssue, 'file'> {
  const here = prefix === '' ? 'exporter' : `exporter.${prefix}`;
  const sibling = closestMatch(name, SECTION_CHILDREN.get(prefix) ?? []);
  const elsewhere = sibling === undefined ? closestPathByLeaf(name) : undefined;
  const suggestion = sibling !== undefined ? `${here}.${sibling}` : elsewhere !== undefined ? `exporter.${elsewhere}` : undefined;
  return {
    keyPath: `${here}.${name}`,
    problem: 'unknown key',
    expected: `one of ${childList(prefix)}`,
    actual: name,
    ...(suggestion !== undefined ? { hint: `did you mean "${suggestion}"?` } : {}),
  };
}

/** A key placed in the wrong section: suggest the path whose last segment matches. */
function closestPathByLeaf(name: string): string | undefined {
  const leaves = new Map(CONFIG_KEYS.map((k) => [k.path.slice(k.path.lastIndexOf('.') + 1), k.path]));
  const leaf = closestMatch(name, [...leaves.keys()]);
  return leaf === undefined ? undefined : leaves.get(leaf);
}

function setYamlValue(layer: Layer, key: ConfigKey, writtenPath: string, raw: unknown, problems: Problems): void {
  const origin: Origin = { kind: 'yaml', writtenPath };
  const setting = read(key, raw, origin, problems);
  const previous = layer.get(key.path);
  // An alias and its canonical path may both appear; only a disagreement is a problem.
  if (previous !== undefined && previous.valid && setting.valid && JSON.stringify(previous.value) !== JSON.stringify(setting.value)) {
    const other = previous.origin.kind === 'yaml' ? previous.origin.writtenPath : key.path;
    problems.value(key, origin, `the same value as exporter.${other}, or only one of the two`, raw);
  }
  layer.set(key.path, setting);
}

// ---------------------------------------------------------- environment layer

function readEnvLayer(env: Readonly<Record<string, string | undefined>>, problems: Problems): Layer {
  const layer: Layer = new Map();
  for (const key of CONFIG_KEYS) {
    for (const variable of key.env) {
      const raw = env[envName(variable)];
      // Empty values count as unset: `FOO=` in a compose file should not override the YAML.
      if (raw === undefined || raw.trim() === '') continue;
      layer.set(key.path, read(key, raw, { kind: 'env', variable }, problems));
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
function applyDerives(layer: Layer, problems: Problems): void {
  for (const key of CONFIG_KEYS) {
    const setting = layer.get(key.path);
    if (key.derives === undefined || setting === undefined || !setting.valid || !isMapping(setting.value)) continue;
    const remaining: Record<string, unknown> = { ...setting.value };
    for (const derive of key.derives) {
      if (!(derive.attribute in remaining)) continue;
      const raw = remaining[derive.attribute];
      delete remaining[derive.attribute];
      const target = KEY_BY_PATH.get(derive.path);
      if (target !== undefined && !layer.has(derive.path)) layer.set(derive.path, read(target, raw, setting.origin, problems));
    }
    layer.set(key.path, { ...setting, value: remaining });
  }
}

function mergeLayers(layers: readonly Layer[]): Map<string, Setting> {
  const merged = new Map<string, Setting>();
  for (const layer of layers) {
    for (const [path, setting] of layer) {
      const previous = merged.get(path);
      const mergeable = KEY_BY_PATH.get(path)?.kind.mergeable === true && previous?.valid === true && setting.valid;
      merged.set(path, mergeable ? { ...setting, value: { ...(previous.value as object), ...(setting.value as object) } } : setting);
    }
  }
  return merged;
}

/** Fills unset keys: plain defaults first, then computed ones (which may read the former). */
function fillDefaults(settings: Map<string, Setting>, hostname: string): void {
  const staticDefault = (path: string): unknown => {
    const fallback = KEY_BY_PATH.get(path)?.default;
    return typeof fallback === 'function' ? undefined : fallback;
  };
  // A computed default reads valid values only: a bad interval must not also make a bad default timeout.
  const get = (path: string): unknown => {
    const setting = settings.get(path);
    return setting?.valid === true ? setting.value : staticDefault(path);
  };
  const ctx: DefaultContext = { hostname, get };
  for (const key of CONFIG_KEYS) {
    if (!settings.has(key.path) && typeof key.default !== 'function') settings.set(key.path, { value: key.default, origin: { kind: 'default' }, valid: true });
  }
  for (const key of CONFIG_KEYS) {
    if (typeof key.default !== 'function') continue;
    // An explicit empty value (`endpoint: ""`) asks for the computed default, like an absent one.
    const current = settings.get(key.path);
    if (current !== undefined && current.value !== '') continue;
    const compute = key.default as (c: DefaultContext) => unknown;
    settings.set(key.path, { value: compute(ctx), origin: { kind: 'default' }, valid: true });
  }
}

/** Runs the per-variable and per-key adjustments (the OTLP `/v1/metrics` rule) now that every key is known. */
function applyAdjustments(settings: Map<string, Setting>): void {
  const get = (path: string): unknown => settings.get(path)?.value;
  for (const [path, setting] of settings) {
    if (!setting.valid) continue;
    const { origin } = setting;
    let value = origin.kind === 'env' && typeof origin.variable !== 'string' ? origin.variable.adjust(setting.value, get) : setting.value;
    const finish = KEY_BY_PATH.get(path)?.finish;
    if (finish !== undefined) value = finish(value, get);
    settings.set(path, { ...setting, value });
  }
}

function assemble(settings: Map<string, Setting>): Record<string, unknown> {
  const root: Record<string, unknown> = {};
  for (const key of CONFIG_KEYS) {
    let node = root;
    for (const field of key.fields.slice(0, -1)) node = (node[field] ??= {}) as Record<string, unknown>;
    node[key.fields[key.fields.length - 1] ?? ''] = settings.get(key.path)?.value;
  }
  return root;
}

/** The outcome of the whole schema on a merged configuration. */
interface Validation {
  readonly config: ExporterConfig | undefined;
  /** Keys the schema (a key's check or a cross-key rule) reported. */
  readonly reported: ReadonlySet<string>;
}

/** Runs the whole schema (every key again, then the cross-key rules) and reports what it finds that was not reported yet. */
function validateMerged(settings: Map<string, Setting>, problems: Problems): Validation {
  const result = v.safeParse(EXPORTER_SCHEMA, assemble(settings));
  if (result.success) return { config: result.output, reported: new Set() };
  const reported = new Set<string>();
  for (const issue of result.issues) {
    const key = KEY_BY_FIELDS.get((issue.path ?? []).map((item) => String(item.key)).join('.'));
    if (key === undefined) throw new Error(`configuration schema reported a problem outside any key: ${issue.message}`);
    reported.add(key.path);
    const setting = settings.get(key.path);
    if (setting?.valid === false) continue;
    const isRule = issue.type === 'partial_check';
    problems.value(key, setting?.origin ?? { kind: 'default' }, isRule ? issue.message : key.kind.expected, setting?.value, isRule ? undefined : detailOf([issue]));
  }
  return { config: undefined, reported };
}

/** Merges the layers, leaving out the keys in `without` (they take their defaults), and completes the result. */
function effectiveSettings(layers: readonly Layer[], hostname: string, without: ReadonlySet<string>): Map<string, Setting> {
  const settings = mergeLayers(layers);
  for (const path of without) settings.delete(path);
  fillDefaults(settings, hostname);
  applyAdjustments(settings);
  return settings;
}

/** Rounds of replacing faulty values by defaults before giving up on a stand-in (a rule can name a second key). */
const STAND_IN_ROUNDS = 3;

/** The configuration with every faulty key at its default, or undefined when no such configuration validates. */
function standInFor(layers: readonly Layer[], hostname: string, faulty: Set<string>): ExporterConfig | undefined {
  for (let round = 0; round < STAND_IN_ROUNDS; round++) {
    const { config, reported } = validateMerged(effectiveSettings(layers, hostname, faulty), new Problems(undefined));
    if (config !== undefined) return config;
    for (const path of reported) faulty.add(path);
  }
  return undefined;
}

/**
 * Builds the effective configuration from defaults, then the YAML text, then
 * the environment. Throws one {@link ConfigError} listing every problem, each
 * naming the file, the key path or variable, what was expected and what was found.
 */
export function parseConfig(input: ParseConfigInput): ExporterConfig {
  return parseConfigWithOrigins(input).config;
}

/** {@link parseConfig}, also telling where each value came from. */
export function parseConfigWithOrigins(input: ParseConfigInput): ParsedConfig {
  const parsed = collectConfig(input);
  if (parsed.config === undefined) throw new ConfigError(parsed.problems);
  return { config: parsed.config, locate: parsed.locate };
}

/** Parses like {@link parseConfig} but returns the problems instead of throwing them. */
export function collectConfig(input: ParseConfigInput): ConfigParse {
  const { file } = input;
  const problems = new Problems(file);
  const yamlLayer = input.yamlText !== undefined ? readYamlLayer(input.yamlText, problems) : new Map<string, Setting>();
  const envLayer = readEnvLayer(input.env, problems);
  applyDerives(yamlLayer, problems);
  applyDerives(envLayer, problems);
  const layers = [yamlLayer, envLayer];
  const settings = effectiveSettings(layers, input.hostname, new Set());
  const validation = validateMerged(settings, problems);
  const locate = (path: string): ValueLocation => {
    const key = KEY_BY_PATH.get(path);
    if (key === undefined) throw new Error(`configuration schema has no key ${path}`);
    return problems.locate(key, settings.get(path)?.origin ?? { kind: 'default' });
  };
  const withSource = (config: ExporterConfig): ExporterConfig => (input.yamlText !== undefined && file !== undefined ? { ...config, sourceFile: file } : config);
  if (problems.list.length === 0 && validation.config !== undefined) {
    const config = withSource(validation.config);
    return { config, problems: [], standIn: config, faulty: new Set(), locate };
  }
  const faulty = new Set(validation.reported);
  for (const [path, setting] of settings) if (!setting.valid) faulty.add(path);
  const standIn = standInFor(layers, input.hostname, faulty);
  return { config: undefined, problems: problems.list, standIn: standIn === undefined ? undefined : withSource(standIn), faulty, locate };
}
