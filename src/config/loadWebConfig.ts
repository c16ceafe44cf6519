import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type * as JsYaml from 'js-yaml';
import type { ExporterConfig } from './Config';
import { ConfigError } from './ConfigError';
import { errorMessage } from '../self/errorMessage';
import type { ClientAuthType, TlsVersionName, WebConfig, WebTlsConfig } from './WebConfig';

/** Loaded only when a web configuration file is named: every process loads this module, few read such a file. */
const jsYaml = (): typeof JsYaml => require('js-yaml') as typeof JsYaml;

/**
 * The highest bcrypt cost accepted. Each unverified password costs one
 * bcrypt run of the serving process's CPU (pure JavaScript in a worker
 * thread: ~60-100 ms at cost 10, four times that at 12, measured by
 * bench/basic-auth.js): 12 keeps a first scrape, or one failed guess, well
 * under a scrape timeout. Successes are cached (see BasicAuthVerifier).
 */
export const MAX_BCRYPT_COST = 12;
/** bcrypt's own minimum. */
export const MIN_BCRYPT_COST = 4;

const ROOT_KEYS = ['tls_server_config', 'http_server_config', 'basic_auth_users'] as const;
const TLS_KEYS = ['cert_file', 'key_file', 'client_ca_file', 'client_auth_type', 'min_version', 'max_version'] as const;
const HTTP_KEYS = ['headers'] as const;
const CLIENT_AUTH_TYPES: readonly ClientAuthType[] = ['NoClientCert', 'RequestClientCert', 'RequireAnyClientCert', 'VerifyClientCertIfGiven', 'RequireAndVerifyClientCert'];
const VERIFYING: ReadonlySet<ClientAuthType> = new Set(['VerifyClientCertIfGiven', 'RequireAndVerifyClientCert']);
const TLS_VERSIONS: readonly TlsVersionName[] = ['TLS10', 'TLS11', 'TLS12', 'TLS13'];
/** The headers the exporter-toolkit lets a web configuration set: security headers, nothing that changes the protocol. */
const SETTABLE_HEADERS: readonly string[] = ['Strict-Transport-Security', 'X-Content-Type-Options', 'X-Frame-Options', 'X-XSS-Protection', 'Content-Security-Policy'];
const BCRYPT_HASH = /^\$2[abxy]?\$(\d{2})\$[./A-Za-z0-9]{53}$/;

/**
 * Read and validate a web configuration file (the exporter-toolkit format:
 * `tls_server_config`, `http_server_config.headers`, `basic_auth_users`).
 * Relative certificate paths are resolved from the file's directory, as the
 * exporter-toolkit does, and must be readable now. Synchronous: it runs at
 * startup, before the app serves.
 *
 * @throws ConfigError naming the file, the key and what was expected
 */
export function loadWebConfig(file: string): WebConfig {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new ConfigError({ file, keyPath: '', expected: 'a readable web configuration file (prometheus.web_config_file)', actual: errorMessage(error) });
  }
  return parseWebConfig(text, file);
}

/**
 * The web configuration `config` names (`prometheus.web_config_file`), or
 * undefined when it names none. Also refuses HTTPS configured twice.
 *
 * @throws ConfigError as {@link loadWebConfig}, and when the file sets
 *   `tls_server_config` while `prometheus.ssl.enabled` is true
 */
export function webConfigOf(config: ExporterConfig): WebConfig | undefined {
  const { ssl, webConfigFile } = config.prometheus;
  if (webConfigFile === '') return undefined;
  const web = loadWebConfig(webConfigFile);
  if (web.tls !== undefined && ssl.enabled) {
    throw new ConfigError({
      file: webConfigFile,
      keyPath: 'tls_server_config',
      expected: 'HTTPS configured in one place: here or by prometheus.ssl (PROMETHEUS_SSL_*), not both',
      actual: 'both',
    });
  }
  return web;
}

/** {@link loadWebConfig} of text already read; `file` names it and anchors relative paths. */
export function parseWebConfig(text: string, file: string): WebConfig {
  const reader = new WebConfigReader(file);
  let document: unknown;
  try {
    document = jsYaml().load(text);
  } catch (error) {
    const line = error instanceof jsYaml().YAMLException ? error.mark.line + 1 : undefined;
    throw new ConfigError({ file, keyPath: line === undefined ? '' : `line ${line}`, expected: 'valid YAML', actual: errorMessage(error).split('\n', 1)[0] });
  }
  if (document === undefined || document === null) return { file, headers: {}, basicAuthUsers: {} };
  const root = reader.mapping(document, '', ROOT_KEYS);
  const config: { -readonly [K in keyof WebConfig]: WebConfig[K] } = {
    file,
    headers: reader.headers(root['http_server_config']),
    basicAuthUsers: reader.users(root['basic_auth_users']),
  };
  if (root['tls_server_config'] !== undefined && root['tls_server_config'] !== null) config.tls = reader.tls(root['tls_server_config']);
  return config;
}

/** Validates one file; every error names it. */
class WebConfigReader {
  private readonly directory: string;

  constructor(private readonly file: string) {
    this.directory = dirname(file);
  }

