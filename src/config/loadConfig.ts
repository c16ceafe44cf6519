/**
 * The thin shell around {@link parseConfig}: finds and reads the YAML file
 * (a regular file of bounded size, nothing else), takes the process
 * environment and host name, checks the files and directories the
 * configuration names, and turns every failure into one {@link ConfigError}.
 */
import { closeSync, constants, fstatSync, openSync, readSync, type Stats } from 'node:fs';
import { hostname } from 'node:os';
import type { ExporterConfig } from './Config';
import { errorMessage } from '../self/errorMessage';
import { checkResources } from './checkResources';
import { ConfigError } from './ConfigError';
import { collectConfig } from './parseConfig';
import { CONFIG_FILE_ENV } from './schema';

/** The largest configuration file read: a real one is a few KiB. */
export const MAX_CONFIG_FILE_BYTES = 1024 * 1024;

/** Options of {@link loadConfig}. */
export interface LoadConfigOptions {
  /** YAML file; defaults to `$OTEL_CLUSTER_EXPORTER_CONFIG`; none means defaults and environment only. */
  readonly file?: string | undefined;
  /** Defaults to `process.env`. */
  readonly env?: NodeJS.ProcessEnv;
  /**
   * Check TLS files and the store directory too (default true). False in
   * cluster workers, which use what their primary checked: a worker restarted
   * during an outage must not exit over it.
   */
  readonly checkResources?: boolean;
}

/** The file to read: the explicit option, else the environment variable (an empty value counts as unset). */
export function resolveConfigFile(options: LoadConfigOptions, env: NodeJS.ProcessEnv): string | undefined {
  if (options.file !== undefined && options.file !== '') return options.file;
  const fromEnv = env[CONFIG_FILE_ENV];
  return fromEnv !== undefined && fromEnv.trim() !== '' ? fromEnv : undefined;
}

function kindOf(stat: Stats): string {
  if (stat.isDirectory()) return 'EISDIR (a directory)';
  if (stat.isCharacterDevice()) return 'a character device';
  if (stat.isBlockDevice()) return 'a block device';
  if (stat.isFIFO()) return 'a named pipe';
  if (stat.isSocket()) return 'a socket';
  return 'not a regular file';
}

/** Reads at most {@link MAX_CONFIG_FILE_BYTES} of a regular file; `/dev/zero` or a FIFO is refused, never read. */
function readConfigFile(file: string): string {
  const refuse = (actual: string, expected = 'a readable YAML file'): never => {
    throw new ConfigError({ file, keyPath: '', expected, actual });
  };
  const bounded = `a regular YAML file of at most ${MAX_CONFIG_FILE_BYTES} bytes`;
  let fd: number;
  try {
    // O_NONBLOCK: opening a FIFO must not wait for a writer.
    fd = openSync(file, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'error';
    // Node prefixes the code (`ENOENT: no such file ...`), which `code` already shows.
    return refuse(`${code} (${errorMessage(error).replace(/^[A-Z]+: /, '')})`);
  }
  try {
    const stat = fstatSync(fd);
    if (!stat.isFile()) return refuse(kindOf(stat), bounded);
    if (stat.size > MAX_CONFIG_FILE_BYTES) return refuse(`${stat.size} bytes`, bounded);
    const buffer = Buffer.alloc(MAX_CONFIG_FILE_BYTES + 1);
    let length = 0;
    for (let n = 1; n > 0 && length < buffer.length; length += n) n = readSync(fd, buffer, length, buffer.length - length, null);
    if (length > MAX_CONFIG_FILE_BYTES) return refuse('a file that grew past the limit while read', bounded);
    return buffer.toString('utf8', 0, length);
  } catch (error) {
    if (error instanceof ConfigError) throw error;
    const code = (error as NodeJS.ErrnoException).code ?? 'error';
    return refuse(`${code} (${errorMessage(error).replace(/^[A-Z]+: /, '')})`);
  } finally {
    closeSync(fd);
  }
}

/**
 * Loads the effective configuration: defaults, then the YAML file, then the
 * environment. Synchronous because it runs once at startup, before the app
 * listens. Throws one {@link ConfigError} with every problem: a missing,
 * oversized or non-regular file, YAML syntax (with its line), invalid values,
 * broken cross-key rules, unreadable or mismatched TLS files, an unusable
 * store directory or bind address. Value problems do not hide resource
 * problems: the files and directories are checked with each faulty value at
 * its default, so one run lists everything to fix.
 */
export function loadConfig(options: LoadConfigOptions = {}): ExporterConfig {
  const env = options.env ?? process.env;
  const file = resolveConfigFile(options, env);
  const yamlText = file !== undefined ? readConfigFile(file) : undefined;
  const parsed = collectConfig({
    ...(yamlText !== undefined ? { yamlText } : {}),
    ...(file !== undefined ? { file } : {}),
    env,
    hostname: hostname(),
  });
  const { standIn } = parsed;
  const resourceIssues = options.checkResources === false || standIn === undefined ? [] : checkResources(standIn, parsed.locate, parsed.faulty);
  const issues = [...parsed.problems, ...resourceIssues];
  if (issues.length > 0 || parsed.config === undefined) throw new ConfigError(issues);
  return parsed.config;
}
