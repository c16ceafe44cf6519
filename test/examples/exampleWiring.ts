/**
 * Shared checks of the deployment examples: which environment variables the
 * package reads (from the configuration schema, never a copied list) and what
 * configuration a process started with a given environment would get.
 */
import { CONFIG_FILE_ENV, CONFIG_KEYS, envName } from '../../src/config/schema';
import { parseConfig } from '../../src/config/parseConfig';
import type { ExporterConfig } from '../../src/config/Config';

/** Every environment variable the configuration schema reads. */
export const PACKAGE_ENV: ReadonlySet<string> = new Set([CONFIG_FILE_ENV, ...CONFIG_KEYS.flatMap((key) => key.env.map(envName))]);

/** Variables of the package's own namespaces: a typo in one of these is a silent misconfiguration. */
export function looksLikePackageEnv(name: string): boolean {
  return /^(OTEL_|PROMETHEUS_|REDIS_|GUNICORN_)/.test(name);
}

/** The configuration a process with this environment gets; throws a ConfigError naming a bad key. */
export function configFor(env: Readonly<Record<string, string>>, hostname = 'example-host'): ExporterConfig {
  return parseConfig({ env, hostname });
}
