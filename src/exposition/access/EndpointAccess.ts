import type { IncomingMessage } from 'node:http';
import type { TLSSocket } from 'node:tls';
import type { ExporterConfig } from '../../config/Config';
import { BasicAuthVerifier } from './BasicAuthVerifier';
import { webConfigOf } from '../../config/loadWebConfig';
import { clientCertificateProblem, tlsFromSsl, tlsFromWebConfig, type TlsSettings } from './TlsSettings';

/** Why a request is refused: the status, headers and text to answer with. */
export interface AccessDenial {
  readonly status: 401 | 403;
  readonly headers: Readonly<Record<string, string>>;
  readonly message: string;
}

/** What the metrics endpoint asks of its access policy. */
export interface EndpointGuard {
  /** Headers added to every answer (the web configuration's `http_server_config.headers`). */
  readonly responseHeaders: Readonly<Record<string, string>>;
  /** Undefined to serve the request, else how to refuse it. Never rejects. */
  authorize(request: IncomingMessage): Promise<AccessDenial | undefined>;
}

const UNAUTHORIZED: AccessDenial = {
  status: 401,
  headers: { 'www-authenticate': 'Basic realm="otel-cluster-exporter", charset="UTF-8"' },
  message: 'unauthorized\n',
};

/**
 * Who may read `/metrics`: HTTPS and client certificates (from the upstream
 * `prometheus.ssl` keys or a web configuration's `tls_server_config`), basic
 * authentication (`basic_auth_users`) and the response headers to add.
 * `/healthz` is never guarded: liveness probes carry no credentials.
 */
export class EndpointAccess implements EndpointGuard {
  readonly responseHeaders: Readonly<Record<string, string>>;
  private readonly verifier: BasicAuthVerifier | undefined;

  private constructor(
    /** The endpoint's HTTPS settings; undefined for plain HTTP. */
    readonly tls: TlsSettings | undefined,
    headers: Readonly<Record<string, string>>,
    users: Readonly<Record<string, string>>,
  ) {
    this.responseHeaders = headers;
    this.verifier = Object.keys(users).length > 0 ? new BasicAuthVerifier(users) : undefined;
  }

  /**
   * The policy the configuration describes; reads and validates
   * `prometheus.web_config_file` when one is named.
   *
   * @throws ConfigError for an invalid web configuration, or one that sets
   *   `tls_server_config` while the `prometheus.ssl` keys enable HTTPS too
   */
  static fromConfig(config: ExporterConfig): EndpointAccess {
    const fromSsl = tlsFromSsl(config.prometheus.ssl);
    const web = webConfigOf(config);
    if (web === undefined) return new EndpointAccess(fromSsl, {}, {});
    const tls = web.tls !== undefined ? tlsFromWebConfig(web.tls, web.file) : fromSsl;
    return new EndpointAccess(tls, web.headers, web.basicAuthUsers);
  }

  async authorize(request: IncomingMessage): Promise<AccessDenial | undefined> {
    if (this.tls !== undefined) {
      const problem = clientCertificateProblem(this.tls, request.socket as TLSSocket);
      if (problem !== undefined) return { status: 403, headers: {}, message: `forbidden: ${problem}\n` };
    }
    if (this.verifier === undefined) return undefined;
    return (await this.verifier.verify(request.headers.authorization)) ? undefined : UNAUTHORIZED;
  }
}
