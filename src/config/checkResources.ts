/**
 * Startup checks of what the configuration points at, so a bad certificate
 * or store directory stops the process before the app serves traffic instead
 * of failing at first use (an endpoint retrying forever, a store counting
 * nothing while reporting itself up).
 *
 * Synchronous: it runs once, before the app loads, in the process that serves
 * (a cluster's workers use what their primary checked).
 */
import { mkdtempSync, readFileSync, rmdirSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import type * as Crypto from 'node:crypto';
import { isIP } from 'node:net';
import { networkInterfaces } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import type * as Tls from 'node:tls';
import type { ExporterConfig } from './Config';
import { ConfigError, type ConfigIssue } from './ConfigError';
import type { ValueLocation } from './parseConfig';
import { errorMessage } from '../self/errorMessage';
import { warnOnce } from '../self/Logger';
import { lookupHostSync } from './lookupHostSync';
import { webConfigOf } from './loadWebConfig';

// Loaded only when a check needs them: most processes configure no TLS.
const tls = (): typeof Tls => require('node:tls') as typeof Tls;
const crypto = (): typeof Crypto => require('node:crypto') as typeof Crypto;

/** Where the value of a key (snake_case path) came from. */
export type Locate = (path: string) => ValueLocation;

type Report = (path: string, expected: string, actual: unknown) => void;

/** Node's `ENOENT: no such file…` as `ENOENT (no such file…)`. */
function reason(error: unknown): string {
  const code = (error as NodeJS.ErrnoException).code;
  const text = errorMessage(error).replace(/^[A-Z]+: /, '');
  return code !== undefined ? `${code} (${text})` : text;
}

/** A PEM file's contents, or undefined after reporting why it cannot be read. */
function readPem(path: string, file: string, report: Report): Buffer | undefined {
  try {
    return readFileSync(file);
  } catch (error) {
    report(path, 'a readable PEM file', `${file}: ${reason(error)}`);
    return undefined;
  }
}

/** True when OpenSSL accepts `options`; otherwise reports `expected` on `path`. */
function accepted(options: Tls.SecureContextOptions, path: string, expected: string, report: Report): boolean {
  try {
    tls().createSecureContext(options);
    return true;
  } catch (error) {
    report(path, expected, errorMessage(error));
    return false;
  }
}

/** TLS material: each file readable and valid PEM, the key matching the certificate. */
function checkTlsFiles(
  paths: { readonly cert: string; readonly key: string; readonly ca: string },
  files: { readonly cert: string; readonly key: string; readonly ca: string },
  report: Report,
): void {
  const cert = files.cert === '' ? undefined : readPem(paths.cert, files.cert, report);
  const key = files.key === '' ? undefined : readPem(paths.key, files.key, report);
  const ca = files.ca === '' ? undefined : readPem(paths.ca, files.ca, report);
  if (ca !== undefined) {
    try {
      // OpenSSL silently skips a CA file without any certificate in it: parse the first one to be sure.
      new (crypto().X509Certificate)(ca);
    } catch (error) {
      report(paths.ca, 'a PEM CA bundle', errorMessage(error));
    }
  }
  const certOk = cert !== undefined && accepted({ cert }, paths.cert, 'a PEM certificate', report);
  const keyOk = key !== undefined && accepted({ key }, paths.key, 'a PEM private key (unencrypted)', report);
  if (certOk && keyOk) accepted({ cert, key }, paths.key, `the private key of the certificate in ${paths.cert}`, report);
}

/** The nearest ancestor of `dir` that exists (the root at worst). */
function nearestExisting(dir: string): string {
  let current = resolve(dir);
  for (;;) {
    try {
      statSync(current);
      return current;
    } catch {
      const parent = dirname(current);
      if (parent === current) return current;
      current = parent;
    }
  }
}

/** Writes and removes a probe in `dir`: a file where the directory exists, a directory where one must be created. */
function probe(dir: string, kind: 'file' | 'directory'): void {
  if (kind === 'directory') {
    rmdirSync(mkdtempSync(join(dir, '.ocx-probe-')));
    return;
  }
  const file = join(dir, `.ocx-probe-${process.pid}-${crypto().randomBytes(4).toString('hex')}`);
  writeFileSync(file, '');
  unlinkSync(file);
}

/**
 * The embedded store's directory: an existing one must be a directory this
 * process can write; a missing one must be creatable (a probe directory is
 * made and removed in its nearest existing ancestor). A full disk is not a
 * configuration problem: the store counts the failed writes and rides it out.
 */
function checkStoreDirectory(dir: string, report: Report): void {
  const path = 'prometheus.multiproc_dir';
  const target = resolve(dir);
  const existing = nearestExisting(target);
  if (!statSync(existing).isDirectory()) {
    report(path, 'a directory', existing === target ? `${dir} (a file)` : `${dir} (${existing} is a file)`);
    return;
  }
  try {
    probe(existing, existing === target ? 'file' : 'directory');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOSPC' || code === 'EDQUOT') return;
    const expected = existing === target ? 'a directory this process can write' : 'a directory this process can create';
    report(path, expected, `${dir} (a probe write in ${existing} failed: ${reason(error)})`);
  }
}

/** How long a bind address given as a host name may take to resolve at startup. */
export const BIND_LOOKUP_TIMEOUT_MS = 3000;

/** Addresses a socket can listen on here: the wildcards and every interface's own. */
function localAddresses(): Set<string> {
  const local = new Set(['0.0.0.0', '::']);
  for (const entries of Object.values(networkInterfaces())) for (const entry of entries ?? []) local.add(entry.address);
  return local;
}

/**
 * The address as interfaces list it: `fe80::1%eth0` without its zone, and an
 * IPv4-mapped `::ffff:127.0.0.1` as `127.0.0.1` (a dual-stack socket binds it).
 */
function asListed(address: string): string {
  const zone = address.indexOf('%');
  const bare = zone === -1 ? address : address.slice(0, zone);
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(bare);
  return mapped?.[1] ?? bare;
}

/**
 * The endpoint's bind address: an address of this host, or a name that
 * resolves (as `listen` resolves it: the first address) to one. A lookup
 * that does not answer in time is not proof of a bad name, so it is logged
 * and the endpoint's own retry takes over.
 */
function checkBindAddress(host: string, report: Report): void {
  const path = 'prometheus.bind_address';
  let address = host;
  if (isIP(host) === 0 && host !== 'localhost') {
    const lookup = lookupHostSync(host, BIND_LOOKUP_TIMEOUT_MS);
    if (lookup.kind === 'timed-out') {
      warnOnce('bind-lookup', `bind address ${host} did not resolve within ${BIND_LOOKUP_TIMEOUT_MS} ms; the endpoint retries until it can listen`);
      return;
    }
    if (lookup.kind === 'failed') return report(path, 'an address of this host, or a host name that resolves to one', `${host} (lookup failed: ${lookup.reason})`);
    const first = lookup.addresses[0];
    if (first === undefined) return report(path, 'an address of this host, or a host name that resolves to one', `${host} (no address)`);
    address = first;
  }
  if (host === 'localhost' || localAddresses().has(asListed(address))) return;
  const shown = address === host ? host : `${host} (resolves to ${address})`;
  report(path, 'an address of this host (one of its interfaces, 0.0.0.0 or ::)', shown);
}

/** The problems of the web configuration file the configuration names (read and checked now, not at the first scrape). */
function webConfigIssues(config: ExporterConfig): readonly ConfigIssue[] {
  try {
    webConfigOf(config);
    return [];
  } catch (error) {
    if (error instanceof ConfigError) return error.issues;
    throw error;
  }
}

/**
 * Checks the files and directories the configuration names and returns every
 * problem, located where the user wrote the value. Keys in `alreadyReported`
 * (their value was invalid and stands at its default here) are not reported again.
 */
export function checkResources(config: ExporterConfig, locate: Locate, alreadyReported: ReadonlySet<string> = new Set()): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  const report: Report = (path, expected, actual) => {
    if (!alreadyReported.has(path)) issues.push({ ...locate(path), expected, actual });
  };
  const { ssl } = config.prometheus;
  if (ssl.enabled) {
    checkTlsFiles(
      { cert: 'prometheus.ssl.certfile', key: 'prometheus.ssl.keyfile', ca: 'prometheus.ssl.client_cafile' },
      { cert: ssl.certfile, key: ssl.keyfile, ca: ssl.clientCafile },
      report,
    );
  }
  const { redis } = config;
  if (redis.enabled && (redis.tls.enabled || redis.url.startsWith('rediss:'))) {
    checkTlsFiles(
      { cert: 'redis.tls.cert_file', key: 'redis.tls.key_file', ca: 'redis.tls.ca_file' },
      { cert: redis.tls.certFile, key: redis.tls.keyFile, ca: redis.tls.caFile },
      report,
    );
  }
  if (!redis.enabled && config.prometheus.multiprocDir !== '') checkStoreDirectory(config.prometheus.multiprocDir, report);
  if (config.otel.exporters.includes('prometheus')) checkBindAddress(config.prometheus.bindAddress, report);
  // Its problems are located in the web configuration file itself, so they are added as they come.
  if (!alreadyReported.has('prometheus.web_config_file')) issues.push(...webConfigIssues(config));
  return issues;
}
