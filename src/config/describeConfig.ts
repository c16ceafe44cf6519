/**
 * Human-facing views of the configuration, all driven by the schema: the
 * effective configuration as YAML with secrets masked (for `check-config` and
 * startup logs), and the markdown reference table for the README.
 */
import { isDeepStrictEqual } from 'node:util';
import type * as JsYaml from 'js-yaml';
import type { ExporterConfig } from './Config';
import { CONFIG_FILE_ENV, CONFIG_KEYS, CONFIG_RULES, envName, type ConfigKey, type EnvVariable, type SecretKind } from './schema';

/** What replaces a secret in any output. */
export const SECRET_MASK = '***';

type Tree = Record<string, unknown>;

function getIn(tree: unknown, fields: readonly string[]): unknown {
  let node = tree;
  for (const field of fields) {
    if (typeof node !== 'object' || node === null) return undefined;
    node = (node as Tree)[field];
  }
  return node;
}

function setIn(tree: Tree, fields: readonly string[], value: unknown): void {
  let node = tree;
  for (const field of fields.slice(0, -1)) {
    if (typeof node[field] !== 'object' || node[field] === null) node[field] = {};
    node = node[field] as Tree;
  }
  node[fields[fields.length - 1] as string] = value;
}

function maskUrlPassword(value: string): string {
  try {
    const parsed = new URL(value);
    if (parsed.password === '') return value;
    parsed.password = SECRET_MASK;
    return parsed.toString();
  } catch {
    // Not a URL (cannot happen after parsing, but masking must never leak): hide it all.
    return value === '' ? value : SECRET_MASK;
  }
}

function mask(kind: SecretKind, value: unknown): unknown {
  switch (kind) {
    case 'value':
      // An empty secret is shown as empty so "not set" stays visible.
      return value === '' || value === undefined ? value : SECRET_MASK;
    case 'mapValues':
      return typeof value === 'object' && value !== null ? Object.fromEntries(Object.keys(value).map((k) => [k, SECRET_MASK])) : value;
    case 'urlPassword':
      return typeof value === 'string' ? maskUrlPassword(value) : value;
  }
}

/** The secret keys of `config` that hold a secret (a value masking would hide): what must not leave the process. */
export function keysHoldingSecrets(config: ExporterConfig): ConfigKey[] {
  return CONFIG_KEYS.filter((key) => {
    if (key.secret === undefined) return false;
    const value = getIn(config, key.fields);
    return !isDeepStrictEqual(value, mask(key.secret, value));
  });
}

/**
 * A deep copy of `config` with every secret masked: passwords, OTLP header
 * values and passwords inside URLs become `***`. Safe to log.
 */
export function maskSecrets(config: ExporterConfig): unknown {
  const copy = JSON.parse(JSON.stringify(config)) as Tree;
  for (const key of CONFIG_KEYS) {
    if (key.secret === undefined) continue;
    setIn(copy, key.fields, mask(key.secret, getIn(copy, key.fields)));
  }
  return copy;
}

/**
 * The effective configuration as YAML in the file's own layout (root
 * `exporter:`, snake_case keys), secrets masked. Feeding it back to
 * `parseConfig` yields the same configuration (secrets aside).
 */
export function formatEffectiveConfig(config: ExporterConfig): string {
  const masked = maskSecrets(config);
  const exporter: Tree = {};
  for (const key of CONFIG_KEYS) setIn(exporter, key.path.split('.'), getIn(masked, key.fields));
  // Loaded here, not at the top: only `check-config` prints YAML.
  const { dump } = require('js-yaml') as typeof JsYaml;
  return dump({ exporter }, { lineWidth: -1, noRefs: true, sortKeys: false });
}

function cell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\n/g, ' ');
}

function code(text: string): string {
  return `\`${text}\``;
}

function envCell(variables: readonly EnvVariable[]): string {
  const names = variables.map((v) => (typeof v === 'string' ? code(v) : `${code(v.name)} (${v.note})`));
  return names.length > 1 ? `${names.join(', ')} — first set wins` : (names[0] ?? '');
}

function defaultCell(key: ConfigKey): string {
  if (key.defaultText !== undefined) return key.defaultText;
  if (typeof key.default === 'function') return 'computed';
  return code(key.kind.show(key.default));
}

function keyCell(key: ConfigKey): string {
  const aliases = key.aliases ?? [];
  return aliases.length === 0 ? code(key.path) : `${code(key.path)} (also ${aliases.map(code).join(', ')})`;
}

/**
 * The configuration reference as markdown, generated from the schema: one row
 * per key (YAML path, environment variables, type, default, meaning), then the
 * precedence rules and the cross-key checks.
 */
export function renderConfigReference(): string {
  const rows = CONFIG_KEYS.map((key) => `| ${[keyCell(key), envCell(key.env), key.kind.label, defaultCell(key), key.description].map(cell).join(' | ')} |`);
  const rules = CONFIG_RULES.map((rule) => `- ${code(rule.path)}: ${rule.expected}.`);
  return [
    '| YAML key (under `exporter:`) | Environment variables | Type | Default | Meaning |',
    '|---|---|---|---|---|',
    ...rows,
    '',
    `Precedence: defaults < YAML file < environment. The file is the \`check-config\`/\`serve\` argument, else ${code(CONFIG_FILE_ENV)}.`,
    'Empty environment values count as unset. Booleans accept true/false, 1/0, yes/no in any case.',
    'Where several variables feed one key, the first one set wins (upstream names beat OTel aliases; signal-specific OTLP variables beat generic ones).',
    `${code('service.name')} and ${code('service.instance.id')} in resource attributes set ${code('otel.service_name')} / ${code('otel.instance_id')} unless those are set in the same layer (YAML or environment).`,
    '',
    'Checks across keys:',
    '',
    ...rules,
    '',
  ].join('\n');
}

/**
 * Every key as plain text for `check-config --help`, generated from the
 * schema like the README table: YAML path, type and environment variables.
 */
export function renderKeyList(): string {
  const width = Math.max(...CONFIG_KEYS.map((key) => key.path.length));
  return CONFIG_KEYS.map((key) => `  ${key.path.padEnd(width)}  ${key.kind.label}; ${key.env.map(envName).join(', ')}`).join('\n');
}

/** Names of every environment variable the schema reads, for tooling and tests. */
export function configEnvironmentVariables(): string[] {
  return [CONFIG_FILE_ENV, ...CONFIG_KEYS.flatMap((key) => key.env.map(envName))];
}