  mapping(value: unknown, path: string, allowed: readonly string[]): Record<string, unknown> {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      throw this.fail(path, 'a mapping', value);
    }
    const record = value as Record<string, unknown>;
    for (const key of Object.keys(record)) {
      if (!allowed.includes(key)) {
        throw new ConfigError({
          file: this.file,
          keyPath: join(path, key),
          problem: 'unknown or unsupported key',
          expected: `one of ${allowed.join(', ')}`,
          actual: key,
        });
      }
    }
    return record;
  }

  tls(value: unknown): WebTlsConfig {
    const path = 'tls_server_config';
    const raw = this.mapping(value, path, TLS_KEYS);
    const clientAuthType = this.choice(raw['client_auth_type'], `${path}.client_auth_type`, CLIENT_AUTH_TYPES, 'NoClientCert');
    const clientCaFile = raw['client_ca_file'] === undefined ? '' : this.readableFile(raw['client_ca_file'], `${path}.client_ca_file`);
    if (VERIFYING.has(clientAuthType) && clientCaFile === '') {
      throw this.fail(`${path}.client_ca_file`, `a CA file when client_auth_type is ${clientAuthType}`, undefined);
    }
    if (clientCaFile !== '' && clientAuthType === 'NoClientCert') {
      throw this.fail(`${path}.client_auth_type`, 'a client auth type that asks for certificates when client_ca_file is set', clientAuthType);
    }
    const minVersion = this.choice(raw['min_version'], `${path}.min_version`, TLS_VERSIONS, 'TLS12');
    const maxVersion = this.choice(raw['max_version'], `${path}.max_version`, TLS_VERSIONS, 'TLS13');
    if (TLS_VERSIONS.indexOf(minVersion) > TLS_VERSIONS.indexOf(maxVersion)) {
      throw this.fail(`${path}.max_version`, `a version at or above min_version ${minVersion}`, maxVersion);
    }
    return {
      certFile: this.readableFile(raw['cert_file'], `${path}.cert_file`),
      keyFile: this.readableFile(raw['key_file'], `${path}.key_file`),
      clientCaFile,
      clientAuthType,
      minVersion,
      maxVersion,
    };
  }

  headers(value: unknown): Record<string, string> {
    if (value === undefined || value === null) return {};
    const http = this.mapping(value, 'http_server_config', HTTP_KEYS);
    if (http['headers'] === undefined || http['headers'] === null) return {};
    const raw = this.mapping(http['headers'], 'http_server_config.headers', allowedHeaderSpellings(http['headers']));
    const headers: Record<string, string> = {};
    for (const [name, headerValue] of Object.entries(raw)) {
      const path = `http_server_config.headers.${name}`;
      if (typeof headerValue !== 'string' || headerValue === '' || /[\r\n]/.test(headerValue)) {
        throw this.fail(path, 'a non-empty one-line string', headerValue);
      }
      headers[name.toLowerCase()] = headerValue;
    }
    return headers;
  }

  users(value: unknown): Record<string, string> {
    if (value === undefined || value === null) return {};
    const raw = this.mapping(value, 'basic_auth_users', Object.keys(value));
    const users: Record<string, string> = {};
    for (const [user, hash] of Object.entries(raw)) {
      const path = `basic_auth_users.${user}`;
      if (user === '' || user.includes(':')) throw this.fail(path, 'a user name without ":"', user);
      const match = typeof hash === 'string' ? BCRYPT_HASH.exec(hash) : null;
      if (match === null) {
        throw this.fail(
          path,
          'a bcrypt hash ($2y$10$ followed by 53 characters, as `htpasswd -nBC 10 user` prints)',
          hash === undefined || hash === null ? hash : 'something else',
        );
      }
      const cost = Number(match[1]);
      if (cost < MIN_BCRYPT_COST || cost > MAX_BCRYPT_COST) {
        throw this.fail(path, `a bcrypt cost from ${MIN_BCRYPT_COST} to ${MAX_BCRYPT_COST} (each check runs on the serving process)`, `cost ${cost}`);
      }
      users[user] = hash as string;
    }
    return users;
  }

  private choice<T extends string>(value: unknown, path: string, options: readonly T[], fallback: T): T {
    if (value === undefined || value === null || value === '') return fallback;
    if (typeof value !== 'string' || !options.includes(value as T)) throw this.fail(path, `one of ${options.join(', ')}`, value);
    return value as T;
  }

  private readableFile(value: unknown, path: string): string {
    if (typeof value !== 'string' || value === '') throw this.fail(path, 'the path of a PEM file', value);
    const absolute = resolve(this.directory, value);
    try {
      readFileSync(absolute);
    } catch (error) {
      throw this.fail(path, 'a readable PEM file', `${value} (${errorMessage(error)})`);
    }
    return absolute;
  }

  private fail(keyPath: string, expected: string, actual: unknown): ConfigError {
    return new ConfigError({ file: this.file, keyPath, expected, actual });
  }
}

/** The settable headers in the spelling the file uses (header names are case-insensitive). */
function allowedHeaderSpellings(headers: unknown): string[] {
  if (typeof headers !== 'object' || headers === null) return [...SETTABLE_HEADERS];
  const allowed = SETTABLE_HEADERS.map((name) => name.toLowerCase());
  return [...SETTABLE_HEADERS, ...Object.keys(headers).filter((name) => allowed.includes(name.toLowerCase()))];
}

function join(path: string, key: string): string {
  return path === '' ? key : `${path}.${key}`;
}
