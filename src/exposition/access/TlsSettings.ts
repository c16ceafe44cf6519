import type { SecureVersion } from 'node:tls';
import type { EndpointTlsConfig } from '../../config/Config';
import { readTlsFile } from '../../config/readTlsFile';
import type { ClientAuthType, TlsVersionName, WebTlsConfig } from '../../config/WebConfig';

/**
 * HTTPS settings of the metrics endpoint, whichever configuration they came
 * from: the upstream `prometheus.ssl` keys and a web configuration's
 * `tls_server_config` both end up here, so one code path serves both.
 */
export interface TlsSettings {
  readonly certFile: string;
  readonly keyFile: string;
  /** Empty: client certificates are not verified. */
  readonly clientCaFile: string;
  readonly clientAuthType: ClientAuthType;
  readonly minVersion?: SecureVersion;
  readonly maxVersion?: SecureVersion;
  /** How the user names each file's setting, for error messages. */
  readonly settings: { readonly cert: SettingName; readonly key: SettingName; readonly clientCa: SettingName };
}

/** A setting as messages name it: briefly in a list, in full where it stands alone. */
export interface SettingName {
  /** `PROMETHEUS_SSL_CERTFILE`. */
  readonly short: string;
  /** `PROMETHEUS_SSL_CERTFILE (prometheus.ssl.certfile)`. */
  readonly full: string;
}

const NODE_VERSIONS: Readonly<Record<TlsVersionName, SecureVersion>> = {
  TLS10: 'TLSv1',
  TLS11: 'TLSv1.1',
  TLS12: 'TLSv1.2',
  TLS13: 'TLSv1.3',
};

/**
 * The upstream keys: a client CA alone asks for certificates without
 * requiring or verifying them (what these keys always did); with
 * `client_auth_required` it is mutual TLS.
 */
export function tlsFromSsl(ssl: EndpointTlsConfig): TlsSettings | undefined {
  if (!ssl.enabled) return undefined;
  const clientAuthType: ClientAuthType =
    ssl.clientCafile === '' ? 'NoClientCert' : ssl.clientAuthRequired ? 'RequireAndVerifyClientCert' : 'RequestClientCert';
  return {
    certFile: ssl.certfile,
    keyFile: ssl.keyfile,
    clientCaFile: ssl.clientCafile,
    clientAuthType,
    settings: {
      cert: { short: 'PROMETHEUS_SSL_CERTFILE', full: 'PROMETHEUS_SSL_CERTFILE (prometheus.ssl.certfile)' },
      key: { short: 'PROMETHEUS_SSL_KEYFILE', full: 'PROMETHEUS_SSL_KEYFILE (prometheus.ssl.keyfile)' },
      clientCa: { short: 'PROMETHEUS_SSL_CLIENT_CAFILE', full: 'PROMETHEUS_SSL_CLIENT_CAFILE (prometheus.ssl.client_cafile)' },
    },
  };
}

/** A web configuration's `tls_server_config`. */
export function tlsFromWebConfig(tls: WebTlsConfig, file: string): TlsSettings {
  return {
    certFile: tls.certFile,
    keyFile: tls.keyFile,
    clientCaFile: tls.clientCaFile,
    clientAuthType: tls.clientAuthType,
    minVersion: NODE_VERSIONS[tls.minVersion],
    maxVersion: NODE_VERSIONS[tls.maxVersion],
    settings: {
      cert: { short: 'tls_server_config.cert_file', full: `${file}: tls_server_config.cert_file` },
      key: { short: 'tls_server_config.key_file', full: `${file}: tls_server_config.key_file` },
      clientCa: { short: 'tls_server_config.client_ca_file', full: `${file}: tls_server_config.client_ca_file` },
    },
  };
}

/**
 * `https.createServer` options. Only the strict mode is enforced by the TLS
 * handshake; the softer ones ("any certificate", "verify if given") are
 * checked per request by {@link clientCertificateProblem}.
 */
export function tlsServerOptions(tls: TlsSettings): { requestCert: boolean; rejectUnauthorized: boolean; minVersion?: SecureVersion; maxVersion?: SecureVersion } {
  const options: { requestCert: boolean; rejectUnauthorized: boolean; minVersion?: SecureVersion; maxVersion?: SecureVersion } = {
    requestCert: tls.clientAuthType !== 'NoClientCert',
    rejectUnauthorized: tls.clientAuthType === 'RequireAndVerifyClientCert',
  };
  if (tls.minVersion !== undefined) options.minVersion = tls.minVersion;
  if (tls.maxVersion !== undefined) options.maxVersion = tls.maxVersion;
  return options;
}

/** Read the certificate, key and client CA files, naming the setting behind any that fails. */
export async function loadSecureContext(tls: TlsSettings): Promise<{ cert: Buffer; key: Buffer; ca?: Buffer }> {
  const [cert, key, ca] = await Promise.all([
    readTlsFile(tls.settings.cert.full, tls.certFile),
    readTlsFile(tls.settings.key.full, tls.keyFile),
    tls.clientCaFile === '' ? undefined : readTlsFile(tls.settings.clientCa.full, tls.clientCaFile),
  ]);
  return ca === undefined ? { cert, key } : { cert, key, ca };
}

/** What a TLS socket tells about its peer. */
export interface PeerCertificateState {
  readonly authorized: boolean;
  getPeerCertificate(): object;
}

/**
 * Why a request's client certificate is not good enough under the modes the
 * handshake does not enforce, or undefined when it is.
 */
export function clientCertificateProblem(tls: TlsSettings, socket: PeerCertificateState): string | undefined {
  if (tls.clientAuthType !== 'RequireAnyClientCert' && tls.clientAuthType !== 'VerifyClientCertIfGiven') return undefined;
  const presented = Object.keys(socket.getPeerCertificate()).length > 0;
  if (tls.clientAuthType === 'RequireAnyClientCert') return presented ? undefined : 'a client certificate is required';
  return presented && !socket.authorized ? 'the client certificate does not verify against the client CA' : undefined;
}
