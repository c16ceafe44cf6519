/**
 * A Prometheus web configuration file, the format of the Prometheus
 * exporter-toolkit (`--web.config.file` of node_exporter and friends), as
 * far as this package implements it. Loaded by {@link ./loadWebConfig}.
 */

/** How the server treats client certificates (the exporter-toolkit's `client_auth_type` values). */
export type ClientAuthType =
  /** Clients are not asked for a certificate. */
  | 'NoClientCert'
  /** Asked for one; any (or none) is accepted, nothing is verified. */
  | 'RequestClientCert'
  /** A certificate is required but not verified. */
  | 'RequireAnyClientCert'
  /** A certificate, when sent, must verify against `client_ca_file`. */
  | 'VerifyClientCertIfGiven'
  /** A certificate must be sent and verify against `client_ca_file` (mutual TLS). */
  | 'RequireAndVerifyClientCert';

/** TLS protocol versions as the web configuration spells them. */
export type TlsVersionName = 'TLS10' | 'TLS11' | 'TLS12' | 'TLS13';

/** `tls_server_config`. */
export interface WebTlsConfig {
  readonly certFile: string;
  readonly keyFile: string;
  /** Empty when client certificates are not verified. */
  readonly clientCaFile: string;
  readonly clientAuthType: ClientAuthType;
  /** Default TLS12, as in the exporter-toolkit. */
  readonly minVersion: TlsVersionName;
  /** Default TLS13. */
  readonly maxVersion: TlsVersionName;
}

/** The parsed file. */
export interface WebConfig {
  /** The file it was read from, for messages. */
  readonly file: string;
  /** HTTPS settings; absent: plain HTTP (unless the upstream `ssl` keys enable it). */
  readonly tls?: WebTlsConfig;
  /** Response headers added to every answer (`http_server_config.headers`). */
  readonly headers: Readonly<Record<string, string>>;
  /** User name → bcrypt hash (`basic_auth_users`); empty: no basic authentication. */
  readonly basicAuthUsers: Readonly<Record<string, string>>;
}
