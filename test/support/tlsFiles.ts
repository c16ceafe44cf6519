/**
 * A throw-away certificate authority, server and client certificates made with
 * the openssl command line, for the TLS tests.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Paths of the generated PEM files. */
export interface TlsFiles {
  readonly dir: string;
  readonly ca: string;
  readonly serverCert: string;
  readonly serverKey: string;
  readonly clientCert: string;
  readonly clientKey: string;
  /** A self-signed client certificate no CA here vouches for. */
  readonly strangerCert: string;
  readonly strangerKey: string;
}

/**
 * Generate a CA, a server certificate for 127.0.0.1 and localhost, a client
 * certificate and a stranger's. No extended key usage: Redis Cluster uses its
 * server certificate as a client too.
 */
export function makeTlsFiles(): TlsFiles {
  const dir = mkdtempSync(join(tmpdir(), 'ocx-redis-tls-'));
  const path = (name: string) => join(dir, name);
  const openssl = (...args: string[]) => execFileSync('openssl', args, { stdio: 'pipe' });
  openssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=ocx-test-ca', '-keyout', path('ca.key'), '-out', path('ca.pem'));
  writeFileSync(path('server.ext'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\n');
  for (const [name, ext] of [
    ['server', ['-extfile', path('server.ext')]],
    ['client', []],
  ] as const) {
    openssl('req', '-newkey', 'rsa:2048', '-nodes', '-subj', `/CN=ocx-test-${name}`, '-keyout', path(`${name}.key`), '-out', path(`${name}.csr`));
    openssl('x509', '-req', '-in', path(`${name}.csr`), '-CA', path('ca.pem'), '-CAkey', path('ca.key'), '-CAcreateserial', '-days', '1', '-out', path(`${name}.pem`), ...ext);
  }
  openssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=ocx-stranger', '-keyout', path('stranger.key'), '-out', path('stranger.pem'));
  return {
    dir,
    ca: path('ca.pem'),
    serverCert: path('server.pem'),
    serverKey: path('server.key'),
    clientCert: path('client.pem'),
    clientKey: path('client.key'),
    strangerCert: path('stranger.pem'),
    strangerKey: path('stranger.key'),
  };
}

/**
 * Whether this redis-server build has TLS (Debian's does; some builds do not).
 * Probed by a configuration that fails on purpose on its *last* directive: a
 * build without TLS fails earlier, on `tls-port`, and says so.
 */
export function redisSupportsTls(): { supported: boolean; reason: string } {
  let output = '';
  try {
    execFileSync('redis-server', ['--port', '0', '--tls-port', '0', '--loglevel', 'not-a-level'], { stdio: 'pipe', timeout: 5000 });
  } catch (error) {
    const failed = error as { stderr?: Buffer; stdout?: Buffer };
    output = `${String(failed.stdout ?? '')}${String(failed.stderr ?? '')}`;
  }
  if (output.includes("'tls-port")) {
    return { supported: false, reason: `redis-server was built without TLS (it rejects --tls-port): ${output.trim().split('\n').slice(-1)[0] ?? ''}` };
  }
  return { supported: true, reason: '' };
}
