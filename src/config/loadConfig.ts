/**
 * The thin shell around {@link parseConfig}: finds and reads the YAML file,
 * takes the process environment and host name, and turns I/O failures into
 * {@link ConfigError}s naming the file.
 */
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import type { ExporterConfig } from './Config';
import { errorMessage } from '../self/errorMessage';
import { ConfigError } from './ConfigError';
import { parseConfig } from './parseConfig';
import { webConfigOf } from './loadWebConfig';
import { CONFIG_FILE_ENV } from './schema';

/** Options of {@link loadConfig}. */
export interface LoadConfigOptions {
  /** YAML file; defaults to `$OTEL_CLUSTER_EXPORTER_CONFIG`; none means defaults and environment only. */
  readonly file?: string;
  /** Defaults to `process.env`. */
  readonly env?: NodeJS.ProcessEnv;
}

/** The file to read: the explicit option, else the environment variable (an empty value counts as unset). */
export function resolveConfigFile(options: LoadConfigOptions, env: NodeJS.ProcessEnv): string | undefined {
  if (options.file !== undefined && options.file !== '') return options.file;
  const fromEnv = env[CONFIG_FILE_ENV];
  return fromEnv !== undefined && fromEnv.trim() !== '' ? fromEnv : undefined;
}

function readConfigFile(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'error';
    // Node prefixes the code (`ENOENT: no such file ...`), which `code` already shows.
    const reason = errorMessage(error).replace(/^[A-Z]+: /, '');
    throw new ConfigError({ file, keyPath: '', expected: 'a readable YAML file', actual: `${code} (${reason})` });
  }
}

/**
 * Loads the effective configuration: defaults, then the YAML file, then the
 * environment. Synchronous because it runs once at startup, before the app
 * listens. Throws {@link ConfigError} for a missing or unreadable file, a YAML
 * syntax error (with its line) or any invalid value, including an invalid
 * `prometheus.web_config_file`.
 */
export function loadConfig(options: LoadConfigOptions = {}): ExporterConfig {
  const env = options.env ?? process.env;
  const file = resolveConfigFile(options, env);
  const yamlText = file !== undefined ? readConfigFile(file) : undefined;
  const config = parseConfig({
    ...(yamlText !== undefined ? { yamlText } : {}),
    ...(file !== undefined ? { file } : {}),
    env,
    hostname: hostname(),
  });
  // A broken web configuration must stop the app at startup, not at its first scrape.
  webConfigOf(config);
  return config;
}
